package server

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/storage"
)

// Route is an admin API route as the permission tests see it.
type Route = apiRoute

// EchoRoutes lists every route s's router serves.
func EchoRoutes(s *Server) []*echo.Route { return s.echo.Routes() }

// Routes lists the admin API routes of s.
func Routes(s *Server) []Route { return s.apiRoutes() }

// PublicRoutes lists the API routes that take no credential.
func PublicRoutes(s *Server) []Route { return publicRoutes(s) }

// ServedRoutes lists "METHOD path" of every route the server's router
// serves.
func ServedRoutes(s *Server) []string {
	var out []string
	for _, r := range s.echo.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// SetLoginLimiter bounds the sign-in limiter's tables to capacity keys
// each (0: the default) and gives it a clock.
func SetLoginLimiter(s *Server, capacity int, now func() time.Time) {
	s.logins.mu.Lock()
	defer s.logins.mu.Unlock()
	s.logins.capacity, s.logins.now = capacity, now
}

// SetBodyTimeout shortens how long a webhook body may take to arrive.
func SetBodyTimeout(o *Options, d time.Duration) { o.bodyTimeout = d }

// HoldJob takes the lock of the periodic job called name, as another
// node running it would; ok is false when it is held already.
func HoldJob(s *Server, name string) (unlock func(), ok bool, err error) {
	return s.store.TryLock(context.Background(), name)
}

// SetupLock is the store's lock a setup holds while it creates the first
// user.
const SetupLock = setupLock

// JobPurgeMessages is the lock of the purge of old messages.
const JobPurgeMessages = jobPurgeMessages

// SetStoreSizeEvery sets how often the store's size is measured.
func SetStoreSizeEvery(o *Options, d time.Duration) { o.storeSizeEvery = d }

// SetBacklogEvery sets how often the outbound backlog is counted.
func SetBacklogEvery(o *Options, d time.Duration) { o.backlogEvery = d }

// StoreOf is the store s runs on, for tests that fill it faster than
// webhooks would.
func StoreOf(s *Server) storage.Store { return s.store }
