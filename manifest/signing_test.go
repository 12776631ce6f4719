package manifest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/manifest"
)

type signingView struct {
	Items []struct {
		Name    string `json:"name"`
		URL     string `json:"url"`
		Signing struct {
			Type      string `json:"type"`
			PublicKey string `json:"public_key"`
		} `json:"signing"`
	} `json:"items"`
}

func publicKey(t *testing.T, in *instance, name string) (string, string) {
	t.Helper()
	var v signingView
	in.get("/endpoints", &v)
	for _, e := range v.Items {
		if e.Name == name {
			return e.Signing.Type, e.Signing.PublicKey
		}
	}
	t.Fatalf("no endpoint %q", name)
	return "", ""
}

// `signing_secret: generate:v1a` in switchyard.yaml asks the server for an
// Ed25519 key pair once: a second apply keeps the key, export writes it
// back as generate:v1a (the secret key never leaves the server), and the
// round trip to another server gives that server a key pair of its own.
func TestGenerateV1aRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	yml := `endpoints:
  - name: signed
    url: https://example.com/hook
    event_types: ["*"]
    signing_secret: generate:v1a
`
	if err := os.WriteFile(filepath.Join(dir, "switchyard.yaml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	src := start(t, "")
	out := apply(t, src, dir, manifest.Options{}, false)
	if !strings.Contains(out, `+ create endpoint "signed"`) {
		t.Fatalf("plan:\n%s", out)
	}
	typ, key := publicKey(t, src, "signed")
	if typ != "v1a" || !strings.HasPrefix(key, "whpk_") {
		t.Fatalf("signing after apply: %s %s", typ, key)
	}
	for _, opts := range []manifest.Options{{}, {UpdateSecrets: true}} {
		if out := apply(t, src, dir, opts, false); strings.TrimSpace(out) != "no changes" {
			t.Fatalf("second apply (%+v):\n%s", opts, out)
		}
	}
	if _, k := publicKey(t, src, "signed"); k != key {
		t.Fatalf("a second apply made another key: %s then %s", key, k)
	}

	exported := t.TempDir()
	if _, err := manifest.Export(ctx, src.c, exported); err != nil {
		t.Fatal(err)
	}
	y := readTree(t, exported)["switchyard.yaml"]
	if !strings.Contains(y, "signing_secret: generate:v1a") || strings.Contains(y, "SIGNING_SECRET") {
		t.Fatalf("export:\n%s", y)
	}
	dst := start(t, "")
	apply(t, dst, exported, manifest.Options{}, false)
	if typ, k := publicKey(t, dst, "signed"); typ != "v1a" || k == key || !strings.HasPrefix(k, "whpk_") {
		t.Fatalf("on another server: %s %s (the first's key %s)", typ, k, key)
	}
	again := t.TempDir()
	if _, err := manifest.Export(ctx, dst.c, again); err != nil {
		t.Fatal(err)
	}
	if y2 := readTree(t, again)["switchyard.yaml"]; y2 != y {
		t.Fatalf("export, apply, export differs:\n%s\n---\n%s", y, y2)
	}
}

// A directory that moves an endpoint to another host sends its stored
// credentials again (the server refuses a move that would keep them),
// and the move is one update.
func TestApplyMovesAnEndpointWithItsSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	seed(in)
	dir := t.TempDir()
	if _, err := manifest.Export(ctx, in.c, dir); err != nil {
		t.Fatal(err)
	}
	yml := readTree(t, dir)["switchyard.yaml"]
	yml = strings.Replace(yml, "url: https://example.com/hook", "url: https://hooks.example.net/hook", 1)
	if err := os.WriteFile(filepath.Join(dir, "switchyard.yaml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := apply(t, in, dir, manifest.Options{}, false)
	if !strings.Contains(out, `~ update endpoint "alerts" (url, headers, cookies, auth)`) {
		t.Fatalf("plan:\n%s", out)
	}
	if out := apply(t, in, dir, manifest.Options{}, false); strings.TrimSpace(out) != "no changes" {
		t.Fatalf("after the move:\n%s", out)
	}
}

// A directory that moves an endpoint's proxy or its token endpoint to
// another host sends the proxy's password or the client secret again:
// the server sends neither to a new destination. (The endpoint trusts a
// CA of its own, so its proxy could read its requests: a new proxy needs
// the client secret too.)
func TestApplyMovesAProxyAndATokenURLWithTheirSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := start(t, "")
	seed(in)
	dir := t.TempDir()
	if _, err := manifest.Export(ctx, in.c, dir); err != nil {
		t.Fatal(err)
	}
	move := func(from, to, want string) {
		t.Helper()
		yml := readTree(t, dir)["switchyard.yaml"]
		if !strings.Contains(yml, from) {
			t.Fatalf("no %q in:\n%s", from, yml)
		}
		yml = strings.Replace(yml, from, to, 1)
		if err := os.WriteFile(filepath.Join(dir, "switchyard.yaml"), []byte(yml), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := apply(t, in, dir, manifest.Options{}, false); !strings.Contains(out, want) {
			t.Fatalf("plan:\n%s\nwant %q", out, want)
		}
		if out := apply(t, in, dir, manifest.Options{}, false); strings.TrimSpace(out) != "no changes" {
			t.Fatalf("after the move:\n%s", out)
		}
	}
	move("proxy: http://squid@proxy.example.net:3128", "proxy: http://squid@proxy2.example.net:3128",
		`~ update endpoint "reach" (proxy, auth, proxy_password)`)
	move("token_url: https://auth.example.net/token", "token_url: https://auth2.example.net/token",
		`~ update endpoint "reach" (auth)`)
	var got struct {
		Items []struct {
			Name             string         `json:"name"`
			Proxy            string         `json:"proxy"`
			ProxyPasswordSet bool           `json:"proxy_password_set"`
			Auth             map[string]any `json:"auth"`
		} `json:"items"`
	}
	in.get("/endpoints", &got)
	if len(got.Items) != 3 {
		t.Fatalf("%d endpoints", len(got.Items))
	}
	for _, e := range got.Items {
		if e.Name == "reach" && (e.Proxy != "http://squid@proxy2.example.net:3128" || !e.ProxyPasswordSet ||
			e.Auth["token_url"] != "https://auth2.example.net/token" || e.Auth["client_secret_set"] != true) {
			t.Fatalf("reach after the moves: %+v", e)
		}
	}
}
