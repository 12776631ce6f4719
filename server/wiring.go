package server

import (
	"context"

	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/scripting"
)

// The adapters between packages that do not know each other: each stands
// on its own, and the server, which wires them, fits them together.

// scriptHTTP sends scripts' HTTP.request through the egress guard.
type scriptHTTP struct{ c *egress.Client }

// Do implements scripting.HTTPClient. The two packages' request and
// response have the same fields, so they convert as they are.
func (h scriptHTTP) Do(ctx context.Context, r *scripting.HTTPRequest) (*scripting.HTTPResponse, error) {
	resp, err := h.c.Do(ctx, (*egress.Request)(r))
	return (*scripting.HTTPResponse)(resp), err
}
