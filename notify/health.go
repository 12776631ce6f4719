package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// The health stage: after each attempt, an endpoint's failure record, and
// disabling an endpoint that keeps failing or answers 410.

// health updates an endpoint's failure record after an attempt: a 410
// disables it at once; a success clears the record; an exhausted delivery
// adds to it and disables the endpoint past its auto_disable thresholds.
func (e *Engine) health(ctx context.Context, id string, d storage.Delivery, r result, status string) {
	e.healthMu.Lock()
	defer e.healthMu.Unlock()
	t, ok := e.endpoints.get(id)
	if !ok || !t.ep.Enabled {
		return
	}
	h := t.ep.EndpointHealth
	switch {
	case r.gone:
		e.disable(ctx, t.ep, h, "the endpoint answered 410 Gone")
		return
	case status == storage.DeliverySuccess:
		if h.FailingSince == nil && h.ConsecutiveFailures == 0 {
			return
		}
		h.FailingSince, h.ConsecutiveFailures = nil, 0
	case status == storage.DeliveryFailed:
		h.ConsecutiveFailures++
		if h.FailingSince == nil {
			since := d.CreatedAt
			h.FailingSince = &since
		}
		ad := t.ep.AutoDisable
		failingFor := time.Duration(ad.FailingForHours) * time.Hour
		switch {
		case ad.ConsecutiveFailures > 0 && h.ConsecutiveFailures >= ad.ConsecutiveFailures:
			e.disable(ctx, t.ep, h, fmt.Sprintf("%d deliveries in a row failed", h.ConsecutiveFailures))
			return
		case failingFor > 0 && time.Since(*h.FailingSince) >= failingFor:
			e.disable(ctx, t.ep, h, fmt.Sprintf("deliveries have been failing since %s", h.FailingSince.UTC().Format(time.RFC3339)))
			return
		}
	default:
		return
	}
	e.setHealth(ctx, id, h)
}

// disable turns an endpoint off and publishes endpoint.disabled.
func (e *Engine) disable(ctx context.Context, ep storage.Endpoint, h storage.EndpointHealth, reason string) {
	h.Enabled, h.DisabledReason = false, reason
	if !e.setHealth(ctx, ep.ID, h) {
		return
	}
	e.log.Warn("outbound endpoint disabled", "endpoint", ep.ID, "name", ep.Name, "reason", reason)
	if e.onDisable != nil {
		e.onDisable(ctx, ep, reason)
	}
	ev := systemEvent(EndpointDisabled, map[string]any{"endpoint_id": ep.ID, "endpoint_name": ep.Name, "reason": reason})
	if _, _, err := e.Publish(ctx, ev); err != nil {
		e.log.Error("publishing endpoint.disabled", "endpoint", ep.ID, "err", err)
	}
}

// setHealth stores h and refreshes the endpoint's target.
func (e *Engine) setHealth(ctx context.Context, id string, h storage.EndpointHealth) bool {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	ep, err := e.store.SetEndpointHealth(ctx, id, h)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			e.log.Error("recording endpoint health", "endpoint", id, "err", err)
		}
		return false
	}
	t, err := newTarget(ep, time.Now())
	if err != nil {
		return false
	}
	e.endpoints.update(id, t, e.sched)
	return true
}
