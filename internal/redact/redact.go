// Package redact owns what Switchyard hides from its answers and records:
// the values of credential-like headers, and the values of provider
// secrets wherever a script may have written them.
package redact

import (
	"encoding/json"
	"net/url"
	"reflect"
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
			forms := []string{v, url.QueryEscape(v), url.PathEscape(v)}
			if b, err := json.Marshal(v); err == nil {
				forms = append(forms, string(b[1:len(b)-1]))
			}
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
