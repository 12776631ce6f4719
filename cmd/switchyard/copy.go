package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/postgres"
	"github.com/switchyard-dev/switchyard/storage/seal"
	"github.com/switchyard-dev/switchyard/storage/transfer"
)

// copyStore copies every record of one store into another, empty, one
// (storage/transfer): a bbolt node's store into PostgreSQL, to become a
// cluster, or back. The source must not change meanwhile: bbolt's lock
// keeps a running serve's file from being opened, and a PostgreSQL
// source's nodes must be stopped.
func copyStore(ctx context.Context, args []string, cio cmdIO) int {
	c := newCommand("copy-store", "", `Copy every record of one store into another, new or empty, one: a bbolt
node's store into PostgreSQL, to become a cluster, or back. Ids,
passwords and sealed secrets are copied as they are, then the copy is
compared with its source. Stop every switchyard serve on the source
first: it must not change meanwhile.`,
		[]string{
			"switchyard copy-store --from bolt:/var/lib/switchyard --to postgres://switchyard:pass@db:5432/switchyard?sslmode=require",
			"switchyard copy-store --from postgres://switchyard:pass@db:5432/switchyard --to bolt:/var/lib/switchyard-copy --secret-key-file /run/secrets/sy",
		}, cio)
	fs := c.fs
	from := fs.String("from", "", "the store to copy: bolt (<data>/switchyard.db), bolt:<data directory or file>, or postgres://...")
	to := fs.String("to", "", "the store to copy into, new or empty: postgres://user:pass@host:5432/db?sslmode=..., or bolt:<directory or file>")
	data := fs.String("data", server.DefaultDataDir, "data directory, for a store given as bolt")
	keyFile := fs.String("secret-key-file", "", "file holding the base64 secrets key (default: SWITCHYARD_SECRET_KEY, or the bolt store's instance.key)")
	batch := fs.Int("batch", 500, "records per batch: one read of the source, one transaction of the copy")
	all := fs.Bool("compare-all", false, "compare every record of the copy with its source (default: a sample of each kind)")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	var err error
	if len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err == nil && (*from == "" || *to == "") {
		err = errors.New("--from and --to are both needed, e.g. --from bolt:./data --to postgres://user:pass@host:5432/db")
	}
	var src, dst server.StoreLocation
	if err == nil {
		src, err = server.ParseStore(*from, *data)
	}
	if err == nil {
		dst, err = server.ParseStore(*to, *data)
	}
	if err == nil && src == dst {
		err = fmt.Errorf("--from and --to are the same store (%s)", src)
	}
	if err != nil {
		return c.usageError("%v", err)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := c.fail
	getenv, stdout, stderr := cio.getenv, cio.stdout, cio.stderr
	key, err := copyKey(getenv, *keyFile, src, dst)
	if err != nil {
		return fail(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		return fail(err)
	}
	source, err := openCopyStore(ctx, src, sealer, false)
	if err != nil {
		return fail(fmt.Errorf("the source: %w", err))
	}
	defer source.Close()
	target, err := openCopyStore(ctx, dst, sealer, true)
	if err != nil {
		return fail(fmt.Errorf("the target: %w", err))
	}
	defer target.Close()

	fmt.Fprintf(stderr, "copy-store: from %s to %s\n", src, dst)
	report, err := transfer.Copy(ctx, source, target, transfer.Options{BatchSize: *batch, CompareAll: *all, Progress: printProgress(stderr)})
	if len(report.Kinds) == len(transfer.Kinds) {
		printReport(stdout, report)
	}
	switch {
	case errors.Is(err, transfer.ErrNotEmpty):
		return fail(fmt.Errorf("%s: %w", dst, err))
	case errors.Is(err, transfer.ErrMismatch):
		return fail(err)
	case err != nil:
		return fail(fmt.Errorf("%w\nthe target holds part of a copy: empty it (or make a new one) before trying again", err))
	}
	fmt.Fprintln(stdout, "the copy holds every record of the source: the counts are equal and the records compared are the same")
	return 0
}

// copyKey finds the secrets key that opens the source's secrets and
// seals the copy's: SWITCHYARD_SECRET_KEY, --secret-key-file, or the
// instance.key beside a bbolt store (the source's first). It never makes
// one up. A bbolt target is given the key as its instance.key, so that a
// node on it opens its secrets; one that has another key is refused.
func copyKey(getenv func(string) string, keyFile string, src, dst server.StoreLocation) ([]byte, error) {
	env, err := secretKeyEnv(getenv)
	if err != nil {
		return nil, err
	}
	var key []byte
	switch {
	case env != "":
		if key, err = seal.ParseKey(env); err != nil {
			err = fmt.Errorf("SWITCHYARD_SECRET_KEY: %w", err)
		}
	case keyFile != "":
		key, err = seal.ReadKeyFile(keyFile)
	default:
		for _, loc := range []server.StoreLocation{src, dst} {
			if loc.Backend != server.BackendBolt {
				continue
			}
			if key, err = seal.ReadKeyFile(filepath.Join(filepath.Dir(loc.Target), seal.KeyFile)); !errors.Is(err, os.ErrNotExist) {
				break
			}
		}
		if key == nil && (err == nil || errors.Is(err, os.ErrNotExist)) {
			err = errors.New("none given: set SWITCHYARD_SECRET_KEY or pass --secret-key-file, with the key the source's secrets were sealed with " +
				"(a bbolt store's is the instance.key of its data directory)")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	if dst.Backend == server.BackendBolt {
		path := filepath.Join(filepath.Dir(dst.Target), seal.KeyFile)
		have, err := seal.ReadKeyFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, err
			}
			if err := seal.WriteSecretFile(path, base64.StdEncoding.EncodeToString(key)+"\n"); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, fmt.Errorf("secrets key: %w", err)
		case string(have) != string(key):
			return nil, fmt.Errorf("the target's directory holds another secrets key (%s): a node there could not open the copy's secrets; copy into another directory", path)
		}
	}
	return key, nil
}

// copyStoreBackend is a store copy-store reads or writes.
type copyStoreBackend interface {
	transfer.Target
	Close() error
}

// openCopyStore opens the store at loc. A source must exist, and a
// PostgreSQL one be at this build's schema version: copy-store migrates
// nothing it reads from.
func openCopyStore(ctx context.Context, loc server.StoreLocation, sealer *seal.Sealer, target bool) (copyStoreBackend, error) {
	if loc.Backend == server.BackendBolt {
		if _, err := os.Stat(loc.Target); !target && err != nil {
			return nil, fmt.Errorf("no bbolt store at %s: %w", loc.Target, err)
		}
		if target {
			if err := os.MkdirAll(filepath.Dir(loc.Target), 0o700); err != nil {
				return nil, err
			}
		}
		st, err := bolt.Open(loc.Target, sealer)
		if errors.Is(err, bolt.ErrInUse) {
			return nil, fmt.Errorf("%w: stop the switchyard serve that holds it (the copy needs the store unchanged), "+
				"or copy from a backup of it (switchyard backup)", err)
		}
		return st, err
	}
	if !target {
		v, err := postgres.DatabaseVersion(ctx, loc.Target)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", loc, err)
		}
		if v != postgres.SchemaVersion() {
			return nil, fmt.Errorf("%s: its schema is at version %d, this Switchyard's at %d: migrate it first (switchyard migrate)", loc, v, postgres.SchemaVersion())
		}
	}
	st, err := postgres.Open(ctx, loc.Target, sealer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	return st, nil
}

// printProgress writes how a copy goes, a line at a time: while a kind is
// copied (at most a line a second) and once it is, and while a long
// comparison runs.
func printProgress(w io.Writer) func(transfer.Progress) {
	return func(p transfer.Progress) {
		verb := "copied"
		if p.Phase == transfer.PhaseCompare {
			if p.Finished {
				return // the report says it
			}
			verb = "compared"
		}
		line := fmt.Sprintf("copy-store: %s %d of %d %s", verb, p.Done, p.Total, p.Kind)
		if !p.Finished && p.Total > 0 {
			line += fmt.Sprintf(" (%d%%)", p.Done*100/p.Total)
		}
		if p.Bytes > 0 {
			line += ", " + mebibytes(p.Bytes) + " of bodies"
		}
		fmt.Fprintln(w, line)
	}
}

// printReport writes the counts of both stores, kind by kind, and what
// was compared.
func printReport(w io.Writer, r transfer.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "kind\tsource\tcopy\tcompared")
	counts := func(k transfer.Kind, c transfer.Counts) string {
		if k.Part() == "" {
			return fmt.Sprint(c.Records)
		}
		return fmt.Sprintf("%d (%d %s)", c.Records, c.Parts, k.Part())
	}
	for _, k := range r.Kinds {
		compared := fmt.Sprint(k.Compared)
		if k.ComparedBytes > 0 {
			compared += " (" + mebibytes(k.ComparedBytes) + " of bodies)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Kind, counts(k.Kind, k.Source), counts(k.Kind, k.Target), compared)
	}
	tw.Flush()
}

func mebibytes(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
