package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

type signatureReport struct {
	Scheme   string `json:"scheme"`
	Verified bool   `json:"verified"`
	Reason   string `json:"reason"`
	Received []struct {
		Header string `json:"header"`
		Value  string `json:"value"`
	} `json:"received"`
	Match *struct {
		Algorithm     string `json:"algorithm"`
		Encoding      string `json:"encoding"`
		Key           string `json:"key"`
		MatchedHeader string `json:"matched_header"`
	} `json:"match"`
	Candidates []struct {
		Value   string `json:"value"`
		Matches bool   `json:"matches"`
	} `json:"candidates"`
	Hints []string `json:"hints"`
}

// The signature debugger explains a stored message's signature.
func TestSignatureCheck(t *testing.T) {
	t.Parallel()
	in := start(t)
	const secret = "the-secret"
	body := []byte(`{"zen":"Keep it logically awesome."}`)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	p := in.provider("gh", "return false", map[string]any{"secrets": map[string]string{"webhook_secret": secret}})
	_, a := in.send("gh", body, true, http.Header{"X-GitHub-Event": {"ping"}, "X-Hub-Signature-256": {sig}})

	var r signatureReport
	raw := in.api("POST", "/messages/"+a.ID+"/signature-check", map[string]any{"secret": secret}, http.StatusOK, &r)
	if r.Scheme != "github" || !r.Verified || r.Match == nil || r.Match.MatchedHeader != "x-hub-signature-256" || len(r.Candidates) < 9 {
		t.Fatalf("right secret: %s", raw)
	}
	if strings.Contains(string(raw), secret) {
		t.Fatal("the report echoes the secret")
	}

	// The stored secret, by name.
	in.api("POST", "/messages/"+a.ID+"/signature-check", map[string]any{"provider_id": p.ID, "secret_name": "webhook_secret"}, http.StatusOK, &r)
	if !r.Verified {
		t.Fatalf("stored secret: %+v", r)
	}

	// A wrong secret: nothing matches, and the hint says why.
	r = signatureReport{}
	in.api("POST", "/messages/"+a.ID+"/signature-check", map[string]any{"secret": "nope", "scheme": "github"}, http.StatusOK, &r)
	if r.Verified || r.Match != nil || len(r.Hints) == 0 || len(r.Received) != 1 || r.Received[0].Value != sig {
		t.Fatalf("wrong secret: %+v", r)
	}

	// Bad requests.
	for _, body := range []map[string]any{
		{},
		{"secret": "x", "scheme": "md5"},
		{"secret": "x", "provider_id": p.ID, "secret_name": "webhook_secret"},
		{"provider_id": p.ID, "secret_name": "missing"},
	} {
		in.api("POST", "/messages/"+a.ID+"/signature-check", body, http.StatusBadRequest, nil)
	}
	in.api("POST", "/messages/0190b5c1-0000-7000-8000-000000000000/signature-check", map[string]any{"secret": "x"}, http.StatusNotFound, nil)
}
