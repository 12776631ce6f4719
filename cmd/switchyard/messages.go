package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard-dev/switchyard/client"
	"github.com/switchyard-dev/switchyard/storage"
)

// messagesCmd: switchyard messages list|get|resubmit, over the admin API.
func messagesCmd(ctx context.Context, args []string, cio cmdIO) int {
	return dispatch(ctx, "messages", "Inbound webhooks: list them, show one, send them through again.", []subcommand{
		{"list", "list messages, newest first, by status, provider, function, URI, text and time", messagesList},
		{"get", "show a message: its request, outcome, function runs and logs", messagesGet},
		{"resubmit", "send messages through again: by id, or all a filter selects (a job)", messagesResubmit},
	}, args, cio)
}

// messageFilterFlags are the filters of GET /messages and of the
// resubmit job (POST /messages/resubmit), by their API names.
type messageFilterFlags struct {
	status, provider, function, uri, q, since, until *string
}

func addMessageFilter(fs *flag.FlagSet) messageFilterFlags {
	return messageFilterFlags{
		status:   fs.String("status", "", "PENDING, SUCCESS, FAILED or UNMATCHED"),
		provider: fs.String("provider", "", "the provider (name or id) that matched"),
		function: fs.String("function", "", "a function (name or id) that ran"),
		uri:      fs.String("uri", "", "the URI the webhook was sent to (below /webhooks/v1/)"),
		q:        fs.String("q", "", "text in the summary or URI (operators: also in headers, logs and payloads)"),
		since:    fs.String("since", "", "received at or after: an age (1h, 7d), an RFC 3339 time or Unix seconds"),
		until:    fs.String("until", "", "received at or before: an age, an RFC 3339 time or Unix seconds"),
	}
}

// given reports whether any filter flag was given.
func (f messageFilterFlags) given() bool {
	for _, v := range []*string{f.status, f.provider, f.function, f.uri, f.q, f.since, f.until} {
		if *v != "" {
			return true
		}
	}
	return false
}

// checkTimes checks --since and --until, a usage error when bad.
func (f messageFilterFlags) checkTimes(now time.Time) error {
	if _, err := parseSince("since", *f.since, now); err != nil {
		return err
	}
	_, err := parseSince("until", *f.until, now)
	return err
}

// values returns the filter by the API's names, with the provider's and
// function's names looked up and ages made times.
func (f messageFilterFlags) values(ctx context.Context, cl *client.Client, now time.Time) (map[string]string, error) {
	out := map[string]string{"status": strings.ToUpper(*f.status), "uri": *f.uri, "q": *f.q}
	var err error
	if out["since"], err = parseSince("since", *f.since, now); err != nil {
		return nil, err
	}
	if out["until"], err = parseSince("until", *f.until, now); err != nil {
		return nil, err
	}
	if out["provider_id"], err = resolveID(ctx, cl, "/providers", *f.provider); err != nil {
		return nil, err
	}
	if out["function_id"], err = resolveID(ctx, cl, "/functions", *f.function); err != nil {
		return nil, err
	}
	for k, v := range out {
		if v == "" {
			delete(out, k)
		}
	}
	return out, nil
}

func messagesList(ctx context.Context, args []string, cio cmdIO) int {
	c := newAPICommand("messages list", "", "List inbound messages, newest first (GET /api/v1/messages), following the API's pages up to --limit.", []string{
		"switchyard messages list --status FAILED --since 1h",
		"switchyard messages list --provider GitHub --q deploy --limit 200 --output json",
	}, cio)
	filter := addMessageFilter(c.fs)
	limit := c.fs.Int("limit", 50, "at most this many messages")
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
	if err := filter.checkTimes(time.Now()); err != nil {
		return c.usageError("%v", err)
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	f, err := filter.values(ctx, cl, time.Now())
	if err != nil {
		return c.apiFail(err)
	}
	q := url.Values{}
	for k, v := range f {
		q.Set(k, v)
	}
	if *cursor != "" {
		q.Set("cursor", *cursor)
	}
	items, next, err := listPages(ctx, cl, "/messages", q, *limit)
	if err != nil {
		return c.apiFail(err)
	}
	err = c.printList(items, next, func(items []json.RawMessage) error {
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRECEIVED\tSTATUS\tPROVIDER\tURI\tSUMMARY")
		looked := 0
		for _, raw := range items {
			var m storage.Message
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			summary := m.Summary
			// The list has no errors: a failed message's is read from the
			// message itself, for a bounded number of rows.
			if m.Status == storage.StatusFailed && looked < maxErrorLookups {
				looked++
				if e := failure(ctx, cl, m.ID); e != "" {
					summary = e
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\t%s\n", printable(m.ID), stamp(m.ReceivedAt), printable(m.Status), printable(orDash(m.ProviderName)), printable(m.Method), printable(m.URI), printable(orDash(clip(summary, 60))))
		}
		return tw.Flush()
	})
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// maxErrorLookups bounds the messages a table reads to show why they
// failed; past it a failed message shows its summary.
const maxErrorLookups = 100

// failure is why the message id failed, shortly: the first line of its
// first failed function's error (after the function's name), or of the
// last error its match logged; "" when it cannot be read.
func failure(ctx context.Context, cl *client.Client, id string) string {
	var d storage.MessageDetail
	if err := cl.Get(ctx, "/messages/"+url.PathEscape(id), nil, &d); err != nil {
		return ""
	}
	for _, e := range d.Executions {
		if e.Status == storage.StatusFailed && e.Error != "" {
			return e.FunctionName + ": " + firstLine(e.Error)
		}
	}
	for i := len(d.Logs) - 1; i >= 0; i-- {
		if d.Logs[i].Level == storage.LevelSevere {
			return firstLine(d.Logs[i].Text)
		}
	}
	return ""
}

func messagesGet(ctx context.Context, args []string, cio cmdIO) int {
	c := newAPICommand("messages get", "ID", "Show one message (GET /api/v1/messages/{id}): its request, outcome, the functions that ran with their logs.", []string{
		"switchyard messages get 01938a6e-1c2b-7d4e-9f00-2b1c3d4e5f60",
		"switchyard messages get --output json 01938a6e-1c2b-7d4e-9f00-2b1c3d4e5f60 | jq .executions",
	}, cio)
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		return c.usageError("give one message id")
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	var raw json.RawMessage
	if err := cl.Get(ctx, "/messages/"+url.PathEscape(rest[0]), nil, &raw); err != nil {
		return c.apiFail(err)
	}
	var err error
	if c.json() {
		err = c.printJSON(raw)
	} else {
		err = c.printMessage(raw)
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// printMessage writes a message for people to read.
func (c *apiCommand) printMessage(raw []byte) error {
	var d storage.MessageDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, printable(v))
		}
	}
	row("id", d.ID)
	row("received", d.ReceivedAt.Local().Format(time.RFC3339))
	row("status", d.Status)
	row("request", d.Method+" "+d.URI)
	row("from", strings.TrimSpace(d.RemoteAddr+" "+d.RemoteHost))
	row("content", fmt.Sprintf("%s, %d bytes", orDash(d.ContentType), d.Size))
	if d.ProviderName != "" {
		row("provider", fmt.Sprintf("%s (version %d)", d.ProviderName, d.ProviderVersion))
	}
	row("summary", d.Summary)
	row("resubmit of", d.ResubmitOf)
	if d.CompletedAt != nil {
		row("completed", fmt.Sprintf("%s (%.1f ms)", d.CompletedAt.Local().Format(time.RFC3339), d.DurationMS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.Logs) > 0 {
		fmt.Fprintln(c.stdout, "\nlogs:")
		c.printLogs(d.Logs)
	}
	if len(d.Executions) == 0 {
		fmt.Fprintln(c.stdout, "\nfunctions: none ran")
		return nil
	}
	fmt.Fprintln(c.stdout, "\nfunctions:")
	for _, e := range d.Executions {
		fmt.Fprintf(c.stdout, "  %s (version %d): %s in %.1f ms\n", printable(e.FunctionName), e.Version, printable(e.Status), e.DurationMS)
		if e.Error != "" {
			fmt.Fprintf(c.stdout, "    error: %s\n", printable(e.Error))
		}
		c.printLogs(e.Logs)
	}
	return nil
}

func (c *apiCommand) printLogs(lines []storage.LogLine) {
	for _, l := range lines {
		src := ""
		if l.Source != "" {
			src = " [" + printable(l.Source) + "]"
		}
		fmt.Fprintf(c.stdout, "    %s %-7s%s %s\n", l.Time.Local().Format("15:04:05.000"), printable(l.Level), src, printable(l.Text))
	}
}

func messagesResubmit(ctx context.Context, args []string, cio cmdIO) int {
	c := newAPICommand("messages resubmit", "[ID...]",
		"Send messages through again, as new messages. Given ids, each of them (POST /api/v1/messages/{id}/resubmit);\n"+
			"given filter flags instead, every message they select, in a job on the server (POST /api/v1/messages/resubmit),\n"+
			"which --wait follows until it ends (GET /api/v1/jobs/{id}).", []string{
			"switchyard messages resubmit 01938a6e-1c2b-7d4e-9f00-2b1c3d4e5f60",
			"switchyard messages resubmit --status FAILED --since 1h --wait",
		}, cio)
	filter := addMessageFilter(c.fs)
	limit := c.fs.Int("limit", 0, "with a filter: at most this many messages (default: the server's bound, 10000)")
	wait := c.fs.Bool("wait", false, "with a filter: follow the job until it ends; exit 1 unless every message was resubmitted")
	ids, code, ok := c.parse(args)
	if !ok {
		return code
	}
	switch {
	case len(ids) > 0 && (filter.given() || *limit != 0 || *wait):
		return c.usageError("give message ids or filter flags, not both")
	case len(ids) == 0 && !filter.given():
		return c.usageError("give message ids, or filter flags (e.g. --status FAILED --since 1h)")
	case *limit < 0:
		return c.usageError("--limit must not be negative")
	}
	if err := filter.checkTimes(time.Now()); err != nil {
		return c.usageError("%v", err)
	}
	cl, code, ok := c.client()
	if !ok {
		return code
	}
	if len(ids) > 0 {
		return c.resubmitEach(ctx, cl, ids)
	}
	f, err := filter.values(ctx, cl, time.Now())
	if err != nil {
		return c.apiFail(err)
	}
	body := map[string]any{}
	for k, v := range f {
		body[k] = v
	}
	if *limit > 0 {
		body["limit"] = *limit
	}
	var started json.RawMessage
	if err := cl.Post(ctx, "/messages/resubmit", body, &started); err != nil {
		return c.apiFail(err)
	}
	var job struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(started, &job); err != nil || job.ID == "" {
		return c.fail(fmt.Errorf("the server's answer names no job: %s", started))
	}
	if !*wait {
		if c.json() {
			err = c.printJSON(started)
		} else {
			_, err = fmt.Fprintf(c.stdout, "resubmit job %s started; follow it with GET /api/v1/jobs/%s, or use --wait\n", job.ID, job.ID)
		}
		if err != nil {
			return c.fail(err)
		}
		return 0
	}
	return c.waitJob(ctx, cl, job.ID)
}

// resubmitEach resubmits each message; one that fails does not stop the
// others, and makes the exit code 1.
func (c *apiCommand) resubmitEach(ctx context.Context, cl *client.Client, ids []string) int {
	code := 0
	var answers []json.RawMessage
	for _, id := range ids {
		var raw json.RawMessage
		if err := cl.Post(ctx, "/messages/"+url.PathEscape(id)+"/resubmit", nil, &raw); err != nil {
			code = c.apiFail(fmt.Errorf("%s: %w", id, err))
			if client.IsStatus(err, http.StatusUnauthorized) || client.IsStatus(err, http.StatusForbidden) {
				return code // the others would fail the same way
			}
			continue
		}
		if c.json() {
			answers = append(answers, raw)
			continue
		}
		var a struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		_ = json.Unmarshal(raw, &a)
		fmt.Fprintf(c.stdout, "resubmitted %s as %s (%s)\n", id, a.ID, a.Status)
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

// jobPoll is how often --wait asks how a job goes.
var jobPoll = 500 * time.Millisecond

// jobState is what GET /jobs/{id} answers, of what --wait shows.
type jobState struct {
	State  string `json:"state"`
	Total  int    `json:"total"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
	Error  string `json:"error"`
}

// waitJob follows the job id until it ends, printing its progress to
// stderr as it changes, and its end to stdout.
func (c *apiCommand) waitJob(ctx context.Context, cl *client.Client, id string) int {
	tick := time.NewTicker(jobPoll)
	defer tick.Stop()
	var last jobState
	for {
		var raw json.RawMessage
		if err := cl.Get(ctx, "/jobs/"+url.PathEscape(id), nil, &raw); err != nil {
			return c.apiFail(err)
		}
		var j jobState
		if err := json.Unmarshal(raw, &j); err != nil {
			return c.fail(fmt.Errorf("job %s: the answer is not a job: %w", id, err))
		}
		if j.State != "running" {
			var err error
			if c.json() {
				err = c.printJSON(raw)
			} else {
				_, err = fmt.Fprintf(c.stdout, "job %s %s: %d of %d messages resubmitted, %d failed%s\n", id, j.State, j.Done, j.Total, j.Failed, errSuffix(j.Error))
			}
			if err != nil {
				return c.fail(err)
			}
			if j.State != "done" || j.Failed > 0 {
				return 1
			}
			return 0
		}
		if j != last {
			fmt.Fprintf(c.stderr, "job %s: %d of %d done, %d failed\n", id, j.Done, j.Total, j.Failed)
			last = j
		}
		select {
		case <-ctx.Done():
			return c.fail(fmt.Errorf("stopped waiting; job %s goes on (cancel it with POST /api/v1/jobs/%s/cancel): %w", id, id, ctx.Err()))
		case <-tick.C:
		}
	}
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return " (" + e + ")"
}
