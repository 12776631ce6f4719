package scripting

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// maxFormPairs is the most name-value pairs URLSearchParams parses from
// one string: its list holds two elements a pair.
const maxFormPairs = MaxArrayLength / 2

// formParse is native.formParse(query): the application/x-www-form-
// urlencoded parser of the URL standard, as a flat list of names and
// values. "+" is a space; a "%" not followed by two hex digits is kept.
func (r *run) formParse(call goja.FunctionCall) goja.Value {
	s := call.Argument(0).String()
	if n := strings.Count(s, "&") + 1; n > maxFormPairs {
		panic(r.newError("RangeError", "URLSearchParams: "+strconv.Itoa(n)+" pairs (at most) are over Switchyard's limit of "+strconv.Itoa(maxFormPairs)))
	}
	var list []any
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		list = append(list, formDecode(name), formDecode(value))
	}
	return r.rt.NewArray(list...)
}

// formDecode decodes one name or value.
func formDecode(s string) string {
	if !strings.ContainsAny(s, "+%") && utf8.ValidString(s) {
		return s
	}
	return decodeUTF8([]byte(percentDecode(strings.ReplaceAll(s, "+", " "))))
}

// formSerialize is native.formSerialize(list): the application/x-www-
// form-urlencoded serializer, names and values joined by "=" and "&".
func (r *run) formSerialize(call goja.FunctionCall) goja.Value {
	list, _ := call.Argument(0).Export().([]any)
	var b strings.Builder
	for i, v := range list {
		switch {
		case i == 0:
		case i%2 == 1:
			b.WriteByte('=')
		default:
			b.WriteByte('&')
		}
		s, _ := v.(string)
		formEncode(&b, s)
		if b.Len() > MaxStringLength {
			panic(r.newError("RangeError", "URLSearchParams: a string of more than "+strconv.Itoa(MaxStringLength)+" characters is over Switchyard's limit"))
		}
	}
	return r.rt.ToValue(b.String())
}

// formEncode writes s percent-encoded as a form does: letters, digits and
// *-._ as they are, a space as "+", any other byte of its UTF-8 as %XX.
func formEncode(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteString(percentByte(c))
		}
	}
}

// utf8Encode is native.encode(string): its UTF-8 in an ArrayBuffer (a
// lone surrogate becomes U+FFFD, as TextEncoder makes it).
func (r *run) utf8Encode(call goja.FunctionCall) goja.Value {
	s := toString(call.Argument(0))
	if n := utf8Length(s); n > MaxBufferBytes {
		panic(r.newError("RangeError", "TextEncoder.encode: "+strconv.Itoa(n)+" bytes are over Switchyard's limit of "+strconv.Itoa(MaxBufferBytes>>20)+" MiB"))
	}
	return r.rt.ToValue(r.rt.NewArrayBuffer([]byte(s.String())))
}

// utf8Length is the length of s in UTF-8, a lone surrogate counted as
// U+FFFD, computed without converting s.
func utf8Length(s goja.String) int {
	n, l := 0, s.Length()
	for i := 0; i < l; i++ {
		switch c := s.CharAt(i); {
		case c < 0x80:
			n++
		case c < 0x800:
			n += 2
		case c >= 0xD800 && c <= 0xDBFF && i+1 < l && s.CharAt(i+1) >= 0xDC00 && s.CharAt(i+1) <= 0xDFFF:
			n += 4
			i++
		default:
			n += 3
		}
	}
	return n
}

// utf8EncodeInto is native.encodeInto(string, uint8Array): as much of the
// string's UTF-8 as fits, whole characters only.
func (r *run) utf8EncodeInto(call goja.FunctionCall) goja.Value {
	s := call.Argument(0).String()
	dst, _ := call.Argument(1).Export().([]byte)
	read, written := 0, 0
	for _, c := range s {
		n := utf8.RuneLen(c)
		if n < 0 { // a lone surrogate, already U+FFFD: cannot happen
			n = 3
		}
		if written+n > len(dst) {
			break
		}
		written += utf8.EncodeRune(dst[written:], c)
		read++
		if c > 0xFFFF {
			read++ // two UTF-16 code units
		}
	}
	o := r.rt.NewObject()
	o.Set("read", read)
	o.Set("written", written)
	return o
}

// utf8Decode is native.decode(bytes, fatal, ignoreBOM): TextDecoder's
// UTF-8 decode. An invalid sequence throws a TypeError when fatal, and
// otherwise becomes U+FFFD, one for each maximal subpart as the Encoding
// standard says.
func (r *run) utf8Decode(call goja.FunctionCall) goja.Value {
	b, _ := call.Argument(0).Export().([]byte)
	if len(b) > MaxStringLength {
		// Each byte may give a character.
		panic(r.newError("RangeError", "TextDecoder.decode: "+strconv.Itoa(len(b))+" bytes are over Switchyard's limit of "+strconv.Itoa(MaxStringLength>>20)+" MiB"))
	}
	fatal, ignoreBOM := call.Argument(1).ToBoolean(), call.Argument(2).ToBoolean()
	if !ignoreBOM && len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		b = b[3:]
	}
	if fatal && !utf8.Valid(b) {
		panic(r.rt.NewTypeError("TextDecoder.decode: the encoded data was not valid for encoding utf-8"))
	}
	return r.rt.ToValue(decodeUTF8(b))
}

// decodeUTF8 decodes b as the Encoding standard's UTF-8 decoder does,
// with replacement: each maximal subpart of an invalid sequence becomes
// one U+FFFD (Go's own conversions give one per byte, or one per run).
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	out.Grow(len(b) + 8)
	for len(b) > 0 {
		c, n := utf8.DecodeRune(b)
		if c != utf8.RuneError || n > 1 {
			out.Write(b[:n])
			b = b[n:]
			continue
		}
		out.WriteRune(utf8.RuneError)
		b = b[maximalSubpart(b):]
	}
	return out.String()
}

// maximalSubpart is the length of the invalid sequence at the start of b
// that the decoder replaces with one U+FFFD: a lead byte and the
// continuation bytes that could still have made a character with it.
func maximalSubpart(b []byte) int {
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if b[n] < lo || b[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}
