package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/term"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
)

// userCmd: switchyard user create, on the store itself.
func userCmd(ctx context.Context, args []string, cio cmdIO) int {
	return dispatch(ctx, "user", "Users, on the store itself (no server needed): for the first admin.", []subcommand{
		{"create", "create a user in a store, offline", userCreate},
	}, args, cio)
}

// maxPasswordInput bounds what --password-stdin reads.
const maxPasswordInput = 4096

func userCreate(ctx context.Context, args []string, cio cmdIO) int {
	c := newCommand("user create", "", "Create a user directly in the store, with no server running: for the first admin.\n"+
		"The rules are the API's (POST /api/v1/users): the name must be free, the password at least "+fmt.Sprint(access.MinPasswordLen)+" characters.\n"+
		"A bbolt store must not be held by a running switchyard (then use the API or the UI); a PostgreSQL store may be,\n"+
		"given the secrets key its nodes share (SWITCHYARD_SECRET_KEY or --secret-key-file).\n"+
		"The password comes from stdin with --password-stdin, else from a prompt on the terminal.", []string{
		"switchyard user create --data ./data --name ada --role admin",
		"printf '%s' \"$ADMIN_PASSWORD\" | switchyard user create --store postgres://switchyard@db/switchyard --name ada --role admin --password-stdin",
	}, cio)
	data := c.fs.String("data", envOr(cio.getenv, "data", server.DefaultDataDir), "data directory (a bolt store's file and instance.key)")
	store := c.fs.String("store", envOr(cio.getenv, "store", "bolt"), storeUsage)
	keyFile := c.fs.String("secret-key-file", cio.getenv(envName("secret-key-file")), "file holding the base64 secrets key (instead of SWITCHYARD_SECRET_KEY; a bolt store's default: its instance.key)")
	name := c.fs.String("name", "", "the user's name, for signing in (required)")
	display := c.fs.String("display-name", "", "the name shown in the UI and the audit log")
	role := c.fs.String("role", "", "required: one of "+strings.Join(access.Roles, ", "))
	fromStdin := c.fs.Bool("password-stdin", false, "read the password from stdin (one line) instead of prompting")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	switch {
	case len(rest) > 0:
		return c.usageError("unexpected argument %q", rest[0])
	case *name == "":
		return c.usageError("--name is required")
	case *role == "":
		return c.usageError("--role is required: one of %s", strings.Join(access.Roles, ", "))
	case !access.ValidRole(*role):
		return c.usageError("--role must be one of %s, got %q", strings.Join(access.Roles, ", "), *role)
	}
	if err := access.CheckUserName(strings.TrimSpace(*name)); err != nil {
		return c.usageError("--name: %v", strings.TrimPrefix(err.Error(), storage.ErrInvalid.Error()+": "))
	}
	secretKey, err := secretKeyEnv(cio.getenv)
	if err != nil {
		return c.usageError("%v", err)
	}

	password, err := readPassword(cio, *fromStdin)
	if err != nil {
		return c.fail(err)
	}
	if err := access.CheckPasswordPolicy(password); err != nil {
		return c.fail(err)
	}

	st, loc, err := server.OpenStore(server.Options{Store: *store, DataDir: *data, SecretKey: secretKey, SecretKeyFile: *keyFile})
	if errors.Is(err, bolt.ErrInUse) {
		return c.fail(fmt.Errorf("another switchyard holds %s; stop it or create the user through the API/UI", filepath.Dir(loc.Target)))
	}
	if err != nil {
		return c.fail(err)
	}
	defer st.Close()
	u, err := access.CreateUser(ctx, st, access.UserInput{Name: name, DisplayName: display, Role: role, Password: &password})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return c.fail(fmt.Errorf("store %s already has a user named %q", loc, *name))
	case err != nil:
		return c.fail(fmt.Errorf("store %s: %w", loc, err))
	}
	// As the API's POST /users does, the creation goes in the audit log.
	if id, err := uuid.NewV7(); err == nil {
		err = st.AppendAudit(ctx, storage.AuditEntry{ID: id.String(), Time: time.Now().UTC(), Actor: "cli", Action: "user.create",
			Target: u.ID, Detail: u.Name + " (" + u.Role + "), by switchyard user create"})
		if err != nil {
			fmt.Fprintf(c.stderr, "switchyard user create: the user was created, but recording it in the audit log failed: %v\n", err)
		}
	}
	fmt.Fprintf(c.stdout, "created user %s (%s, id %s) in store %s\n", u.Name, u.Role, u.ID, loc)
	return 0
}

// envOr is SWITCHYARD_<NAME> (as serve reads it), or def.
func envOr(getenv func(string) string, flagName, def string) string {
	if v := getenv(envName(flagName)); v != "" {
		return v
	}
	return def
}

// readPassword reads the new user's password: from stdin's first line
// with fromStdin, else from a prompt (twice, not echoed) on the terminal
// that stdin is. Neither is an error.
func readPassword(cio cmdIO, fromStdin bool) (string, error) {
	if fromStdin {
		b, err := io.ReadAll(io.LimitReader(cio.stdin, maxPasswordInput+1))
		if err != nil {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		if len(b) > maxPasswordInput {
			return "", fmt.Errorf("the password on stdin is longer than %d bytes", maxPasswordInput)
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		return strings.TrimSuffix(string(line), "\r"), nil
	}
	f, ok := cio.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("stdin is not a terminal to prompt for the password on: pipe it in with --password-stdin")
	}
	fd := int(f.Fd())
	fmt.Fprint(cio.stderr, "Password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(cio.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	fmt.Fprint(cio.stderr, "Password again: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(cio.stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if !bytes.Equal(p1, p2) {
		return "", errors.New("the two passwords differ")
	}
	return string(p1), nil
}
