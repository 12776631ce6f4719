package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/notify/broker"
	"github.com/switchyard-dev/switchyard/notify/egress"
	"github.com/switchyard-dev/switchyard/storage"
)

// Destinations other than HTTP: an endpoint whose url names a message
// broker (package broker) gets the same request built (body, webhook-id,
// signature) and publishes it through the engine's broker pool, which
// keeps one connection per enabled broker endpoint. The attempt succeeds
// when the broker confirms the message; the attempt log holds the
// broker's receipt as the response ("confirmed: delivery tag 7").

// brokerSpec is what t's broker is reached with, or nil when t sends
// HTTP.
func brokerSpec(ep storage.Endpoint) (*broker.Spec, error) {
	if !broker.IsBroker(ep.URL) {
		return nil, nil
	}
	d, err := broker.Parse(ep.URL)
	if err != nil {
		return nil, fmt.Errorf("url %w", err)
	}
	s := &broker.Spec{Destination: d, Concurrency: ep.Concurrency}
	if ep.Auth.Type == "basic" {
		s.Credentials = broker.Credentials{Username: ep.Auth.Username, Password: ep.Auth.Password}
	}
	return s, nil
}

// brokerSpecs are the specs of the enabled broker endpoints of targets,
// which the pool keeps connections for.
func brokerSpecs(targets map[string]*target) map[string]broker.Spec {
	specs := map[string]broker.Spec{}
	for id, t := range targets {
		if t.broker != nil && t.ep.Enabled {
			specs[id] = *t.broker
		}
	}
	return specs
}

// publish makes one attempt at a broker endpoint: o published with the
// connection pool keeps under key, within o's timeout.
func publish(ctx context.Context, pool *broker.Pool, key string, spec broker.Spec, o *outgoing, start time.Time) result {
	r := result{attempt: storage.Attempt{At: start.UTC()}}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	receipt, err := pool.Publish(ctx, key, spec, brokerMessage(o))
	r.attempt.LatencyMS = ms(time.Since(start))
	if err != nil {
		r.attempt.Error = spec.Destination.Kind + ": " + publishError(ctx, err, o.timeout)
		return r
	}
	r.ok = true
	r.attempt.Response = "confirmed: " + receipt
	return r
}

// brokerMessage is o as a broker message: the body, and the headers that
// say what it is (lower case, as Standard Webhooks spells them).
func brokerMessage(o *outgoing) broker.Message {
	m := broker.Message{Body: o.body, ContentType: o.header.Get("Content-Type")}
	for _, h := range [...]struct{ name, key string }{
		{broker.HeaderID, "Webhook-Id"},
		{broker.HeaderTimestamp, "Webhook-Timestamp"},
		{broker.HeaderEvent, "X-Switchyard-Event"},
		{broker.HeaderSignature, "Webhook-Signature"},
	} {
		if v := o.header[h.key]; len(v) > 0 {
			m.Headers = append(m.Headers, [2]string{h.name, v[0]})
		}
	}
	return m
}

// publishError describes a failed publish.
func publishError(ctx context.Context, err error, timeout time.Duration) string {
	var re *egress.RefusedError
	switch {
	case errors.As(err, &re):
		return strings.Replace(re.Error(), "outbound HTTP", "outbound connections", 1)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %s (%v)", timeout, err)
	}
	return err.Error()
}
