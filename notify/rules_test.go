package notify

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/storage"
)

func TestSubscribed(t *testing.T) {
	cases := []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{[]string{"*"}, "anything.at.all", true},
		{[]string{"alarm.*"}, "alarm.host_lost", true},
		{[]string{"alarm.*"}, "alarm.host.lost", true},
		{[]string{"alarm.*"}, "alarms.x", false},
		{[]string{"alarm.*"}, "alarm", false},
		{[]string{"*.failed"}, "message.failed", true},
		{[]string{"*.failed"}, "message.failed.not", false},
		{[]string{"a*b*c"}, "aXbYc", true},
		{[]string{"a*b*c"}, "aXbY", false},
		{[]string{"message.failed"}, "message.failed", true},
		{[]string{"message.failed"}, "message.failedx", false},
		{[]string{"x", "y.*"}, "y.z", true},
		{[]string{"**"}, "", true},
		{[]string{"a**"}, "a", true},
		{[]string{"*a*"}, "bab", true},
		{[]string{"*ab"}, "aab", true},
		{[]string{"a*"}, "", false},
		{[]string{""}, "", true},
	}
	for _, c := range cases {
		if got := Subscribed(c.patterns, c.typ); got != c.want {
			t.Errorf("Subscribed(%q, %q) = %v", c.patterns, c.typ, got)
		}
	}
}

// TestSubscribedManyStars: a pattern with many stars against a long type
// that almost matches used to backtrack through every way of placing the
// stars (exponential); it now answers in len(pattern)·len(type) steps.
func TestSubscribedManyStars(t *testing.T) {
	pattern := strings.Repeat("*a", 30) + "*b"
	typ := strings.Repeat("a", 200)
	done := make(chan bool, 1)
	go func() { done <- Subscribed([]string{pattern}, typ) }()
	select {
	case got := <-done:
		if got {
			t.Errorf("Subscribed(%q, a×200) = true, want false", pattern)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Subscribed with 31 stars did not answer within 20s")
	}
}

func TestNextDelay(t *testing.T) {
	def := storage.RetryPolicy{MaxAttempts: 8, Backoff: "exponential"}
	within := func(d, want time.Duration) bool {
		return d >= want*9/10 && d <= want*11/10
	}
	for made, want := range []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour} {
		d, more := nextDelay(def, made+1)
		if !more || !within(d, want) {
			t.Errorf("default schedule after attempt %d: %v %v, want %v ±10%%", made+1, d, more, want)
		}
	}
	if _, more := nextDelay(def, 8); more {
		t.Error("the default policy allows a 9th attempt")
	}
	exp := storage.RetryPolicy{MaxAttempts: 50, Backoff: "exponential", IntervalMS: 1000}
	if d, _ := nextDelay(exp, 3); !within(d, 4*time.Second) {
		t.Errorf("exponential 1s, after 3 attempts: %v, want 4s", d)
	}
	if d, _ := nextDelay(exp, 40); !within(d, maxExpDelay) {
		t.Errorf("exponential is capped: %v", d)
	}
	fixed := storage.RetryPolicy{MaxAttempts: 3, Backoff: "fixed", IntervalMS: 250}
	if d, more := nextDelay(fixed, 2); !more || d != 250*time.Millisecond {
		t.Errorf("fixed: %v %v", d, more)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"999999999":                     maxRetryAfter,
		"Tue, 01 Dec 2026 10:00:30 GMT": 30 * time.Second,
		"Tue, 01 Dec 2026 09:00:00 GMT": 0,
	}
	for v, want := range cases {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}

func TestNormalizeDefaults(t *testing.T) {
	e := storage.Endpoint{Name: " n ", URL: "https://example.com", EventTypes: []string{"*"}}
	if err := Normalize(&e); err != nil {
		t.Fatal(err)
	}
	if e.Name != "n" || e.Method != "POST" || e.TimeoutMS != 5000 || e.MsgKey != "Msg" || e.Language != "en" || e.Concurrency != 8 ||
		e.Retry != (storage.RetryPolicy{MaxAttempts: 8, Backoff: "exponential"}) || e.Auth.Type != "none" || e.AutoDisable.FailingForHours != 120 {
		t.Fatalf("defaults: %+v", e)
	}
	// A non-whsec secret is allowed: it only feeds {{sign}}.
	e.SigningSecret = "SECabc"
	if err := Normalize(&e); err != nil {
		t.Fatal(err)
	}
	e.Headers = map[string]string{"Host": "evil"}
	if err := Normalize(&e); err == nil || !strings.Contains(err.Error(), "set by Switchyard") {
		t.Fatalf("a Host header: %v", err)
	}
}

func TestExcerptCutsOnARuneBoundary(t *testing.T) {
	b := []byte(strings.Repeat("a", storage.MaxResponseExcerpt-1) + "é and more")
	got := excerpt(b)
	if !utf8.ValidString(got) || len(got) != storage.MaxResponseExcerpt-1 {
		t.Fatalf("excerpt: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if excerpt([]byte("short")) != "short" {
		t.Fatal("a short body is kept whole")
	}
}

func TestDefaultBody(t *testing.T) {
	ev := storage.Event{ID: "id1", Type: "a.b", Time: time.Date(2026, 12, 1, 10, 0, 0, 5, time.UTC), Title: "T \"q\"\n",
		Message: "m\u2028\\", Data: map[string]any{"k": []any{1.5, "x", nil}}}
	for _, msgKey := range []string{"Msg", "message", "data", "text"} {
		ep := storage.Endpoint{Name: "n", URL: "https://example.com", EventTypes: []string{"*"}, MsgKey: msgKey,
			ExtraBody: map[string]any{"team": "ops", "n": 2, "nested": map[string]any{"<": ">"}}}
		if err := Normalize(&ep); err != nil {
			t.Fatal(err)
		}
		tg, err := newTarget(ep, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		enc, err := storage.EncodeEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		b := tg.defaultBody(enc)
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %s: %v", msgKey, b, err)
		}
		want := map[string]any{"id": "id1", "type": "a.b", "time": "2026-12-01T10:00:00.000000005Z", "title": "T \"q\"\n",
			"sub_title": "", "message": "m\u2028\\", "logo": "", "image": "", "data": map[string]any{"k": []any{1.5, "x", nil}},
			"team": "ops", "n": float64(2), "nested": map[string]any{"<": ">"}}
		want[msgKey] = "T \"q\"\n\nm\u2028\\"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("msg_key %s:\n got %v\nwant %v", msgKey, got, want)
		}
	}
}
