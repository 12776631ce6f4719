package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/storage"
)

// deliveriesCmd: switchyard deliveries list|retry, over the admin API.
func deliveriesCmd(ctx context.Context, args []string, cio cmdIO) int {
	return dispatch(ctx, "deliveries", "Outbound deliveries of events to endpoints: list them, retry them.", []subcommand{
		{"list", "list deliveries, newest first, by endpoint, event, status and time", deliveriesList},
		{"retry", "deliver finished deliveries again now (same webhook-id, fresh retry budget)", deliveriesRetry},
	}, args, cio)
}

func deliveriesList(ctx context.Context, args []string, cio cmdIO) int {
	c := newAPICommand("deliveries list", "", "List outbound deliveries, newest first (GET /api/v1/deliveries), following the API's pages up to --limit.", []string{
		"switchyard deliveries list --status FAILED --since 24h",
		"switchyard deliveries list --endpoint pagerduty --output json",
	}, cio)
	endpoint := c.fs.String("endpoint", "", "the endpoint (name or id)")
	event := c.fs.String("event", "", "the id of the event delivered")
	status := c.fs.String("status", "", "PENDING, SUCCESS or FAILED")
	since := c.fs.String("since", "", "made at or after: an age (1h, 7d), an RFC 3339 time or Unix seconds")
	until := c.fs.String("until", "", "made at or before: an age, an RFC 3339 time or Unix seconds")
	limit := c.fs.Int("limit", 50, "at most this many deliveries")
	cursor := c.fs.String("cursor", "", "go on from where a list stopped (its next_cursor)")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return c.usageError("unexpected argument %q", rest[0])
	}
	if *limit < 1 {
		return c.usageError("--limit must be at least 1")
	}
	now := time.Now()
	s, err := parseSince("since", *since, now)
	var u string
	if err == nil {
		u, err = parseSince("until", *until, now)
	}
	if err != nil {
		return c.usageError("%v", err)
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	// The table names endpoints; the names also resolve --endpoint.
	names, err := namesByID(ctx, cl, "/endpoints")
	if err != nil {
		return c.apiFail(err)
	}
	endpointID, err := idOf(names, "/endpoints", *endpoint)
	if err != nil {
		return c.fail(err)
	}
	q := url.Values{}
	for k, v := range map[string]string{"endpoint_id": endpointID, "event_id": *event, "status": strings.ToUpper(*status), "since": s, "until": u, "cursor": *cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	items, next, err := listPages(ctx, cl, "/deliveries", q, *limit)
	if err != nil {
		return c.apiFail(err)
	}
	err = c.printList(items, next, func(items []json.RawMessage) error {
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED\tSTATUS\tENDPOINT\tEVENT TYPE\tATTEMPTS\tLAST")
		for _, raw := range items {
			var d storage.Delivery
			if err := json.Unmarshal(raw, &d); err != nil {
				return err
			}
			to := names[d.EndpointID]
			if to == "" {
				to = orDash(d.EndpointID)
				if d.EndpointID == "" {
					to = d.Lane // a callback
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", printable(d.ID), stamp(d.CreatedAt), printable(d.Status), printable(to), printable(d.EventType), d.AttemptCount, printable(lastOutcome(d)))
		}
		return tw.Flush()
	})
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// lastOutcome is a delivery's last answer, shortly: its HTTP status
// once ("501", not "501 answered 501", the error's own words), then
// the first line of the error.
func lastOutcome(d storage.Delivery) string {
	var parts []string
	last := firstLine(d.LastError)
	if d.LastStatus != 0 {
		status := fmt.Sprint(d.LastStatus)
		if rest, ok := strings.CutPrefix(last, "answered "+status); ok {
			status, last = status+rest, "" // 500, want 200
		}
		parts = append(parts, clip(status, 60))
	}
	if last != "" {
		parts = append(parts, clip(last, 60))
	}
	if d.NextAt != nil && d.Status == storage.DeliveryPending {
		parts = append(parts, "next "+stamp(*d.NextAt))
	}
	return orDash(strings.Join(parts, " "))
}

func deliveriesRetry(ctx context.Context, args []string, cio cmdIO) int {
	c := newAPICommand("deliveries retry", "ID...", "Deliver each given delivery again now (POST /api/v1/deliveries/{id}/retry): same webhook-id, a fresh retry budget.\nA delivery still PENDING is refused (409).", []string{
		"switchyard deliveries retry 01938a6e-1c2b-7d4e-9f00-2b1c3d4e5f60",
		"switchyard deliveries list --status FAILED --output json | jq -r '.items[].id' | xargs switchyard deliveries retry",
	}, cio)
	ids, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(ids) == 0 {
		return c.usageError("give the ids of the deliveries to retry")
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	code = 0
	var answers []json.RawMessage
	for _, id := range ids {
		var raw json.RawMessage
		if err := cl.Post(ctx, "/deliveries/"+url.PathEscape(id)+"/retry", nil, &raw); err != nil {
			code = c.apiFail(fmt.Errorf("%s: %w", id, err))
			if client.IsStatus(err, http.StatusUnauthorized) || client.IsStatus(err, http.StatusForbidden) {
				return code
			}
			continue
		}
		if c.json() {
			answers = append(answers, raw)
			continue
		}
		var d storage.Delivery
		_ = json.Unmarshal(raw, &d)
		fmt.Fprintf(c.stdout, "retrying %s (%s, %d attempts so far)\n", id, d.Status, d.AttemptCount)
	}
	if c.json() {
		raw, err := json.Marshal(append([]json.RawMessage{}, answers...))
		if err == nil {
			err = c.printJSON(raw)
		}
		if err != nil {
			return c.fail(err)
		}
	}
	return code
}
