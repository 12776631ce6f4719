package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/storage"
)

// Dashboard bounds: the stats read at most this many messages, failed
// message details and deliveries, so a busy instance answers quickly
// (its answer then says "sampled"); /metrics has exact counters.
const (
	statsMaxMessages   = 20000
	statsMaxDetails    = 200
	statsMaxDeliveries = 5000
	statsMaxHours      = 48
	statsMaxBuckets    = 120
)

type statsBucket struct {
	Time   time.Time      `json:"t"`
	Counts map[string]int `json:"counts"`
}

type failing struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Failed int    `json:"failed"`
}

type statsView struct {
	From             time.Time      `json:"from"`
	To               time.Time      `json:"to"`
	BucketSeconds    int            `json:"bucket_seconds"`
	Series           []statsBucket  `json:"series"`
	Totals           map[string]int `json:"totals"`
	FailingProviders []failing      `json:"failing_providers"`
	FailingFunctions []failing      `json:"failing_functions"`
	Deliveries       map[string]int `json:"deliveries"` // by status, in the window
	FailingEndpoints []failing      `json:"failing_endpoints"`
	Queue            struct {
		Messages           int  `json:"messages"`
		DeliveriesInFlight int  `json:"deliveries_in_flight"`
		OutboundPaused     bool `json:"outbound_paused"`
	} `json:"queue"`
	Sampled bool `json:"sampled"`
}

// stats: GET /stats?hours=6 is what the dashboard shows: messages per
// time bucket by status, what is failing, and the queues.
func (s *Server) stats(c echo.Context) error {
	hours := 6
	if v := c.QueryParam("hours"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > statsMaxHours {
			return fmt.Errorf("%w: hours must be a whole number from 1 to %d, got %s", storage.ErrInvalid, statsMaxHours, field.Quote(v))
		}
		hours = n
	}
	ctx := c.Request().Context()
	now := time.Now().UTC()
	bucket := max(time.Minute, time.Duration(hours)*time.Hour/statsMaxBuckets).Truncate(time.Minute)
	to := now.Truncate(bucket).Add(bucket)
	from := to.Add(-time.Duration(hours) * time.Hour)
	v := statsView{From: from, To: to, BucketSeconds: int(bucket / time.Second), Totals: map[string]int{}, Deliveries: map[string]int{}}
	n := int(to.Sub(from) / bucket)
	v.Series = make([]statsBucket, n)
	for i := range v.Series {
		v.Series[i] = statsBucket{Time: from.Add(time.Duration(i) * bucket), Counts: map[string]int{}}
	}

	providers := map[string]*failing{}
	var failedIDs []string
	cursor, seen := "", 0
	for seen < statsMaxMessages {
		page, next, err := s.store.ListMessages(ctx, storage.MessageFilter{Since: from, Cursor: cursor, Limit: maxLimit})
		if err != nil {
			return err
		}
		for _, m := range page {
			seen++
			if i := int(m.ReceivedAt.Sub(from) / bucket); i >= 0 && i < n {
				v.Series[i].Counts[m.Status]++
			}
			v.Totals[m.Status]++
			if m.Status == storage.StatusFailed {
				if m.ProviderID != "" {
					f := providers[m.ProviderID]
					if f == nil {
						f = &failing{ID: m.ProviderID, Name: m.ProviderName}
						providers[m.ProviderID] = f
					}
					f.Failed++
				}
				if len(failedIDs) < statsMaxDetails {
					failedIDs = append(failedIDs, m.ID)
				}
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	v.Sampled = seen >= statsMaxMessages
	v.FailingProviders = ranked(providers)
	v.FailingFunctions = s.failingFunctions(ctx, failedIDs)

	endpoints := map[string]*failing{}
	cursor, seen = "", 0
	for seen < statsMaxDeliveries {
		page, next, err := s.store.ListDeliveries(ctx, storage.DeliveryFilter{Since: from, Cursor: cursor, Limit: maxLimit})
		if err != nil {
			return err
		}
		for _, d := range page {
			seen++
			v.Deliveries[d.Status]++
			if d.Status == storage.DeliveryFailed && d.EndpointID != "" {
				f := endpoints[d.EndpointID]
				if f == nil {
					f = &failing{ID: d.EndpointID}
					endpoints[d.EndpointID] = f
				}
				f.Failed++
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	v.Sampled = v.Sampled || seen >= statsMaxDeliveries
	for id, f := range endpoints {
		if ep, err := s.store.GetEndpoint(ctx, id); err == nil {
			f.Name = ep.Name
		}
	}
	v.FailingEndpoints = ranked(endpoints)
	v.Queue.Messages = s.disp.QueueDepth()
	v.Queue.DeliveriesInFlight = s.notify.InFlight()
	v.Queue.OutboundPaused = s.notify.Paused()
	return c.JSON(http.StatusOK, v)
}

// failingFunctions counts the failed executions of the given messages by
// function.
func (s *Server) failingFunctions(ctx context.Context, ids []string) []failing {
	fns := map[string]*failing{}
	for _, id := range ids {
		d, err := s.store.GetMessage(ctx, id)
		if err != nil {
			continue
		}
		for _, x := range d.Executions {
			if x.Status != storage.StatusFailed {
				continue
			}
			f := fns[x.FunctionID]
			if f == nil {
				f = &failing{ID: x.FunctionID, Name: x.FunctionName}
				fns[x.FunctionID] = f
			}
			f.Failed++
		}
	}
	return ranked(fns)
}

// ranked lists the most failing first (ten at most).
func ranked(m map[string]*failing) []failing {
	out := make([]failing, 0, len(m))
	for _, f := range m {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Failed != out[j].Failed {
			return out[i].Failed > out[j].Failed
		}
		return out[i].Name < out[j].Name
	})
	return out[:min(len(out), 10)]
}
