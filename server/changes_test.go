package server

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// silentFeed is a changeStore whose feed never says a word (every
// notification lost); its versions move when a test says so.
type silentFeed struct {
	mu       sync.Mutex
	versions map[string]int64
}

func (f *silentFeed) Changes(context.Context) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int64{}
	for k, v := range f.versions {
		out[k] = v
	}
	return out, nil
}

func (f *silentFeed) Watch(ctx context.Context, _ func(string)) error {
	<-ctx.Done()
	return nil
}

func (f *silentFeed) bump(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versions[kind]++
}

// With the feed silent, the periodic check still reloads what another
// node changed, only the kinds whose version moved.
func TestChangesSafetyNet(t *testing.T) {
	t.Parallel()
	feed := &silentFeed{versions: map[string]int64{}}
	var mu sync.Mutex
	reloaded := map[string]int{}
	reload := func(_ context.Context, kind string) error {
		mu.Lock()
		defer mu.Unlock()
		reloaded[kind]++
		return nil
	}
	count := func(kind string) int {
		mu.Lock()
		defer mu.Unlock()
		return reloaded[kind]
	}
	f := newChangeFollower(feed, reload, slog.New(slog.NewTextHandler(io.Discard, nil)), 20*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.run(ctx) }()
	defer func() { cancel(); <-done }()

	time.Sleep(100 * time.Millisecond) // the versions as the follower starts are its baseline
	feed.bump(storage.ChangeEndpoints)
	waitFor(t, "the endpoints reloaded", func() bool { return count(storage.ChangeEndpoints) == 1 })
	feed.bump(storage.ChangeCatalogue)
	waitFor(t, "the catalogue reloaded", func() bool { return count(storage.ChangeCatalogue) == 1 })
	time.Sleep(100 * time.Millisecond)
	if count(storage.ChangeEndpoints) != 1 || count(storage.ChangeSettings) != 0 || count(storage.ChangeAccess) != 0 {
		t.Fatalf("reloads: %v", reloaded)
	}
}
