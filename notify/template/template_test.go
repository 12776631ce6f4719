package template

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src        string
		offset     int
		line, col  int
		msgContain string
	}{
		{src: "{{nope}}", offset: 2, line: 1, col: 3, msgContain: `unknown name "nope"`},
		{src: `{"a": "{{ Title }}"}`, offset: 10, line: 1, col: 11, msgContain: `did you mean "title"`},
		{src: "{{sub_Title}}", offset: 2, line: 1, col: 3, msgContain: `did you mean "subTitle"`},
		{src: "{{Data.x}}", offset: 2, line: 1, col: 3, msgContain: `did you mean "data.x"`},
		{src: "ab\ncd {{title", offset: 6, line: 2, col: 4, msgContain: `unclosed "{{"`},
		{src: "é{{title {{message}}", offset: 2, line: 1, col: 2, msgContain: `another "{{"`},
		{src: "x {{}}", offset: 2, line: 1, col: 3, msgContain: "empty name"},
		{src: "x {{  \t }}", offset: 2, line: 1, col: 3, msgContain: "empty name"},
		{src: "{{data.}}", offset: 2, line: 1, col: 3, msgContain: "empty key"},
		{src: "{{data..a}}", offset: 2, line: 1, col: 3, msgContain: "empty key"},
		{src: "{{data.a b}}", offset: 2, line: 1, col: 3, msgContain: "must not hold spaces"},
		{src: "\n\n  {{ datum }}", offset: 7, line: 3, col: 6, msgContain: "known names"},
		{src: "{{title}} {{", offset: 10, line: 1, col: 11, msgContain: `unclosed "{{"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.src)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want a *ParseError", tt.src, err)
			}
			if pe.Offset != tt.offset || pe.Line != tt.line || pe.Col != tt.col {
				t.Errorf("position = offset %d, %d:%d; want offset %d, %d:%d", pe.Offset, pe.Line, pe.Col, tt.offset, tt.line, tt.col)
			}
			if !strings.Contains(err.Error(), tt.msgContain) {
				t.Errorf("error %q does not contain %q", err, tt.msgContain)
			}
			if want := "line "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src   string
		names []string
	}{
		{"", nil},
		{"plain text, no placeholders }} {", nil},
		{"{{title}}{{ title }}{{\ttitle\t}}", []string{"title"}},
		{"{{sub_title}} {{subTitle}}", []string{"subTitle"}},
		{"{{message}} {{data.commits.0.id}} {{data}} {{id}} {{type}}", []string{"message", "data.commits.0.id", "data", "id", "type"}},
		{"{{time}}{{timestamp}}{{sign}}{{logo}}{{image}}", []string{"time", "timestamp", "sign", "logo", "image"}},
		{`{"a":{{{data.x}}}}`, []string{"data.x"}},
	}
	for _, tt := range tests {
		tpl, err := Parse(tt.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.src, err)
			continue
		}
		if got := tpl.Names(); !slices.Equal(got, tt.names) {
			t.Errorf("Parse(%q).Names() = %q, want %q", tt.src, got, tt.names)
		}
		if tpl.String() != tt.src {
			t.Errorf("String() = %q", tpl.String())
		}
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	tpl, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	v := testVars()
	if b, err := tpl.JSON(v); err != nil || len(b) != 0 {
		t.Errorf("JSON = %q, %v; want empty", b, err)
	}
	if s := tpl.Text(v); s != "" {
		t.Errorf("Text = %q", s)
	}
	if s := tpl.URL(v); s != "" {
		t.Errorf("URL = %q", s)
	}
	if s := tpl.Raw(v); s != "" {
		t.Errorf("Raw = %q", s)
	}
}

func testVars() Vars {
	return Vars{
		ID: "01J0ABC", Type: "alarm.host_lost", Title: `Host "db-1" lost`, SubTitle: "prod",
		Message: "line 1\nline 2\t\\ end", Logo: "https://x/logo.png", Image: "https://x/i.png",
		Time: "2024-06-01T12:00:00Z", Timestamp: "1717243200000", Sign: "ab+c/d=",
		Data: map[string]any{
			"s":     "str \"q\"",
			"n":     42.5,
			"big":   1e21,
			"small": 1e-7,
			"int":   7,
			"i64":   int64(-9),
			"u8":    uint8(255),
			"num":   json.Number("12.50"),
			"badn":  json.Number("1}, \"x\": 2"),
			"t":     true,
			"f":     false,
			"null":  nil,
			"nan":   math.NaN(),
			"obj":   map[string]any{"b": 1.0, "a": "<&>"},
			"arr":   []any{"x", 2.0, map[string]any{"k": []any{nil}}},
			"commits": []any{
				map[string]any{"id": "c0", "msg": "first"},
				map[string]any{"id": "c1"},
			},
			"strs": []string{"a", "b"},
		},
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	v := testVars()
	tests := []struct {
		name, src, want string
	}{
		{"string in string", `{"t":"Hi {{title}}!"}`, `{"t":"Hi Host \"db-1\" lost!"}`},
		{"string outside", `{"t":{{title}}}`, `{"t":"Host \"db-1\" lost"}`},
		{"escapes", `{"m":"{{message}}","o":{{message}}}`, `{"m":"line 1\nline 2\t\\ end","o":"line 1\nline 2\t\\ end"}`},
		{"spaces in braces", `{"t":"{{ type }}"}`, `{"t":"alarm.host_lost"}`},
		{"sub_title alias", `["{{sub_title}}",{{subTitle}}]`, `["prod","prod"]`},
		{"all fields", `["{{id}}","{{type}}","{{time}}","{{sign}}","{{logo}}","{{image}}"]`, `["01J0ABC","alarm.host_lost","2024-06-01T12:00:00Z","ab+c/d=","https://x/logo.png","https://x/i.png"]`},
		{"timestamp outside is a number", `{"ts":{{timestamp}}}`, `{"ts":1717243200000}`},
		{"timestamp inside is text", `{"ts":"{{timestamp}}"}`, `{"ts":"1717243200000"}`},
		{"data string", `["{{data.s}}",{{data.s}}]`, `["str \"q\"","str \"q\""]`},
		{"data float", `["{{data.n}}",{{data.n}}]`, `["42.5",42.5]`},
		{"data big/small float", `[{{data.big}},"{{data.small}}"]`, `[1e+21,"1e-7"]`},
		{"data ints", `[{{data.int}},{{data.i64}},"{{data.u8}}"]`, `[7,-9,"255"]`},
		{"data json.Number", `[{{data.num}},"{{data.num}}"]`, `[12.50,"12.50"]`},
		{"data bad json.Number is a string", `[{{data.badn}}]`, `["1}, \"x\": 2"]`},
		{"data bools", `[{{data.t}},"{{data.f}}"]`, `[true,"false"]`},
		{"data null", `[{{data.null}},"{{data.null}}"]`, `[null,""]`},
		{"data NaN is null", `[{{data.nan}},"{{data.nan}}"]`, `[null,""]`},
		{"data object", `{"o":{{data.obj}},"s":"{{data.obj}}"}`, `{"o":{"a":"<&>","b":1},"s":"{\"a\":\"<&>\",\"b\":1}"}`},
		{"data array", `{"a":{{data.arr}},"s":"{{data.arr}}"}`, `{"a":["x",2,{"k":[null]}],"s":"[\"x\",2,{\"k\":[null]}]"}`},
		{"data other type", `{{data.strs}}`, `["a","b"]`},
		{"array index", `["{{data.commits.0.id}}",{{data.commits.1.id}},{{data.commits.0}}]`, `["c0","c1",{"id":"c0","msg":"first"}]`},
		{"nested missing", `[{{data.commits.1.msg}},"{{data.commits.1.msg}}"]`, `[null,""]`},
		{"index out of range", `[{{data.commits.2.id}},{{data.commits.-1}},{{data.commits.01}},{{data.commits.x}}]`, `[null,null,null,null]`},
		{"path through a scalar", `[{{data.s.x}},{{data.n.0}}]`, `[null,null]`},
		{"missing top key", `{"x":{{data.nope}}}`, `{"x":null}`},
		{"triple braces", `{"a":[{{{data.int}}}]}`, ``},
		{"quotes and escapes in literal", `{"a\"{{title}}":"\\{{type}}"}`, `{"a\"Host \"db-1\" lost":"\\alarm.host_lost"}`},
		{"unicode escape finished", `{"a":"\u00e9{{sub_title}}"}`, `{"a":"\u00e9prod"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tpl.JSON(v)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("JSON = %s, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("JSON =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestJSONWholeData(t *testing.T) {
	t.Parallel()
	tpl, _ := Parse(`{"d":{{data}},"s":"{{data}}"}`)
	got, err := tpl.JSON(Vars{Data: map[string]any{"a": []any{1.0, "x\n"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"d":{"a":[1,"x\n"]},"s":"{\"a\":[1,\"x\\n\"]}"}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	got, err = tpl.JSON(Vars{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"d":null,"s":""}`; string(got) != want {
		t.Errorf("nil data: got %s, want %s", got, want)
	}
}

func TestJSONHostileStrings(t *testing.T) {
	t.Parallel()
	hostile := []string{
		`"`, `\`, `\"`, `"}, "x": {"`, "\n\r\t\x00\x1f\x7f", "{{title}}", "\u2028\u2029", "é 中文 🚀",
		"\xff\xfe bad utf8 \xc3", `</script>`, "\\u0022",
	}
	tpl, err := Parse(`{"t": "{{title}}", "m": {{message}}, "d": "{{data.v}}", "e": {{data.v}}}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hostile {
		b, err := tpl.JSON(Vars{Title: h, Message: h, Data: map[string]any{"v": h}})
		if err != nil {
			t.Fatalf("%q: %v", h, err)
		}
		var got map[string]string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %s does not decode: %v", h, b, err)
		}
		want := string([]rune(h)) // invalid UTF-8 becomes U+FFFD
		if len(got) != 4 || got["t"] != want || got["m"] != want || got["d"] != want || got["e"] != want {
			t.Errorf("%q: decoded %q", h, got)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		contains  []string
	}{
		{"not JSON", "Hello {{title}}", []string{"not valid JSON", "offset 0", "template line 1, col 1", "near `Hello \"T\"`"}},
		{"missing brace", "{\n  \"t\": {{title}}\n", []string{"not valid JSON", "unexpected end of JSON input"}},
		{"bad literal", "{\"t\": {{title}} x}", []string{"not valid JSON", "offset 10", "template line 1, col 17", "near `{\"t\": \"T\" x}`"}},
		{"object as key", "{ {{data.o}}: 1}", []string{"not valid JSON", "template line 1, col 3"}},
		{"placeholder after backslash", `{"a":"\{{title}}"}`, []string{"line 1, col 8", "escape sequence"}},
		{"placeholder in \\u", `{"a":"\u00{{title}}"}`, []string{"escape sequence"}},
		{"cycle", `{{data.cyc}}`, []string{"too deeply"}},
	}
	cyc := map[string]any{}
	cyc["c"] = cyc
	data := map[string]any{"cyc": cyc, "o": map[string]any{}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpl.JSON(Vars{Title: "T", Data: data})
			if err == nil {
				t.Fatal("no error")
			}
			for _, c := range tt.contains {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("error %q does not contain %q", err, c)
				}
			}
		})
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	v := testVars()
	v.Title = "evil\r\nX-Injected: 1\x00\x7f\tok"
	tests := []struct{ src, want string }{
		{"Bearer {{title}}", "Bearer evilX-Injected: 1\tok"},
		{"{{data.obj}} {{data.n}} {{data.null}}|{{data.nope}}|{{data.t}}", `{"a":"<&>","b":1} 42.5 ||true`},
		{"a\r\nb {{type}}", "ab alarm.host_lost"},
		{"{{message}}", "line 1line 2\t\\ end"},
	}
	for _, tt := range tests {
		tpl, err := Parse(tt.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := tpl.Text(v); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestRaw(t *testing.T) {
	t.Parallel()
	tpl, _ := Parse("title={{title}}\n{{data.arr}}")
	got := tpl.Raw(Vars{Title: "a\"b\nc", Data: map[string]any{"arr": []any{1.0}}})
	if want := "title=a\"b\nc\n[1]"; got != want {
		t.Errorf("Raw = %q, want %q", got, want)
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	v := testVars()
	tpl, err := Parse("https://oapi.example.com/robot/send?access_token=x&timestamp={{timestamp}}&sign={{sign}}&t={{ title }}&o={{data.obj}}&b={{data.big}}&n={{data.null}}")
	if err != nil {
		t.Fatal(err)
	}
	got := tpl.URL(v)
	want := "https://oapi.example.com/robot/send?access_token=x&timestamp=1717243200000&sign=" + url.QueryEscape(v.Sign) +
		"&t=" + url.QueryEscape(v.Title) + "&o=" + url.QueryEscape(`{"a":"<&>","b":1}`) + "&b=1e%2B21&n="
	if got != want {
		t.Errorf("URL =\n%s\nwant\n%s", got, want)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("sign") != v.Sign || q.Get("t") != v.Title {
		t.Errorf("query decodes to %v", q)
	}
}

func TestAppendQueryEscapeMatchesURL(t *testing.T) {
	t.Parallel()
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "a b+c&d=e/f?g#h%i", string(all), "中文 🚀", "~-_."} {
		if got, want := string(appendQueryEscape(nil, s)), url.QueryEscape(s); got != want {
			t.Errorf("appendQueryEscape(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestAppendEscapedMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "plain", string(all), "\u2028\u2029 é 中文 🚀", "\xed\xa0\x80 surrogate"} {
		got := `"` + string(appendEscaped(nil, s)) + `"`
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Fatalf("%q: %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q decodes to %q, encoding/json gives %q", s, back, wantBack)
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0", "-0", "1", "12.5", "-1.5e10", "1E+2", "1e-2", "0.0"} {
		if !isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = false", s)
		}
	}
	for _, s := range []string{"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "1 ", "NaN", "1.5.5"} {
		if isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = true", s)
		}
	}
}

func TestConcurrentRender(t *testing.T) {
	t.Parallel()
	p, _ := PresetByName("slack")
	tpl, err := Parse(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	v := testVars()
	want, err := tpl.JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				if got, err := tpl.JSON(v); err != nil || string(got) != string(want) {
					t.Errorf("concurrent render differs: %v", err)
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}
