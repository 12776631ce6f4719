package bolt

import (
	"fmt"

	"github.com/klauspost/compress/s2"
)

// Payloads are stored behind a one-byte tag. Webhook bodies are mostly JSON
// and shrink three to four times under S2, a fast compressor (about 1 GB/s
// each way), and the bytes a commit must write are what bounds ingest on
// a disk: measured with BenchmarkAppendGroupCommit on a real 8.7 KB push.
const (
	payloadRaw byte = 0
	payloadS2  byte = 1
)

// encodePayload returns the stored form of a body: compressed when that
// saves at least an eighth, raw otherwise (small or random bodies).
func encodePayload(body []byte) []byte {
	if len(body) >= 256 {
		out := make([]byte, 1+s2.MaxEncodedLen(len(body)))
		out[0] = payloadS2
		n := len(s2.Encode(out[1:], body))
		if n <= len(body)-len(body)/8 {
			return out[:1+n]
		}
	}
	out := make([]byte, 1+len(body))
	out[0] = payloadRaw
	copy(out[1:], body)
	return out
}

// decodePayload reverses encodePayload into a new slice.
func decodePayload(stored []byte) ([]byte, error) {
	if len(stored) == 0 {
		return nil, fmt.Errorf("payload record is empty")
	}
	switch stored[0] {
	case payloadRaw:
		return append([]byte{}, stored[1:]...), nil
	case payloadS2:
		out, err := s2.Decode(nil, stored[1:])
		if err != nil {
			return nil, fmt.Errorf("payload record: %w", err)
		}
		if out == nil {
			out = []byte{}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("payload record has unknown tag %d", stored[0])
	}
}
