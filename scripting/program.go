package scripting

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// The user's script is a function body; it is wrapped in an immediately
// invoked function so that a top-level return gives the script's result. The
// prefix shares the user's first line, so only columns on line 1 shift.
const (
	wrapPrefix = "(function(){"
	wrapSuffix = "\n})()"
)

// Program is a compiled script. It holds no runtime state and is safe for
// concurrent use by many runs.
type Program struct {
	name  string
	prog  *goja.Program
	lines int // number of lines in the user's source
	last  int // length in bytes of the user's last line
	reach *reach
}

// Name returns the name the program was compiled with.
func (p *Program) Name() string { return p.name }

// CompileError is a syntax error in a script, with the position in the
// user's source (line 1 is the first line the user wrote).
type CompileError struct {
	Name         string
	Line, Column int
	Message      string
}

// Error returns e.g. "line 3, column 5: Unexpected token )".
func (e *CompileError) Error() string {
	if e.Line <= 0 {
		return e.Message
	}
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// Compile compiles a script body in which a top-level return gives the
// script's result. Source maps are disabled, so a "//# sourceMappingURL="
// comment never makes the compiler read a file. A syntax error is returned
// as a *CompileError.
func Compile(name, src string) (*Program, error) {
	p := &Program{name: name, lines: strings.Count(src, "\n") + 1}
	p.last = len(src) - (strings.LastIndexByte(src, '\n') + 1)
	if line, col, n := longBigIntLiteral(src); n > 0 {
		return nil, &CompileError{Name: name, Line: line, Column: col, Message: bigIntLiteralError(n)}
	}
	wrapped := wrapPrefix + src + wrapSuffix

	// parser.ParseFile is what goja.Parse calls; calling it directly keeps
	// the error's position, which goja.Parse drops.
	ast, err := parser.ParseFile(nil, name, wrapped, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, p.compileError(err)
	}
	p.reach = analyse(ast)
	if p.reach.bigints() {
		rewriteArith(ast)
	}
	prog, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, p.compileError(err)
	}
	p.prog = prog
	return p, nil
}

// compileError converts a parser or compiler error into a *CompileError.
func (p *Program) compileError(err error) *CompileError {
	ce := &CompileError{Name: p.name, Message: err.Error()}
	var list parser.ErrorList
	var perr *parser.Error
	var syn *goja.CompilerSyntaxError
	var ref *goja.CompilerReferenceError
	switch {
	case errors.As(err, &list) && len(list) > 0:
		p.setSyntaxError(ce, list[0])
	case errors.As(err, &perr):
		p.setSyntaxError(ce, perr)
	case errors.As(err, &syn):
		ce.Message = syn.Message
		if syn.File != nil {
			pos := syn.File.Position(syn.Offset)
			ce.Line, ce.Column = p.userPosition(pos.Line, pos.Column)
		}
	case errors.As(err, &ref):
		ce.Message = ref.Message
		if ref.File != nil {
			pos := ref.File.Position(ref.Offset)
			ce.Line, ce.Column = p.userPosition(pos.Line, pos.Column)
		}
	}
	return ce
}

// setSyntaxError fills ce from a parser error. An error in the wrapper's
// closing line means the user's source ended too early (an unclosed block
// or call), which the parser reports as an unexpected "}" or ")".
func (p *Program) setSyntaxError(ce *CompileError, e *parser.Error) {
	ce.Message = e.Message
	if e.Position.Line > p.lines {
		ce.Message = "Unexpected end of input"
	}
	ce.Line, ce.Column = p.userPosition(e.Position.Line, e.Position.Column)
}

// userPosition maps a position in the wrapped source to the user's source.
// A position in the wrapper's closing line (an unclosed block, say) is
// reported at the end of the user's last line.
func (p *Program) userPosition(line, col int) (int, int) {
	if line <= 0 {
		return 0, 0
	}
	if line == 1 {
		col -= len(wrapPrefix)
	}
	if line > p.lines {
		line, col = p.lines, p.last+1
	}
	if col < 1 {
		col = 1
	}
	return line, col
}
