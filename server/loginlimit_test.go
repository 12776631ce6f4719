package server

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// ctxRecorder is a shared store that records whether the context of a
// failure had ended.
type ctxRecorder struct {
	storage.LoginLimits
	ended chan error
}

func (r ctxRecorder) RecordLoginFailure(ctx context.Context, _ time.Time, _ time.Duration, _ []storage.LoginBucket) error {
	r.ended <- ctx.Err()
	return nil
}

// A failure is recorded in the shared store even when its request's
// context has ended (the client hung up after its guess was checked).
func TestSharedFailureOutlivesItsRequest(t *testing.T) {
	r := ctxRecorder{ended: make(chan error, 1)}
	l := &loginLimiter{shared: r}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.failed(ctx, "192.0.2.1", "dora"); err != nil {
		t.Fatal(err)
	}
	if err := <-r.ended; err != nil {
		t.Fatalf("the failure was recorded with an ended context: %v", err)
	}
}
