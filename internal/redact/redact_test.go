package redact

import (
	"strings"
	"testing"
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
