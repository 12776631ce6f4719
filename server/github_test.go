package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every GitHub example payload in testdata, signed as GitHub signs it,
// goes through a GitHub provider to a function that reads its event.
func TestGitHubExamplePayloads(t *testing.T) {
	t.Parallel()
	const secret = "example-secret"
	in := start(t)
	p := in.provider("GitHub", `return HMAC.equals(HTTP_HEADERS["x-hub-signature-256"] || "", "sha256=" + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret))`,
		map[string]any{"secrets": map[string]string{"secret": secret}})
	in.function(p.ID, "events", "github", `
		var e = HTTP_HEADERS["x-github-event"];
		var what = PAYLOAD.action ? e + "." + PAYLOAD.action : e;
		LOG.setMessage(what + " " + PAYLOAD.repository.full_name);
		return true`)
	files, err := filepath.Glob("../testdata/github/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("example payloads: %v %v", files, err)
	}
	for _, f := range files {
		event := strings.TrimSuffix(filepath.Base(f), ".json") // push, ping, pull_request.opened...
		event, _, _ = strings.Cut(event, ".")
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		h := http.Header{"X-GitHub-Event": {event}, "X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}
		code, a := in.send("github", body, true, h)
		if code != 200 {
			t.Fatalf("%s: %d %+v", f, code, a)
		}
		if d := in.message(a.ID); !strings.HasPrefix(d.Message, event) || !strings.Contains(d.Message, "/") {
			t.Fatalf("%s: summary %q", f, d.Message)
		}
	}
}
