package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

// TestUnknownAndBadListParameters: a list refuses a query parameter it
// does not take, naming it, and a bad value of one it takes.
func TestUnknownAndBadListParameters(t *testing.T) {
	t.Parallel()
	in := start(t)
	cases := []struct{ path, want string }{
		{"/messages?function=x", `unknown query parameter "function"`},
		{"/messages?status=FAILED&prvider_id=x", `unknown query parameter "prvider_id"`},
		{"/messages/count?text=x", `unknown query parameter "text"`},
		{"/messages?function_id=build", "function_id must be the id of a provider or function"},
		{"/messages?provider_id=github", "provider_id must be the id of a provider or function"},
		{"/messages?q=" + strings.Repeat("a", 257), "q must be at most 256 bytes"},
		{"/messages?q=a%00b", "q must be text without control characters"},
		{"/messages?q=%ff", "q must be text without control characters"},
		{"/deliveries?endpoint=x", `unknown query parameter "endpoint"`},
		{"/audit?who=x", `unknown query parameter "who"`},
		{"/functions?provider=x", `unknown query parameter "provider"`},
		{"/providers?sort=name", `unknown query parameter "sort"`},
		{"/users?role=admin", `unknown query parameter "role"`},
	}
	for _, c := range cases {
		code, body := in.as(testToken, "GET", c.path, nil, nil)
		if code != http.StatusBadRequest || !strings.Contains(errorOf(body), c.want) {
			t.Errorf("GET %s: %d %s, want 400 with %q", c.path, code, body, c.want)
		}
	}
	for _, ok := range []string{"/messages?function_id=01a209bf-75fa-72ad-93d4-4683e2dbb805&q=x&limit=5", "/functions?provider_id=x&uri=y&limit=5", "/audit?action=x"} {
		if code, body := in.as(testToken, "GET", ok, nil, nil); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", ok, code, body)
		}
	}
}

// errorOf is the message of an error answer.
func errorOf(body []byte) string {
	var e struct{ Error string }
	_ = jsonUnmarshal(body, &e)
	return e.Error
}

type messageList struct {
	Items []struct {
		ID         string `json:"id"`
		ResubmitOf string `json:"resubmit_of"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
	Partial    bool   `json:"partial"`
}

// TestSearchMessagesByFunctionAndText: function_id selects the messages a
// function ran for; q finds text in the payload for operators, and only
// in summaries and URIs for viewers.
func TestSearchMessagesByFunctionAndText(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("all", "return true")
	a := in.function(p.ID, "a", "shared", `LOG.info("a ran")`)
	in.function(p.ID, "b", "shared", `LOG.info("b ran")`)
	only := in.function(p.ID, "c", "other", `LOG.setMessage("c summary")`)
	_, ans := in.send("shared", []byte(`{"ref":"needle-in-payload"}`), true, nil)
	_, other := in.send("other", []byte(`{}`), true, nil)
	_, viewer := in.user("vic", "viewer")

	ids := func(token, query string) []string {
		code, body := in.as(token, "GET", "/messages?"+query, nil, nil)
		var l messageList
		if code != http.StatusOK || jsonUnmarshal(body, &l) != nil {
			t.Fatalf("GET /messages?%s: %d %s", query, code, body)
		}
		var out []string
		for _, m := range l.Items {
			out = append(out, m.ID)
		}
		return out
	}
	check := func(token, query string, want ...string) {
		t.Helper()
		if got := ids(token, query); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("GET /messages?%s: %v, want %v", query, got, want)
		}
	}
	check(testToken, "function_id="+a.ID, ans.ID)
	check(testToken, "function_id="+only.ID, other.ID)
	check(testToken, "q=needle-in-payload", ans.ID)
	check(testToken, "q=b+ran", ans.ID)
	check(testToken, "q=c+summary", other.ID)
	check(testToken, "q=Needle-in-payload")
	check(viewer, "q=needle-in-payload")
	check(viewer, "q=c+summary", other.ID)
	check(viewer, "q=other", other.ID)
}

// TestSearchSaysWhenItStoppedEarly: a page that reached the search bound
// before it was full says partial, and its cursor leads on to the match.
func TestSearchSaysWhenItStoppedEarly(t *testing.T) {
	t.Parallel()
	in := start(t)
	st := server.StoreOf(in.srv)
	base := time.Now().Add(-time.Hour)
	needle := storagetest.NewMessage(t, base, "hay")
	if err := st.AppendMessage(t.Context(), needle, []byte("needle")); err != nil {
		t.Fatal(err)
	}
	appendMany(t, st, storage.SearchScan+1, base, "hay")
	var l messageList
	in.api("GET", "/messages?q=needle&limit=10", nil, http.StatusOK, &l)
	if len(l.Items) != 0 || !l.Partial || l.NextCursor == "" {
		t.Fatalf("first page: %+v", l)
	}
	cursor := l.NextCursor
	l = messageList{}
	in.api("GET", "/messages?q=needle&limit=10&cursor="+url.QueryEscape(cursor), nil, http.StatusOK, &l)
	if len(l.Items) != 1 || l.Items[0].ID != needle.ID || l.Partial {
		t.Fatalf("second page: %+v", l)
	}
}

// appendMany appends n messages to uri, received one millisecond apart
// after base, straight into the store, and marks them UNMATCHED.
func appendMany(t *testing.T, st storage.Store, n int, base time.Time, uri string) []string {
	t.Helper()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range n {
		m := storagetest.NewMessage(t, base.Add(time.Duration(i+1)*time.Millisecond), uri)
		ids[i] = m.ID
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := st.AppendMessage(t.Context(), m, []byte(`{"n":1}`))
			if err == nil {
				err = st.CompleteMessage(t.Context(), m.ID, storage.Outcome{Status: storage.StatusUnmatched, CompletedAt: time.Now()})
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

type jobView struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	Total  int    `json:"total"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
	Error  string `json:"error"`
}

// startJob posts a filter job and answers its id.
func (in *instance) startJob(token, kind string, filter map[string]any) string {
	in.t.Helper()
	code, body := in.as(token, "POST", "/messages/"+kind, jsonBody(in.t, filter), nil)
	var started struct{ ID string }
	if code != http.StatusAccepted || jsonUnmarshal(body, &started) != nil || started.ID == "" {
		in.t.Fatalf("POST /messages/%s: %d %s", kind, code, body)
	}
	return started.ID
}

// waitJob polls the job until it ends, checking that its progress only
// grows and never passes its total, and answers its last state.
func (in *instance) waitJob(id string) jobView {
	in.t.Helper()
	var j, prev jobView
	deadline := time.Now().Add(2 * time.Minute)
	for {
		in.api("GET", "/jobs/"+id, nil, http.StatusOK, &j)
		if j.Done < prev.Done || j.Failed < prev.Failed || (j.Total > 0 && j.Done+j.Failed > j.Total) {
			in.t.Fatalf("job progress went from %+v to %+v", prev, j)
		}
		if j.State != "running" {
			return j
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("job still running after 2 min: %+v", j)
		}
		prev = j
		time.Sleep(20 * time.Millisecond)
	}
}

// TestResubmitTenThousand: a filter job resubmits 10,000 messages,
// reports its progress and finishes; each of them has its resubmission.
func TestResubmitTenThousand(t *testing.T) {
	t.Parallel()
	in := start(t)
	const n = 10_000
	originals := appendMany(t, server.StoreOf(in.srv), n, time.Now().Add(-time.Hour), "bulk")
	appendMany(t, server.StoreOf(in.srv), 5, time.Now().Add(-time.Hour), "other")

	began := time.Now()
	id := in.startJob(testToken, "resubmit", map[string]any{"uri": "bulk", "status": "unmatched"})
	j := in.waitJob(id)
	t.Logf("resubmitted %d messages in %s", n, time.Since(began).Round(time.Millisecond))
	if j.State != "done" || j.Total != n || j.Done != n || j.Failed != 0 || j.Kind != "resubmit" {
		t.Fatalf("job ended as %+v", j)
	}
	resubmitted := map[string]bool{}
	cursor := ""
	for len(resubmitted) < n {
		var l messageList
		in.api("GET", "/messages?uri=bulk&limit=500&cursor="+url.QueryEscape(cursor), nil, http.StatusOK, &l)
		for _, m := range l.Items {
			if m.ResubmitOf != "" {
				resubmitted[m.ResubmitOf] = true
			}
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	for _, o := range originals {
		if !resubmitted[o] {
			t.Fatalf("message %s was not resubmitted (%d of %d were)", o, len(resubmitted), n)
		}
	}
	if len(resubmitted) != n {
		t.Fatalf("%d messages resubmitted, want %d", len(resubmitted), n)
	}
	var audit struct {
		Items []struct{ Action, Target string }
	}
	in.api("GET", "/audit?action=messages.resubmit", nil, http.StatusOK, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Target != id {
		t.Fatalf("audit of the job: %+v", audit.Items)
	}
}

// TestDeleteJob: deleting by filter is for admins only, audited, and
// removes exactly the messages the filter selects.
func TestDeleteJob(t *testing.T) {
	t.Parallel()
	in := start(t)
	st := server.StoreOf(in.srv)
	gone := appendMany(t, st, 30, time.Now().Add(-time.Hour), "old")
	kept := appendMany(t, st, 3, time.Now().Add(-time.Hour), "new")
	_, operator := in.user("olga", "operator")

	if code, body := in.as(operator, "POST", "/messages/delete", []byte(`{"uri":"old"}`), nil); code != http.StatusForbidden {
		t.Fatalf("an operator deleting: %d %s", code, body)
	}
	bad := []struct{ body, want string }{
		{`{"limit": 10001}`, "limit must be a whole number from 1 to 10000"},
		{`{"status": "gone"}`, "status must be one of"},
		{`{"since": "yesterday"}`, "since must be an RFC 3339 time"},
		{`{"uri": "old", "colour": "red"}`, `unknown field "colour"`},
	}
	for _, b := range bad {
		if code, body := in.as(testToken, "POST", "/messages/delete", []byte(b.body), nil); code != http.StatusBadRequest || !strings.Contains(errorOf(body), b.want) {
			t.Errorf("POST /messages/delete %s: %d %s, want 400 with %q", b.body, code, body, b.want)
		}
	}
	id := in.startJob(testToken, "delete", map[string]any{"uri": "old", "limit": 20})
	if j := in.waitJob(id); j.State != "done" || j.Total != 20 || j.Done != 20 {
		t.Fatalf("first delete job: %+v", j)
	}
	id = in.startJob(testToken, "delete", map[string]any{"uri": "old"})
	if j := in.waitJob(id); j.State != "done" || j.Total != 10 || j.Done != 10 {
		t.Fatalf("second delete job: %+v", j)
	}
	for _, m := range gone {
		if code, _ := in.as(testToken, "GET", "/messages/"+m, nil, nil); code != http.StatusNotFound {
			t.Fatalf("deleted message %s: %d", m, code)
		}
		if code, _ := in.as(testToken, "GET", "/messages/"+m+"/payload", nil, nil); code != http.StatusNotFound {
			t.Fatalf("deleted payload %s: %d", m, code)
		}
	}
	for _, m := range kept {
		in.api("GET", "/messages/"+m, nil, http.StatusOK, nil)
	}
	var audit struct {
		Items []struct{ Action, Target, Detail string }
	}
	in.api("GET", "/audit?action=messages.delete", nil, http.StatusOK, &audit)
	if len(audit.Items) != 2 || audit.Items[0].Target != id || !strings.Contains(audit.Items[0].Detail, `"uri":"old"`) {
		t.Fatalf("audit of the delete jobs: %+v", audit.Items)
	}
	if code, body := in.as(testToken, "POST", "/jobs/"+id+"/cancel", nil, nil); code != http.StatusConflict {
		t.Fatalf("cancelling a finished job: %d %s", code, body)
	}
	if code, _ := in.as(operator, "GET", "/jobs/01a209bf-75fa-72ad-93d4-4683e2dbb805", nil, nil); code != http.StatusNotFound {
		t.Fatalf("an unknown job: %d", code)
	}
}

// TestJobSeenFromAnotherNode: a job started on one node of a cluster is
// followed on another.
func TestJobSeenFromAnotherNode(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	a := start(t, pg)
	b := start(t, pg)
	appendMany(t, server.StoreOf(a.srv), 50, time.Now().Add(-time.Hour), "cluster")
	id := a.startJob(testToken, "resubmit", map[string]any{"uri": "cluster"})
	if j := b.waitJob(id); j.State != "done" || j.Total != 50 || j.Done != 50 {
		t.Fatalf("the job as node B sees it: %+v", j)
	}
}

// TestCancelJob: a cancelled job stops before its next batch and ends
// cancelled, with what it did counted. (Should the job's last batch have
// started before the cancel arrived, it ends done: that is checked too.)
func TestCancelJob(t *testing.T) {
	t.Parallel()
	in := start(t)
	const n = 3000
	appendMany(t, server.StoreOf(in.srv), n, time.Now().Add(-time.Hour), "many")
	id := in.startJob(testToken, "resubmit", map[string]any{"uri": "many"})
	code, body := in.as(testToken, "POST", "/jobs/"+id+"/cancel", nil, nil)
	j := in.waitJob(id)
	if code != http.StatusAccepted && code != http.StatusConflict {
		t.Fatalf("cancel: %d %s", code, body)
	}
	switch {
	case j.State == "cancelled" && code == http.StatusAccepted && j.Done+j.Failed < n:
	case j.State == "done" && j.Done == n:
		t.Logf("the job acted on its last batch before the cancel: %+v", j)
	default:
		t.Fatalf("after a cancel (%d) the job ended as %+v", code, j)
	}
}
