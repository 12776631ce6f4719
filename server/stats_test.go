package server_test

import (
	"net/http"
	"testing"
)

func TestStatsForTheDashboard(t *testing.T) {
	t.Parallel()
	in := start(t)
	p := in.provider("GitHub", `return HTTP_HEADERS["x-github-event"] !== undefined`)
	in.function(p.ID, "deploy", "ok", `return 1`)
	in.function(p.ID, "broken", "bad", `throw new Error("no")`)
	gh := http.Header{"X-GitHub-Event": {"push"}}
	for range 3 {
		in.send("ok", []byte(`{}`), true, gh)
	}
	for range 2 {
		in.send("bad", []byte(`{}`), true, gh)
	}
	in.send("ok", []byte(`{}`), true, nil) // unmatched
	var st struct {
		BucketSeconds int `json:"bucket_seconds"`
		Series        []struct {
			Counts map[string]int `json:"counts"`
		} `json:"series"`
		Totals           map[string]int `json:"totals"`
		FailingProviders []struct {
			Name   string `json:"name"`
			Failed int    `json:"failed"`
		} `json:"failing_providers"`
		FailingFunctions []struct {
			Name   string `json:"name"`
			Failed int    `json:"failed"`
		} `json:"failing_functions"`
		Queue struct {
			OutboundPaused bool `json:"outbound_paused"`
		} `json:"queue"`
	}
	in.api("GET", "/stats?hours=2", nil, http.StatusOK, &st)
	if st.Totals["SUCCESS"] != 3 || st.Totals["FAILED"] != 2 || st.Totals["UNMATCHED"] != 1 {
		t.Fatalf("totals: %v", st.Totals)
	}
	sum := 0
	for _, b := range st.Series {
		sum += b.Counts["SUCCESS"] + b.Counts["FAILED"] + b.Counts["UNMATCHED"]
	}
	if sum != 6 || st.BucketSeconds != 60 || len(st.Series) != 120 {
		t.Fatalf("series: %d messages in %d buckets of %d s", sum, len(st.Series), st.BucketSeconds)
	}
	if len(st.FailingProviders) != 1 || st.FailingProviders[0].Name != "GitHub" || st.FailingProviders[0].Failed != 2 ||
		len(st.FailingFunctions) != 1 || st.FailingFunctions[0].Name != "broken" || st.FailingFunctions[0].Failed != 2 {
		t.Fatalf("failing: %+v %+v", st.FailingProviders, st.FailingFunctions)
	}
	in.api("GET", "/stats?hours=99", nil, http.StatusBadRequest, nil)
}
