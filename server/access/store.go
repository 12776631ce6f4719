package access

import (
	"context"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// Store is what access needs of the store: users, their personal API
// tokens and their UI sessions. The Authenticator and the server's users,
// tokens and sessions API take it. Every backend's storage.Store has it;
// see storage.Store for what each method promises.
type Store interface {
	ListUsers(ctx context.Context) ([]storage.User, error)
	GetUser(ctx context.Context, id string) (storage.User, error)
	GetUserByName(ctx context.Context, name string) (storage.User, error)
	CreateUser(ctx context.Context, u storage.User) (storage.User, error)
	UpdateUser(ctx context.Context, u storage.User) (storage.User, error)
	RecordLogin(ctx context.Context, id string, at time.Time) error
	DeleteUser(ctx context.Context, id string) error

	CreateToken(ctx context.Context, t storage.APIToken) (storage.APIToken, error)
	ListTokens(ctx context.Context, userID string) ([]storage.APIToken, error)
	TokenByHash(ctx context.Context, hash []byte) (storage.APIToken, error)
	TouchToken(ctx context.Context, id string, at time.Time) error
	DeleteToken(ctx context.Context, id string) error

	CreateSession(ctx context.Context, s storage.Session) error
	GetSession(ctx context.Context, id string) (storage.Session, error)
	DeleteSession(ctx context.Context, id string) error
	ListSessions(ctx context.Context, userID string) ([]storage.Session, error)
	DeleteSessions(ctx context.Context, userID, keep string) (int, error)
	PurgeSessions(ctx context.Context, now time.Time, limit int) (int, error)
}
