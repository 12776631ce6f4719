package redact

import (
	"strings"
	"testing"

	"github.com/dop251/goja"
)

func TestCredentialHeader(t *testing.T) {
	for _, n := range []string{"Authorization", "proxy-authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-API_KEY",
		"X-Auth-Token", "Private-Token", "X-Gitlab-Token", "X-Session-Id", "X-Client-Secret", "X-Password"} {
		if !CredentialHeader(n) {
			t.Errorf("%s: not a credential", n)
		}
	}
	for _, n := range []string{"Content-Type", "X-Hub-Signature-256", "Stripe-Signature", "User-Agent", "X-GitHub-Event", "X-Request-Id"} {
		if CredentialHeader(n) {
			t.Errorf("%s: a credential", n)
		}
	}
	got := Headers(map[string]string{"X-Auth-Token": "t-1", "Accept": "*/*"})
	if got["X-Auth-Token"] != Marker || got["Accept"] != "*/*" {
		t.Fatalf("Headers: %v", got)
	}
}

func TestSecrets(t *testing.T) {
	s := NewSecrets(map[string]string{"token": "ab\"c d", "empty": ""}, map[string]string{"long": "XYZab\"c dXYZ"})
	for in, want := range map[string]string{
		`token is ab"c d.`:           "token is [secret:token].",
		`{"t":"ab\"c d"}`:            `{"t":"[secret:token]"}`,
		"q=ab%22c+d&x":               "q=[secret:token]&x",
		`XYZab"c dXYZ`:               "[secret:long]",
		"nothing here":               "nothing here",
		"d c\"ba (reversed: found?)": "d c\"ba (reversed: found?)",
	} {
		if got := s.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	loop := map[string]any{"k": `ab"c d`}
	loop["self"] = loop
	v := s.Value(map[string]any{`ab"c d`: []any{`x-ab"c d`, 1.5, nil, loop}}).(map[string]any)
	arr := v["[secret:token]"].([]any)
	if arr[0] != "x-[secret:token]" || arr[1] != 1.5 || arr[2] != nil {
		t.Fatalf("Value: %#v", v)
	}
	m := arr[3].(map[string]any)
	if m["k"] != "[secret:token]" || m["self"].(map[string]any)["k"] != "[secret:token]" {
		t.Fatalf("cycle: %#v", m)
	}
	if loop["k"] != `ab"c d` {
		t.Fatal("Value changed its input")
	}
	var none *Secrets
	if none.String("ab") != "ab" || NewSecrets(map[string]string{"e": ""}) != nil {
		t.Fatal("no secrets must replace nothing")
	}
	if strings.Contains(s.String(`ab"c d`), "ab") {
		t.Fatal("leak")
	}
}

// Secret values are found in every form JavaScript itself writes them:
// JSON.stringify (once and twice, HTML characters not escaped),
// encodeURIComponent and encodeURI, as goja computes them.
func TestSecretsInJavaScriptForms(t *testing.T) {
	secrets := map[string]string{
		"s1": `Tok "quoted" <b>&amp; sp!(x)`,
		"q":  `p&ss"wd`,
		"b":  `a<b\c`,
		"u":  "naïve\u2028line\nnext\ttab\x01",
	}
	s := NewSecrets(secrets)
	rt := goja.New()
	for name, v := range secrets {
		rt.Set("v", v)
		for _, expr := range []string{
			"JSON.stringify(v)",
			"JSON.stringify(JSON.stringify(v))",
			"JSON.stringify({k: v})",
			"encodeURIComponent(v)",
			"encodeURI(v)",
			"'prefix ' + v + ' suffix'",
		} {
			got, err := rt.RunString(expr)
			if err != nil {
				t.Fatal(err)
			}
			out := s.String(got.String())
			if !strings.Contains(out, "[secret:"+name+"]") {
				t.Errorf("%s of %s: %q not redacted: %q", expr, name, got.String(), out)
			}
		}
	}
}
