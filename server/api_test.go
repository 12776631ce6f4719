package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
	"github.com/switchyard-dev/switchyard/storage/storagetest"
)

func TestAdminAPIRequiresTheToken(t *testing.T) {
	t.Parallel()
	in := start(t)
	for _, h := range []http.Header{
		nil,
		{"Authorization": {"Bearer wrong"}},
		{"Authorization": {"Basic " + testToken}},
		{"Authorization": {"Bearer " + testToken + "x"}},
	} {
		code, body, hdr := in.do("GET", "/api/v1/providers", nil, h)
		if code != http.StatusUnauthorized || !strings.Contains(string(body), `"error"`) || hdr.Get("WWW-Authenticate") == "" {
			t.Fatalf("%v: %d %s", h, code, body)
		}
	}
	if code, _, _ := in.do("GET", "/api/v1/providers", nil, http.Header{"Authorization": {"bearer " + testToken}}); code != 200 {
		t.Fatalf("lower-case scheme: %d", code)
	}
}

func TestBootstrapTokenFileIsPrivateAndNeverLogged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs logBuffer
	opts := server.Options{Listen: "127.0.0.1:0", DataDir: dir, Logger: logs.logger()}
	in := startWith(t, opts)
	path := filepath.Join(dir, "admin-token")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token mode %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	tok := strings.TrimSpace(string(raw))
	if len(tok) < 32 {
		t.Fatalf("token too short: %d", len(tok))
	}
	if code, _, _ := in.do("GET", "/api/v1/providers", nil, http.Header{"Authorization": {"Bearer " + tok}}); code != 200 {
		t.Fatalf("bootstrapped token refused: %d", code)
	}
	if !strings.Contains(logs.String(), path) || strings.Contains(logs.String(), tok) {
		t.Fatalf("the log must name the file and never the token:\n%s", logs.String())
	}
}

func TestProviderAndFunctionCRUDAndValidation(t *testing.T) {
	t.Parallel()
	in := start(t)
	// A bad script is refused with the compiler's message and line.
	body := in.api("POST", "/providers", map[string]any{"name": "bad", "match_script": "var a = 1;\nreturn (;"}, 400, nil)
	if !strings.Contains(string(body), "line 2") {
		t.Fatalf("compile error without its line: %s", body)
	}
	for _, tc := range []struct {
		body any
		want string
	}{
		{[]byte(`{"name": "x", "match_script": "return true", "typo": 1}`), "unknown field"},
		{[]byte(`{"name": 5}`), "name"},
		{[]byte(`not json`), "not valid JSON"},
		{[]byte(``), "empty"},
		{map[string]any{"match_script": "return true"}, "name is required"},
		{map[string]any{"name": "x"}, "match_script is required"},
		{map[string]any{"name": "x", "match_script": "return 1", "match_timeout_ms": 60000}, "match_timeout_ms"},
		{map[string]any{"name": "x", "match_script": "return 1", "properties": map[string]string{"k": "v"}, "secrets": map[string]string{"k": "s"}}, "both a property and a secret"},
	} {
		if b := in.api("POST", "/providers", tc.body, 400, nil); !strings.Contains(string(b), tc.want) {
			t.Errorf("%v: answer %s should say %q", tc.body, b, tc.want)
		}
	}

	p := in.provider("GitHub", "return true", map[string]any{
		"description": "d", "properties": map[string]string{"org": "acme"},
		"secrets": map[string]string{"secret": "s1", "other": "s2"},
	})
	if p.Version != 1 || !p.Active {
		t.Fatalf("created %+v", p)
	}
	var got map[string]any
	raw := in.api("GET", "/providers/"+p.ID, nil, 200, &got)
	if strings.Contains(string(raw), "s1") || strings.Contains(string(raw), "s2") {
		t.Fatalf("secret values returned: %s", raw)
	}
	if got["description"] != "d" || got["properties"].(map[string]any)["org"] != "acme" {
		t.Fatalf("got %v", got)
	}
	// PUT keeps fields left out, merges secrets ("" removes one) and bumps
	// the version when the script changes.
	var upd provider
	in.api("PUT", "/providers/"+p.ID, map[string]any{"match_script": "return false", "secrets": map[string]string{"other": ""}}, 200, &upd)
	if upd.Version != 2 || upd.Name != "GitHub" || len(upd.Secrets) != 1 || upd.Secrets[0] != "secret" {
		t.Fatalf("updated %+v", upd)
	}
	in.api("PUT", "/providers/"+p.ID, map[string]any{"match_script": "return (("}, 400, nil)

	f := in.function(p.ID, "fn", "/git/push/", "return 1")
	if f.URI != "git/push" {
		t.Fatalf("uri not normalised: %q", f.URI)
	}
	in.api("POST", "/functions", map[string]any{"name": "x", "provider_id": "01a209bf-75fa-72ad-93d4-4683e2dbb805", "uri": "u", "script": "return 1"}, 400, nil)
	in.api("POST", "/functions", map[string]any{"name": "x", "provider_id": p.ID, "uri": "u", "script": "return 1", "timeout_ms": 10 * 60 * 1000}, 400, nil)
	var fu function
	in.api("PUT", "/functions/"+f.ID, map[string]any{"script": "return 2"}, 200, &fu)
	if fu.Version != 2 || fu.URI != "git/push" {
		t.Fatalf("function update %+v", fu)
	}
	var fl struct{ Items []function }
	in.api("GET", "/functions?provider_id="+p.ID+"&uri=git/push", nil, 200, &fl)
	if len(fl.Items) != 1 {
		t.Fatalf("function list %+v", fl)
	}
	// A provider with functions cannot be deleted.
	if b := in.api("DELETE", "/providers/"+p.ID, nil, 409, nil); !strings.Contains(string(b), "function") {
		t.Fatalf("conflict answer %s", b)
	}
	in.api("DELETE", "/functions/"+f.ID, nil, 204, nil)
	in.api("DELETE", "/providers/"+p.ID, nil, 204, nil)
	in.api("GET", "/providers/"+p.ID, nil, 404, nil)
	in.api("GET", "/functions/not-an-id", nil, 404, nil)
	in.api("PUT", "/providers/order", map[string]any{"ids": []string{"nope"}}, 400, nil)
}

func TestProviderListPages(t *testing.T) {
	t.Parallel()
	in := start(t)
	for _, n := range []string{"a", "b", "c"} {
		in.provider(n, "return false")
	}
	var page struct {
		Items      []provider
		NextCursor string `json:"next_cursor"`
	}
	in.api("GET", "/providers?limit=2", nil, 200, &page)
	if len(page.Items) != 2 || page.NextCursor == "" || page.Items[0].Name != "a" {
		t.Fatalf("page 1 %+v", page)
	}
	in.api("GET", "/providers?limit=2&cursor="+page.NextCursor, nil, 200, &page)
	if len(page.Items) != 1 || page.NextCursor != "" || page.Items[0].Name != "c" {
		t.Fatalf("page 2 %+v", page)
	}
	in.api("GET", "/providers?limit=0", nil, 400, nil)
}

func TestMessageListFiltersAndPaging(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "ok", "ok", "return 1")
	in.function(p.ID, "bad", "bad", "throw 1")
	before := time.Now().Add(-time.Second)
	var ids []string
	for i := range 6 {
		uri := "ok"
		if i%3 == 0 {
			uri = "bad"
		}
		_, a := in.send(uri, []byte(`{}`), true, nil)
		ids = append(ids, a.ID)
	}
	in.send("nowhere", []byte(`{}`), true, nil)
	type page struct {
		Items      []messageDetail
		NextCursor string `json:"next_cursor"`
	}
	var pg page
	in.api("GET", "/messages?status=failed", nil, 200, &pg)
	if len(pg.Items) != 2 || pg.Items[0].ID != ids[3] || pg.Items[1].ID != ids[0] {
		t.Fatalf("failed filter, newest first: %+v", pg.Items)
	}
	if pg.Items[0].Headers != nil {
		t.Fatal("list items carry headers")
	}
	in.api("GET", "/messages?status=UNMATCHED", nil, 200, &pg)
	if len(pg.Items) != 1 || pg.Items[0].URI != "nowhere" {
		t.Fatalf("unmatched filter %+v", pg.Items)
	}
	in.api("GET", "/messages?uri=ok&provider_id="+p.ID, nil, 200, &pg)
	if len(pg.Items) != 4 {
		t.Fatalf("uri+provider filter %d", len(pg.Items))
	}
	in.api("GET", "/messages?since="+before.UTC().Format(time.RFC3339Nano)+"&until="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), nil, 200, &pg)
	if len(pg.Items) != 7 {
		t.Fatalf("time filter %d", len(pg.Items))
	}
	in.api("GET", "/messages?until="+before.UTC().Format(time.RFC3339), nil, 200, &pg)
	if len(pg.Items) != 0 {
		t.Fatalf("until before everything %d", len(pg.Items))
	}
	seen := map[string]bool{}
	cursor := ""
	for range 10 {
		in.api("GET", "/messages?limit=3&cursor="+cursor, nil, 200, &pg)
		for _, m := range pg.Items {
			seen[m.ID] = true
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 7 {
		t.Fatalf("paging saw %d messages, want 7", len(seen))
	}
	for _, bad := range []string{"status=nope", "since=yesterday", "limit=100000", "cursor=zzz"} {
		in.api("GET", "/messages?"+bad, nil, 400, nil)
	}
	in.api("GET", "/messages/01a209bf-75fa-72ad-93d4-4683e2dbb805", nil, 404, nil)
	in.api("GET", "/messages/01a209bf-75fa-72ad-93d4-4683e2dbb805/payload", nil, 404, nil)
}

func TestResubmit(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	f := in.function(p.ID, "f", "r", `if (PAYLOAD.fail && PROPERTIES.mode !== "fixed") throw new Error("not yet"); LOG.setMessage(FLX_MESSAGE_ID); return 1`)
	_ = f
	code, a := in.send("r?x=1", []byte(`{"fail": true}`), true, http.Header{"X-Custom": {"kept"}})
	if code != 500 {
		t.Fatalf("first run: %d", code)
	}
	// Fix the "script" (here: a property) and resubmit synchronously.
	in.api("PUT", "/providers/"+p.ID, map[string]any{"properties": map[string]string{"mode": "fixed"}}, 200, nil)
	var ans syncAnswer
	in.api("POST", "/messages/"+a.ID+"/resubmit?sync=true", nil, 200, &ans)
	if ans.ID == a.ID || ans.Status != "SUCCESS" {
		t.Fatalf("resubmit answer %+v", ans)
	}
	d := in.message(ans.ID)
	if d.ResubmitOf != a.ID || d.Headers["x-custom"] != "kept" || d.Query["x"][0] != "1" || d.Message != ans.ID {
		t.Fatalf("resubmitted message %+v", d)
	}
	if orig := in.message(a.ID); orig.Status != "FAILED" {
		t.Fatalf("the original must keep its status: %s", orig.Status)
	}
	// Asynchronous resubmit answers 202.
	in.api("POST", "/messages/"+a.ID+"/resubmit", nil, 202, &ans)
	if d := in.waitDone(ans.ID); d.Status != "SUCCESS" || d.ResubmitOf != a.ID {
		t.Fatalf("async resubmit %+v", d)
	}
	in.api("POST", "/messages/01a209bf-75fa-72ad-93d4-4683e2dbb805/resubmit", nil, 404, nil)
}

func TestOldMessagesArePurged(t *testing.T) {
	t.Parallel()
	in := start(t, func(o *server.Options) {
		o.Retention = 300 * time.Millisecond
		o.PurgeInterval = 50 * time.Millisecond
	})
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "p", "return 1")
	_, old := in.send("p", []byte(`{}`), true, nil)
	eventually(t, "old message purged", func() bool {
		code, _, _ := in.do("GET", "/api/v1/messages/"+old.ID, nil, http.Header{"Authorization": {"Bearer " + testToken}})
		return code == 404
	})
	// Ingest keeps working while purging runs.
	if code, a := in.send("p", []byte(`{}`), true, nil); code != 200 {
		t.Fatalf("after purge: %d %+v", code, a)
	}
	code, body, _ := in.do("GET", "/metrics", nil, nil)
	if code != 200 || !strings.Contains(string(body), "switchyard_messages_purged_total") {
		t.Fatalf("metrics %d", code)
	}
}

func TestPendingMessagesRunAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, func(o *server.Options) { o.DataDir = dir })
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "after", "LOG.setMessage('ran'); return 1")
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	// Leave PENDING messages behind as a crash would.
	key, err := seal.LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := seal.New(key)
	st, err := bolt.Open(filepath.Join(dir, "switchyard.db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		m := storagetest.NewMessage(t, time.Now(), "after")
		if err := st.AppendMessage(context.Background(), m, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	st.Close()
	in2 := start(t, func(o *server.Options) { o.DataDir = dir })
	for _, id := range ids {
		if d := in2.waitDone(id); d.Status != storage.StatusSuccess || d.Message != "ran" {
			t.Fatalf("recovered message %+v", d)
		}
	}
}

func TestGracefulShutdownKeepsAcceptedWork(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, func(o *server.Options) { o.DataDir = dir })
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "s", "var t = Date.now(); while (Date.now() - t < 20) {} return 1")
	var ids []string
	for range 30 {
		code, a := in.send("s", []byte(`{}`), false, nil)
		if code != 202 {
			t.Fatalf("%d", code)
		}
		ids = append(ids, a.ID)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	in2 := start(t, func(o *server.Options) { o.DataDir = dir })
	for _, id := range ids {
		if d := in2.waitDone(id); d.Status != "SUCCESS" {
			t.Fatalf("%s: %s", id, d.Status)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	check := func(in *instance, want string) {
		t.Helper()
		p := in.provider("any", "return true")
		in.function(p.ID, "f", "ip", "LOG.setMessage(FLX_REMOTE_ADDR + ' ' + FLX_REMOTE_HOST); return 1")
		_, a := in.send("ip", []byte(`{}`), true, http.Header{"X-Forwarded-For": {"203.0.113.9"}})
		if d := in.message(a.ID); d.Message != want+" "+want || d.RemoteAddr != want {
			t.Fatalf("client address %q (recorded %q), want %s", d.Message, d.RemoteAddr, want)
		}
	}
	// By default the header is ignored, even from loopback.
	check(start(t), "127.0.0.1")
	// From a trusted proxy it names the client.
	check(start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "127.0.0.0/8") }), "203.0.113.9")
	// A trusted range that does not hold the peer changes nothing.
	check(start(t, func(o *server.Options) { o.TrustedProxies = mustPrefixes(t, "10.0.0.0/8") }), "127.0.0.1")
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "m", "return 1")
	in.send("m", []byte(`{}`), true, nil)
	in.send("none", []byte(`{}`), true, nil)
	if code, body, _ := in.do("GET", "/healthz", nil, nil); code != 200 || !strings.Contains(string(body), "ok") {
		t.Fatalf("healthz %d %s", code, body)
	}
	_, body, _ := in.do("GET", "/metrics", nil, nil)
	for _, want := range []string{
		"switchyard_messages_received_total 2",
		`switchyard_messages_processed_total{status="success"} 1`,
		`switchyard_messages_processed_total{status="unmatched"} 1`,
		"switchyard_message_processing_seconds_bucket",
		"switchyard_inbound_queue_messages 0",
		"switchyard_store_commits_total",
		"switchyard_store_writes_total",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(body), "switchyard_store_round_trips_total") {
		t.Error("a bbolt store reports round trips to a database server")
	}
	if code, body, _ := in.do("GET", "/nope", nil, nil); code != 404 || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("unknown route %d %s", code, body)
	}
	if code, _, _ := in.do("GET", "/ui/", nil, nil); code != 200 {
		t.Fatalf("ui %d", code)
	}
}

// GET /messages/count counts with the list's filters.
func TestCountMessages(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("any", "return true")
	in.function(p.ID, "f", "a", "return 1")
	for i := 0; i < 12; i++ {
		uri := "a"
		if i%3 == 0 {
			uri = "b" // no function: UNMATCHED
		}
		if code, _ := in.send(uri, []byte(`{}`), true, nil); code != 200 && code != 404 {
			t.Fatalf("send: %d", code)
		}
	}
	for q, want := range map[string]int{"": 12, "?status=success": 8, "?status=UNMATCHED": 4, "?uri=b": 4, "?provider_id=" + p.ID + "&uri=a": 8, "?until=2000-01-01T00:00:00Z": 0} {
		var got struct {
			Count int  `json:"count"`
			Exact bool `json:"exact"`
		}
		in.api("GET", "/messages/count"+q, nil, 200, &got)
		if got.Count != want || !got.Exact {
			t.Errorf("count%s: %+v, want %d exact", q, got, want)
		}
	}
	in.api("GET", "/messages/count?status=nope", nil, 400, nil)
}
