package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// The first run: while the store holds no user, GET /api/v1/setup says
// so and POST /api/v1/setup, given the admin token, creates the first
// user as an admin and signs them in. Both are public, as sign-in is.

// setupLimitName is the name the sign-in limits count wrong admin tokens
// under, with the client's address after it. No user can have it (':'
// is not allowed in names), so guessing the token is limited per address
// like guessing a password and never locks a real user's name; and
// since each address has a name of its own, guesses from many addresses
// cannot lock setup for everyone (the token's 256 bits are not guessed
// anyway).
const setupLimitName = "setup:admin-token"

// setupLimitKey is setupLimitName for the client of c.
func setupLimitKey(c echo.Context) string {
	return setupLimitName + "@" + c.RealIP()
}

// errSetupDone answers a setup once a user exists.
var errSetupDone = echo.NewHTTPError(http.StatusConflict, "setup is done; sign in")

// setupGate makes "no user yet, so create one" one step: the mutex in
// this process (setups racing here wait their turn, and the later ones
// find the user), and the store's lock setupLock between the nodes that
// share a PostgreSQL store (a setup on another node holding it is told
// to sign in).
type setupGate struct{ mu sync.Mutex }

// setupLock is the store's lock (storage TryLock) held while the first
// user is created.
const setupLock = "setup: the first user"

type setupStatus struct {
	Needed bool `json:"needed"`
}

// setupNeeded reports whether the store holds no user.
func (s *Server) setupNeeded(ctx context.Context) (bool, error) {
	users, err := s.users.ListUsers(ctx)
	if err != nil {
		return false, fmt.Errorf("listing users: %w", err)
	}
	return len(users) == 0, nil
}

// getSetup: GET /api/v1/setup {"needed": bool}: true while there is no
// user, when the UI shows its setup page instead of sign-in.
func (s *Server) getSetup(c echo.Context) error {
	needed, err := s.setupNeeded(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, setupStatus{Needed: needed})
}

// postSetup: POST /api/v1/setup {"admin_token", "name", "password"}
// creates the first user, an admin, and starts their UI session (the
// answer is POST /login's, with 201). Once a user exists it is a 409. A
// wrong admin token is a 401 counted by the sign-in limits; it takes JSON
// only, from this site only, as sign-in does.
func (s *Server) postSetup(c echo.Context) error {
	req := c.Request()
	if err := jsonOnly(req, "setup"); err != nil {
		return err
	}
	var in struct {
		AdminToken string `json:"admin_token"`
		Name       string `json:"name"`
		Password   string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := req.Context()
	if needed, err := s.setupNeeded(ctx); err != nil {
		return err
	} else if !needed {
		return errSetupDone
	}
	if err := s.allowSignIn(c, setupLimitKey(c)); err != nil {
		return err
	}
	if !s.token.ok(strings.TrimSpace(in.AdminToken)) {
		if err := s.logins.failed(ctx, c.RealIP(), setupLimitKey(c)); err != nil {
			s.log.Error("counting a failed setup", "err", err)
		}
		s.audit(c, storage.AuditEntry{Actor: "setup", Action: "user.setup_failed", Detail: "wrong admin token"})
		return unauthorized("admin_token: this is not the server's admin token")
	}
	u := storage.User{Role: storage.RoleAdmin}
	name, password := in.Name, in.Password
	if err := (&access.UserInput{Name: &name, Password: &password}).Apply(&u); err != nil {
		return err
	}
	u, err := s.createFirstUser(ctx, u)
	if err != nil {
		return err
	}
	s.audit(c, storage.AuditEntry{Actor: u.Name, UserID: u.ID, Action: "user.setup", Target: u.ID, Detail: u.Name + " (admin), the first user, with the admin token"})
	u, sess, cookie, err := s.auth.SignIn(ctx, u.Name, in.Password)
	if err != nil {
		if errors.Is(err, access.ErrWrongPassword) || errors.Is(err, access.ErrUserChanged) {
			// Changed between its creation and now (another admin was
			// quick): it exists; sign in.
			return echo.NewHTTPError(http.StatusConflict, "the admin was created, but signing in failed; sign in")
		}
		return fmt.Errorf("the admin was created, but signing in failed: %w", err)
	}
	s.setSessionCookie(c, cookie, sess)
	s.audit(c, storage.AuditEntry{Actor: u.Name, UserID: u.ID, Action: "user.login"})
	return c.JSON(http.StatusCreated, meAnswer(access.Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Via: "session", CSRF: sess.CSRF}, &u, &sess.ExpiresAt))
}

// createFirstUser creates u unless a user exists (errSetupDone).
func (s *Server) createFirstUser(ctx context.Context, u storage.User) (storage.User, error) {
	s.setup.mu.Lock()
	defer s.setup.mu.Unlock()
	unlock, ok, err := s.store.TryLock(ctx, setupLock)
	if err != nil {
		return storage.User{}, fmt.Errorf("setup lock: %w", err)
	}
	if !ok {
		return storage.User{}, echo.NewHTTPError(http.StatusConflict, "another node is creating the first user right now; sign in once it is done")
	}
	defer unlock()
	needed, err := s.setupNeeded(ctx)
	if err != nil {
		return storage.User{}, err
	}
	if !needed {
		return storage.User{}, errSetupDone
	}
	return s.users.CreateUser(ctx, u)
}
