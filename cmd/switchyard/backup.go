package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage/bolt"
)

// backup writes a consistent copy of a bbolt store to a new file: from
// the file itself when no process holds it, otherwise through the
// switchyard serve that does (GET /api/v1/backup), found at --server or
// at serve's --listen address. Either way the copy is checked (it opens,
// its pages are consistent) before it takes its name.
func backup(ctx context.Context, args []string, cio cmdIO) int {
	c := newCommand("backup", "FILE", `Write a consistent copy of a bbolt store to FILE, a new file: from the
store's file when no process holds it, otherwise through the switchyard
serve that does (GET /api/v1/backup, with an admin's token), found at
--server or at serve's --listen address. The copy is checked before it
takes its name. Keep the store's secrets key (instance.key, or
SWITCHYARD_SECRET_KEY) too, apart: the copy's secrets open only with it.`,
		[]string{
			"switchyard backup --data /var/lib/switchyard /backups/switchyard-$(date +%F).db",
			"switchyard backup --config /etc/switchyard/switchyard.yaml /backups/switchyard.db",
			"switchyard backup --server http://10.0.0.5:8080 --token \"$ADMIN_TOKEN\" switchyard.db",
		}, cio)
	fs, getenv, stdout, stderr := c.fs, cio.getenv, cio.stdout, cio.stderr
	configFile := fs.String("config", "", "serve's YAML file (its data, store and listen keys are read)")
	data := fs.String("data", server.DefaultDataDir, "data directory (the bbolt file, the admin token)")
	store := fs.String("store", "bolt", "the bbolt store: bolt (<data>/switchyard.db) or bolt:<file>")
	listen := fs.String("listen", server.DefaultListen, "where serve listens: a store it holds is backed up through it")
	serverURL := fs.String("server", "", "back up through this running Switchyard (http://host:port) rather than from the file")
	token := fs.String("token", "", "an admin's API token for the server (default SWITCHYARD_ADMIN_TOKEN, or <data>/admin-token)")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	var err error
	if len(rest) != 1 {
		err = errors.New("name one file to write the backup to")
	}
	if err == nil {
		err = fillFlags(fs, configFile, getenv)
	}
	var loc server.StoreLocation
	if err == nil && *serverURL == "" {
		loc, err = server.ParseStore(*store, *data)
		if err == nil && loc.Backend != server.BackendBolt {
			err = fmt.Errorf("store %s: backup is for bbolt stores; back PostgreSQL up with its own tools (pg_dump, base backups)", loc)
		}
	}
	if err != nil {
		return c.usageError("%v", err)
	}
	out := rest[0]
	fail := c.fail
	if _, err := os.Stat(out); err == nil {
		return fail(fmt.Errorf("%s exists: name a new file", out))
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	tmp := out + ".part"
	from := ""
	derived := false
	if *serverURL == "" {
		err = bolt.BackupFile(loc.Target, func(size int64, snapshot io.WriterTo) error {
			return writeFile(tmp, size, snapshot.WriteTo)
		})
		from = "bolt:" + loc.Target
		if errors.Is(err, bolt.ErrInUse) {
			*serverURL = "http://" + dialAddress(*listen)
			derived = true
			fmt.Fprintf(stderr, "backup: %s is held by a running switchyard serve; backing it up through %s\n", loc.Target, *serverURL)
		}
	}
	if *serverURL != "" {
		from = *serverURL
		err = backupThrough(ctx, *serverURL, adminToken(*token, getenv, *data), tmp)
		var nerr *net.OpError
		if derived && errors.As(err, &nerr) {
			err = fmt.Errorf("%w (that address is serve's --listen as this command reads it: give backup the same --listen, SWITCHYARD_LISTEN or --config as serve, or --server)", err)
		}
	}
	if err == nil {
		if err = bolt.CheckFile(tmp); err == nil {
			err = os.Rename(tmp, out)
		}
		if err != nil {
			os.Remove(tmp)
		}
	}
	if err == nil {
		err = syncDir(filepath.Dir(out))
	}
	if err != nil {
		return fail(err)
	}
	st, err := os.Stat(out)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes, checked)\n", from, out, st.Size())
	fmt.Fprintln(stdout, "its secrets open with the store's secrets key (SWITCHYARD_SECRET_KEY, or instance.key in the data directory): keep that too, apart")
	return 0
}

// writeFile creates path (it must not exist), writes size bytes into it
// with write, and syncs it; on failure it removes what it wrote.
func writeFile(path string, size int64, write func(io.Writer) (int64, error)) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := write(f)
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("the backup ended after %d of %d bytes", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// backupThrough downloads GET /api/v1/backup from the server at base into
// path.
func backupThrough(ctx context.Context, base, token, path string) error {
	if token == "" {
		return errors.New("backing up through the server needs an admin's API token: pass --token, or set SWITCHYARD_ADMIN_TOKEN")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/api/v1/backup", nil)
	if err != nil {
		return fmt.Errorf("--server %q: %w", base, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask %s for a backup: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var answer struct {
			Error string `json:"error"`
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if json.Unmarshal(body, &answer) != nil || answer.Error == "" {
			answer.Error = http.StatusText(resp.StatusCode)
		}
		return fmt.Errorf("%s answered %d: %s", base, resp.StatusCode, answer.Error)
	}
	return writeFile(path, resp.ContentLength, func(w io.Writer) (int64, error) { return io.Copy(w, resp.Body) })
}

// adminToken is the token to back up through a server with: --token (or
// SWITCHYARD_TOKEN), SWITCHYARD_ADMIN_TOKEN, or the admin token serve
// keeps in its data directory.
func adminToken(flagValue string, getenv func(string) string, dataDir string) string {
	if flagValue != "" {
		return flagValue
	}
	if t := strings.TrimSpace(getenv("SWITCHYARD_ADMIN_TOKEN")); t != "" {
		return t
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// dialAddress is where to reach a server that listens on addr: a
// wildcard host (all interfaces) is reached on loopback.
func dialAddress(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
