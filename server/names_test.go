package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-dev/switchyard/server"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/bolt"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// Names are unique per kind: a create or a rename onto a name another
// record of the kind holds (ignoring case and surrounding spaces) is a
// 409 that names the holder; keeping one's own name, in another case
// too, is not a rename.
func TestNamesAreUniquePerKind(t *testing.T) {
	t.Parallel()
	in := start(t)
	p1 := in.provider("anyone", "return true")
	p2 := in.provider("other", "return true")
	f1 := in.function(p1.ID, "greet", "hello", "return 1")
	f2 := in.function(p1.ID, "bye", "bye", "return 1")
	var e1, e2 struct {
		ID string `json:"id"`
	}
	ep := func(name string) map[string]any {
		return map[string]any{"name": name, "url": "https://example.com/hook", "event_types": []string{"*"}}
	}
	in.api("POST", "/endpoints", ep("alerts"), http.StatusCreated, &e1)
	in.api("POST", "/endpoints", ep("audit"), http.StatusCreated, &e2)

	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
		holder, kind       string
	}{
		{"provider create", "POST", "/providers", map[string]any{"name": " Anyone ", "match_script": "return true"}, p1.ID, "provider"},
		{"provider rename", "PUT", "/providers/" + p2.ID, map[string]any{"name": "ANYONE"}, p1.ID, "provider"},
		{"function create", "POST", "/functions", map[string]any{"name": "greet", "provider_id": p2.ID, "uri": "x", "script": "return 1"}, f1.ID, "function"},
		{"function rename", "PUT", "/functions/" + f2.ID, map[string]any{"name": "Greet"}, f1.ID, "function"},
		{"endpoint create", "POST", "/endpoints", ep("alerts "), e1.ID, "endpoint"},
		{"endpoint rename", "PUT", "/endpoints/" + e2.ID, map[string]any{"name": "ALERTS"}, e1.ID, "endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var answer struct {
				Error string `json:"error"`
			}
			in.api(tc.method, tc.path, tc.body, http.StatusConflict, &answer)
			if !strings.Contains(answer.Error, tc.kind+` named "`) || !strings.Contains(answer.Error, "already exists (id "+tc.holder+")") {
				t.Fatalf("error %q does not name the %s and its holder %s", answer.Error, tc.kind, tc.holder)
			}
		})
	}
	// A name that only looks like another is refused: no invisible
	// characters.
	in.api("POST", "/providers", map[string]any{"name": "anyone\u200b", "match_script": "return true"}, http.StatusBadRequest, nil)
	in.api("PUT", "/functions/"+f2.ID, map[string]any{"name": "gr\u00adeet"}, http.StatusBadRequest, nil)
	in.api("POST", "/endpoints", ep("\ufeffalerts"), http.StatusBadRequest, nil)

	// Keeping one's name, or changing only its case, is allowed.
	in.api("PUT", "/providers/"+p1.ID, map[string]any{"name": "Anyone", "description": "d"}, http.StatusOK, nil)
	in.api("PUT", "/functions/"+f1.ID, map[string]any{"name": "greet", "description": "d"}, http.StatusOK, nil)
	in.api("PUT", "/endpoints/"+e1.ID, map[string]any{"name": "Alerts"}, http.StatusOK, nil)
}

// Two nodes on one PostgreSQL database: creates of one name sent to both
// at once make one record, whatever the kind; the others get 409.
func TestPostgresNamesAreUniqueAcrossNodes(t *testing.T) {
	t.Parallel()
	pg := onPostgres(t)
	a, b := start(t, pg), start(t, pg)
	p := a.provider("base", "return true")
	for _, kind := range []struct {
		path string
		body func(i int) map[string]any
	}{
		{"/providers", func(int) map[string]any { return map[string]any{"name": "race", "match_script": "return true"} }},
		{"/functions", func(i int) map[string]any {
			return map[string]any{"name": "race", "provider_id": p.ID, "uri": fmt.Sprintf("u%d", i), "script": "return 1"}
		}},
		{"/endpoints", func(int) map[string]any {
			return map[string]any{"name": "race", "url": "https://example.com/hook", "event_types": []string{"*"}}
		}},
	} {
		const n = 8
		codes := make([]int, n)
		var wg sync.WaitGroup
		begin := make(chan struct{})
		for i := range n {
			node := a
			if i%2 == 1 {
				node = b
			}
			body, err := json.Marshal(kind.body(i))
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				<-begin
				codes[i], _, _ = node.do("POST", "/api/v1"+kind.path, body, http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}})
			})
		}
		close(begin)
		wg.Wait()
		created := 0
		for i, code := range codes {
			switch code {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
			default:
				t.Errorf("%s create %d: %d", kind.path, i, code)
			}
		}
		var list struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
		}
		a.api("GET", kind.path+"?limit=500", nil, http.StatusOK, &list)
		named := 0
		for _, r := range list.Items {
			if r.Name == "race" {
				named++
			}
		}
		if created != 1 || named != 1 {
			t.Errorf("%s: %d creates answered 201, %d records named race", kind.path, created, named)
		}
	}
}

// A store that holds duplicates from before names were unique keeps
// working: the duplicates are listed, served, edited and rolled back;
// only a create or a rename into a collision is refused.
func TestDuplicatesFromBeforeKeepWorking(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := start(t, func(o *server.Options) { o.DataDir = dir })
	in.api("GET", "/providers", nil, http.StatusOK, nil) // started
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	ids := seedDuplicates(t, dir)
	in2 := start(t, func(o *server.Options) { o.DataDir = dir })

	var list struct {
		Items []provider `json:"items"`
	}
	in2.api("GET", "/providers", nil, http.StatusOK, &list)
	if len(list.Items) != 2 {
		t.Fatalf("providers %+v", list.Items)
	}
	if code, a := in2.send("dup", []byte(`{}`), true, nil); code != http.StatusOK || a.Status != storage.StatusSuccess {
		t.Fatalf("a duplicate's function is not served: %d %+v", code, a)
	}
	// Editing other fields of a duplicate, and rolling it back, is fine.
	in2.api("PUT", "/providers/"+ids.providers[1], map[string]any{"description": "kept", "match_script": "return true // v2"}, http.StatusOK, nil)
	in2.api("POST", "/providers/"+ids.providers[1]+"/versions/1/rollback", nil, http.StatusOK, nil)
	in2.api("PUT", "/functions/"+ids.functions[1], map[string]any{"name": "greet", "description": "kept"}, http.StatusOK, nil)
	in2.api("PUT", "/endpoints/"+ids.endpoints[1], map[string]any{"description": "kept"}, http.StatusOK, nil)
	// A third of the name is refused.
	in2.api("POST", "/providers", map[string]any{"name": "anyone", "match_script": "return true"}, http.StatusConflict, nil)
}

type duplicateIDs struct{ providers, functions, endpoints []string }

// seedDuplicates writes two providers "anyone", two functions "greet"
// and two endpoints "alerts" straight into the bbolt store of dir, as a
// store from before names were unique holds them.
func seedDuplicates(t *testing.T, dir string) duplicateIDs {
	t.Helper()
	ctx := context.Background()
	key, err := seal.LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(dir, "switchyard.db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids duplicateIDs
	for _, uri := range []string{"dup", "dup2"} {
		p, err := st.CreateProvider(ctx, storage.Provider{Name: "anyone", Active: true, MatchScript: "return true", MatchTimeoutMS: 1000})
		if err != nil {
			t.Fatal(err)
		}
		f, err := st.CreateFunction(ctx, storage.Function{Name: "greet", ProviderID: p.ID, URI: uri, Active: true, Script: "return 1", TimeoutMS: 1000})
		if err != nil {
			t.Fatal(err)
		}
		e, err := st.CreateEndpoint(ctx, storage.Endpoint{Name: "alerts", URL: "https://example.com/" + uri, Method: "POST",
			EndpointHealth: storage.EndpointHealth{Enabled: true}, EventTypes: []string{"*"}, MsgKey: "Msg", TimeoutMS: 5000,
			Retry: storage.RetryPolicy{Backoff: "exponential", MaxAttempts: 8}, Language: "en", Concurrency: 8,
			AutoDisable: storage.AutoDisable{FailingForHours: 120}})
		if err != nil {
			t.Fatal(err)
		}
		ids.providers = append(ids.providers, p.ID)
		ids.functions = append(ids.functions, f.ID)
		ids.endpoints = append(ids.endpoints, e.ID)
	}
	return ids
}
