package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/manifest"
)

// The commands that group subcommands (messages, deliveries, user) share
// this file: a dispatch on the subcommand's name, one way of writing a
// usage with examples, and the flags of every command that talks to the
// admin API (--server, --token, --output).

// serverEnv names the server the API commands talk to when --server is
// not given.
const serverEnv = "SWITCHYARD_SERVER"

// defaultServer is the server when neither --server nor serverEnv says.
const defaultServer = "http://localhost:8080"

// subcommand is one subcommand of a group: "list" of "messages".
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, io cmdIO) int
}

// cmdIO is what a command runs with besides its arguments.
type cmdIO struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// dispatch runs the subcommand args[0] of group; with none, or -h, it
// prints the group's subcommands.
func dispatch(ctx context.Context, group, about string, subs []subcommand, args []string, cio cmdIO) int {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: switchyard %s <subcommand> [flags]\n\n%s\n\nsubcommands:\n", group, about)
		for _, s := range subs {
			fmt.Fprintf(w, "  %-9s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun 'switchyard %s <subcommand> -h' for its flags and examples.\n", group)
	}
	if len(args) == 0 {
		usage(cio.stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(cio.stdout)
		return 0
	}
	for _, s := range subs {
		if s.name == args[0] {
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return s.run(ctx, args[1:], cio)
		}
	}
	fmt.Fprintf(cio.stderr, "switchyard %s: unknown subcommand %q\n\n", group, args[0])
	usage(cio.stderr)
	return 2
}

// command is the flags and usage of one (sub)command.
type command struct {
	name  string // "messages list"
	fs    *flag.FlagSet
	usage func(io.Writer)
	cmdIO
}

// newCommand makes the flag set of the command name, whose -h prints
// synopsis (the arguments after the flags), about and the examples.
func newCommand(name, synopsis, about string, examples []string, cio cmdIO) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() {} // parse prints it, to stdout for -h
	c := &command{name: name, fs: fs, cmdIO: cio}
	c.usage = func(w io.Writer) {
		fmt.Fprintf(w, "usage: %s\n\n%s\n\nexamples:\n", strings.TrimSpace("switchyard "+name+" [flags] "+synopsis), about)
		for _, e := range examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(cio.stderr)
	}
	return c
}

// parse reads args, flags and arguments in any order ("resubmit ID
// --wait" as well as "resubmit --wait ID"), and returns the arguments.
// ok false: -h (code 0, the usage went to stdout) or a bad flag (code 2,
// the error and usage went to stderr).
func (c *command) parse(args []string) (rest []string, code int, ok bool) {
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.usage(c.stdout)
				return nil, 0, false
			}
			fmt.Fprintln(c.stderr)
			c.usage(c.stderr)
			return nil, 2, false
		}
		if c.fs.NArg() == 0 {
			return rest, 0, true
		}
		args = c.fs.Args()
		if args[0] == "--" {
			return append(rest, args[1:]...), 0, true
		}
		rest, args = append(rest, args[0]), args[1:]
	}
}

// usageError prints a bad use of the command (code 2), each line of it
// (every wrong value of a configuration) after the command's name.
func (c *command) usageError(format string, a ...any) int {
	for _, line := range strings.Split(fmt.Sprintf(format, a...), "\n") {
		fmt.Fprintf(c.stderr, "switchyard %s: %s\n", c.name, line)
	}
	fmt.Fprintf(c.stderr, "Run 'switchyard %s -h' for usage.\n", c.name)
	return 2
}

// fail prints an error of the command (code 1).
func (c *command) fail(err error) int {
	fmt.Fprintf(c.stderr, "switchyard %s: %v\n", c.name, err)
	return 1
}

// apiCommand is a command that calls the admin API.
type apiCommand struct {
	*command
	server, token, output *string
}

// newAPICommand is newCommand with --server, --token and --output.
func newAPICommand(name, synopsis, about string, examples []string, cio cmdIO) *apiCommand {
	c := withAPIFlags(newCommand(name, synopsis, about, examples, cio))
	c.output = c.fs.String("output", "table", "table or json (the API's answer, indented)")
	return c
}

// withAPIFlags gives c --server and --token, for a command that calls
// the admin API but prints only text (export, apply).
func withAPIFlags(c *command) *apiCommand {
	server := c.getenv(serverEnv)
	if server == "" {
		server = defaultServer
	}
	table := "table"
	return &apiCommand{
		command: c,
		server:  c.fs.String("server", server, "the Switchyard to talk to ($"+serverEnv+")"),
		// The default is read in client(), so that -h never shows the token.
		token:  c.fs.String("token", "", "API token (default: $"+client.TokenEnv+")"),
		output: &table,
	}
}

// client checks --output and returns the API client of --server and the
// token; a bad --server or --output is a usage error.
func (c *apiCommand) client() (*client.Client, int, bool) {
	if *c.output != "table" && *c.output != "json" {
		return nil, c.usageError("--output must be table or json, got %q", *c.output), false
	}
	if *c.token == "" {
		*c.token = c.getenv(client.TokenEnv)
	}
	cl, err := client.New(*c.server, *c.token)
	if err != nil {
		return nil, c.usageError("%v", err), false
	}
	return cl, 0, true
}

func (c *apiCommand) json() bool { return *c.output == "json" }

// apiFail prints an API error: the server's message, and what to do
// about a 401 without a token. Code 1.
func (c *apiCommand) apiFail(err error) int {
	var ce *manifest.ChangeError
	if errors.As(err, &ce) {
		// It names the record, its file and what was applied; the
		// server's message is in it already.
		return c.fail(err)
	}
	var e *client.Error
	if errors.As(err, &e) {
		msg := fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), printable(e.Message))
		if e.Status == http.StatusUnauthorized && *c.token == "" {
			msg += " (no token: give --token or set " + client.TokenEnv + ")"
		}
		err = errors.New(msg)
	}
	return c.fail(err)
}

// printJSON writes an answer of the API indented.
func (c *apiCommand) printJSON(raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("the answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := c.stdout.Write(buf.Bytes())
	return err
}

// listPages reads up to limit items of the list at path, following
// next_cursor, and returns each item's JSON and the cursor of what is
// left ("" when nothing is).
func listPages(ctx context.Context, cl *client.Client, path string, q url.Values, limit int) ([]json.RawMessage, string, error) {
	return client.List[json.RawMessage](ctx, cl, path, q, limit)
}

// printList writes a list: as JSON, {"items", "next_cursor"} as the API
// answers one page; as a table, through row for each item.
func (c *apiCommand) printList(items []json.RawMessage, next string, table func([]json.RawMessage) error) error {
	if c.json() {
		if items == nil {
			items = []json.RawMessage{}
		}
		raw, err := json.Marshal(map[string]any{"items": items, "next_cursor": next})
		if err != nil {
			return err
		}
		return c.printJSON(raw)
	}
	if err := table(items); err != nil {
		return err
	}
	if next != "" {
		fmt.Fprintf(c.stderr, "more: raise --limit, or add --cursor %s\n", next)
	}
	return nil
}

// resolveID returns nameOrID as an id: an id as it is, a name looked up
// in the list at path (/providers, /functions, /endpoints).
func resolveID(ctx context.Context, cl *client.Client, path, nameOrID string) (string, error) {
	if nameOrID == "" {
		return "", nil
	}
	if _, err := uuid.Parse(nameOrID); err == nil {
		return nameOrID, nil
	}
	names, err := namesByID(ctx, cl, path)
	if err != nil {
		return "", err
	}
	return idOf(names, path, nameOrID)
}

// idOf finds nameOrID in names (an id to a name, of the list at path).
func idOf(names map[string]string, path, nameOrID string) (string, error) {
	if _, err := uuid.Parse(nameOrID); err == nil || nameOrID == "" {
		return nameOrID, nil
	}
	kind := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "s")
	key := field.NameKey(nameOrID)
	var found []string
	for id, name := range names {
		if field.NameKey(name) == key {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no %s named %q", kind, nameOrID)
	case 1:
		return found[0], nil
	default:
		// A store from before names were unique: never guess which.
		slices.Sort(found)
		return "", fmt.Errorf("%d %ss are named %q (%s); give the id", len(found), kind, nameOrID, strings.Join(found, ", "))
	}
}

// printable makes a value from the server safe to print on a terminal as
// text: control characters (a line feed or an escape sequence in a
// webhook's URI, say), bidirectional and other invisible format
// characters are written as Go escapes, so what the server holds cannot
// forge lines or drive the terminal. JSON output needs none of it.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unsafeOnTerminal(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !unsafeOnTerminal(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRuneToASCII(r) // '\n', '\x1b', '\u202e'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

func unsafeOnTerminal(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Bidi_Control, unicode.Zl, unicode.Zp)
}

// namesByID reads the whole list at path, an id to a name.
func namesByID(ctx context.Context, cl *client.Client, path string) (map[string]string, error) {
	items, _, err := client.List[struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}](ctx, cl, path, nil, 0)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		out[it.ID] = it.Name
	}
	return out, nil
}

// parseSince reads a time flag: an RFC 3339 time or Unix seconds, passed
// on as they are, or an age ("90m", "1h", "7d") before now.
func parseSince(flagName, v string, now time.Time) (string, error) {
	if v == "" {
		return "", nil
	}
	if _, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return v, nil
	}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return v, nil
	}
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok && err != nil {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			d = time.Duration(n) * 24 * time.Hour
		}
	}
	if err != nil || d < 0 {
		return "", fmt.Errorf("--%s must be an age such as 1h or 7d, an RFC 3339 time such as 2026-12-03T14:00:00Z, or Unix seconds, got %q", flagName, v)
	}
	return now.Add(-d).UTC().Format(time.RFC3339), nil
}

// stamp writes t for a table cell, in local time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// clip cuts s to n runes for a table cell, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// firstLine is s up to its first line break, trimmed.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// orDash is s, or "-" when it is empty, for a table cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
