package bolt

import (
	"bytes"
	"crypto/rand"
	"testing"
)

func TestPayloadEncoding(t *testing.T) {
	t.Parallel()
	random := make([]byte, 4096)
	rand.Read(random)
	for name, body := range map[string][]byte{
		"empty":        {},
		"small":        []byte(`{"a":1}`),
		"json":         bytes.Repeat([]byte(`{"ref":"refs/heads/main","commits":[]},`), 200),
		"incompressed": random,
		"binary":       []byte("\x00\xff\xfe\x01 raw"),
	} {
		stored := encodePayload(body)
		if name == "json" && (stored[0] != payloadS2 || len(stored) > len(body)/2) {
			t.Errorf("%s: not compressed (%d of %d bytes)", name, len(stored), len(body))
		}
		if name == "incompressed" && stored[0] != payloadRaw {
			t.Errorf("%s: stored compressed although it does not shrink", name)
		}
		got, err := decodePayload(stored)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("%s: round trip %v", name, err)
		}
	}
	for _, bad := range [][]byte{nil, {9, 1, 2}, {payloadS2, 0xff, 0xff, 0xff}} {
		if _, err := decodePayload(bad); err == nil {
			t.Errorf("%v decoded", bad)
		}
	}
}
