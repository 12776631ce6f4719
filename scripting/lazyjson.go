package scripting

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// validateJSON checks that data is one JSON document that JSON.parse
// accepts, without building anything: nil when it is, errJSONSyntax when it
// is not (or nests deeper than maxJSONDepth), errJSONSlowPath when it holds
// something PAYLOAD leaves to the runtime's JSON.parse (invalid UTF-8, a
// lone surrogate escape, a number out of range). It never recurses.
//
// With a non-nil ends, it records in it the span of every container of at
// least tapeMinSpan bytes, sorted by start, so that skipping one later
// costs a lookup rather than a scan.
func validateJSON(data []byte, ends *[]containerSpan) error {
	if !utf8.Valid(data) || len(data) >= math.MaxInt32 {
		return errJSONSlowPath
	}
	var stackBuf [64]int32
	stack := stackBuf[:0] // offset of the '{' or '[' of each open container
	sorted := true
	slow := false
	n := len(data)
	pos := skipWS(data, 0)
value:
	if pos >= n {
		return errJSONSyntax
	}
	switch c := data[pos]; c {
	case '{':
		if len(stack) >= maxJSONDepth {
			return errJSONSyntax
		}
		stack = append(stack, int32(pos))
		pos = skipWS(data, pos+1)
		if pos < n && data[pos] == '}' {
			pos++
			stack = stack[:len(stack)-1]
			break
		}
		var ok bool
		if pos, ok = validateKey(data, pos, &slow); !ok {
			return errJSONSyntax
		}
		goto value
	case '[':
		if len(stack) >= maxJSONDepth {
			return errJSONSyntax
		}
		stack = append(stack, int32(pos))
		pos = skipWS(data, pos+1)
		if pos < n && data[pos] == ']' {
			pos++
			stack = stack[:len(stack)-1]
			break
		}
		goto value
	case '"':
		var ok bool
		if pos, ok = validateString(data, pos, &slow); !ok {
			return errJSONSyntax
		}
	case 't':
		if !bytes.HasPrefix(data[pos:], []byte("true")) {
			return errJSONSyntax
		}
		pos += 4
	case 'f':
		if !bytes.HasPrefix(data[pos:], []byte("false")) {
			return errJSONSyntax
		}
		pos += 5
	case 'n':
		if !bytes.HasPrefix(data[pos:], []byte("null")) {
			return errJSONSyntax
		}
		pos += 4
	default:
		var ok bool
		if pos, ok = validateNumber(data, pos, &slow); !ok {
			return errJSONSyntax
		}
	}
	// After a value: a separator, the end of containers, or the end.
	for {
		pos = skipWS(data, pos)
		if len(stack) == 0 {
			if pos != n {
				return errJSONSyntax
			}
			if slow {
				return errJSONSlowPath
			}
			if ends != nil && !sorted {
				slices.SortFunc(*ends, func(a, b containerSpan) int { return int(a.start - b.start) })
			}
			return nil
		}
		if pos >= n {
			return errJSONSyntax
		}
		start := stack[len(stack)-1]
		top := data[start]
		switch c := data[pos]; {
		case c == ',':
			pos = skipWS(data, pos+1)
			if top == '{' {
				var ok bool
				if pos, ok = validateKey(data, pos, &slow); !ok {
					return errJSONSyntax
				}
			}
			goto value
		case c == '}' && top == '{', c == ']' && top == '[':
			pos++
			stack = stack[:len(stack)-1]
			if ends != nil && pos-int(start) >= tapeMinSpan {
				// Recorded as containers close: an inner one before its outer.
				if l := len(*ends); l > 0 && (*ends)[l-1].start > start {
					sorted = false
				}
				*ends = append(*ends, containerSpan{start, int32(pos)})
			}
		default:
			return errJSONSyntax
		}
	}
}

// skipWS returns the position of the first non-space byte at or after pos.
func skipWS(data []byte, pos int) int {
	for pos < len(data) {
		switch data[pos] {
		case ' ', '\t', '\n', '\r':
			pos++
		default:
			return pos
		}
	}
	return pos
}

// validateKey checks `"key" :` at pos and returns the position after the
// colon and the spaces that follow it.
func validateKey(data []byte, pos int, slow *bool) (int, bool) {
	if pos >= len(data) || data[pos] != '"' {
		return pos, false
	}
	pos, ok := validateString(data, pos, slow)
	if !ok {
		return pos, false
	}
	pos = skipWS(data, pos)
	if pos >= len(data) || data[pos] != ':' {
		return pos, false
	}
	return skipWS(data, pos+1), true
}

// stringSpecial marks the bytes that end the plain run of a string.
var stringSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// validateString checks the string whose opening quote is at pos and
// returns the position after its closing quote.
func validateString(data []byte, pos int, slow *bool) (int, bool) {
	n := len(data)
	i := pos + 1
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character.
		for ; i+8 <= n; i += 8 {
			x := binary.LittleEndian.Uint64(data[i:])
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			q, b := x^(ones*'"'), x^(ones*'\\')
			if ((x-ones*0x20)&^x|(q-ones)&^q|(b-ones)&^b)&highs != 0 {
				break
			}
		}
		for i < n && !stringSpecial[data[i]] {
			i++
		}
		if i >= n {
			return i, false
		}
		switch data[i] {
		case '"':
			return i + 1, true
		case '\\':
		default:
			return i, false // control character
		}
		if i+1 >= n {
			return i, false
		}
		switch data[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
			continue
		case 'u':
		default:
			return i, false
		}
		r, ok := hex4At(data, i+2)
		if !ok {
			return i, false
		}
		i += 6
		if r >= 0xd800 && r <= 0xdfff {
			// Only a proper pair is decoded here; anything else is left
			// to JSON.parse (the next escape is checked on its own).
			if r >= 0xdc00 || n-i < 6 || data[i] != '\\' || data[i+1] != 'u' {
				*slow = true
				continue
			}
			r2, ok := hex4At(data, i+2)
			if !ok || r2 < 0xdc00 || r2 > 0xdfff {
				*slow = true
				continue
			}
			i += 6
		}
	}
}

// hex4At reads four hex digits at pos.
func hex4At(data []byte, pos int) (rune, bool) {
	if len(data)-pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range data[pos : pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// validateNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at
// pos and returns the position after it. A number out of float64 range
// (JSON.parse refuses those) marks the document slow.
func validateNumber(data []byte, pos int, slow *bool) (int, bool) {
	n := len(data)
	start := pos
	if pos < n && data[pos] == '-' {
		pos++
	}
	digits := func() int {
		s := pos
		for pos < n && data[pos] >= '0' && data[pos] <= '9' {
			pos++
		}
		return pos - s
	}
	intStart := pos
	nd := digits()
	if nd == 0 || nd > 1 && data[intStart] == '0' {
		return pos, false
	}
	if pos < n && data[pos] == '.' {
		pos++
		if digits() == 0 {
			return pos, false
		}
	}
	exp := false
	if pos < n && (data[pos] == 'e' || data[pos] == 'E') {
		pos++
		if pos < n && (data[pos] == '+' || data[pos] == '-') {
			pos++
		}
		if digits() == 0 {
			return pos, false
		}
		exp = true
	}
	if exp || nd > 300 {
		if _, err := strconv.ParseFloat(string(data[start:pos]), 64); err != nil {
			*slow = true
		}
	}
	return pos, true
}

// containerSpan is the span of an object or array in a document.
type containerSpan struct{ start, end int32 }

// tapeMinSpan is the size from which validateJSON records a container.
const tapeMinSpan = 48

// skipJSONValue returns the position just after the valid JSON value that
// starts at pos; ends are the container spans validateJSON recorded.
func skipJSONValue(data []byte, pos int, ends []containerSpan) int {
	switch data[pos] {
	case '"':
		return skipJSONString(data, pos)
	case '{', '[':
		if i, ok := slices.BinarySearchFunc(ends, int32(pos), func(c containerSpan, p int32) int { return int(c.start - p) }); ok {
			return int(ends[i].end)
		}
		depth := 0
		for i := pos; i < len(data); i++ {
			switch data[i] {
			case '"':
				i = skipJSONString(data, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(data)
	}
	for i := pos; i < len(data); i++ {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return len(data)
}

// skipJSONString returns the position just after the valid string whose
// opening quote is at pos.
func skipJSONString(data []byte, pos int) int {
	i := pos + 1
	for {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			return len(data)
		}
		i += j
		// The quote is escaped if an odd number of backslashes precede it.
		k := i
		for k > pos+1 && data[k-1] == '\\' {
			k--
		}
		if (i-k)%2 == 0 {
			return i + 1
		}
		i++
	}
}

// lazyObject is the goja.DynamicObject behind a JSON object of PAYLOAD. It
// indexes its members (one level: key and the span of the value) on first
// use and materialises a member when it is read, once: a nested object
// becomes another lazyObject, so PAYLOAD.a === PAYLOAD.a. It behaves like
// the object JSON.parse makes: the last of duplicate keys wins at the place
// of the first, "__proto__" is an ordinary own key, keys are listed as goja
// lists an ordinary object's (array indices ascending, then the others in
// order of creation), and the script may add, change and delete members.
type lazyObject struct {
	d       *jsonDecoder
	start   int // offset of '{' in d.data
	indexed bool
	hasIdx  bool // some key is an array index
	slots   []lazySlot
	table   []int32 // open addressing: slot index + 1; nil for few slots
}

// lazySlot is one member.
type lazySlot struct {
	key    string // when !raw
	ks, ke int32  // key bytes in d.data (inside the quotes) when raw
	vs     int32  // value offset in d.data; -1 once val is set
	raw    bool   // the key is d.data[ks:ke], which holds no escapes
	val    goja.Value
}

// lazyTableMin is the number of members from which lookups use a hash
// table rather than a linear scan.
const lazyTableMin = 12

func (o *lazyObject) keyOf(s *lazySlot) string {
	if s.raw {
		s.key, s.raw = string(o.d.data[s.ks:s.ke]), false
	}
	return s.key
}

func (o *lazyObject) keyIs(s *lazySlot, key string) bool {
	if s.raw {
		return int(s.ke-s.ks) == len(key) && string(o.d.data[s.ks:s.ke]) == key
	}
	return s.key == key
}

func hashKey[T string | []byte](s T) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func (o *lazyObject) slotHash(s *lazySlot) uint32 {
	if s.raw {
		return hashKey(o.d.data[s.ks:s.ke])
	}
	return hashKey(s.key)
}

// find returns the index of key's slot, -1 if none.
func (o *lazyObject) find(key string) int {
	if !o.indexed {
		o.index()
	}
	if o.table == nil {
		for i := range o.slots {
			if o.keyIs(&o.slots[i], key) {
				return i
			}
		}
		return -1
	}
	mask := uint32(len(o.table) - 1)
	for h := hashKey(key) & mask; ; h = (h + 1) & mask {
		e := o.table[h]
		if e == 0 {
			return -1
		}
		if o.keyIs(&o.slots[e-1], key) {
			return int(e - 1)
		}
	}
}

// findSlot is find for a slot being added during indexing (its key given
// by the slot).
func (o *lazyObject) findSlot(s *lazySlot) int {
	if !s.raw {
		return o.find(s.key)
	}
	k := o.d.data[s.ks:s.ke]
	if o.table == nil {
		for i := range o.slots {
			if o.keyIs(&o.slots[i], string(k)) {
				return i
			}
		}
		return -1
	}
	mask := uint32(len(o.table) - 1)
	for h := hashKey(k) & mask; ; h = (h + 1) & mask {
		e := o.table[h]
		if e == 0 {
			return -1
		}
		if o.keyIs(&o.slots[e-1], string(k)) {
			return int(e - 1)
		}
	}
}

// add appends a slot whose key is not present.
func (o *lazyObject) add(s lazySlot) {
	o.slots = append(o.slots, s)
	if !o.hasIdx && isArrayIndex(o.keyView(&o.slots[len(o.slots)-1])) {
		o.hasIdx = true
	}
	switch {
	case o.table != nil && len(o.slots)*2 <= len(o.table):
		o.insert(len(o.slots) - 1)
	case len(o.slots) >= lazyTableMin:
		o.rehash()
	}
}

func (o *lazyObject) keyView(s *lazySlot) string {
	if s.raw {
		// No allocation: only inspected.
		return string(o.d.data[s.ks:s.ke])
	}
	return s.key
}

func (o *lazyObject) insert(i int) {
	mask := uint32(len(o.table) - 1)
	h := o.slotHash(&o.slots[i]) & mask
	for o.table[h] != 0 {
		h = (h + 1) & mask
	}
	o.table[h] = int32(i + 1)
}

func (o *lazyObject) rehash() {
	if len(o.slots) < lazyTableMin {
		o.table = nil
		return
	}
	size := 32
	for size < 2*len(o.slots)+2 {
		size <<= 1
	}
	if cap(o.table) >= size {
		o.table = o.table[:size]
		clear(o.table)
	} else {
		o.table = make([]int32, size)
	}
	for i := range o.slots {
		o.insert(i)
	}
}

// index reads the members of the object.
func (o *lazyObject) index() {
	o.indexed = true
	data := o.d.data
	pos := skipWS(data, o.start+1)
	if data[pos] == '}' {
		return
	}
	for {
		// pos is at the key's opening quote.
		end := skipJSONString(data, pos)
		s := lazySlot{raw: true, ks: int32(pos + 1), ke: int32(end - 1)}
		if bytes.IndexByte(data[pos+1:end-1], '\\') >= 0 {
			o.d.pos = pos
			key, err := o.d.string()
			if err != nil {
				panic("scripting: lazy JSON decoder: " + err.Error())
			}
			s = lazySlot{key: key}
		}
		pos = skipWS(data, end)
		pos = skipWS(data, pos+1) // ':'
		s.vs = int32(pos)
		if i := o.findSlot(&s); i >= 0 {
			o.slots[i].vs = s.vs // the last duplicate wins
		} else {
			o.add(s)
		}
		pos = skipWS(data, skipJSONValue(data, pos, o.d.ends))
		if data[pos] == '}' {
			return
		}
		pos = skipWS(data, pos+1) // ','
	}
}

// Get implements goja.DynamicObject.
func (o *lazyObject) Get(key string) goja.Value {
	i := o.find(key)
	if i < 0 {
		return nil
	}
	s := &o.slots[i]
	if s.val == nil {
		s.val = o.d.valueAt(int(s.vs))
		s.vs = -1
	}
	return s.val
}

// Set implements goja.DynamicObject.
func (o *lazyObject) Set(key string, val goja.Value) bool {
	if val == nil {
		val = goja.Undefined()
	}
	if i := o.find(key); i >= 0 {
		o.slots[i].val, o.slots[i].vs = val, -1
		return true
	}
	o.add(lazySlot{key: key, vs: -1, val: val})
	return true
}

// Has implements goja.DynamicObject.
func (o *lazyObject) Has(key string) bool { return o.find(key) >= 0 }

// Delete implements goja.DynamicObject.
func (o *lazyObject) Delete(key string) bool {
	if i := o.find(key); i >= 0 {
		o.slots = slices.Delete(o.slots, i, i+1)
		o.rehash()
	}
	return true
}

// Keys implements goja.DynamicObject.
func (o *lazyObject) Keys() []string {
	if !o.indexed {
		o.index()
	}
	keys := make([]string, len(o.slots))
	for i := range o.slots {
		keys[i] = o.keyOf(&o.slots[i])
	}
	if o.hasIdx {
		orderKeys(keys)
	}
	return keys
}

// orderKeys puts keys in the order goja lists an ordinary object's: array
// indices first, ascending, then the other keys in their order.
func orderKeys(keys []string) {
	slices.SortStableFunc(keys, func(a, b string) int {
		ia, ib := arrayIndex(a), arrayIndex(b)
		switch {
		case ia == math.MaxUint32 && ib == math.MaxUint32:
			return 0
		case ia < ib:
			return -1
		case ia > ib:
			return 1
		}
		return 0
	})
}

func isArrayIndex(s string) bool { return arrayIndex(s) != math.MaxUint32 }

// arrayIndex is goja's strToArrayIdx: the value of a canonical array index
// below 2^32-1, else math.MaxUint32.
func arrayIndex(s string) uint32 {
	if s == "" || len(s) > 10 {
		return math.MaxUint32
	}
	if s[0] == '0' {
		if len(s) == 1 {
			return 0
		}
		return math.MaxUint32
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return math.MaxUint32
		}
		n = n*10 + uint64(c-'0')
	}
	if n >= math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}
