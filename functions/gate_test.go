package functions_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// stallingHTTP holds every request until release is closed.
type stallingHTTP struct {
	started chan struct{}
	release chan struct{}
}

func (s *stallingHTTP) Do(ctx context.Context, _ *scripting.HTTPRequest) (*scripting.HTTPResponse, error) {
	s.started <- struct{}{}
	select {
	case <-s.release:
		return &scripting.HTTPResponse{Status: 204}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Scripts waiting on HTTP.request give up their script slot: with one slot
// and two messages stalled on a slow server, a third message still runs.
func TestWaitingScriptsDoNotHoldTheCPU(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := context.Background()
	p, err := st.CreateProvider(ctx, storage.Provider{Name: "p", Active: true, MatchScript: "return true", MatchTimeoutMS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []storage.Function{
		{Name: "slow", URI: "slow", Script: "return HTTP.request({url: 'https://ci.example.com/'}).status"},
		{Name: "quick", URI: "quick", Script: "LOG.setMessage('quick'); return 1"},
	} {
		f.ProviderID, f.Active, f.TimeoutMS = p.ID, true, 20000
		if _, err := st.CreateFunction(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	h := &stallingHTTP{started: make(chan struct{}), release: make(chan struct{})}
	d := newDispatcher(t, st, func(o *functions.Options) {
		o.Workers, o.ScriptSlots = 4, 1
		o.Effects = &scripting.Effects{HTTP: h}
	})
	t.Cleanup(func() { d.Close(context.Background()) })

	var slow []string
	for range 2 {
		m := storagetest.NewMessage(t, time.Now(), "slow")
		if err := d.Accept(ctx, m, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		slow = append(slow, m.ID)
		select { // stalled inside HTTP.request
		case <-h.started:
		case <-time.After(10 * time.Second):
			t.Fatal("the slow function never called HTTP.request")
		}
	}
	m := storagetest.NewMessage(t, time.Now(), "quick")
	o, _, err := d.AcceptAndProcess(ctx, m, []byte(`{}`))
	if err != nil || o.Status != storage.StatusSuccess || o.Summary != "quick" {
		t.Fatalf("quick message behind two stalled ones: %+v %v", o, err)
	}
	close(h.release)
	waitAllDone(t, st, slow)
}
