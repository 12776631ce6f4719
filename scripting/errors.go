package scripting

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// ErrTimeout is wrapped by Result.Err when a script ran past its timeout,
// e.g. "script timed out after 1s".
var ErrTimeout = errors.New("script timed out")

// ScriptError is an uncaught JavaScript exception (or a stack overflow),
// with its position in the user's source: where the thrown Error was
// created, or the throw statement for any other value (0 when unknown).
type ScriptError struct {
	Message      string
	Line, Column int
}

// Error returns e.g. "TypeError: x is not a function (line 3, column 7)".
func (e *ScriptError) Error() string {
	if e.Line <= 0 {
		return e.Message
	}
	return fmt.Sprintf("%s (line %d, column %d)", e.Message, e.Line, e.Column)
}

// stackOverflowMessage is the message of a *goja.StackOverflowError, which
// carries no value of its own.
const stackOverflowMessage = "RangeError: Maximum call stack size exceeded"

// scriptError converts a JavaScript exception into a *ScriptError. Rendering
// the thrown value may run user code (a toString method), so it must be
// called while the run's interrupt is still armed; an interrupt while
// rendering is returned as the *goja.InterruptedError it is.
func (p *Program) scriptError(ex *goja.Exception, overflow bool) error {
	se := &ScriptError{Message: stackOverflowMessage}
	if !overflow {
		msg, err := exceptionMessage(ex.Value())
		if err != nil {
			return err
		}
		se.Message = cutMessage(msg)
	}
	se.Line, se.Column = p.framePosition(ex.Stack())
	return se
}

// maxErrorMessage is the longest message, in bytes, a ScriptError keeps;
// a longer one is cut and ends with "…".
const maxErrorMessage = 8192

// exceptionMessage renders a thrown value as String(value): "Name: message"
// for an Error, the string itself for a thrown string.
func exceptionMessage(v goja.Value) (msg string, err error) {
	if v == nil {
		return "uncaught exception", nil
	}
	defer func() {
		if x := recover(); x != nil {
			if ie, ok := x.(*goja.InterruptedError); ok {
				err = ie
				return
			}
			msg = "uncaught exception (its message could not be rendered)"
		}
	}()
	return v.String(), nil
}

// framePosition returns the user's position of the innermost stack frame
// that belongs to this program (skipping native and eval frames).
func (p *Program) framePosition(frames []goja.StackFrame) (int, int) {
	for i := range frames {
		f := &frames[i]
		if f.SrcName() != p.name {
			continue
		}
		pos := f.Position()
		if pos.Line <= 0 {
			continue
		}
		return p.userPosition(pos.Line, pos.Column)
	}
	return 0, 0
}

// cutMessage cuts msg to maxErrorMessage bytes, on a character boundary.
func cutMessage(msg string) string {
	if len(msg) <= maxErrorMessage {
		return msg
	}
	cut := maxErrorMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return strings.Clone(msg[:cut]) + "…"
}
