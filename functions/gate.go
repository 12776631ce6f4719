package functions

import (
	"context"
	"time"

	"github.com/switchyard-dev/switchyard/scripting"
)

// gate bounds how many scripts run JavaScript at once. Scripts are CPU
// work, so a few per core is all that helps; but a script may also wait
// on the world (HTTP.request to a slow CI server, a DEDUPE write), and a
// waiting script should not keep others from the CPU. So many messages
// are processed at once (Options.Workers) while only gate-many scripts
// hold a slot; a script gives its slot up for the length of each call
// that waits (see gatedEffects). A nil gate admits everyone.
type gate chan struct{}

func newGate(n int) gate { return make(gate, n) }

// enter takes a slot, or fails when ctx ends first.
func (g gate) enter(ctx context.Context) error {
	if g == nil {
		return nil
	}
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave gives a slot back.
func (g gate) leave() {
	if g != nil {
		<-g
	}
}

// wait gives the slot up while fn waits. Taking it back ignores contexts:
// the script's own deadline is enforced by the engine, and its slot must
// be held again before it runs any more JavaScript.
func wait[T any](g gate, fn func() (T, error)) (T, error) {
	g.leave()
	defer func() {
		if g != nil {
			g <- struct{}{}
		}
	}()
	return fn()
}

// gatedEffects are a dispatcher's Effects that give up the script's slot
// while they wait. Only non-nil effects are wrapped, so that a missing
// one still makes its global throw.
func gatedEffects(e *scripting.Effects, g gate) *scripting.Effects {
	if e == nil || g == nil {
		return e
	}
	out := &scripting.Effects{}
	if e.HTTP != nil {
		out.HTTP = gatedHTTP{e.HTTP, g}
	}
	if e.Dedupe != nil {
		out.Dedupe = gatedDedupe{e.Dedupe, g}
	}
	if e.Notify != nil {
		out.Notify = gatedNotify{e.Notify, g}
	}
	return out
}

type gatedHTTP struct {
	inner scripting.HTTPClient
	g     gate
}

func (h gatedHTTP) Do(ctx context.Context, req *scripting.HTTPRequest) (*scripting.HTTPResponse, error) {
	return wait(h.g, func() (*scripting.HTTPResponse, error) { return h.inner.Do(ctx, req) })
}

type gatedDedupe struct {
	inner scripting.Deduper
	g     gate
}

func (d gatedDedupe) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return wait(d.g, func() (bool, error) { return d.inner.FirstSeen(ctx, key, ttl) })
}

type gatedNotify struct {
	inner scripting.Publisher
	g     gate
}

func (n gatedNotify) Publish(ctx context.Context, eventType string, fields scripting.EventFields) (string, error) {
	return wait(n.g, func() (string, error) { return n.inner.Publish(ctx, eventType, fields) })
}

func (n gatedNotify) Webhook(ctx context.Context, req *scripting.WebhookRequest) (string, error) {
	return wait(n.g, func() (string, error) { return n.inner.Webhook(ctx, req) })
}
