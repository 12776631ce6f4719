package filter_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/notify/filter"
	"github.com/switchyard-dev/switchyard/storage"
)

// event is the event every case is matched against; its data is decoded
// from JSON as the API decodes it.
func event(t testing.TB) *storage.Event {
	t.Helper()
	var data map[string]any
	err := json.Unmarshal([]byte(`{
		"severity": "critical", "host": "db-01", "level": 5, "ratio": 0.5, "up": false, "none": null,
		"tags": ["prod", "eu"], "codes": [3, 7], "labels": {"env": "prod", "team": {"name": "ops"}},
		"items": [{"name": "disk"}, {"name": "cpu"}]
	}`), &data)
	if err != nil {
		t.Fatal(err)
	}
	return &storage.Event{
		ID: "0193a5e0-0000-7000-8000-000000000000", Type: "alarm.host_lost", Title: "Host lost",
		Time: time.Date(2026, 12, 4, 1, 2, 3, 0, time.UTC), Source: "api", Data: data,
	}
}

// parse parses a filter written as JSON.
func parse(t testing.TB, src string) (*filter.Filter, error) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(src), &m); err != nil {
		t.Fatalf("bad test filter %s: %v", src, err)
	}
	return filter.Parse(m)
}

func TestOperators(t *testing.T) {
	cases := []struct {
		name   string
		filter string
		want   bool
	}{
		// A plain value and $eq.
		{"plain string", `{"data.severity": "critical"}`, true},
		{"plain string differs", `{"data.severity": "major"}`, false},
		{"eq number", `{"data.level": {"$eq": 5}}`, true},
		{"eq number differs", `{"data.level": {"$eq": 6}}`, false},
		{"eq type mismatch", `{"data.level": {"$eq": "5"}}`, false},
		{"eq bool", `{"data.up": false}`, true},
		{"eq null matches null", `{"data.none": null}`, true},
		{"eq null does not match missing", `{"data.nothing": null}`, false},
		{"eq missing", `{"data.nothing": {"$eq": "x"}}`, false},
		{"eq array element", `{"data.tags": "eu"}`, true},
		{"eq array no element", `{"data.tags": "us"}`, false},
		{"eq nested", `{"data.labels.team.name": "ops"}`, true},
		{"eq array index", `{"data.items.1.name": "cpu"}`, true},
		{"eq array index out of range", `{"data.items.2.name": "cpu"}`, false},
		{"eq through a string", `{"data.host.name": "x"}`, false},
		{"eq top-level type", `{"type": "alarm.host_lost"}`, true},
		{"eq source", `{"source": "api"}`, true},
		// $ne
		{"ne differs", `{"data.severity": {"$ne": "major"}}`, true},
		{"ne equal", `{"data.severity": {"$ne": "critical"}}`, false},
		{"ne missing matches", `{"data.nothing": {"$ne": "x"}}`, true},
		{"ne type mismatch matches", `{"data.level": {"$ne": "5"}}`, true},
		{"ne array with element", `{"data.tags": {"$ne": "eu"}}`, false},
		{"ne array without element", `{"data.tags": {"$ne": "us"}}`, true},
		// $in
		{"in", `{"data.severity": {"$in": ["critical", "major"]}}`, true},
		{"in not", `{"data.severity": {"$in": ["minor", "major"]}}`, false},
		{"in missing", `{"data.nothing": {"$in": ["x"]}}`, false},
		{"in type mismatch", `{"data.level": {"$in": ["5"]}}`, false},
		{"in numbers", `{"data.level": {"$in": [1, 5]}}`, true},
		{"in array any element", `{"data.tags": {"$in": ["us", "eu"]}}`, true},
		{"in empty list", `{"data.severity": {"$in": []}}`, false},
		// $nin
		{"nin", `{"data.severity": {"$nin": ["minor"]}}`, true},
		{"nin listed", `{"data.severity": {"$nin": ["critical"]}}`, false},
		{"nin missing matches", `{"data.nothing": {"$nin": ["x"]}}`, true},
		{"nin type mismatch matches", `{"data.level": {"$nin": ["5"]}}`, true},
		{"nin array with element", `{"data.tags": {"$nin": ["eu"]}}`, false},
		// $gt
		{"gt", `{"data.level": {"$gt": 4}}`, true},
		{"gt equal", `{"data.level": {"$gt": 5}}`, false},
		{"gt missing", `{"data.nothing": {"$gt": 0}}`, false},
		{"gt type mismatch", `{"data.level": {"$gt": "1"}}`, false},
		{"gt string", `{"data.host": {"$gt": "db-00"}}`, true},
		{"gt string lexicographic", `{"data.host": {"$gt": "db-1"}}`, false},
		{"gt array any element", `{"data.codes": {"$gt": 6}}`, true},
		{"gt time", `{"time": {"$gt": "2026-12-01T00:00:00Z"}}`, true},
		// $gte
		{"gte equal", `{"data.level": {"$gte": 5}}`, true},
		{"gte below", `{"data.ratio": {"$gte": 0.6}}`, false},
		{"gte missing", `{"data.nothing": {"$gte": 0}}`, false},
		{"gte type mismatch", `{"data.severity": {"$gte": 0}}`, false},
		// $lt
		{"lt", `{"data.ratio": {"$lt": 1}}`, true},
		{"lt equal", `{"data.level": {"$lt": 5}}`, false},
		{"lt missing", `{"data.nothing": {"$lt": 9}}`, false},
		{"lt type mismatch", `{"data.up": {"$lt": 9}}`, false},
		// $lte
		{"lte equal", `{"data.level": {"$lte": 5}}`, true},
		{"lte above", `{"data.level": {"$lte": 4.5}}`, false},
		{"lte missing", `{"data.nothing": {"$lte": 9}}`, false},
		{"lte type mismatch", `{"data.labels": {"$lte": 9}}`, false},
		// $exists
		{"exists true", `{"data.host": {"$exists": true}}`, true},
		{"exists true null value", `{"data.none": {"$exists": true}}`, true},
		{"exists true missing", `{"data.nothing": {"$exists": true}}`, false},
		{"exists false missing", `{"data.nothing": {"$exists": false}}`, true},
		{"exists false present", `{"data.host": {"$exists": false}}`, false},
		{"exists empty title is missing", `{"sub_title": {"$exists": false}}`, true},
		// $regex
		{"regex", `{"data.host": {"$regex": "^db-"}}`, true},
		{"regex no match", `{"data.host": {"$regex": "^web-"}}`, false},
		{"regex unanchored", `{"data.host": {"$regex": "01"}}`, true},
		{"regex missing", `{"data.nothing": {"$regex": ".*"}}`, false},
		{"regex type mismatch", `{"data.level": {"$regex": "5"}}`, false},
		{"regex array element", `{"data.tags": {"$regex": "^e"}}`, true},
		{"regex top-level", `{"title": {"$regex": "(?i)host"}}`, true},
		// AND
		{"and paths", `{"data.severity": {"$in": ["critical"]}, "data.host": {"$regex": "^db-"}}`, true},
		{"and paths one fails", `{"data.severity": {"$in": ["critical"]}, "data.host": {"$regex": "^web-"}}`, false},
		{"and operators", `{"data.level": {"$gt": 1, "$lt": 9}}`, true},
		{"and operators one fails", `{"data.level": {"$gt": 1, "$lt": 3}}`, false},
		{"empty filter", `{}`, true},
	}
	ev := event(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := parse(t, c.filter)
			if err != nil {
				t.Fatalf("Parse(%s): %v", c.filter, err)
			}
			if got := f.Match(ev); got != c.want {
				t.Errorf("Match(%s) = %v, want %v", c.filter, got, c.want)
			}
		})
	}
}

// TestScriptNumbers: a script's data may hold Go integers rather than
// float64, and a filter given by Go code may too.
func TestScriptNumbers(t *testing.T) {
	f, err := filter.Parse(map[string]any{"data.n": map[string]any{"$gte": 3, "$in": []any{int64(3), 4.0}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{int64(3), 3, int32(3), uint8(3), json.Number("3"), 3.0} {
		if !f.Match(&storage.Event{Data: map[string]any{"n": v}}) {
			t.Errorf("%T 3 does not match", v)
		}
	}
	if f.Match(&storage.Event{Data: map[string]any{"n": int64(2)}}) {
		t.Error("2 matches $gte 3")
	}
}

func TestNilFilterMatchesAll(t *testing.T) {
	f, err := filter.Parse(nil)
	if err != nil || f != nil {
		t.Fatalf("Parse(nil) = %v, %v; want nil, nil", f, err)
	}
	if !f.Match(&storage.Event{}) {
		t.Error("the nil filter refused an event")
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", filter.MaxPath)
	deep := "data" + strings.Repeat(".a", filter.MaxDepth)
	many := map[string]any{}
	for i := range filter.MaxConditions + 1 {
		many["data.f"+strings.Repeat("x", i)] = "v"
	}
	manyJSON, _ := json.Marshal(many)
	list, _ := json.Marshal(make([]int, filter.MaxList+1))
	cases := []struct {
		name, filter, want string
	}{
		{"unknown operator", `{"data.x": {"$like": "a"}}`, `"data.x": unknown operator "$like"`},
		{"top-level operator", `{"$or": []}`, `"$or": is not a path`},
		{"mixed keys", `{"data.x": {"$eq": 1, "y": 2}}`, `"y" is not an operator`},
		{"empty operators", `{"data.x": {}}`, `an empty object`},
		{"plain array", `{"data.x": ["a"]}`, `use {"$in": [...]}`},
		{"eq object", `{"data.x": {"$eq": {"a": 1}}}`, `$eq must be a string, number, boolean or null, got an object`},
		{"in not array", `{"data.x": {"$in": "a"}}`, `$in needs an array of values, got a string`},
		{"nin holds object", `{"data.x": {"$nin": [{}]}}`, `$nin value must be a string, number, boolean or null`},
		{"in too long", `{"data.x": {"$in": ` + string(list) + `}}`, `at most 200 values`},
		{"gt bool", `{"data.x": {"$gt": true}}`, `$gt needs a number or a string, got a boolean`},
		{"lte null", `{"data.x": {"$lte": null}}`, `$lte needs a number or a string, got null`},
		{"exists string", `{"data.x": {"$exists": "yes"}}`, `$exists needs true or false, got a string`},
		{"regex number", `{"data.x": {"$regex": 5}}`, `$regex needs a string`},
		{"bad regex", `{"data.x": {"$regex": "(a"}}`, `$regex: error parsing regexp`},
		{"regex expands", `{"data.x": {"$regex": "` + strings.Repeat("[ab]{1000}", 20) + `c"}}`, `$regex is too large once its repeats are expanded`},
		{"regex backreference", `{"data.x": {"$regex": "(a)\\1"}}`, `$regex: error parsing regexp`},
		{"long regex", `{"data.x": {"$regex": "` + strings.Repeat("a", filter.MaxRegex+1) + `"}}`, `at most 512 characters`},
		{"long string", `{"data.x": "` + strings.Repeat("a", filter.MaxString+1) + `"}`, `at most 1024 characters`},
		{"unknown root", `{"severity": "x"}`, `a path starts with one of the event's fields`},
		{"text has no fields", `{"title.x": "x"}`, `title is text and has no fields`},
		{"empty segment", `{"data..x": "x"}`, `no empty parts`},
		{"long path", `{"data.` + long + `": "x"}`, `at most 256 characters`},
		{"deep path", `{"` + deep + `": "x"}`, `at most 16 parts`},
		{"too many conditions", string(manyJSON), `at most 50 conditions`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, c.filter)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse: %v; want an error containing %q", err, c.want)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	ev := event(b)
	f, err := parse(b, `{"data.severity": {"$in": ["critical", "major"]}, "data.host": {"$regex": "^db-"}, "data.level": {"$gte": 3}}`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(ev) {
			b.Fatal("no match")
		}
	}
}

// A $regex is not run on a value longer than MaxRegexInput: a large
// pattern over a 1 MB value took 14 s in review.
func TestRegexSkipsHugeValues(t *testing.T) {
	f, err := parse(t, `{"data.a": {"$regex": "^a+$"}}`)
	if err != nil {
		t.Fatal(err)
	}
	ev := event(t)
	ev.Data["a"] = strings.Repeat("a", filter.MaxRegexInput)
	if !f.Match(ev) {
		t.Fatal("a value of MaxRegexInput bytes does not match")
	}
	ev.Data["a"] = strings.Repeat("a", filter.MaxRegexInput+1)
	if f.Match(ev) {
		t.Fatal("a value past MaxRegexInput matched")
	}
}

// Event data as the API now decodes it keeps numbers as written
// (json.Number): they compare as numbers, never equal a string of the
// same digits, and an integer past 2^53 compares at float64 precision.
func TestNumbersAsWritten(t *testing.T) {
	data, err := storage.DecodeData([]byte(`{"level": 5, "big": 12345678901234567890, "text": "5", "list": [1, 20000000000000000001]}`))
	if err != nil {
		t.Fatal(err)
	}
	ev := &storage.Event{Type: "x.y", Data: data}
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{`{"data.level": 5}`, true},
		{`{"data.level": 5.0}`, true},
		{`{"data.level": "5"}`, false},
		{`{"data.text": 5}`, false},
		{`{"data.text": "5"}`, true},
		{`{"data.level": {"$in": ["5", 6]}}`, false},
		{`{"data.level": {"$in": [5, "x"]}}`, true},
		{`{"data.level": {"$gt": 4, "$lt": 6}}`, true},
		{`{"data.level": {"$gt": "4"}}`, false},
		{`{"data.text": {"$gt": 4}}`, false},
		{`{"data.level": {"$regex": "5"}}`, false},
		{`{"data.big": {"$gt": 1e19, "$lt": 2e19}}`, true},
		{`{"data.big": {"$gte": 12345678901234567890}}`, true},
		{`{"data.list": {"$gt": 1.9e19}}`, true},
		{`{"data.list": {"$gt": 2e19}}`, false}, // 20000000000000000001 is 2e19 as a float64
		{`{"data.list": {"$in": [1]}}`, true},
	} {
		f, err := parse(t, c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if got := f.Match(ev); got != c.want {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
}
