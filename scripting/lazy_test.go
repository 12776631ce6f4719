package scripting

import (
	"net/url"
	"reflect"
	"testing"
)

// TestLazyPayload checks that the lazily decoded PAYLOAD behaves like the
// result of JSON.parse.
func TestLazyPayload(t *testing.T) {
	t.Parallel()
	body := `{"ref":"r","n":1,"commits":[{"id":"a","x":{"y":[1,{"z":true}]}},{"id":"b"}],` +
		`"dup":1,"2":"two","dup":2,"__proto__":{"p":1},"esc\u0061ped":"\ud83d\ude00","1":"one","o":{}}`
	req := &Request{Body: []byte(body), Headers: map[string]string{"content-type": "application/json"}}
	tests := []struct {
		name, src string
		want      any
	}{
		{"same object", "return PAYLOAD.commits === PAYLOAD.commits && PAYLOAD.commits[0] === PAYLOAD.commits[0] && PAYLOAD.o === PAYLOAD.o", true},
		{"arrays", "return Array.isArray(PAYLOAD.commits) && Array.isArray(PAYLOAD.commits[0].x.y) && PAYLOAD.commits.length", int64(2)},
		{"nested", "return PAYLOAD.commits[0].x.y[1].z", true},
		{"duplicate keys", "return PAYLOAD.dup", int64(2)},
		{"escaped key", "return PAYLOAD.escaped", "😀"},
		{"__proto__ is own", "return Object.getPrototypeOf(PAYLOAD) === Object.prototype && PAYLOAD.__proto__.p", int64(1)},
		{"keys", "return Object.keys(PAYLOAD).join()", "1,2,ref,n,commits,dup,__proto__,escaped,o"},
		{"stringify", "return JSON.stringify(PAYLOAD) === JSON.stringify(JSON.parse(FLX_PRISTINE_PAYLOAD))", true},
		{"for in", "var k = []; for (var x in PAYLOAD.commits[0]) k.push(x); return k.join()", "id,x"},
		{"spread", "return JSON.stringify({...PAYLOAD.commits[0].x})", `{"y":[1,{"z":true}]}`},
		{"entries", "return Object.entries(PAYLOAD.commits[1]).join()", "id,b"},
		{"in", `return "ref" in PAYLOAD && !("nope" in PAYLOAD) && "toString" in PAYLOAD && PAYLOAD.hasOwnProperty("n")`, true},
		{"missing", "return PAYLOAD.nope === undefined", true},
		{"write", `PAYLOAD.ref = "s"; PAYLOAD.added = [1]; PAYLOAD[0] = 0; return PAYLOAD.ref + PAYLOAD.added[0] + Object.keys(PAYLOAD).join()`,
			"s10,1,2,ref,n,commits,dup,__proto__,escaped,o,added"},
		{"delete", `delete PAYLOAD.ref; delete PAYLOAD.o; PAYLOAD.ref = 1; return ("o" in PAYLOAD) + Object.keys(PAYLOAD).join()`,
			"false1,2,n,commits,dup,__proto__,escaped,ref"},
		{"nested write", `PAYLOAD.commits[0].id = "z"; PAYLOAD.commits.push({id: "c"}); return PAYLOAD.commits.map(c => c.id).join()`, "z,b,c"},
		{"set __proto__ when not own", `var o = PAYLOAD.o; o.__proto__ = {q: 1}; return o.q + Object.keys(o).length`, int64(1)},
		{"typeof", "return typeof PAYLOAD.o + typeof PAYLOAD.n + typeof PAYLOAD.ref", "objectnumberstring"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustValue(t, tt.src, req); got != tt.want {
				t.Errorf("%s = %#v, want %#v", tt.src, got, tt.want)
			}
		})
	}
}

// TestLazyExport checks that returning lazy objects exports plain maps.
func TestLazyExport(t *testing.T) {
	t.Parallel()
	req := &Request{
		Body:    []byte(`{"a":{"b":[1,{"c":"d"}]},"e":null}`),
		Headers: map[string]string{"x-h": "v"},
		Query:   url.Values{"q": {"1", "2"}},
	}
	got := mustValue(t, `PAYLOAD.a.self = PAYLOAD.a; return {p: PAYLOAD, h: HTTP_HEADERS, q: QUERY_PARAMS, list: [PAYLOAD.a.b]}`, req)
	m := got.(map[string]any)
	p := m["p"].(map[string]any)
	a := p["a"].(map[string]any)
	if !reflect.DeepEqual(a["b"], []any{int64(1), map[string]any{"c": "d"}}) || p["e"] != nil {
		t.Errorf("payload exported as %#v", p)
	}
	if self, ok := a["self"].(map[string]any); !ok || reflect.ValueOf(self).Pointer() != reflect.ValueOf(a).Pointer() {
		t.Errorf("cycle exported as %#v", a["self"])
	}
	if !reflect.DeepEqual(m["h"], map[string]any{"x-h": "v"}) || !reflect.DeepEqual(m["q"], map[string]any{"q": "1"}) {
		t.Errorf("globals exported as %#v %#v", m["h"], m["q"])
	}
	if _, ok := m["list"].([]any)[0].([]any); !ok {
		t.Errorf("list exported as %#v", m["list"])
	}
}

// TestStringMapGlobals checks writes to HTTP_HEADERS and friends.
func TestStringMapGlobals(t *testing.T) {
	t.Parallel()
	req := &Request{
		Headers:    map[string]string{"b": "2", "a": "1", "10": "x", "9": "y"},
		Query:      url.Values{"q": {}},
		Properties: map[string]string{"s": "t"},
	}
	tests := []struct {
		name, src string
		want      any
	}{
		{"keys", "return Object.keys(HTTP_HEADERS).join()", "9,10,a,b"},
		{"empty query value", `return QUERY_PARAMS.q === "" && "q" in QUERY_PARAMS`, true},
		{"write", `HTTP_HEADERS.c = "3"; HTTP_HEADERS.a = "A"; HTTP_HEADERS[5] = 5; return JSON.stringify(HTTP_HEADERS)`,
			`{"5":5,"9":"y","10":"x","a":"A","b":"2","c":"3"}`},
		{"delete", `delete HTTP_HEADERS.a; delete HTTP_HEADERS.none; return ("a" in HTTP_HEADERS) + Object.keys(HTTP_HEADERS).join()`, "false9,10,b"},
		{"replace global", `PROPERTIES = {x: 1}; return PROPERTIES.x`, int64(1)},
		{"same value", `return PROPERTIES.s === PROPERTIES.s && PROPERTIES === PROPERTIES`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustValue(t, tt.src, req); got != tt.want {
				t.Errorf("%s = %#v, want %#v", tt.src, got, tt.want)
			}
		})
	}
}
