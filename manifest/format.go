// Package manifest is Switchyard's configuration as code: a directory
// that holds providers (in their order), functions, endpoints and the
// declared event types of the outbound catalogue, the
// plan that takes a server from its state to the directory's, and
// export and apply over the admin API (package client).
//
// The directory:
//
//	switchyard.yaml                  the records and their fields
//	providers/<file>.js              a provider's match script
//	providers/<file>.handshake.js    its handshake script, when it has one
//	functions/<file>.js              a function's script
//
// where <file> is the record's name made safe as a file name (FileName).
// A secret is never written: switchyard.yaml holds "${env:NAME}" in its
// place, and apply reads NAME from the environment. docs/operations.md,
// section "Config as code", describes the format for users.
//
// The directory is input that may come from anyone who can open a pull
// request: its files are read only if they are regular files (never
// through a symbolic link) and up to a size (MaxConfigSize, MaxScriptSize),
// and export writes and removes only regular files of its own, never
// through a link.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/notify/broker"
)

// ConfigFile is the name of the directory's YAML file.
const ConfigFile = "switchyard.yaml"

// DocsURL is where users read about the directory.
const DocsURL = "docs/operations.md#config-as-code"

// Size limits of what Read reads: MaxScriptSize is the admin API's
// largest request body (a larger script could never be sent).
const (
	MaxConfigSize = 8 << 20
	MaxScriptSize = 2 << 20
)

// Config is what a directory holds. In the YAML, a field left out (or
// null) keeps the server's value on update and takes the default on
// create; export writes every field.
type Config struct {
	Providers []Provider `yaml:"providers"`
	Functions []Function `yaml:"functions"`
	Endpoints []Endpoint `yaml:"endpoints"`
	// EventTypes are the declared types of the outbound catalogue.
	EventTypes []EventType `yaml:"event_types"`
}

// EventType is a declared event type (notify.CheckEventType); Type is its
// name, which is case-sensitive. Example and Schema are JSON objects,
// written in YAML.
type EventType struct {
	Type        string         `yaml:"type" json:"-"`
	Kind        *string        `yaml:"kind" json:"kind"`
	Description *string        `yaml:"description" json:"description"`
	Example     map[string]any `yaml:"example" json:"example"`
	Schema      map[string]any `yaml:"schema" json:"schema"`
}

// change is the declaration as the API takes it.
func (t *EventType) change() (notify.EventTypeChange, error) {
	ch := notify.EventTypeChange{Kind: deref(t.Kind), Description: deref(t.Description)}
	var err error
	if t.Example != nil {
		if ch.Example, err = json.Marshal(t.Example); err != nil {
			return ch, fmt.Errorf("example: %w", err)
		}
	}
	if t.Schema != nil {
		if ch.Schema, err = json.Marshal(t.Schema); err != nil {
			return ch, fmt.Errorf("schema: %w", err)
		}
	}
	return ch, nil
}

// Provider is a provider; its list order is the providers' order. The
// json tags are the admin API's fields: those not "-" are compared and
// sent as they are.
type Provider struct {
	Name           string            `yaml:"name" json:"-"`
	Description    *string           `yaml:"description" json:"description"`
	Active         *bool             `yaml:"active" json:"active"`
	MatchTimeoutMS *int              `yaml:"match_timeout_ms" json:"match_timeout_ms"`
	AllowedSources []string          `yaml:"allowed_sources" json:"allowed_sources"`
	Properties     map[string]string `yaml:"properties" json:"properties"`
	// Secrets maps a secret's name to "${env:VAR}".
	Secrets map[string]string `yaml:"secrets" json:"-"`
	// The scripts are the files beside switchyard.yaml.
	MatchScript     string `yaml:"-" json:"match_script"`
	HandshakeScript string `yaml:"-" json:"handshake_script"`
}

// Function is a function; Provider is its provider's name.
type Function struct {
	Name        string  `yaml:"name" json:"-"`
	Provider    string  `yaml:"provider" json:"-"`
	Description *string `yaml:"description" json:"description"`
	URI         *string `yaml:"uri" json:"uri"`
	Active      *bool   `yaml:"active" json:"active"`
	TimeoutMS   *int    `yaml:"timeout_ms" json:"timeout_ms"`
	Script      string  `yaml:"-" json:"script"`
}

// Endpoint is an outbound endpoint. The values of its secret headers
// (secret_headers and credential-like names such as Authorization), of
// its cookies, its auth password, token or client secret, its signing
// secret, its proxy's password and its TLS client key are "${env:VAR}"
// references; the signing secret may also be notify.GenerateV1a, an
// Ed25519 key pair that the server makes.
type Endpoint struct {
	Name          string            `yaml:"name" json:"-"`
	Description   *string           `yaml:"description" json:"description"`
	URL           *string           `yaml:"url" json:"url"`
	Method        *string           `yaml:"method" json:"method"`
	Enabled       *bool             `yaml:"enabled" json:"enabled"`
	EventTypes    []string          `yaml:"event_types" json:"event_types"`
	Filter        map[string]any    `yaml:"filter" json:"filter"`
	Headers       map[string]string `yaml:"headers" json:"-"`
	SecretHeaders []string          `yaml:"secret_headers" json:"secret_headers"`
	Cookies       map[string]string `yaml:"cookies" json:"-"`
	Auth          *Auth             `yaml:"auth" json:"-"`
	// Proxy is the proxy URL without its password, ProxyPassword the
	// password's reference ("" for none).
	Proxy         *string           `yaml:"proxy" json:"proxy"`
	ProxyPassword *string           `yaml:"proxy_password" json:"-"`
	TLS           *TLS              `yaml:"tls" json:"-"`
	BodyTemplate  *string           `yaml:"body_template" json:"body_template"`
	BodyTemplates map[string]string `yaml:"body_templates" json:"body_templates"`
	MsgKey        *string           `yaml:"msg_key" json:"msg_key"`
	ExtraBody     map[string]any    `yaml:"extra_body" json:"extra_body"`
	TimeoutMS     *int              `yaml:"timeout_ms" json:"timeout_ms"`
	Retry         *Retry            `yaml:"retry" json:"retry"`
	Verify        *Verify           `yaml:"verify" json:"verify"`
	SigningSecret *string           `yaml:"signing_secret" json:"-"`
	Language      *string           `yaml:"language" json:"language"`
	Concurrency   *int              `yaml:"concurrency" json:"concurrency"`
	RateLimit     *float64          `yaml:"rate_limit" json:"rate_limit"`
	AutoDisable   *AutoDisable      `yaml:"auto_disable" json:"auto_disable"`
}

// Auth is an endpoint's auth; Password, Token and ClientSecret are
// references.
type Auth struct {
	Type         string   `yaml:"type" json:"type"`
	Username     string   `yaml:"username,omitempty" json:"username"`
	Password     string   `yaml:"password,omitempty" json:"-"`
	Token        string   `yaml:"token,omitempty" json:"-"`
	TokenURL     string   `yaml:"token_url,omitempty" json:"token_url"`
	ClientID     string   `yaml:"client_id,omitempty" json:"client_id"`
	ClientSecret string   `yaml:"client_secret,omitempty" json:"-"`
	Scopes       []string `yaml:"scopes,omitempty" json:"scopes"`
}

// TLS is an endpoint's TLS settings; ClientKeyPEM is a reference.
type TLS struct {
	CAPEM         string `yaml:"ca_pem,omitempty" json:"ca_pem"`
	ClientCertPEM string `yaml:"client_cert_pem,omitempty" json:"client_cert_pem"`
	ClientKeyPEM  string `yaml:"client_key_pem,omitempty" json:"-"`
	ServerName    string `yaml:"server_name,omitempty" json:"server_name"`
}

// Retry is an endpoint's retry policy.
type Retry struct {
	Backoff     string `yaml:"backoff" json:"backoff"`
	MaxAttempts int    `yaml:"max_attempts" json:"max_attempts"`
	IntervalMS  int    `yaml:"interval_ms" json:"interval_ms"`
}

// Verify is how an endpoint's answer is judged a success.
type Verify struct {
	Type  string `yaml:"type" json:"type"`
	Value string `yaml:"value" json:"value"`
}

// AutoDisable is when a failing endpoint is disabled.
type AutoDisable struct {
	FailingForHours     int `yaml:"failing_for_hours" json:"failing_for_hours"`
	ConsecutiveFailures int `yaml:"consecutive_failures" json:"consecutive_failures"`
}

// FileName maps a record's name to the base of its script files: ASCII
// letters, digits, '-' and '_' stay, every other byte (the dot and the
// slash among them) becomes %XX, so no name can reach outside its folder
// or clash with a ".handshake.js" file. Names are unique ignoring case,
// so two records never share a file, even on a file system that ignores
// case.
func FileName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Script paths, relative to the directory, slash-separated.
func providerScript(name string) string  { return "providers/" + FileName(name) + ".js" }
func handshakeScript(name string) string { return "providers/" + FileName(name) + ".handshake.js" }
func functionScript(name string) string  { return "functions/" + FileName(name) + ".js" }

var envRef = regexp.MustCompile(`^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$`)

// Ref is the reference to the environment variable name.
func Ref(name string) string { return "${env:" + name + "}" }

// Read reads the directory dir. Unknown keys are errors with their line;
// so are two records of a kind with one name, a function whose provider
// is not in the directory, a secret written as a value rather than a
// reference, a missing script and a script file that no record owns;
// and a file or folder that is a symbolic link, or a file over its size
// limit (MaxConfigSize, MaxScriptSize).
func Read(dir string) (*Config, error) {
	data, err := readFile(dir, ConfigFile, MaxConfigSize)
	if err != nil {
		return nil, err
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	if err := cfg.readScripts(dir); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// check applies the rules Read states that need no files.
func (cfg *Config) check() error {
	var errs []error
	unique := func(kind string, names []string) {
		seen := map[string]string{}
		for _, n := range names {
			if strings.TrimSpace(n) == "" {
				errs = append(errs, fmt.Errorf("a %s has no name", kind))
				continue
			}
			if first, ok := seen[field.NameKey(n)]; ok {
				errs = append(errs, fmt.Errorf("%ss %q and %q have one name (names are unique per kind, ignoring case)", kind, first, n))
			}
			seen[field.NameKey(n)] = n
		}
	}
	provs := map[string]bool{}
	var names []string
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		names = append(names, p.Name)
		provs[field.NameKey(p.Name)] = true
		for k, v := range p.Secrets {
			errs = append(errs, checkRef(fmt.Sprintf("provider %q: secrets.%s", p.Name, k), v, false))
		}
	}
	unique("provider", names)
	names = nil
	for _, f := range cfg.Functions {
		names = append(names, f.Name)
		if !provs[field.NameKey(f.Provider)] {
			errs = append(errs, fmt.Errorf("function %q: provider %q is not in the directory", f.Name, f.Provider))
		}
	}
	unique("function", names)
	names = nil
	for i := range cfg.Endpoints {
		e := &cfg.Endpoints[i]
		names = append(names, e.Name)
		where := fmt.Sprintf("endpoint %q: ", e.Name)
		if e.Headers != nil {
			e.SecretHeaders = notify.SecretHeaders(e.Headers, e.SecretHeaders)
			for _, h := range e.SecretHeaders {
				errs = append(errs, checkRef(where+"headers."+h+" (a secret header)", e.Headers[h], false))
			}
		}
		for k, v := range e.Cookies {
			errs = append(errs, checkRef(where+"cookies."+k, v, false))
		}
		if e.Auth != nil {
			errs = append(errs, checkRef(where+"auth.password", e.Auth.Password, true), checkRef(where+"auth.token", e.Auth.Token, true),
				checkRef(where+"auth.client_secret", e.Auth.ClientSecret, true))
		}
		if e.ProxyPassword != nil {
			errs = append(errs, checkRef(where+"proxy_password", *e.ProxyPassword, true))
		}
		if e.Proxy != nil {
			if _, pw := notify.SplitProxy(*e.Proxy); pw != "" {
				errs = append(errs, fmt.Errorf("%sproxy: write the proxy's password in proxy_password as ${env:NAME}, never in the URL", where))
			}
		}
		if e.TLS != nil {
			errs = append(errs, checkRef(where+"tls.client_key_pem", e.TLS.ClientKeyPEM, true))
		}
		if e.SigningSecret != nil && *e.SigningSecret != notify.GenerateV1a {
			errs = append(errs, checkRef(where+"signing_secret", *e.SigningSecret, true))
		}
		if e.URL != nil && broker.IsBroker(*e.URL) {
			if _, c, found := broker.SplitCredentials(*e.URL); found && c.Password != "" {
				errs = append(errs, fmt.Errorf("%surl: a broker url's password belongs in auth.password, as ${env:NAME} (auth: {type: basic, username: %s, password: ${env:NAME}}), never in the url", where, c.Username))
			}
		}
	}
	unique("endpoint", names)
	types := map[string]bool{}
	for i := range cfg.EventTypes {
		t := &cfg.EventTypes[i]
		if types[t.Type] {
			errs = append(errs, fmt.Errorf("event type %q is declared twice", t.Type))
		}
		types[t.Type] = true
		ch, err := t.change()
		if err == nil {
			_, err = notify.CheckEventType(t.Type, ch)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("event type %q: %w", t.Type, err))
		}
	}
	return errors.Join(errs...)
}

// checkRef checks that a secret is written as a reference (or, where
// allowed, is empty: none).
func checkRef(where, v string, emptyOK bool) error {
	if v == "" && emptyOK || envRef.MatchString(v) {
		return nil
	}
	return fmt.Errorf("%s: write a secret as ${env:NAME} (the value is read from the environment at apply), never the value itself", where)
}

// readFile reads the file rel (slash-separated) of dir, which must be a
// regular file (not a symbolic link) of at most limit bytes.
func readFile(dir, rel string, limit int64) ([]byte, error) {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (a symbolic link?): the directory's files must be files inside it", rel)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes; the limit is %d", rel, fi.Size(), limit)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is over %d bytes, the limit", rel, limit)
	}
	return b, nil
}

// checkSubdir refuses dir/sub when it exists and is not a directory (a
// symbolic link among them: export would write, and apply read, outside
// dir through it).
func checkSubdir(dir, sub string) error {
	fi, err := os.Lstat(filepath.Join(dir, sub))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory (a symbolic link?): it must be a directory inside %s; refusing to follow it", sub, dir)
	}
	return nil
}

// readScripts reads the script files and refuses files no record owns.
func (cfg *Config) readScripts(dir string) error {
	owned := map[string]bool{}
	read := func(rel string, optional bool) (string, error) {
		owned[rel] = true
		b, err := readFile(dir, rel, MaxScriptSize)
		if optional && errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return string(b), err
	}
	var errs []error
	for _, sub := range []string{"providers", "functions"} {
		if err := checkSubdir(dir, sub); err != nil {
			return err
		}
	}
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		var err1, err2 error
		p.MatchScript, err1 = read(providerScript(p.Name), false)
		p.HandshakeScript, err2 = read(handshakeScript(p.Name), true)
		errs = append(errs, err1, err2)
	}
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		var err error
		f.Script, err = read(functionScript(f.Name), false)
		errs = append(errs, err)
	}
	for _, sub := range []string{"providers", "functions"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		for _, e := range ents {
			if rel := sub + "/" + e.Name(); !owned[rel] && !strings.HasPrefix(e.Name(), ".") {
				errs = append(errs, fmt.Errorf("%s belongs to no record of %s (a renamed record? file names are in %s)", rel, ConfigFile, DocsURL))
			}
		}
	}
	return errors.Join(errs...)
}

// checkExportDir refuses to write into a directory that is not an
// export's: one that holds files other than dot files (.git, .gitkeep)
// but no switchyard.yaml. Export removes the *.js files of providers/
// and functions/ that are not cfg's, and another project's functions/
// is not its to clean (a directory given by mistake).
func checkExportDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	other := ""
	for _, e := range ents {
		switch {
		case e.Name() == ConfigFile:
			return nil
		case !strings.HasPrefix(e.Name(), ".") && other == "":
			other = e.Name()
		}
	}
	if other != "" {
		return fmt.Errorf("%s holds %s but no %s: it is not an export's directory, and export would remove the *.js files it does not write in providers/ and functions/; give a new or empty directory", dir, other, ConfigFile)
	}
	return nil
}

// Write writes cfg into dir: switchyard.yaml and the scripts, and
// removes the other *.js files of providers/ and functions/, so that the
// directory is cfg and nothing else. The same cfg gives the same bytes.
// It never follows a symbolic link: a link where it would write (the
// folders or a file) is an error, and a link is never removed.
func Write(dir string, cfg *Config) error {
	var buf bytes.Buffer
	buf.WriteString("# Switchyard configuration: switchyard apply --server URL DIR (" + DocsURL + ")\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	files := map[string]string{ConfigFile: buf.String()}
	for _, p := range cfg.Providers {
		files[providerScript(p.Name)] = p.MatchScript
		if p.HandshakeScript != "" {
			files[handshakeScript(p.Name)] = p.HandshakeScript
		}
	}
	for _, f := range cfg.Functions {
		files[functionScript(f.Name)] = f.Script
	}
	rels := make([]string, 0, len(files))
	for rel := range files {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	// Check everything before the first write or removal.
	if err := checkExportDir(dir); err != nil {
		return err
	}
	for _, sub := range []string{"providers", "functions"} {
		if err := checkSubdir(dir, sub); err != nil {
			return err
		}
	}
	for _, rel := range rels {
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel)))
		if err == nil && !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file (a symbolic link?): refusing to write through it", rel)
		}
	}
	for _, sub := range []string{"providers", "functions"} {
		d := filepath.Join(dir, sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := checkSubdir(dir, sub); err != nil {
			return err
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range ents {
			// Only regular *.js files, as export writes them; a link, a
			// folder or any other file stays.
			if _, keep := files[sub+"/"+e.Name()]; !keep && e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".js") && !strings.HasPrefix(e.Name(), ".") {
				if err := os.Remove(filepath.Join(d, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	for _, rel := range rels {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte(files[rel]), 0o644); err != nil {
			return err
		}
	}
	return nil
}
