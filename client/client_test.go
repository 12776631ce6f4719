package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
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

func TestListFollowsPagesAndStopsALoop(t *testing.T) {
	// Five items, two a page; then a server that answers one cursor
	// forever, and one that answers empty pages with cursors.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch r.URL.Path {
		case "/api/v1/things":
			start, _ := strconv.Atoi(q.Get("cursor"))
			n, _ := strconv.Atoi(q.Get("limit"))
			var page struct {
				Items []int  `json:"items"`
				Next  string `json:"next_cursor,omitempty"`
			}
			for i := start; i < 5 && len(page.Items) < min(n, 2); i++ {
				page.Items = append(page.Items, i)
			}
			if end := start + len(page.Items); end < 5 {
				page.Next = strconv.Itoa(end)
			}
			_ = json.NewEncoder(w).Encode(page)
		case "/api/v1/loop":
			_, _ = w.Write([]byte(`{"items": [1], "next_cursor": "same"}`))
		case "/api/v1/empty":
			_, _ = w.Write([]byte(`{"items": [], "next_cursor": "` + q.Get("cursor") + `x"}`))
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL, "")
	ctx := context.Background()
	all, next, err := List[int](ctx, c, "/things", nil, 0)
	if err != nil || len(all) != 5 || next != "" || all[4] != 4 {
		t.Fatalf("all: %v %q %v", all, next, err)
	}
	some, next, err := List[int](ctx, c, "/things", nil, 3)
	if err != nil || len(some) != 3 || next != "3" {
		t.Fatalf("three: %v %q %v", some, next, err)
	}
	for _, path := range []string{"/loop", "/empty"} {
		if _, _, err := List[int](ctx, c, path, nil, 0); err == nil || !strings.Contains(err.Error(), "pages do not end") {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// A name escaped once by the caller reaches the server escaped once: a
// type named "café.x" or "a/b" is not escaped again.
func TestDoSendsThePathEscapedOnce(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.EscapedPath()
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/base", "tok")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"café.x", "a/b"} {
		if err := c.Get(context.Background(), "/event-types/"+url.PathEscape(name), nil, nil); err != nil {
			t.Fatal(err)
		}
		if p, want := <-got, "/base/api/v1/event-types/"+url.PathEscape(name); p != want {
			t.Fatalf("the server was asked for %s, want %s", p, want)
		}
	}
}
