package manifest

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/server/access"
)

// The server's records as the admin API shows them: the manifest's
// fields, with ids, and secrets by name or as flags only.
type (
	serverProvider struct {
		ID string `json:"id"`
		Provider
		Name    string   `json:"name"`
		Secrets []string `json:"secrets"`
	}
	serverFunction struct {
		ID string `json:"id"`
		Function
		Name       string `json:"name"`
		ProviderID string `json:"provider_id"`
	}
	serverEndpoint struct {
		ID string `json:"id"`
		Endpoint
		Name    string            `json:"name"`
		Headers map[string]string `json:"headers"`
		Cookies map[string]string `json:"cookies"`
		Auth    struct {
			Type            string   `json:"type"`
			Username        string   `json:"username"`
			PasswordSet     bool     `json:"password_set"`
			TokenSet        bool     `json:"token_set"`
			TokenURL        string   `json:"token_url"`
			ClientID        string   `json:"client_id"`
			ClientSecretSet bool     `json:"client_secret_set"`
			Scopes          []string `json:"scopes"`
		} `json:"auth"`
		ProxyPasswordSet bool `json:"proxy_password_set"`
		TLSState         struct {
			TLS
			ClientKeySet bool `json:"client_key_set"`
		} `json:"tls"`
		Signing struct {
			Secret bool   `json:"secret"`
			Type   string `json:"type"` // v1, v1a or "" (a secret for {{sign}} only)
		} `json:"signing"`
	}
	serverEventType struct {
		EventType
		Type   string `json:"type"`
		Source string `json:"source"`
	}
)

// State is what a server holds, in the providers' order.
type State struct {
	Providers []serverProvider
	Functions []serverFunction
	Endpoints []serverEndpoint
	// EventTypes are the declared ones, by name.
	EventTypes []serverEventType
}

// Fetch reads the server's providers, functions and endpoints. It needs
// the operate permission (operator, editor, admin): below it the API
// hides endpoints' URLs and headers, which would export wrong.
func Fetch(ctx context.Context, c *client.Client) (*State, error) {
	return fetch(ctx, c, access.Operate)
}

// fetch is Fetch for a token whose role has the permission need (operate
// or edit), which it checks first (GET /me).
func fetch(ctx context.Context, c *client.Client, need access.Permission) (*State, error) {
	var me struct {
		Role        string   `json:"role"`
		Permissions []string `json:"permissions"`
	}
	if err := c.Get(ctx, "/me", nil, &me); err != nil {
		return nil, err
	}
	if !slices.Contains(me.Permissions, string(access.Operate)) {
		return nil, fmt.Errorf("this token's role (%s) sees endpoints with their URLs and headers hidden; export and apply --dry-run need an operator's token or above, apply an editor's", me.Role)
	}
	if !slices.Contains(me.Permissions, string(need)) {
		return nil, fmt.Errorf("this token's role (%s) cannot change the configuration: apply needs an editor's token or above (--dry-run an operator's); nothing was changed", me.Role)
	}
	var st State
	if err := listAll(ctx, c, "/providers", &st.Providers); err != nil {
		return nil, err
	}
	if err := listAll(ctx, c, "/functions", &st.Functions); err != nil {
		return nil, err
	}
	if err := listAll(ctx, c, "/endpoints", &st.Endpoints); err != nil {
		return nil, err
	}
	var types []serverEventType
	if err := listAll(ctx, c, "/event-types", &types); err != nil {
		return nil, err
	}
	for _, t := range types {
		if t.Source == notify.SourceDeclared {
			st.EventTypes = append(st.EventTypes, t)
		}
	}
	return &st, nil
}

// listAll reads every page of a list.
func listAll[T any](ctx context.Context, c *client.Client, path string, out *[]T) error {
	items, _, err := client.List[T](ctx, c, path, nil, 0)
	*out = append(*out, items...)
	return err
}

// Duplicates lists the names that more than one record of a kind holds
// on the server, with their ids, one line each; export and apply refuse
// such a server, since a name would not say which record it means.
func (st *State) Duplicates() []string {
	var out []string
	dup := func(kind string, n int, ident func(int) (string, string)) {
		byKey := map[string][]string{}
		first := map[string]string{}
		var keys []string
		for i := range n {
			id, name := ident(i)
			k := field.NameKey(name)
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
				first[k] = name
			}
			byKey[k] = append(byKey[k], id)
		}
		for _, k := range keys {
			if ids := byKey[k]; len(ids) > 1 {
				out = append(out, fmt.Sprintf("%s %q: ids %s", kind, first[k], strings.Join(ids, ", ")))
			}
		}
	}
	dup("provider", len(st.Providers), func(i int) (string, string) { return st.Providers[i].ID, st.Providers[i].Name })
	dup("function", len(st.Functions), func(i int) (string, string) { return st.Functions[i].ID, st.Functions[i].Name })
	dup("endpoint", len(st.Endpoints), func(i int) (string, string) { return st.Endpoints[i].ID, st.Endpoints[i].Name })
	return out
}

// DuplicatesError is a server that holds duplicate names.
type DuplicatesError struct{ List []string }

func (e *DuplicatesError) Error() string {
	return "the server holds records of one kind with one name; rename or delete all but one of each (in the UI or the API), then run again:\n  " +
		strings.Join(e.List, "\n  ")
}

func (st *State) checkUnique() error {
	if d := st.Duplicates(); len(d) > 0 {
		return &DuplicatesError{List: d}
	}
	return nil
}

// Config is the server's state as a directory holds it, secrets as
// references to environment variables named after their records
// (envNames).
func (st *State) Config() *Config {
	env := envNames{}
	cfg := &Config{Providers: []Provider{}, Functions: []Function{}, Endpoints: []Endpoint{}, EventTypes: []EventType{}}
	provName := map[string]string{}
	for _, sp := range st.Providers {
		p := sp.Provider
		p.Name = sp.Name
		provName[sp.ID] = sp.Name
		p.Secrets = map[string]string{}
		for _, s := range sp.Secrets {
			p.Secrets[s] = Ref(env.name("PROVIDER", p.Name, s))
		}
		fill(&p)
		cfg.Providers = append(cfg.Providers, p)
	}
	for _, sf := range st.Functions {
		f := sf.Function
		f.Name, f.Provider = sf.Name, provName[sf.ProviderID]
		fill(&f)
		cfg.Functions = append(cfg.Functions, f)
	}
	sort.SliceStable(cfg.Functions, func(i, j int) bool {
		return field.NameKey(cfg.Functions[i].Name) < field.NameKey(cfg.Functions[j].Name)
	})
	eps := slices.Clone(st.Endpoints)
	sort.SliceStable(eps, func(i, j int) bool { return field.NameKey(eps[i].Name) < field.NameKey(eps[j].Name) })
	for _, se := range eps {
		e := se.Endpoint
		e.Name = se.Name
		e.Headers = map[string]string{}
		for k, v := range se.Headers {
			e.Headers[k] = v
		}
		for _, h := range se.SecretHeaders {
			e.Headers[h] = Ref(env.name("ENDPOINT", e.Name, "HEADER", h))
		}
		e.Cookies = map[string]string{}
		for _, k := range slices.Sorted(maps.Keys(se.Cookies)) {
			e.Cookies[k] = Ref(env.name("ENDPOINT", e.Name, "COOKIE", k))
		}
		e.Auth = &Auth{Type: se.Auth.Type, Username: se.Auth.Username}
		if se.Auth.PasswordSet {
			e.Auth.Password = Ref(env.name("ENDPOINT", e.Name, "PASSWORD"))
		}
		if se.Auth.TokenSet {
			e.Auth.Token = Ref(env.name("ENDPOINT", e.Name, "TOKEN"))
		}
		e.Auth.TokenURL, e.Auth.ClientID, e.Auth.Scopes = se.Auth.TokenURL, se.Auth.ClientID, se.Auth.Scopes
		if se.Auth.ClientSecretSet {
			e.Auth.ClientSecret = Ref(env.name("ENDPOINT", e.Name, "CLIENT_SECRET"))
		}
		proxyPassword := ""
		if se.ProxyPasswordSet {
			proxyPassword = Ref(env.name("ENDPOINT", e.Name, "PROXY_PASSWORD"))
		}
		e.ProxyPassword = &proxyPassword
		tls := se.TLSState.TLS
		if se.TLSState.ClientKeySet {
			tls.ClientKeyPEM = Ref(env.name("ENDPOINT", e.Name, "TLS_CLIENT_KEY"))
		}
		e.TLS = &tls
		signing := ""
		switch {
		case se.Signing.Type == "v1a":
			// The secret key never leaves the server, and one it made was
			// never known: the directory asks for a key pair of its own.
			signing = notify.GenerateV1a
		case se.Signing.Secret:
			signing = Ref(env.name("ENDPOINT", e.Name, "SIGNING_SECRET"))
		}
		e.SigningSecret = &signing
		fill(&e)
		cfg.Endpoints = append(cfg.Endpoints, e)
	}
	for _, st := range st.EventTypes {
		t := st.EventType
		t.Type = st.Type
		fill(&t)
		cfg.EventTypes = append(cfg.EventTypes, t)
	}
	return cfg
}

// envNames names the environment variables of exported secrets:
// SWITCHYARD_, the parts in upper case with every other character as
// "_", and a number after a name already given ("_2").
type envNames map[string]bool

func (e envNames) name(parts ...string) string {
	var b strings.Builder
	b.WriteString("SWITCHYARD")
	for _, p := range parts {
		b.WriteByte('_')
		for _, r := range strings.ToUpper(p) {
			if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
	}
	base := b.String()
	n := base
	for i := 2; e[n]; i++ {
		n = fmt.Sprintf("%s_%d", base, i)
	}
	e[n] = true
	return n
}

// Export writes the server's state into dir. It refuses a server that
// holds duplicate names.
func Export(ctx context.Context, c *client.Client, dir string) (*Config, error) {
	st, err := Fetch(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := st.checkUnique(); err != nil {
		return nil, err
	}
	cfg := st.Config()
	return cfg, Write(dir, cfg)
}

// fill gives every nil field of the record v points to its zero value,
// so that an export writes every field (a nil one would read as "left
// out").
func fill(v any) {
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.Pointer:
			if f.IsNil() {
				f.Set(reflect.New(f.Type().Elem()))
			}
		case reflect.Map:
			if f.IsNil() {
				f.Set(reflect.MakeMap(f.Type()))
			}
		case reflect.Slice:
			if f.IsNil() {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			}
		}
	}
}
