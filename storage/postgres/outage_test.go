package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// openProxied opens a store in a fresh schema that reaches PostgreSQL
// through a pgtest.Proxy, and a second store in the same schema that
// reaches it directly.
func openProxied(t *testing.T) (*pgtest.Proxy, *Store, *Store) {
	t.Helper()
	acquireStores(t, 2)
	_, opt := freshSchema(t)
	proxy, url := pgtest.NewProxy(t, pgtest.PoolURL(t))
	s, err := Open(context.Background(), url, testSealer(t, 7), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	direct := openIn(t, opt, 7)
	t.Cleanup(func() { direct.Close() })
	return proxy, s, direct
}

// appendWithin appends a new message with a deadline of wait.
func appendWithin(t *testing.T, s *Store, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	m := storagetest.NewMessage(t, time.Now(), "outage")
	return s.AppendMessage(ctx, m, []byte("x"))
}

// A database that stops answering fails an append at the caller's
// deadline, not at the writer's; once it answers again the writer
// commits again, and so it does after connections were reset.
func TestWriterOutage(t *testing.T) {
	proxy, s, _ := openProxied(t)
	if err := appendWithin(t, s, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	proxy.Blackhole()
	start := time.Now()
	err := appendWithin(t, s, 200*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append while the database is silent: %v", err)
	}
	if took := time.Since(start); took >= commitTimeout {
		t.Fatalf("append while the database is silent answered after %s, the writer's own timeout", took)
	}
	proxy.Restore()
	if err := appendWithin(t, s, 15*time.Second); err != nil {
		t.Fatalf("append once the database answers again: %v", err)
	}

	proxy.Cut()
	if err := appendWithin(t, s, 10*time.Second); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append while connections are refused: %v, want the connection's error", err)
	}
	proxy.Restore()
	if err := appendWithin(t, s, 10*time.Second); err != nil {
		t.Fatalf("append after the restart: %v", err)
	}
}

// The change feed listens again after its connection was reset (a
// restart), and after it went silent for good (a failover): a change
// written afterwards on another store is heard.
func TestWatchAfterOutage(t *testing.T) {
	for _, outage := range []struct {
		name string
		run  func(*pgtest.Proxy)
	}{
		{"restart", func(p *pgtest.Proxy) { p.Cut(); p.Restore() }},
		{"failover", func(p *pgtest.Proxy) { p.Blackhole(); p.Failover() }},
	} {
		t.Run(outage.name, func(t *testing.T) { watchAfter(t, outage.run) })
	}
}

func watchAfter(t *testing.T, outage func(*pgtest.Proxy)) {
	old := watchPing
	watchPing = 200 * time.Millisecond
	t.Cleanup(func() { watchPing = old })
	proxy, s, direct := openProxied(t)
	ctx, cancel := context.WithCancel(context.Background())
	heard := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(ctx, func(kind string) { heard <- kind })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	listening := func() {
		t.Helper()
		// Listening (again) is announced by every kind at once.
		for range storage.ChangeKinds {
			select {
			case <-heard:
			case <-time.After(30 * time.Second):
				t.Fatal("the change feed did not listen within 30s")
			}
		}
	}
	listening()
	outage(proxy)
	listening()
	if err := direct.PutSetting(context.Background(), "outage-test", []byte("1")); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case kind := <-heard:
			if kind == storage.ChangeSettings {
				return
			}
		case <-deadline:
			t.Fatal("a change made after the restart was not heard within 30s")
		}
	}
}
