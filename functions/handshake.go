package functions

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/storage"
)

// Handshake runs the providers' handshake scripts for a request that is
// not recorded yet (see providers.Set.Handshake); nil when none answered,
// at once when no active provider has a handshake script. Scripts that
// failed are logged. It fails only when ctx ends or the dispatcher stops.
func (d *Dispatcher) Handshake(ctx context.Context, m storage.Message, payload []byte) (*providers.Answer, error) {
	set := d.catalog.Load().providers
	if !set.HasHandshakes() {
		return nil, nil
	}
	if err := d.slots.enter(ctx); err != nil {
		return nil, ErrStopping
	}
	defer d.slots.leave()
	a, failed, err := set.Handshake(ctx, d.engine, Request(m, payload), d.effectsFor)
	for _, f := range failed {
		d.log.Warn("a handshake script failed; the request goes on to matching", "message_id", m.ID, "err", f)
	}
	return a, err
}

// maxHandshakePayload is the largest body a message answered by a
// handshake keeps.
const maxHandshakePayload = 64 << 10

// RecordAnswered records a request a handshake script answered: SUCCESS,
// with the summary "handshake answered by <provider>" and what was
// answered in its log. It is never processed further.
func (d *Dispatcher) RecordAnswered(ctx context.Context, m storage.Message, payload []byte, a *providers.Answer, took time.Duration) error {
	if !d.claim(m.ID) {
		return ErrStopping
	}
	defer d.release(m.ID) // while claimed, the sweeper leaves the PENDING record alone
	m.Status, m.Size = storage.StatusPending, len(payload)
	if err := d.store.AppendMessage(ctx, m, payload); err != nil {
		return err
	}
	p := a.Provider
	o := storage.Outcome{
		Status:          storage.StatusSuccess,
		ProviderID:      p.ID,
		ProviderName:    p.Name,
		ProviderVersion: p.Version,
		Summary:         "handshake answered by " + p.Name,
		CompletedAt:     time.Now().UTC(),
		DurationMS:      float64(took.Microseconds()) / 1000,
		Logs:            append(a.Logs, note(fmt.Sprintf("answered %d, the RESPONSE set by the handshake script of provider %q", a.Response.Status, p.Name))),
	}
	if len(payload) > maxHandshakePayload {
		// Senders' handshakes are small; a large body answered by a
		// handshake is someone using it to store data for a week.
		o.Strip = true
		o.Logs = append(o.Logs, note(fmt.Sprintf("the payload (%d bytes) and headers were not kept: a handshake's are kept up to %d bytes", len(payload), maxHandshakePayload)))
	}
	return d.record(m, o, time.Now().Add(-took))
}
