package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/server/access"
)

// Options are apply's choices.
type Options struct {
	// Prune deletes what the server holds and the directory does not.
	Prune bool
	// UpdateSecrets sends every secret of the directory again. Without
	// it, a secret is sent when it is new, and a record's secrets when
	// their names change: the API never shows a secret's value, so a
	// value changed under the same name is not seen.
	UpdateSecrets bool
	// Getenv reads the ${env:NAME} references (os.Getenv when nil).
	Getenv func(string) string
	// DryRun makes a plan only to show it: a reference to a variable
	// that is not set is a note (its secrets are not compared) rather
	// than an error, so that a preview needs no production secrets.
	// Apply sets it from its dryRun.
	DryRun bool
}

// Change is one step of a plan.
type Change struct {
	Op     string   // "+", "~" or "-"
	Kind   string   // "provider", "function", "endpoint", "event type", "providers" (the order)
	Name   string   // the record's name
	Fields []string // what an update changes
	do     func(ctx context.Context) error
}

// file is the directory's file that holds what the server refused in
// err: a script's when the error is about the script, else
// switchyard.yaml.
func (c Change) file(msg string) string {
	switch c.Kind {
	case "provider":
		if strings.Contains(msg, "handshake_script") {
			return handshakeScript(c.Name)
		}
		if strings.Contains(msg, "match_script") {
			return providerScript(c.Name)
		}
	case "function":
		if strings.Contains(msg, "script:") {
			return functionScript(c.Name)
		}
	}
	return ConfigFile
}

func (c Change) String() string {
	switch {
	case c.Kind == "providers":
		return "~ reorder providers: " + strings.Join(c.Fields, ", ")
	case c.Op == "+":
		return fmt.Sprintf("+ create %s %q", c.Kind, c.Name)
	case c.Op == "-":
		return fmt.Sprintf("- delete %s %q", c.Kind, c.Name)
	default:
		return fmt.Sprintf("~ update %s %q (%s)", c.Kind, c.Name, strings.Join(c.Fields, ", "))
	}
}

// Plan is what apply does, in the order it does it: creates and updates
// of providers, their order, functions, endpoints and event types; then
// deletes of functions, endpoints, providers and event types. Notes name what the server holds
// and the directory does not, when it is not pruned.
type Plan struct {
	Changes []Change
	Notes   []string
}

// Print writes the plan, one line a change, or "no changes".
func (p *Plan) Print(w io.Writer) {
	for _, c := range p.Changes {
		fmt.Fprintln(w, c)
	}
	for _, n := range p.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	if len(p.Changes) == 0 {
		fmt.Fprintln(w, "no changes")
	}
}

// Apply makes the changes in order, stopping at the first that fails:
// its error names the record, its file, the server's answer, and which
// changes were applied.
func (p *Plan) Apply(ctx context.Context) error {
	for i, c := range p.Changes {
		if err := c.do(ctx); err != nil {
			return &ChangeError{Change: c, Applied: i, NotApplied: len(p.Changes) - i, Err: err}
		}
	}
	return nil
}

// ChangeError is a change of a plan that failed (the server refused
// it, or could not be reached): the Applied changes before it were
// made, it and the others were not.
type ChangeError struct {
	Change              Change
	Applied, NotApplied int
	Err                 error
}

func (e *ChangeError) Error() string {
	msg := e.Err.Error()
	var ce *client.Error
	if errors.As(e.Err, &ce) {
		msg = fmt.Sprintf("%d %s: %s", ce.Status, http.StatusText(ce.Status), ce.Message)
	}
	what := e.Change.Kind + " order"
	if e.Change.Kind != "providers" {
		what = fmt.Sprintf("%s %q (%s)", e.Change.Kind, e.Change.Name, e.Change.file(msg))
	}
	state := "no change was applied"
	if e.Applied > 0 {
		state = fmt.Sprintf("the %s listed before it %s applied", count(e.Applied, "change"), plural(e.Applied, "was", "were"))
	}
	rest := "this one was not"
	if after := e.NotApplied - 1; after > 0 {
		rest = fmt.Sprintf("this one and the %s after it were not", count(after, "change"))
	}
	return fmt.Sprintf("%s: %s\n(%s; %s: fix it and run apply again)", what, msg, state, rest)
}

func (e *ChangeError) Unwrap() error { return e.Err }

// count is "1 change", "2 changes".
func count(n int, noun string) string {
	return fmt.Sprintf("%d %s", n, plural(n, noun, noun+"s"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// planner builds a plan; ids holds the providers' ids by name key,
// filled in by the creates as they run.
type planner struct {
	c    *client.Client
	opts Options
	env  map[string]string
	ids  map[string]string
	plan Plan
}

// MakePlan compares the directory cfg with the server's state st. It
// refuses a server that holds duplicate names, and a reference to an
// environment variable that is not set (naming every one), before
// anything changes.
func MakePlan(c *client.Client, cfg *Config, st *State, opts Options) (*Plan, error) {
	if err := st.checkUnique(); err != nil {
		return nil, err
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	env, notes, err := resolve(cfg, opts.Getenv, opts.DryRun)
	if err != nil {
		return nil, err
	}
	if err := check(cfg, st, env, opts.Prune); err != nil {
		return nil, fmt.Errorf("the server would refuse (nothing was changed):\n%w", err)
	}
	pl := &planner{c: c, opts: opts, env: env, ids: map[string]string{}}
	pl.plan.Notes = notes
	pl.providers(cfg, st)
	pl.order(cfg, st)
	pl.functions(cfg, st)
	pl.endpoints(cfg, st)
	pl.eventTypes(cfg, st)
	pl.deletes(cfg, st)
	return &pl.plan, nil
}

// resolve reads every reference of cfg from the environment; a variable
// that is not set (or is empty) is an error that names it, or with
// dryRun a note.
func resolve(cfg *Config, getenv func(string) string, dryRun bool) (map[string]string, []string, error) {
	var refs []string
	for _, p := range cfg.Providers {
		refs = append(refs, slices.Collect(maps.Values(p.Secrets))...)
	}
	for _, e := range cfg.Endpoints {
		for _, h := range e.SecretHeaders {
			refs = append(refs, e.Headers[h])
		}
		refs = append(refs, slices.Collect(maps.Values(e.Cookies))...)
		if e.Auth != nil {
			refs = append(refs, e.Auth.Password, e.Auth.Token, e.Auth.ClientSecret)
		}
		if e.SigningSecret != nil {
			refs = append(refs, *e.SigningSecret)
		}
		if e.ProxyPassword != nil {
			refs = append(refs, *e.ProxyPassword)
		}
		if e.TLS != nil {
			refs = append(refs, e.TLS.ClientKeyPEM)
		}
	}
	env := map[string]string{}
	var missing []string
	for _, r := range refs {
		m := envRef.FindStringSubmatch(r)
		if m == nil {
			continue
		}
		v := getenv(m[1])
		if v == "" && !slices.Contains(missing, m[1]) {
			missing = append(missing, m[1])
		}
		env[r] = v
	}
	slices.Sort(missing)
	if len(missing) > 0 && !dryRun {
		return nil, nil, fmt.Errorf("environment %s not set, which %s refers to: %s (nothing was changed)",
			plural(len(missing), "variable", "variables"), ConfigFile, strings.Join(missing, ", "))
	}
	var notes []string
	for _, m := range missing {
		notes = append(notes, m+" is not set; the secrets that use it are not compared")
	}
	return env, notes, nil
}

func (pl *planner) add(c Change) { pl.plan.Changes = append(pl.plan.Changes, c) }

// diff compares the fields of want (a *Provider, *Function or *Endpoint)
// that have a json name with those of have: a field left out of want
// (nil) is not compared. It returns the changed fields' names and the
// API body that sets them.
func diff(want, have any) ([]string, map[string]any) {
	wv := reflect.ValueOf(want).Elem()
	var hv reflect.Value
	if have != nil {
		hv = reflect.ValueOf(have).Elem()
	}
	var changed []string
	body := map[string]any{}
	for i := range wv.NumField() {
		f := wv.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || name == "" {
			continue
		}
		w := wv.Field(i)
		switch w.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			if w.IsNil() {
				continue
			}
		}
		if hv.IsValid() && sameJSON(w.Interface(), hv.Field(i).Interface()) {
			continue
		}
		label := strings.TrimSuffix(name, "_script")
		if name == "match_script" {
			label = "script"
		} else if name == "handshake_script" {
			label = "handshake script"
		}
		changed = append(changed, label)
		body[name] = w.Interface()
	}
	return changed, body
}

// sameJSON compares two values as the API would see them (1 and 1.0,
// nil and an empty map of the same meaning are told apart only where
// JSON tells them apart).
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var va, vb any
	if json.Unmarshal(ja, &va) != nil || json.Unmarshal(jb, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(empty(va), empty(vb))
}

// empty makes null, "", {} and [] one value: the API leaves some unset
// fields out of its answers.
func empty(v any) any {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

// sameKeys reports whether two maps have the same keys.
func sameKeys[A, B any](a map[string]A, b map[string]B) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func (pl *planner) providers(cfg *Config, st *State) {
	have := map[string]*serverProvider{}
	for i := range st.Providers {
		sp := &st.Providers[i]
		have[field.NameKey(sp.Name)] = sp
		pl.ids[field.NameKey(sp.Name)] = sp.ID
	}
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		key := field.NameKey(p.Name)
		sp := have[key]
		var changed []string
		var body map[string]any
		if sp == nil {
			changed, body = diff(p, nil)
		} else {
			changed, body = diff(p, &sp.Provider)
			if p.Name != sp.Name {
				changed = append(changed, "name")
			}
		}
		body["name"] = p.Name
		if p.Secrets != nil {
			haveNames := map[string]bool{}
			if sp != nil {
				for _, s := range sp.Secrets {
					haveNames[s] = true
				}
			}
			if sp == nil || !sameKeys(p.Secrets, haveNames) || pl.opts.UpdateSecrets && len(p.Secrets) > 0 {
				secrets := map[string]string{}
				for k := range haveNames {
					secrets[k] = "" // removed unless given below
				}
				for k, ref := range p.Secrets {
					secrets[k] = pl.env[ref]
				}
				if len(secrets) > 0 {
					body["secrets"] = secrets
					changed = append(changed, "secrets")
				}
			}
		}
		if sp == nil {
			pl.add(Change{Op: "+", Kind: "provider", Name: p.Name, do: func(ctx context.Context) error {
				var out struct {
					ID string `json:"id"`
				}
				if err := pl.c.Post(ctx, "/providers", body, &out); err != nil {
					return err
				}
				pl.ids[key] = out.ID
				return nil
			}})
		} else if len(changed) > 0 {
			pl.add(Change{Op: "~", Kind: "provider", Name: p.Name, Fields: changed, do: func(ctx context.Context) error {
				return pl.c.Put(ctx, "/providers/"+sp.ID, body, nil)
			}})
		}
	}
}

// order plans the providers' order: the directory's, then those it does
// not hold in their order on the server. A created provider comes last
// until then.
func (pl *planner) order(cfg *Config, st *State) {
	inDir := map[string]bool{}
	var want, names []string
	for _, p := range cfg.Providers {
		inDir[field.NameKey(p.Name)] = true
		want = append(want, field.NameKey(p.Name))
		names = append(names, p.Name)
	}
	var got, unmanaged []string // got: the server's order after creates and prune
	onServer := map[string]bool{}
	for _, sp := range st.Providers {
		k := field.NameKey(sp.Name)
		onServer[k] = true
		if !inDir[k] {
			if pl.opts.Prune {
				continue
			}
			unmanaged = append(unmanaged, k)
		}
		got = append(got, k)
	}
	want = append(want, unmanaged...)
	for _, p := range cfg.Providers {
		if k := field.NameKey(p.Name); !onServer[k] {
			got = append(got, k)
		}
	}
	if slices.Equal(got, want) {
		return
	}
	pl.add(Change{Op: "~", Kind: "providers", Fields: quoteAll(names), do: func(ctx context.Context) error {
		// Every provider: the directory's, then the others (the pruned
		// ones until they go) in their order.
		var ids []string
		seen := map[string]bool{}
		for _, p := range cfg.Providers {
			id := pl.ids[field.NameKey(p.Name)]
			ids, seen[id] = append(ids, id), true
		}
		var now []serverProvider
		if err := listAll(ctx, pl.c, "/providers", &now); err != nil {
			return err
		}
		for _, sp := range now {
			if !seen[sp.ID] {
				ids = append(ids, sp.ID)
			}
		}
		return pl.c.Put(ctx, "/providers/order", map[string]any{"ids": ids}, nil)
	}})
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

func (pl *planner) functions(cfg *Config, st *State) {
	have := map[string]*serverFunction{}
	for i := range st.Functions {
		have[field.NameKey(st.Functions[i].Name)] = &st.Functions[i]
	}
	provOf := map[string]string{} // provider id to name key
	for _, sp := range st.Providers {
		provOf[sp.ID] = field.NameKey(sp.Name)
	}
	for i := range cfg.Functions {
		f := &cfg.Functions[i]
		sf := have[field.NameKey(f.Name)]
		var changed []string
		var body map[string]any
		if sf == nil {
			changed, body = diff(f, nil)
		} else {
			changed, body = diff(f, &sf.Function)
			if f.Name != sf.Name {
				changed = append(changed, "name")
			}
			if provOf[sf.ProviderID] != field.NameKey(f.Provider) {
				changed = append(changed, "provider")
			}
		}
		body["name"] = f.Name
		prov := field.NameKey(f.Provider)
		withProvider := func() map[string]any {
			b := maps.Clone(body)
			b["provider_id"] = pl.ids[prov]
			return b
		}
		if sf == nil {
			pl.add(Change{Op: "+", Kind: "function", Name: f.Name, do: func(ctx context.Context) error {
				return pl.c.Post(ctx, "/functions", withProvider(), nil)
			}})
		} else if len(changed) > 0 {
			pl.add(Change{Op: "~", Kind: "function", Name: f.Name, Fields: changed, do: func(ctx context.Context) error {
				return pl.c.Put(ctx, "/functions/"+sf.ID, withProvider(), nil)
			}})
		}
	}
}

func (pl *planner) endpoints(cfg *Config, st *State) {
	have := map[string]*serverEndpoint{}
	for i := range st.Endpoints {
		have[field.NameKey(st.Endpoints[i].Name)] = &st.Endpoints[i]
	}
	for i := range cfg.Endpoints {
		e := &cfg.Endpoints[i]
		se := have[field.NameKey(e.Name)]
		var changed []string
		var body map[string]any
		if se == nil {
			changed, body = diff(e, nil)
		} else {
			changed, body = diff(e, &se.Endpoint)
			if e.Name != se.Name {
				changed = append(changed, "name")
			}
		}
		body["name"] = e.Name
		changed = append(changed, pl.endpointSecrets(e, se, body)...)
		if se == nil {
			pl.add(Change{Op: "+", Kind: "endpoint", Name: e.Name, do: func(ctx context.Context) error {
				return pl.c.Post(ctx, "/endpoints", body, nil)
			}})
		} else if len(changed) > 0 {
			pl.add(Change{Op: "~", Kind: "endpoint", Name: e.Name, Fields: changed, do: func(ctx context.Context) error {
				return pl.c.Put(ctx, "/endpoints/"+se.ID, body, nil)
			}})
		}
	}
}

// eventTypes plans the declarations of the directory's event types. The
// API replaces a declaration whole (PUT), so an update sends the
// server's fields with the directory's over them: a field left out
// keeps the server's value.
func (pl *planner) eventTypes(cfg *Config, st *State) {
	have := map[string]*serverEventType{}
	for i := range st.EventTypes {
		have[st.EventTypes[i].Type] = &st.EventTypes[i]
	}
	for i := range cfg.EventTypes {
		t := &cfg.EventTypes[i]
		path := "/event-types/" + url.PathEscape(t.Type)
		se := have[t.Type]
		if se == nil {
			_, body := diff(t, nil)
			pl.add(Change{Op: "+", Kind: "event type", Name: t.Type, do: func(ctx context.Context) error {
				return pl.c.Put(ctx, path, body, nil)
			}})
			continue
		}
		changed, _ := diff(t, &se.EventType)
		if len(changed) == 0 {
			continue
		}
		_, body := diff(&se.EventType, nil)
		_, mine := diff(t, nil)
		maps.Copy(body, mine)
		pl.add(Change{Op: "~", Kind: "event type", Name: t.Type, Fields: changed, do: func(ctx context.Context) error {
			return pl.c.Put(ctx, path, body, nil)
		}})
	}
}

// endpointSecrets compares the fields of e that hold secrets with se (nil
// on create) and adds to body what must be sent. A secret's value is
// never shown by the API: its presence is compared, and the value sent
// when it is new, or always with UpdateSecrets.
func (pl *planner) endpointSecrets(e *Endpoint, se *serverEndpoint, body map[string]any) []string {
	var changed []string
	all := pl.opts.UpdateSecrets
	// The server sends no stored secret to a new destination
	// (notify.Secrets): a new url sends them all again (the signing
	// secret may stay), a new proxy its password (below) and a new
	// token_url the client secret (auth differs, and is sent whole).
	// A proxy may read what goes to the url: a new proxy, or new
	// certificates trusted, send the url's secrets again too.
	resend := all
	_, moved := body["url"]
	_, newProxy := body["proxy"]
	newTrust := e.TLS != nil && se != nil && (e.TLS.CAPEM != se.TLSState.TLS.CAPEM || e.TLS.ServerName != se.TLSState.TLS.ServerName)
	if (moved || newProxy || newTrust) && se != nil {
		resend = true
	}
	if e.Headers != nil {
		var haveH map[string]string
		var haveSecret []string
		if se != nil {
			haveH, haveSecret = se.Headers, se.SecretHeaders
		}
		same := se != nil && sameKeys(e.Headers, haveH)
		send := map[string]string{}
		for k, v := range e.Headers {
			secret := slices.Contains(e.SecretHeaders, k)
			switch {
			case !secret:
				send[k] = v
				if same && haveH[k] != v {
					same = false
				}
			case se != nil && slices.Contains(haveSecret, k) && !resend:
				send[k] = notify.SecretMarker // keeps the stored value
			default:
				send[k] = pl.env[v]
				if se != nil {
					same = false
				}
			}
		}
		if !same {
			body["headers"] = send
			body["secret_headers"] = e.SecretHeaders
			changed = append(changed, "headers")
		}
	}
	if e.Cookies != nil {
		var haveC map[string]string
		if se != nil {
			haveC = se.Cookies
		}
		if se == nil || !sameKeys(e.Cookies, haveC) || resend && len(e.Cookies) > 0 {
			send := map[string]string{}
			for k, ref := range e.Cookies {
				if _, ok := haveC[k]; ok && !resend {
					send[k] = notify.SecretMarker
				} else {
					send[k] = pl.env[ref]
				}
			}
			body["cookies"] = send
			changed = append(changed, "cookies")
		}
	}
	if a := e.Auth; a != nil {
		differs := se == nil || a.Type != se.Auth.Type || a.Username != se.Auth.Username ||
			(a.Password != "") != se.Auth.PasswordSet || (a.Token != "") != se.Auth.TokenSet ||
			a.TokenURL != se.Auth.TokenURL || a.ClientID != se.Auth.ClientID || !slices.Equal(a.Scopes, se.Auth.Scopes) ||
			(a.ClientSecret != "") != se.Auth.ClientSecretSet ||
			resend && (a.Password != "" || a.Token != "" || a.ClientSecret != "")
		if differs {
			auth := map[string]any{"type": a.Type, "username": a.Username}
			if a.Password != "" {
				auth["password"] = pl.env[a.Password]
			}
			if a.Token != "" {
				auth["token"] = pl.env[a.Token]
			}
			if a.Type == "oauth2" {
				auth["token_url"], auth["client_id"], auth["scopes"] = a.TokenURL, a.ClientID, a.Scopes
			}
			if a.ClientSecret != "" {
				auth["client_secret"] = pl.env[a.ClientSecret]
			}
			body["auth"] = auth
			changed = append(changed, "auth")
		}
	}
	if pw := e.ProxyPassword; pw != nil {
		set := *pw != ""
		// Nor is the proxy's password sent to a new proxy.
		_, proxyMoved := body["proxy"]
		if se == nil || set != se.ProxyPasswordSet || (all || proxyMoved) && set {
			proxy := ""
			if e.Proxy != nil {
				proxy = *e.Proxy
			} else if se != nil && se.Proxy != nil {
				proxy = *se.Proxy
			}
			if u, err := url.Parse(proxy); err == nil && u.User != nil && proxy != "" {
				// "user:@host" with no password removes the stored one.
				u.User = url.UserPassword(u.User.Username(), pl.env[*pw])
				proxy = u.String()
			}
			body["proxy"] = proxy
			changed = append(changed, "proxy_password")
		}
	}
	if t := e.TLS; t != nil {
		var have TLS
		haveKey := false
		if se != nil {
			have, haveKey = se.TLSState.TLS, se.TLSState.ClientKeySet
		}
		plain := TLS{CAPEM: t.CAPEM, ClientCertPEM: t.ClientCertPEM, ServerName: t.ServerName}
		keyChanged := (t.ClientKeyPEM != "") != haveKey || all && t.ClientKeyPEM != ""
		if se == nil || plain != have || keyChanged {
			send := map[string]any{"ca_pem": t.CAPEM, "client_cert_pem": t.ClientCertPEM, "server_name": t.ServerName}
			if keyChanged || se == nil {
				send["client_key_pem"] = pl.env[t.ClientKeyPEM]
			}
			body["tls"] = send
			changed = append(changed, "tls")
		}
	}
	if s := e.SigningSecret; s != nil && *s == notify.GenerateV1a {
		// A key pair the server makes: asked for once, while the
		// endpoint has no v1a key (a new one on every apply would break
		// its receivers).
		if se == nil || se.Signing.Type != "v1a" {
			body["signing_secret"] = notify.GenerateV1a
			changed = append(changed, "signing_secret")
		}
	} else if s != nil {
		set := *s != ""
		if se == nil || set != se.Signing.Secret || all && set {
			body["signing_secret"] = pl.env[*s]
			changed = append(changed, "signing_secret")
		}
	}
	if se == nil {
		return nil
	}
	return changed
}

// deletes plans, with Prune, the deletes of what the directory does not
// hold (functions, endpoints, then providers), or notes them.
func (pl *planner) deletes(cfg *Config, st *State) {
	inDir := func(kind string) map[string]bool {
		m := map[string]bool{}
		switch kind {
		case "provider":
			for _, p := range cfg.Providers {
				m[field.NameKey(p.Name)] = true
			}
		case "function":
			for _, f := range cfg.Functions {
				m[field.NameKey(f.Name)] = true
			}
		case "endpoint":
			for _, e := range cfg.Endpoints {
				m[field.NameKey(e.Name)] = true
			}
		}
		return m
	}
	one := func(kind, path string, names, ids []string) {
		dir := inDir(kind)
		for i, name := range names {
			if dir[field.NameKey(name)] {
				continue
			}
			if !pl.opts.Prune {
				pl.plan.Notes = append(pl.plan.Notes, fmt.Sprintf("%s %q is on the server but not in the directory (kept; --prune deletes it)", kind, name))
				continue
			}
			id := ids[i]
			pl.add(Change{Op: "-", Kind: kind, Name: name, do: func(ctx context.Context) error {
				return pl.c.Delete(ctx, path+id)
			}})
		}
	}
	var names, ids []string
	for _, f := range st.Functions {
		names, ids = append(names, f.Name), append(ids, f.ID)
	}
	one("function", "/functions/", names, ids)
	names, ids = nil, nil
	for _, e := range st.Endpoints {
		names, ids = append(names, e.Name), append(ids, e.ID)
	}
	one("endpoint", "/endpoints/", names, ids)
	names, ids = nil, nil
	for _, p := range st.Providers {
		names, ids = append(names, p.Name), append(ids, p.ID)
	}
	one("provider", "/providers/", names, ids)
	declared := map[string]bool{}
	for _, t := range cfg.EventTypes {
		declared[t.Type] = true
	}
	for _, t := range st.EventTypes {
		if declared[t.Type] {
			continue
		}
		if !pl.opts.Prune {
			pl.plan.Notes = append(pl.plan.Notes, fmt.Sprintf("event type %q is declared on the server but not in the directory (kept; --prune deletes it)", t.Type))
			continue
		}
		path := "/event-types/" + url.PathEscape(t.Type)
		pl.add(Change{Op: "-", Kind: "event type", Name: t.Type, do: func(ctx context.Context) error {
			return pl.c.Delete(ctx, path)
		}})
	}
}

// Apply reads the directory dir, plans the changes that take the
// server to it, prints the plan to w and, unless dryRun, makes them.
func Apply(ctx context.Context, c *client.Client, dir string, opts Options, dryRun bool, w io.Writer) error {
	cfg, err := Read(dir)
	if err != nil {
		return err
	}
	if opts.Prune && len(cfg.Providers)+len(cfg.Functions)+len(cfg.Endpoints)+len(cfg.EventTypes) == 0 {
		// Most likely the wrong directory, or a file emptied by mistake.
		return fmt.Errorf("%s holds no provider, function or endpoint: --prune would delete everything on the server; refusing (delete them by hand if that is meant)", dir)
	}
	need := access.Edit
	if dryRun {
		need = access.Operate
	}
	st, err := fetch(ctx, c, need)
	if err != nil {
		return err
	}
	opts.DryRun = dryRun
	plan, err := MakePlan(c, cfg, st, opts)
	if err != nil {
		return err
	}
	plan.Print(w)
	if dryRun || len(plan.Changes) == 0 {
		if dryRun && len(plan.Changes) > 0 {
			fmt.Fprintln(w, "dry run: nothing was changed")
		}
		return nil
	}
	if err := plan.Apply(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "applied %s\n", count(len(plan.Changes), "change"))
	return nil
}
