// Package redact owns what Switchyard hides from its answers and records:
// the values of credential-like headers, and the values of provider
// secrets wherever a script may have written them.
package redact

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Marker replaces the value of a credential-like header.
const Marker = "[redacted]"

// credentialWords mark a header name whose value is a credential: whoever
// reads it can act as the sender. Signatures (X-Hub-Signature-256,
// Stripe-Signature...) are not among them: a signature is bound to one
// body, and operators need to see it to debug a mismatch.
var credentialWords = []string{"auth", "token", "secret", "password", "passwd", "session", "cookie", "api-key", "apikey", "api_key"}

// CredentialHeader reports whether a header's value is a credential:
// Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key,
// X-Auth-Token, Private-Token, X-Gitlab-Token, and any name that contains
// auth, token, secret, password, passwd, session, cookie, api-key, apikey
// or api_key (case-insensitive).
func CredentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// CredentialWords are the words CredentialHeader looks for, lower case,
// for a store that checks header names in its own query language.
func CredentialWords() []string { return append([]string(nil), credentialWords...) }

// Headers returns a copy of h with the values of credential-like headers
// replaced by Marker; nil when h is empty.
func Headers(h map[string]string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if CredentialHeader(k) {
			v = Marker
		}
		out[k] = v
	}
	return out
}

// Query returns a copy of q with the values of credential-like parameters
// (the header rule: ?token=, ?access_token=, ?api_key=...) replaced by
// Marker; nil when q is empty.
func Query(q map[string][]string) map[string][]string {
	if len(q) == 0 {
		return nil
	}
	out := make(map[string][]string, len(q))
	for k, vs := range q {
		if CredentialHeader(k) {
			vs = slices.Repeat([]string{Marker}, len(vs))
		}
		out[k] = vs
	}
	return out
}

// URL returns raw with its password and the values of its credential-like
// query parameters replaced by Marker (raw as it is when it does not
// parse).
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Marker)
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if CredentialHeader(k) {
				q[k] = slices.Repeat([]string{Marker}, len(q[k]))
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// Secrets replaces secret values, wherever they appear in a string, by
// "[secret:NAME]". The zero value and nil replace nothing.
//
// It finds a value as is, JSON-escaped (a script's JSON.stringify) and
// URL-escaped (a query string); it cannot find one that a script split,
// reversed, encoded otherwise or hashed: whoever writes scripts is trusted
// with the secrets (see docs/security.md).
type Secrets struct {
	r *strings.Replacer
}

// NewSecrets builds the replacer for secrets (name to value). Empty values
// are skipped; when values overlap, the longest is found first.
func NewSecrets(secrets ...map[string]string) *Secrets {
	type pair struct{ value, marker string }
	var pairs []pair
	seen := map[string]bool{}
	for _, m := range secrets {
		for name, v := range m {
			if v == "" {
				continue
			}
			marker := "[secret:" + name + "]"
			forms := escapedForms(v)
			for _, f := range forms {
				if f != "" && !seen[f] {
					seen[f] = true
					pairs = append(pairs, pair{f, marker})
				}
			}
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	// strings.Replacer tries the pairs in order at each position: longest
	// first, so that a secret holding another is not cut in two.
	sort.SliceStable(pairs, func(i, j int) bool {
		if len(pairs[i].value) != len(pairs[j].value) {
			return len(pairs[i].value) > len(pairs[j].value)
		}
		return pairs[i].value < pairs[j].value
	})
	oldnew := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		oldnew = append(oldnew, p.value, p.marker)
	}
	return &Secrets{r: strings.NewReplacer(oldnew...)}
}

// escapedForms are the ways a value turns up in what a script writes: as
// is; JSON-escaped as Go writes it (HTML characters escaped) and as
// JavaScript's JSON.stringify does (not), once and twice (a stringified
// string stringified again); URL-escaped as Go's QueryEscape and
// PathEscape and JavaScript's encodeURIComponent and encodeURI do.
func escapedForms(v string) []string {
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v), uriEscape(v, uriComponentKeep), uriEscape(v, uriKeep)}
	if b, err := json.Marshal(v); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	once := jsStringify(v)
	return append(forms, once, jsStringify(once))
}

// jsStringify is the inside of JavaScript's JSON.stringify of a string:
// the quote, the backslash and control characters escaped, nothing else.
func jsStringify(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// The characters JavaScript's encodeURIComponent and encodeURI leave as
// they are, besides letters and digits.
const (
	uriComponentKeep = "-_.!~*'()"
	uriKeep          = uriComponentKeep + ";,/?:@&=+$#"
)

// uriEscape percent-encodes s as encodeURIComponent (keep =
// uriComponentKeep) or encodeURI (uriKeep) does: UTF-8 bytes, upper-case
// hex.
func uriEscape(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// String returns s with every secret value replaced.
func (s *Secrets) String(str string) string {
	if s == nil || s.r == nil || str == "" {
		return str
	}
	return s.r.Replace(str)
}

// Value returns v with every secret value replaced in its strings, map
// keys included. v is what a script returned or recorded: strings,
// numbers, booleans, nil, []any and map[string]any as exported from the
// script, which may hold cycles (kept as cycles in the copy). Other types
// are returned as they are.
func (s *Secrets) Value(v any) any {
	if s == nil || s.r == nil {
		return v
	}
	return s.value(v, map[uintptr]any{})
}

func (s *Secrets) value(v any, done map[uintptr]any) any {
	switch x := v.(type) {
	case string:
		return s.String(x)
	case []any:
		if len(x) == 0 {
			return x
		}
		p := reflect.ValueOf(x).Pointer()
		if c, ok := done[p]; ok {
			return c
		}
		out := make([]any, len(x))
		done[p] = out
		for i, e := range x {
			out[i] = s.value(e, done)
		}
		return out
	case map[string]any:
		p := reflect.ValueOf(x).Pointer()
		if c, ok := done[p]; ok {
			return c
		}
		out := make(map[string]any, len(x))
		done[p] = out
		for k, e := range x {
			out[s.String(k)] = s.value(e, done)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[s.String(k)] = s.String(e)
		}
		return out
	}
	return v
}
