package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// changeCheckInterval is how often a node reads the versions of every
// kind of change, the safety net under the change feed: a notification
// lost while the feed reconnected is made up for within this long.
const changeCheckInterval = 5 * time.Second

// changeStore is what following the other nodes' changes needs of the
// store.
type changeStore interface {
	Changes(ctx context.Context) (map[string]int64, error)
	Watch(ctx context.Context, fn func(kind string)) error
}

// changeFollower keeps this node's caches in step with what the other
// nodes sharing its store write: it reloads a cache when the change feed
// names its kind, and when the periodic check finds its kind's version
// moved. The writes of this node reload its caches themselves.
type changeFollower struct {
	store  changeStore
	reload func(ctx context.Context, kind string) error
	log    *slog.Logger
	every  time.Duration // how often the versions are checked

	mu      sync.Mutex
	seen    map[string]int64 // the versions the last check read
	failing map[string]bool  // the last reload of the kind (or "" the last check) failed
	stale   map[string]bool  // kinds to reload
	kick    chan struct{}    // a token wakes the reloader
}

// followChanges runs the change feed and the periodic check until ctx
// ends. Only a store that other nodes may share has anything to follow.
func (s *Server) followChanges(ctx context.Context) {
	if !s.location.shared() {
		return
	}
	newChangeFollower(s.store, s.reloadKind, s.log, changeCheckInterval).run(ctx)
}

func newChangeFollower(st changeStore, reload func(context.Context, string) error, log *slog.Logger, every time.Duration) *changeFollower {
	return &changeFollower{store: st, reload: reload, log: log, every: every,
		failing: map[string]bool{}, stale: map[string]bool{}, kick: make(chan struct{}, 1)}
}

// run follows the changes until ctx ends.
func (f *changeFollower) run(ctx context.Context) {
	f.seen, _ = f.store.Changes(ctx) // nil: the first check reloads every kind
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		f.watch(ctx)
	}()
	go func() {
		defer wg.Done()
		f.check(ctx)
	}()
	f.reloader(ctx)
	wg.Wait()
}

// reloadKind reloads what this node caches of a kind of change. Users,
// tokens and sessions (ChangeAccess) are read from the store at every
// request: nothing to reload.
func (s *Server) reloadKind(ctx context.Context, kind string) error {
	switch kind {
	case storage.ChangeCatalogue:
		return s.disp.Reload(ctx)
	case storage.ChangeEndpoints:
		return s.notify.Reload(ctx)
	case storage.ChangeSettings:
		return s.notify.ReloadPaused(ctx)
	}
	return nil
}

// watch follows the change feed. The store's Watch reconnects by itself;
// should it still give up with an error, it is started again after a
// pause, the periodic check covering meanwhile.
func (f *changeFollower) watch(ctx context.Context) {
	wait := time.Second
	for {
		err := f.store.Watch(ctx, f.changed)
		if ctx.Err() != nil || err == nil || errors.Is(err, storage.ErrClosed) {
			return
		}
		f.log.Warn("the change feed stopped; starting it again", "err", err, "retry_in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// check reads the versions of every kind every f.every and
// reloads the kinds whose version moved, until ctx ends.
func (f *changeFollower) check(ctx context.Context) {
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := f.store.Changes(ctx)
		if ctx.Err() != nil {
			return
		}
		if f.failed("", err) {
			continue
		}
		for _, kind := range storage.ChangeKinds {
			f.mu.Lock()
			moved := f.seen == nil || now[kind] != f.seen[kind] || f.failing[kind]
			f.mu.Unlock()
			if moved {
				f.changed(kind)
			}
		}
		f.mu.Lock()
		f.seen = now
		f.mu.Unlock()
	}
}

// changed marks the caches of kind stale and wakes the reloader: a burst
// of changes of one kind costs one reload or two, not one each.
func (f *changeFollower) changed(kind string) {
	f.mu.Lock()
	f.stale[kind] = true
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// reloader reloads the stale kinds whenever woken, until ctx ends.
func (f *changeFollower) reloader(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		}
		f.mu.Lock()
		stale := f.stale
		f.stale = map[string]bool{}
		f.mu.Unlock()
		for _, kind := range storage.ChangeKinds {
			if !stale[kind] {
				continue
			}
			err := f.reload(ctx, kind)
			if ctx.Err() != nil {
				return
			}
			f.failed(kind, err)
		}
	}
}

// failed records whether the last reload of kind ("": the last check of
// the versions) failed, logs each change of that once, and says whether
// it failed.
func (f *changeFollower) failed(kind string, err error) bool {
	f.mu.Lock()
	was := f.failing[kind]
	f.failing[kind] = err != nil
	f.mu.Unlock()
	what := "reloading the " + kind + " changed on another node"
	if kind == "" {
		what = "checking for changes made on other nodes"
	}
	switch {
	case err != nil && !was:
		f.log.Error(what+" failed; trying again at the next change and every "+f.every.String(), "err", err)
	case err == nil && was:
		f.log.Info(what + " works again")
	}
	return err != nil
}
