package functions_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/functions"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// reported is one call of a Reporter.
type reported struct {
	m storage.Message
	o storage.Outcome
}

// chanReporter hands every Finished call to a channel.
type chanReporter chan reported

func (c chanReporter) Finished(_ context.Context, m storage.Message, o storage.Outcome) {
	c <- reported{m, o}
}

// TestReporterHearsEveryEnd: the reporter is told of a message that
// succeeded (for message.succeeded), of one whose function threw, and of
// one whose function ran until its timeout, FAILED like a throw (for
// message.failed), each once its outcome is on record.
func TestReporterHearsEveryEnd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, script string
		status       string
		err          string
	}{
		{"success", `LOG.setMessage("done"); return 1`, storage.StatusSuccess, ""},
		{"throw", `throw new Error("deploy key rejected")`, storage.StatusFailed, "deploy key rejected"},
		{"timeout", `for (;;) {}`, storage.StatusFailed, "timed out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			ctx := context.Background()
			p, err := st.CreateProvider(ctx, storage.Provider{Name: "p", Active: true, MatchScript: "return true", MatchTimeoutMS: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateFunction(ctx, storage.Function{Name: "f", ProviderID: p.ID, URI: "u", Active: true, Script: c.script, TimeoutMS: 200}); err != nil {
				t.Fatal(err)
			}
			rep := make(chanReporter, 1)
			d := newDispatcher(t, st, func(o *functions.Options) { o.Reporter = rep })
			t.Cleanup(func() { d.Close(context.Background()) })
			m := storagetest.NewMessage(t, time.Now(), "u")
			if err := d.Accept(ctx, m, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			var r reported
			select {
			case r = <-rep:
			case <-time.After(20 * time.Second):
				t.Fatal("the reporter was not told")
			}
			if r.m.ID != m.ID || r.o.Status != c.status || len(r.o.Executions) != 1 || r.o.Executions[0].Status != c.status ||
				!strings.Contains(r.o.Executions[0].Error, c.err) {
				t.Fatalf("reported %s %+v, want %s with error containing %q", r.m.ID, r.o, c.status, c.err)
			}
			// Told after the outcome is on record.
			got, err := st.GetMessage(ctx, m.ID)
			if err != nil || got.Status != c.status {
				t.Fatalf("message on record: %s %v, want %s", got.Status, err, c.status)
			}
		})
	}
}
