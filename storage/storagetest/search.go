package storagetest

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// searchIDs lists, newest first, every message that f selects, paging
// through the bounded pages, and how many pages it took.
func searchIDs(t *testing.T, s Functions, f storage.MessageFilter) ([]string, int) {
	var ids []string
	pages := 0
	for {
		page, next, err := s.ListMessages(ctx(t), f)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		pages++
		for _, m := range page {
			ids = append(ids, m.ID)
		}
		if next == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatalf("list %+v: still paging after 100 pages", f)
		}
		f.Cursor = next
	}
}

func testSearchMessages(t *testing.T, s Functions) {
	now := time.Now().Add(-time.Minute)
	at := func(i int) time.Time { return now.Add(time.Duration(i) * time.Millisecond) }
	type msg struct {
		name    string
		uri     string
		headers map[string]string
		body    string
		outcome storage.Outcome
	}
	line := func(text string) []storage.LogLine { return []storage.LogLine{{Time: now, Level: "INFO", Text: text}} }
	msgs := []msg{
		{name: "summary", uri: "a", outcome: storage.Outcome{Status: storage.StatusSuccess, Summary: "deployed needle build"}},
		{name: "uri", uri: "repos/needle/push"},
		{name: "header value", uri: "a", headers: map[string]string{"X-Event": "the needle event"}},
		{name: "header name", uri: "a", headers: map[string]string{"x-needle-id": "1"}},
		{name: "credential value", uri: "a", headers: map[string]string{"X-Gitlab-Token": "needle"}},
		{name: "message log", uri: "a", outcome: storage.Outcome{Status: storage.StatusUnmatched, Logs: line("no needle here")}},
		{name: "execution error", uri: "a", outcome: storage.Outcome{Status: storage.StatusFailed, Executions: []storage.Execution{
			{FunctionID: "f-other", FunctionName: "x", Status: storage.StatusFailed, Error: "needle broke", StartedAt: now}}}},
		{name: "execution log", uri: "a", outcome: storage.Outcome{Status: storage.StatusSuccess, Executions: []storage.Execution{
			{FunctionID: "f-one", FunctionName: "one", Status: storage.StatusSuccess, StartedAt: now, Logs: line("found a needle")},
			{FunctionID: "f-two", FunctionName: "two", Status: storage.StatusSuccess, StartedAt: now}}}},
		{name: "payload", uri: "a", body: "{\"x\":\"\xff a needle in bytes\"}"},
		{name: "other case", uri: "a", body: "NEEDLE", outcome: storage.Outcome{Status: storage.StatusSuccess, Summary: "Needle"}},
		{name: "nothing", uri: "a", body: "hay", outcome: storage.Outcome{Status: storage.StatusSuccess, Executions: []storage.Execution{
			{FunctionID: "f-one", FunctionName: "one", Status: storage.StatusSuccess, StartedAt: now}}}},
	}
	id := map[string]string{}
	for i, x := range msgs {
		m := NewMessage(t, at(i), x.uri)
		m.Headers = x.headers
		check(s.AppendMessage(ctx(t), m, []byte(x.body)))
		if x.outcome.Status != "" {
			x.outcome.CompletedAt = now
			check(s.CompleteMessage(ctx(t), m.ID, x.outcome))
		}
		id[x.name] = m.ID
	}
	want := func(names ...string) []string {
		var out []string
		for i := len(msgs) - 1; i >= 0; i-- {
			if slices.Contains(names, msgs[i].name) {
				out = append(out, id[msgs[i].name])
			}
		}
		return out
	}
	cases := []struct {
		name string
		f    storage.MessageFilter
		want []string
	}{
		{"deep text", storage.MessageFilter{Text: "needle", Deep: true},
			want("summary", "uri", "header value", "header name", "message log", "execution error", "execution log", "payload")},
		{"shallow text: summary and uri only", storage.MessageFilter{Text: "needle"}, want("summary", "uri")},
		{"case matters", storage.MessageFilter{Text: "NEEDLE", Deep: true}, want("other case")},
		{"function", storage.MessageFilter{FunctionID: "f-one"}, want("execution log", "nothing")},
		{"function and text", storage.MessageFilter{FunctionID: "f-one", Text: "needle", Deep: true}, want("execution log")},
		{"function and status", storage.MessageFilter{FunctionID: "f-other", Status: storage.StatusFailed}, want("execution error")},
		{"no such function", storage.MessageFilter{FunctionID: "f-none"}, nil},
		{"text and uri", storage.MessageFilter{Text: "needle", URI: "a"}, want("summary")},
	}
	for _, c := range cases {
		for _, limit := range []int{2, 50} {
			c.f.Limit = limit
			got, _ := searchIDs(t, s, c.f)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s (limit %d): got %v, want %v", c.name, limit, got, c.want)
			}
		}
	}
}

// testSearchIsBounded: a search page stops after storage.SearchScan
// messages, or after the payload that passes storage.SearchBytes, and
// answers a cursor from which the search goes on.
func testSearchIsBounded(t *testing.T, s Functions) {
	base := time.Now().Add(-time.Hour)
	needle := NewMessage(t, base, "u")
	check(s.AppendMessage(ctx(t), needle, []byte("the needle")))
	appendAll(t, s, storage.SearchScan+5, func(i int) (storage.Message, []byte) {
		return NewMessage(t, base.Add(time.Duration(i+1)*time.Millisecond), "u"), []byte("hay")
	})
	page, next, err := s.ListMessages(ctx(t), storage.MessageFilter{Text: "needle", Deep: true, Limit: 10})
	if err != nil || len(page) != 0 || next == "" {
		t.Fatalf("first page past %d messages: %d items, cursor %q, %v", storage.SearchScan, len(page), next, err)
	}
	if got, pages := searchIDs(t, s, storage.MessageFilter{Text: "needle", Deep: true, Limit: 10}); !slices.Equal(got, []string{needle.ID}) || pages != 2 {
		t.Fatalf("paged search: %v in %d pages", got, pages)
	}

	// Big payloads: the page stops once it searched SearchBytes.
	later := base.Add(time.Minute)
	const big = 1 << 20
	n := storage.SearchBytes/big + 4
	bigNeedle := NewMessage(t, later, "big")
	check(s.AppendMessage(ctx(t), bigNeedle, append(bytes.Repeat([]byte("h"), big), "needle"...)))
	appendAll(t, s, n, func(i int) (storage.Message, []byte) {
		return NewMessage(t, later.Add(time.Duration(i+1)*time.Millisecond), "big"), bytes.Repeat([]byte("h"), big)
	})
	f := storage.MessageFilter{Text: "needle", Deep: true, URI: "big", Limit: 10}
	if page, next, err := s.ListMessages(ctx(t), f); err != nil || len(page) != 0 || next == "" {
		t.Fatalf("first page past %d bytes: %d items, cursor %q, %v", storage.SearchBytes, len(page), next, err)
	}
	if got, _ := searchIDs(t, s, f); !slices.Equal(got, []string{bigNeedle.ID}) {
		t.Fatalf("paged search of big payloads: %v", got)
	}
}

// appendAll appends n messages that next(i) gives, several at a time.
func appendAll(t *testing.T, s Functions, n int, next func(i int) (storage.Message, []byte)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan error, n)
	for i := range n {
		m, body := next(i)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.AppendMessage(ctx(t), m, body); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// testDeleteMessages: deleting messages deletes their payloads, outcomes,
// logs and executions and takes them out of the queue; a message made
// again with the same id starts afresh.
func testDeleteMessages(t *testing.T, s Functions) {
	now := time.Now()
	done, pending, kept := NewMessage(t, now, "d"), NewMessage(t, now.Add(time.Millisecond), "d"), NewMessage(t, now.Add(2*time.Millisecond), "d")
	for _, m := range []storage.Message{done, pending, kept} {
		check(s.AppendMessage(ctx(t), m, []byte("body of "+m.ID)))
	}
	check(s.CompleteMessage(ctx(t), done.ID, storage.Outcome{
		Status: storage.StatusSuccess, ProviderID: "p", Summary: "s", CompletedAt: now,
		Logs:       []storage.LogLine{{Time: now, Level: "INFO", Text: "l"}},
		Executions: []storage.Execution{{FunctionID: "f", FunctionName: "f", Status: storage.StatusSuccess, StartedAt: now}},
	}))
	missing := NewMessage(t, now, "d").ID
	if n := must(s.DeleteMessages(ctx(t), []string{done.ID, pending.ID, missing})); n != 2 {
		t.Fatalf("deleted %d, want 2", n)
	}
	for _, id := range []string{done.ID, pending.ID} {
		if _, err := s.GetMessage(ctx(t), id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("deleted message: %v", err)
		}
		if _, err := s.GetPayload(ctx(t), id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("deleted payload: %v", err)
		}
	}
	if p := must(s.PendingMessages(ctx(t), "", 10)); len(p) != 1 || p[0].ID != kept.ID {
		t.Fatalf("pending after delete: %v", p)
	}
	if err := s.CompleteMessage(ctx(t), pending.ID, storage.Outcome{Status: storage.StatusSuccess, CompletedAt: now}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("completing a deleted message: %v", err)
	}
	// Nothing of the deleted message's details is left behind.
	check(s.AppendMessage(ctx(t), done, []byte("again")))
	d := must(s.GetMessage(ctx(t), done.ID))
	if d.Status != storage.StatusPending || len(d.Logs) != 0 || len(d.Executions) != 0 || d.Summary != "" {
		t.Fatalf("the same id after delete: %+v", d)
	}
	if got, _ := searchIDs(t, s, storage.MessageFilter{FunctionID: "f"}); len(got) != 0 {
		t.Fatalf("executions left after delete: %v", got)
	}
	if n := must(s.DeleteMessages(ctx(t), nil)); n != 0 {
		t.Fatalf("deleting none: %d", n)
	}
}
