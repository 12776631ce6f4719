package scripting

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"
)

// Copies of a shared request give every run the same globals, the raw-byte
// HMAC included, sequentially and at once.
func TestSharedRequestAcrossRuns(t *testing.T) {
	t.Parallel()
	body := []byte("{\"a\": \"caf\xc3\xa9\", \"bad\": \"\xff\"}")
	m := hmac.New(sha256.New, []byte("k"))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	req := Request{MessageID: "m", Body: body, Headers: map[string]string{"x": "1"}}
	req.Share()
	p := mustCompile(t, "shared", `return [HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, "k"), FLX_PRISTINE_PAYLOAD.length, HTTP_HEADERS.x, PROPERTIES.who].join(" ")`)
	e := NewEngine(Limits{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			r := req // each run takes its own copy, as the dispatcher does
			r.Properties = map[string]string{"who": string(rune('a' + i))}
			res := e.Run(context.Background(), p, &r, 20*time.Second)
			if res.Err != nil {
				t.Error(res.Err)
				return
			}
			got := res.Value.(string)
			if !strings.HasPrefix(got, want+" ") || !strings.HasSuffix(got, " 1 "+string(rune('a'+i))) {
				t.Errorf("run %d: %q", i, got)
			}
		})
	}
	wg.Wait()
}
