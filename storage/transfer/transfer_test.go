package transfer_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/pgtest"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/postgres"
	"github.com/switchyard-dev/switchyard/storage/seal"
	"github.com/switchyard-dev/switchyard/storage/transfer"
	"github.com/switchyard-dev/switchyard/storage/transfer/transfertest"
)

func sealer(t testing.TB, b byte) *seal.Sealer {
	s, err := seal.New(bytes.Repeat([]byte{b}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openBolt opens a bolt store in a new file, sealing with key byte b; it
// is closed when the test ends.
func openBolt(t *testing.T, b byte) (*bolt.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "switchyard.db")
	st, err := bolt.Open(path, sealer(t, b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func openPostgres(t *testing.T, url string, b byte) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, sealer(t, b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// progress records what Copy reports.
type progress struct {
	mu   sync.Mutex
	seen []transfer.Progress
}

func (p *progress) add(x transfer.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, x)
}

// finished returns the last report of each kind in phase.
func (p *progress) finished(phase string) map[transfer.Kind]transfer.Progress {
	out := map[transfer.Kind]transfer.Progress{}
	for _, x := range p.seen {
		if x.Phase == phase && x.Finished {
			out[x.Kind] = x
		}
	}
	return out
}

// checkReport checks that every kind was copied, and compared, in full.
func checkReport(t *testing.T, r transfer.Report, wantMessages int64) {
	t.Helper()
	if len(r.Kinds) != len(transfer.Kinds) {
		t.Fatalf("report of %d kinds", len(r.Kinds))
	}
	for _, k := range r.Kinds {
		if k.Source != k.Target || k.Copied != k.Source.Records {
			t.Errorf("%s: source %+v, target %+v, copied %d", k.Kind, k.Source, k.Target, k.Copied)
		}
		if k.Source.Records == 0 {
			t.Errorf("%s: nothing to copy: the fixture should have some", k.Kind)
		}
		if k.Kind == transfer.Messages && (k.Source.Records != wantMessages || k.Source.Parts != wantMessages) {
			t.Errorf("messages: %+v, want %d with bodies", k.Source, wantMessages)
		}
	}
}

func TestCopyBoltToBolt(t *testing.T) {
	t.Parallel()
	src, _ := openBolt(t, 1)
	fx := transfertest.Fill(t, src, 60)
	dst, path := openBolt(t, 2) // another key: secrets are sealed again
	var p progress
	r, err := transfer.Copy(context.Background(), src, dst, transfer.Options{BatchSize: 7, CompareAll: true, Progress: p.add, ProgressEvery: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, r, 60)
	for _, k := range r.Kinds {
		if k.Compared != k.Source.Records {
			t.Errorf("%s: %d of %d compared", k.Kind, k.Compared, k.Source.Records)
		}
	}
	copied, compared := p.finished(transfer.PhaseCopy), p.finished(transfer.PhaseCompare)
	for _, k := range transfer.Kinds {
		if c := copied[k]; c.Done != c.Total || c.Total == 0 {
			t.Errorf("progress of %s: %+v", k, c)
		}
		if _, ok := compared[k]; !ok {
			t.Errorf("no progress of comparing %s", k)
		}
	}
	if m := copied[transfer.Messages]; m.Bytes == 0 {
		t.Errorf("no body bytes in the progress of messages: %+v", m)
	}
	// While a kind is copied, its progress is told batch by batch (here
	// every batch: the interval is a nanosecond).
	var during []int64
	for _, x := range p.seen {
		if x.Phase == transfer.PhaseCopy && x.Kind == transfer.Messages && !x.Finished {
			during = append(during, x.Done)
		}
	}
	if len(during) < 60/7 || during[0] != 7 {
		t.Errorf("progress while copying messages: %v", during)
	}
	transfertest.SameReads(t, src, dst, fx)
	transfertest.SamePurges(t, src, dst)

	// The copy seals its secrets with its own key: none is on disk in
	// plain text.
	dst.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range transfertest.Secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("secret %q is in the copy's file in plain text", s)
		}
	}
}

func TestCopyRefusesNonEmptyTarget(t *testing.T) {
	t.Parallel()
	src, _ := openBolt(t, 1)
	transfertest.Fill(t, src, 4)
	dst, _ := openBolt(t, 1)
	ctx := context.Background()
	if _, err := dst.CreateUser(ctx, storage.User{Name: "eve", Role: storage.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	if err := dst.PutSetting(ctx, "x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	_, err := transfer.Copy(ctx, src, dst, transfer.Options{})
	if !errors.Is(err, transfer.ErrNotEmpty) || !strings.Contains(err.Error(), "1 users") || !strings.Contains(err.Error(), "1 settings") {
		t.Fatalf("copy into a store with a user and a setting: %v", err)
	}
	for _, k := range transfer.Kinds {
		n, err := dst.Count(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[transfer.Kind]int64{transfer.Users: 1, transfer.Settings: 1}[k]; n.Records != want {
			t.Errorf("the refused copy wrote %d %s", n.Records, k)
		}
	}
}

// tamper is a target that changes what it is given: a byte of one body,
// and a provider's secret.
type tamper struct {
	*bolt.Store
	body, secret bool
}

func (tp tamper) Import(ctx context.Context, b transfer.Batch) error {
	if tp.body && b.Kind == transfer.Messages {
		m := &b.Messages[len(b.Messages)-1]
		m.Payload = append([]byte{}, m.Payload...)
		if len(m.Payload) > 0 {
			m.Payload[0] ^= 1
		} else {
			m.Payload = []byte("x")
		}
	}
	if tp.secret && b.Kind == transfer.Providers {
		for i := range b.Providers {
			if len(b.Providers[i].Secrets) > 0 {
				b.Providers[i].Secrets = map[string]string{"webhook_secret": "not-" + b.Providers[i].Secrets["webhook_secret"]}
			}
		}
	}
	return tp.Store.Import(ctx, b)
}

func TestCopyFindsDifferences(t *testing.T) {
	t.Parallel()
	src, _ := openBolt(t, 1)
	fx := transfertest.Fill(t, src, 9)
	dst, _ := openBolt(t, 1)
	_, err := transfer.Copy(context.Background(), src, tamper{Store: dst, body: true, secret: true}, transfer.Options{BatchSize: 4, CompareAll: true})
	if !errors.Is(err, transfer.ErrMismatch) {
		t.Fatalf("copy of a tampered store: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"Payload differs", `Secrets["webhook_secret"] differs`, fx.Providers[0]} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	for _, s := range transfertest.Secrets {
		if strings.Contains(msg, s) {
			t.Errorf("the error shows secret %q", s)
		}
	}
}

func TestCopySamplesByDefault(t *testing.T) {
	t.Parallel()
	src, _ := openBolt(t, 1)
	transfertest.Fill(t, src, 300)
	dst, _ := openBolt(t, 1)
	r, err := transfer.Copy(context.Background(), src, dst, transfer.Options{BatchSize: 10, SamplePages: 4, SampleSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range r.Kinds {
		if k.Kind == transfer.Messages && (k.Compared != 20 || k.ComparedBytes == 0) {
			t.Errorf("messages: %d compared (%d bytes), want 4 pages of 5", k.Compared, k.ComparedBytes)
		}
	}
	// A difference in a page not sampled goes unseen by the comparison,
	// but never by the counts.
	dst2, _ := openBolt(t, 1)
	_, err = transfer.Copy(context.Background(), src, dropper{dst2, new(int)}, transfer.Options{BatchSize: 10, SamplePages: 2, SampleSize: 1})
	if !errors.Is(err, transfer.ErrMismatch) || !strings.Contains(err.Error(), "messages: 300 in the source, 299 in the copy") {
		t.Fatalf("copy that lost a message: %v", err)
	}
}

// dropper loses a message of the second batch of messages it is given.
type dropper struct {
	*bolt.Store
	batches *int
}

func (d dropper) Import(ctx context.Context, b transfer.Batch) error {
	if b.Kind == transfer.Messages {
		*d.batches++
		if *d.batches == 2 {
			b.Messages = append(b.Messages[:5:5], b.Messages[6:]...)
		}
	}
	return d.Store.Import(ctx, b)
}

// TestCopyBoltToPostgresAndBack copies a bolt store into PostgreSQL,
// reads it back there, and copies it back into a new bolt file.
func TestCopyBoltToPostgresAndBack(t *testing.T) {
	t.Parallel()
	schema := pgtest.FreshSchema(t)
	url := pgtest.SchemaURL(t, schema)
	src, _ := openBolt(t, 1)
	fx := transfertest.Fill(t, src, 130)
	pg := openPostgres(t, url, 1)
	r, err := transfer.Copy(context.Background(), src, pg, transfer.Options{BatchSize: 50, CompareAll: true})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, r, 130)
	transfertest.SameReads(t, src, pg, fx)
	dump := pgtest.Dump(t, schema)
	for _, s := range transfertest.Secrets {
		if pgtest.ContainsPlain(dump, s) {
			t.Errorf("secret %q is in PostgreSQL in plain text", s)
		}
	}

	// A second copy into the same database is refused.
	other, _ := openBolt(t, 1)
	transfertest.Fill(t, other, 1)
	if _, err := transfer.Copy(context.Background(), other, pg, transfer.Options{}); !errors.Is(err, transfer.ErrNotEmpty) ||
		!strings.Contains(err.Error(), "130 messages") {
		t.Fatalf("copy into a used database: %v", err)
	}

	back, _ := openBolt(t, 2)
	r, err = transfer.Copy(context.Background(), pg, back, transfer.Options{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, r, 130)
	transfertest.SameReads(t, src, back, fx)
	transfertest.SamePurges(t, pg, back)
}
