package scripting

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// Log levels of LogLine.Level.
const (
	LevelFine    = "FINE"
	LevelInfo    = "INFO"
	LevelWarning = "WARNING"
	LevelSevere  = "SEVERE"
)

// maxSummary is the longest LOG.setMessage text kept, in characters.
const maxSummary = 1024

// truncMark ends a log line or summary that was cut short.
const truncMark = "…"

// LogLine is one line a script wrote with LOG.
type LogLine struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"` // "FINE", "INFO", "WARNING", "SEVERE"
	Text  string    `json:"text"`
}

// logMethods are the functions of LOG.
var logMethods = []method{
	{"fine", logAt(LevelFine)},
	{"debug", logAt(LevelFine)},
	// FlexDeploy's other java.util.logging levels are debug lines too.
	{"finest", logAt(LevelFine)},
	{"finer", logAt(LevelFine)},
	{"config", logAt(LevelFine)},
	{"info", logAt(LevelInfo)},
	{"warning", logAt(LevelWarning)},
	{"warn", logAt(LevelWarning)},
	{"severe", logAt(LevelSevere)},
	{"error", logAt(LevelSevere)},
	{"setMessage", func(r *run) func(goja.FunctionCall) goja.Value { return r.setMessage }},
}

var logNames = methodNames(logMethods)

// logAt makes a LOG method writing lines at level.
func logAt(level string) func(r *run) func(goja.FunctionCall) goja.Value {
	return func(r *run) func(goja.FunctionCall) goja.Value { return r.logFunc(level) }
}

// logFunc returns a LOG method writing lines at level.
func (r *run) logFunc(level string) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		r.log(level, call.Arguments)
		return goja.Undefined()
	}
}

// log appends one line built from args, honouring the engine's limits.
func (r *run) log(level string, args []goja.Value) {
	maxLines, limit := r.limits.MaxLogLines, r.limits.MaxLogLine
	if r.logFull {
		return // already truncated
	}
	if len(r.logs) == maxLines {
		r.truncateLog("more than " + strconv.Itoa(maxLines) + " lines")
		return
	}
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		s := r.render(a)
		if room := limit + 1 - b.Len(); len(s) > room {
			s = s[:room] // enough to know that the line is cut
		}
		b.WriteString(s)
		if b.Len() > limit {
			break // the rest would be cut off anyway
		}
	}
	r.logText(level, b.String())
}

// logText appends one line of text, honouring the engine's limits. The
// engine's own helpers (HTTP.request) log their calls through it.
func (r *run) logText(level, text string) {
	if r.logFull {
		return
	}
	if len(r.logs) == r.limits.MaxLogLines {
		r.truncateLog("more than " + strconv.Itoa(r.limits.MaxLogLines) + " lines")
		return
	}
	text = truncateBytes(text, r.limits.MaxLogLine)
	if r.logSize+len(text) > r.limits.MaxLogBytes {
		r.truncateLog("more than " + strconv.Itoa(r.limits.MaxLogBytes) + " bytes")
		return
	}
	r.logSize += len(text)
	r.logs = append(r.logs, LogLine{Time: time.Now(), Level: level, Text: text})
}

// truncateLog ends the run's log with one line saying why.
func (r *run) truncateLog(why string) {
	r.logFull = true
	r.logs = append(r.logs, LogLine{Time: time.Now(), Level: LevelWarning, Text: "log truncated: " + why})
}

// render turns one LOG argument into text: strings as they are, objects
// and arrays as JSON, errors as "Name: message", anything else as String(v).
func (r *run) render(v goja.Value) string {
	obj, ok := v.(*goja.Object)
	if !ok {
		switch v := v.(type) {
		case nil:
			return "undefined"
		case *goja.Symbol:
			return "Symbol(" + v.String() + ")" // as String(symbol)
		}
		return v.String()
	}
	if _, isFunc := goja.AssertFunction(obj); isFunc || obj.ClassName() == "Error" {
		return obj.String()
	}
	if n := lengthOf(obj); n > MaxArrayLength {
		// JSON.stringify and String(a) walk every index, present or not:
		// minutes for a sparse array of 2**32-1 (or a Proxy of one).
		if obj.ClassName() == "Array" {
			return "[an array of " + formatCount(n) + " elements]"
		}
		return "[an object of length " + formatCount(n) + "]"
	}
	s, err := r.jsonStringify(obj)
	if err != nil || goja.IsUndefined(s) {
		return obj.String() // e.g. a circular structure
	}
	return s.String()
}

// jsonStringify calls the runtime's JSON.stringify. An interrupt or stack
// overflow is re-raised so that the script stops; a JS exception (a
// circular structure, a throwing toJSON) is returned.
func (r *run) jsonStringify(v goja.Value) (goja.Value, error) {
	if r.stringify == nil {
		r.stringify = r.jsonFunc("stringify")
	}
	return r.call(r.stringify, v)
}

// setMessage implements LOG.setMessage(text).
func (r *run) setMessage(call goja.FunctionCall) goja.Value {
	a := call.Argument(0)
	if goja.IsUndefined(a) {
		r.summary = ""
	} else {
		r.summary = truncateRunes(a.String(), maxSummary)
	}
	return goja.Undefined()
}

// truncateBytes cuts s to at most limit bytes (at a rune boundary),
// ending with "…" when cut.
func truncateBytes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len(truncMark)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncMark
}

// truncateRunes cuts s to at most limit characters, the last being "…"
// when cut.
func truncateRunes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit-1 {
			if utf8.RuneCountInString(s[i:]) > 1 {
				return s[:i] + truncMark
			}
			return s
		}
		n++
	}
	return s
}
