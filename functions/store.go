package functions

import (
	"context"

	"github.com/switchyard-dev/switchyard/storage"
)

// Store is what the dispatcher needs of the store: the catalogue of
// scripts to load, and the messages it records and processes, claiming
// the PENDING ones for this node (storage.Cluster's ClaimPending) so
// that no other node sharing the store runs them meanwhile. Every
// backend has it; see storage.Store and storage.Cluster for what each
// method promises.
type Store interface {
	ListProviders(ctx context.Context) ([]storage.Provider, error)
	ListFunctions(ctx context.Context) ([]storage.Function, error)

	AppendMessage(ctx context.Context, m storage.Message, payload []byte) error
	CompleteMessage(ctx context.Context, id string, o storage.Outcome) error
	GetMessage(ctx context.Context, id string) (storage.MessageDetail, error)
	GetPayload(ctx context.Context, id string) ([]byte, error)
	ClaimPending(ctx context.Context, after string, limit int) ([]storage.Message, error)
	// DeleteMessages keeps nothing of an UNMATCHED message
	// (Options.Unmatched); a message gone already is no error.
	DeleteMessages(ctx context.Context, ids []string) (int, error)
}
