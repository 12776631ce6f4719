package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/switchyard-dev/switchyard/storage/seal"
)

// Check finds every problem New would meet in o that can be found without
// opening the store, binding the port or writing anything: the values'
// ranges, the listen address's form, the store URL's form, the secrets
// key (its value, or its file, which must exist and hold one) and the
// data directory. It returns them joined (errors.Join), or nil.
func (o Options) Check() error {
	var errs []error
	full, err := o.withDefaults()
	if err != nil {
		errs = append(errs, err)
		full = o
		if full.DataDir == "" {
			full.DataDir = DefaultDataDir
		}
	}
	if err := checkListen(full.Listen); err != nil && full.Listen != "" {
		errs = append(errs, err)
	}
	loc, locErr := ParseStore(full.Store, full.DataDir)
	if fi, err := os.Stat(full.DataDir); err == nil && !fi.IsDir() {
		errs = append(errs, fmt.Errorf("data directory %s is a file", full.DataDir))
	}
	if locErr == nil && (full.SecretKey == "" || full.SecretKeyFile == "") {
		switch {
		case full.SecretKey != "":
			if _, err := seal.ParseKey(full.SecretKey); err != nil {
				errs = append(errs, fmt.Errorf("secrets key (SWITCHYARD_SECRET_KEY): %w (make one with: openssl rand -base64 32)", err))
			}
		case full.SecretKeyFile != "":
			if _, err := seal.ReadKeyFile(full.SecretKeyFile); err != nil {
				errs = append(errs, fmt.Errorf("secrets key (--secret-key-file %s): %w", full.SecretKeyFile, err))
			}
		case loc.Backend == BackendPostgres:
			errs = append(errs, ErrNoSecretKey)
		default:
			// A bbolt store's key is <data>/instance.key, made at the
			// first start: only one that exists is read.
			path := filepath.Join(full.DataDir, seal.KeyFile)
			if _, err := seal.ReadKeyFile(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("secrets key: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// checkListen checks the form of a listen address: host:port, the port a
// number from 0 to 65535.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen %q: want host:port, e.g. 127.0.0.1:8080 or :8080", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("listen %q: the port must be a number from 0 to 65535", addr)
	}
	return nil
}

// listen binds the listening address, saying plainly when the port is
// taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		port := addr
		if _, p, e := net.SplitHostPort(addr); e == nil {
			port = p
		}
		return nil, fmt.Errorf("listen %s: port %s is in use (another switchyard?)", addr, port)
	}
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// uiURL is the address of the UI, as an operator on this machine reaches
// it: a wildcard host is given as localhost.
func uiURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/ui/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/ui/"
}
