package jsonesc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppend checks Append against encoding/json, with and without HTML
// escaping.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\n\r\t\x00\x1f", "<a href='x'>&</a>", "\u2028\u2029", "\xff\xfe", "é漢😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := append(append([]byte{'"'}, Append(nil, s, true)...), '"'); !bytes.Equal(got, want) {
			t.Fatalf("html: %q, want %q", got, want)
		}
		buf.Reset()
		enc = json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := append(append([]byte{'"'}, Append(nil, s, false)...), '"'); !bytes.Equal(got, want) {
			t.Fatalf("plain: %q, want %q", got, want)
		}
	})
}
