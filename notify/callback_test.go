package notify_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/notify"
	"github.com/switchyard-dev/switchyard/storage"
)

func TestScriptCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(503)
		}
	})
	id, err := e.eng.Callback(t.Context(), storage.Callback{
		URL: rc.URL + "/cb", Method: "PUT", Headers: map[string]string{"X-Task": "7"},
		Auth: storage.Auth{Type: "bearer", Token: "tok"}, Body: `{"done":true}`,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt gets 503; the default schedule retries after ~5 s.
	eventually(t, func() bool {
		d, err := e.store.GetDelivery(t.Context(), id)
		return err == nil && d.Status == storage.DeliverySuccess
	}, "the callback to succeed")
	got := rc.requests()
	if len(got) != 2 || got[1].Method != "PUT" || string(got[1].Body) != `{"done":true}` || got[1].Header.Get("Authorization") != "Bearer tok" ||
		got[1].Header.Get("X-Task") != "7" || got[1].Header.Get("webhook-id") != id || got[1].Header.Get("X-Switchyard-Event") != notify.CallbackType {
		t.Fatalf("callback requests: %+v", got)
	}
	for i, r := range got {
		if ts, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64); err != nil || ts < r.At.Add(-time.Minute).Unix() || ts > r.At.Unix()+1 {
			t.Fatalf("callback attempt %d webhook-timestamp %q, want this attempt's Unix seconds", i+1, r.Header.Get("webhook-timestamp"))
		}
	}
	_, err = e.eng.Callback(t.Context(), storage.Callback{URL: rc.URL, Method: "POST", TimeoutMS: int(time.Hour / time.Millisecond)})
	if err == nil || !strings.Contains(err.Error(), "timeout_ms") {
		t.Fatalf("an out-of-range timeout: %v", err)
	}
	// The refusal keeps its reason apart, for the script's exception.
	if fe := (*field.Error)(nil); !errors.As(err, &fe) || !strings.HasPrefix(fe.Reason, "timeout_ms must be") {
		t.Fatalf("an out-of-range timeout: %#v, want a *field.Error", err)
	}
}
