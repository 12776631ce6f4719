package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestDoSendsTheTokenAndDecodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"no token"}`))
			return
		}
		switch r.URL.Path {
		case "/base/api/v1/things":
			var in map[string]string
			_ = json.NewDecoder(r.Body).Decode(&in)
			_ = json.NewEncoder(w).Encode(map[string]string{"got": in["name"], "q": r.URL.Query().Get("q")})
		default:
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"error":"a thing named x exists"}`))
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/base/", "tok")
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	if err := c.Do(context.Background(), "POST", "/things", url.Values{"q": {"1"}}, map[string]string{"name": "x"}, &out); err != nil {
		t.Fatal(err)
	}
	if out["got"] != "x" || out["q"] != "1" {
		t.Fatalf("answer %v", out)
	}
	err = c.Post(context.Background(), "/other", map[string]string{}, nil)
	if !IsStatus(err, http.StatusConflict) || err.Error() != "POST /other: 409 Conflict: a thing named x exists" {
		t.Fatalf("err = %v", err)
	}
	anon, _ := New(srv.URL+"/base", "")
	if err := anon.Get(context.Background(), "/things", nil, &out); !IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("without a token: %v", err)
	}
}

func TestNewRefusesWhatIsNotAServer(t *testing.T) {
	for _, s := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := New(s, ""); err == nil {
			t.Errorf("New(%q) = nil error", s)
		}
	}
}
