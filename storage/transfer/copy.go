package transfer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrNotEmpty: the target of a copy holds records already.
	ErrNotEmpty = errors.New("the target store is not empty")
	// ErrMismatch: the copy differs from its source.
	ErrMismatch = errors.New("the copy differs from its source")
)

// Options tune Copy. The zero value of each field takes the default
// beside it.
type Options struct {
	// BatchSize is how many records one batch carries (default 500); a
	// batch is one read of the source and one transaction of the target.
	BatchSize int
	// Progress, when set, is told how the copy goes: at most once per
	// ProgressEvery (default 1s) while a kind is copied or compared, and
	// once when it is done.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// CompareAll compares every record of the copy with its source.
	// Otherwise Copy compares a sample: SamplePages pages of each kind
	// (default 8), spread from its first record to its last, of
	// SampleSize records each (default 100).
	CompareAll  bool
	SamplePages int
	SampleSize  int
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.SamplePages <= 0 {
		o.SamplePages = 8
	}
	if o.SampleSize <= 0 {
		o.SampleSize = 100
	}
	return o
}

// The phases of a copy, as Progress reports them.
const (
	PhaseCopy    = "copy"
	PhaseCompare = "compare"
)

// Progress is how far a copy has gone in one kind.
type Progress struct {
	Phase string // PhaseCopy or PhaseCompare
	Kind  Kind
	// Done is how many records were copied (or compared) so far, of
	// Total in the source.
	Done, Total int64
	// Bytes is the size of the message bodies copied (or compared).
	Bytes int64
	// Finished: the kind is done.
	Finished bool
}

// Report says what a copy did, kind by kind (in the order of Kinds).
type Report struct {
	Kinds []KindReport
}

// KindReport is what a copy did with one kind.
type KindReport struct {
	Kind Kind
	// Source and Target are the counts of the two stores once the copy
	// is done.
	Source, Target Counts
	Copied         int64
	// Compared is how many records of the copy were compared with their
	// source, field by field, bodies byte for byte; ComparedBytes is the
	// size of those bodies.
	Compared      int64
	ComparedBytes int64
}

// Copy copies every record of from into to, which must be empty, then
// checks the copy: the counts of each kind (records and their parts) must
// be equal, and the records compared (a sample, or all with CompareAll)
// the same. It fails with ErrNotEmpty, saying what the target holds,
// before writing anything; with ErrMismatch, listing the differences by
// record and field, after the copy. The source must not change
// meanwhile: stop what serves it, or copy from a backup.
func Copy(ctx context.Context, from Exporter, to Target, opts Options) (Report, error) {
	opts = opts.withDefaults()
	if err := ensureEmpty(ctx, to); err != nil {
		return Report{}, err
	}
	c := &copier{from: from, to: to, opts: opts}
	var report Report
	for _, k := range Kinds {
		total, err := from.Count(ctx, k)
		if err != nil {
			return report, fmt.Errorf("count the source's %s: %w", k, err)
		}
		kr := KindReport{Kind: k}
		starts, err := c.copyKind(ctx, k, total.Records, &kr)
		if err != nil {
			return report, err
		}
		report.Kinds = append(report.Kinds, kr)
		c.starts = append(c.starts, starts)
	}
	return report, c.check(ctx, &report)
}

// ensureEmpty fails with ErrNotEmpty when to holds any record.
func ensureEmpty(ctx context.Context, to Importer) error {
	var found []string
	for _, k := range Kinds {
		n, err := to.Count(ctx, k)
		if err != nil {
			return fmt.Errorf("count the target's %s: %w", k, err)
		}
		if n.Records > 0 {
			found = append(found, fmt.Sprintf("%d %s", n.Records, k))
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("%w: it holds %s; copy into a new, empty store (before any node has served it)", ErrNotEmpty, strings.Join(found, ", "))
	}
	return nil
}

type copier struct {
	from   Exporter
	to     Target
	opts   Options
	starts [][]string // per kind in Kinds' order, where each batch began
}

// ticker calls Progress at most once per ProgressEvery, the first time
// ProgressEvery after it starts, and when a kind is finished.
type ticker struct {
	fn    func(Progress)
	every time.Duration
	last  time.Time
}

func newTicker(o Options) ticker {
	return ticker{fn: o.Progress, every: o.ProgressEvery, last: time.Now()}
}

func (t *ticker) report(p Progress) {
	if t.fn == nil {
		return
	}
	if now := time.Now(); p.Finished || now.Sub(t.last) >= t.every {
		t.last = now
		t.fn(p)
	}
}

// copyKind copies every record of kind k, batch by batch, and returns the
// key each batch started after.
func (c *copier) copyKind(ctx context.Context, k Kind, total int64, kr *KindReport) ([]string, error) {
	t := newTicker(c.opts)
	p := Progress{Phase: PhaseCopy, Kind: k, Total: total}
	var starts []string
	after := ""
	for {
		b, err := c.from.Export(ctx, k, after, c.opts.BatchSize)
		if err != nil {
			return nil, fmt.Errorf("read %s from the source: %w", k, err)
		}
		if b.Len() == 0 {
			break
		}
		if err := c.to.Import(ctx, b); err != nil {
			return nil, fmt.Errorf("write %s into the target: %w", k, err)
		}
		starts = append(starts, after)
		after = b.Last()
		p.Done += int64(b.Len())
		p.Bytes += b.PayloadBytes()
		t.report(p)
	}
	kr.Copied = p.Done
	p.Finished = true
	t.report(p)
	return starts, nil
}

// mismatches collects the differences a check finds.
type mismatches []string

func (m *mismatches) add(format string, args ...any) { *m = append(*m, fmt.Sprintf(format, args...)) }

func (m mismatches) err() error {
	if len(m) == 0 {
		return nil
	}
	const shown = 20
	lines := m
	more := ""
	if len(m) > shown {
		lines, more = m[:shown], fmt.Sprintf("\n  ... and %d more", len(m)-shown)
	}
	return fmt.Errorf("%w:\n  %s%s", ErrMismatch, strings.Join(lines, "\n  "), more)
}

// check counts both stores and compares records of every kind.
func (c *copier) check(ctx context.Context, report *Report) error {
	var bad mismatches
	for i := range report.Kinds {
		kr := &report.Kinds[i]
		var err error
		if kr.Source, err = c.from.Count(ctx, kr.Kind); err != nil {
			return fmt.Errorf("count the source's %s: %w", kr.Kind, err)
		}
		if kr.Target, err = c.to.Count(ctx, kr.Kind); err != nil {
			return fmt.Errorf("count the target's %s: %w", kr.Kind, err)
		}
		if kr.Source.Records != kr.Copied {
			bad.add("%s: %d copied, but the source now holds %d (did something write to it meanwhile?)", kr.Kind, kr.Copied, kr.Source.Records)
		}
		if kr.Source.Records != kr.Target.Records {
			bad.add("%s: %d in the source, %d in the copy", kr.Kind, kr.Source.Records, kr.Target.Records)
		}
		if kr.Source.Parts != kr.Target.Parts {
			bad.add("%s: %d %s in the source, %d in the copy", kr.Kind, kr.Source.Parts, kr.Kind.Part(), kr.Target.Parts)
		}
		if err := c.compareKind(ctx, kr, c.starts[i], &bad); err != nil {
			return err
		}
	}
	return bad.err()
}

// compareKind compares records of one kind in both stores: every one with
// CompareAll, otherwise a page at each of SamplePages of the batches'
// starts, spread evenly.
func (c *copier) compareKind(ctx context.Context, kr *KindReport, starts []string, bad *mismatches) error {
	t := newTicker(c.opts)
	p := Progress{Phase: PhaseCompare, Kind: kr.Kind, Total: kr.Source.Records}
	if c.opts.CompareAll {
		after := ""
		for {
			n, last, err := c.comparePage(ctx, kr, after, "", c.opts.BatchSize, &p, bad)
			if err != nil {
				return err
			}
			if n == 0 || last == "" {
				break
			}
			after = last
			t.report(p)
		}
	} else {
		// A sampled page ends where the next one starts, so that no
		// record is compared twice.
		picks := spread(starts, c.opts.SamplePages)
		for i, after := range picks {
			until := ""
			if i+1 < len(picks) {
				until = picks[i+1]
			}
			if _, _, err := c.comparePage(ctx, kr, after, until, c.opts.SampleSize, &p, bad); err != nil {
				return err
			}
			t.report(p)
		}
	}
	kr.Compared, kr.ComparedBytes = p.Done, p.Bytes
	p.Finished = true
	t.report(p)
	return nil
}

// spread picks up to n of starts, the first and the last among them,
// evenly apart.
func spread(starts []string, n int) []string {
	if len(starts) <= n {
		return starts
	}
	out := make([]string, n)
	for i := range n {
		out[i] = starts[i*(len(starts)-1)/(n-1)]
	}
	return out
}

// comparePage compares the page of up to limit records after `after` (and
// up to `until` when it is not "") in both stores, record by record, and
// returns how many records the source had and the key of the last
// compared ("" when the copy stopped short). A page may hold fewer records
// on one side (exporters bound pages by bytes differently); records
// beyond the shorter page are compared by the next call.
func (c *copier) comparePage(ctx context.Context, kr *KindReport, after, until string, limit int, p *Progress, bad *mismatches) (int, string, error) {
	src, err := c.from.Export(ctx, kr.Kind, after, limit)
	if err != nil {
		return 0, "", fmt.Errorf("read %s from the source: %w", kr.Kind, err)
	}
	dst, err := c.to.Export(ctx, kr.Kind, after, limit)
	if err != nil {
		return 0, "", fmt.Errorf("read %s from the copy: %w", kr.Kind, err)
	}
	sn, skey, srec := src.records()
	dn, dkey, drec := dst.records()
	if sn == 0 {
		if dn > 0 {
			bad.add("%s: the copy holds %s, which the source does not", kr.Kind, kr.Kind.Show(dkey(0)))
		}
		return 0, "", nil
	}
	if dn == 0 {
		bad.add("%s: %s is missing from the copy", kr.Kind, kr.Kind.Show(skey(0)))
		return sn, "", nil
	}
	n := min(sn, dn)
	if until != "" {
		for i := range n {
			if skey(i) > until {
				n = i
				break
			}
		}
		if n == 0 {
			return sn, "", nil
		}
	}
	for i := range n {
		if skey(i) != dkey(i) {
			bad.add("%s: %s is missing from the copy, or %s is not in the source", kr.Kind, kr.Kind.Show(skey(i)), kr.Kind.Show(dkey(i)))
			return sn, "", nil
		}
		if d := Diff(srec(i), drec(i)); d != "" {
			bad.add("%s %s: %s differs", kr.Kind, kr.Kind.Show(skey(i)), d)
		}
		p.Done++
	}
	if kr.Kind == Messages {
		for i := range n {
			p.Bytes += int64(len(src.Messages[i].Payload))
		}
	}
	return sn, skey(n - 1), nil
}
