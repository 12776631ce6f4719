package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
)

// Filter jobs: POST /messages/resubmit and POST /messages/delete select
// messages by a filter and act on them in the background. A job's record
// lives in the store's settings (jobSetting), so every node of a cluster
// answers GET /jobs/{id}; the work runs on the node that took the
// request, and does not survive its stop (the record then reads
// "interrupted").
const (
	// maxJobMessages bounds the messages one job acts on (and is the
	// filter's limit when it gives none).
	maxJobMessages = 10_000
	// maxRunningJobs bounds the jobs one node runs at once; past it a new
	// job is refused with 429.
	maxRunningJobs = 2
	// jobBatch is how many messages a job acts on between two looks at
	// its cancel flag and two progress saves.
	jobBatch = 100
	// jobResubmitters is how many messages of a batch a resubmit job
	// sends through at once.
	jobResubmitters = 16
	// jobSaveEvery spaces a job's progress saves (each is a write that
	// every node of a cluster hears about as a settings change).
	jobSaveEvery = time.Second
	// jobStale: a running job whose record was not saved for this long
	// has lost its node (jobs save at least every jobSaveEvery while they
	// act, and a page of the filter takes well under this).
	jobStale = 2 * time.Minute
)

// Job states.
const (
	jobRunning     = "running"
	jobDone        = "done"
	jobFailed      = "failed"
	jobCancelled   = "cancelled"
	jobInterrupted = "interrupted"
)

// jobFilter is the body of POST /messages/resubmit and /messages/delete.
type jobFilter struct {
	Status     string `json:"status,omitempty"`
	ProviderID string `json:"provider_id,omitempty"`
	FunctionID string `json:"function_id,omitempty"`
	URI        string `json:"uri,omitempty"`
	Q          string `json:"q,omitempty"`
	Since      string `json:"since,omitempty"`
	Until      string `json:"until,omitempty"`
	Limit      int    `json:"limit,omitempty"`
}

// job is a filter job's record, as GET /jobs/{id} answers it.
type job struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // "resubmit" or "delete"
	State     string    `json:"state"`
	Total     int       `json:"total"`  // messages selected (0 while selecting)
	Done      int       `json:"done"`   // acted on
	Failed    int       `json:"failed"` // could not be acted on
	Error     string    `json:"error,omitempty"`
	Filter    jobFilter `json:"filter"`
	Actor     string    `json:"actor"`
	Node      string    `json:"node"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func jobSetting(id string) string       { return "job:" + id }
func jobCancelSetting(id string) string { return "job:" + id + ":cancel" }

// jobRunner runs this node's filter jobs in the background.
type jobRunner struct {
	ctx     context.Context // ends at shutdown
	stop    context.CancelFunc
	wg      sync.WaitGroup
	running chan struct{} // a token per running job
}

func newJobRunner() *jobRunner {
	ctx, stop := context.WithCancel(context.Background())
	return &jobRunner{ctx: ctx, stop: stop, running: make(chan struct{}, maxRunningJobs)}
}

// close stops the running jobs and waits for them to record that.
func (r *jobRunner) close() {
	r.stop()
	r.wg.Wait()
}

// resubmitMessages: POST /messages/resubmit starts a job that resubmits
// every message the filter selects.
func (s *Server) resubmitMessages(c echo.Context) error {
	return s.startJob(c, "resubmit", s.resubmitBatch)
}

// deleteMessages: POST /messages/delete starts a job that deletes every
// message the filter selects, with its payload, logs and executions.
func (s *Server) deleteMessages(c echo.Context) error {
	return s.startJob(c, "delete", func(ctx context.Context, ids []string) (int, error) {
		if _, err := s.store.DeleteMessages(ctx, ids); err != nil {
			return 0, err
		}
		return len(ids), nil // those already gone are gone as asked
	})
}

// startJob reads the filter, records the job and starts it: 202 {"id"}.
func (s *Server) startJob(c echo.Context, kind string, act func(context.Context, []string) (int, error)) error {
	var in jobFilter
	if err := decode(c, &in); err != nil {
		return err
	}
	f, err := in.filter()
	if err != nil {
		return err
	}
	select {
	case s.jobs.running <- struct{}{}:
	default:
		return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("this node already runs %d jobs; try again when one has finished", maxRunningJobs))
	}
	p := principal(c)
	now := time.Now().UTC()
	j := job{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, State: jobRunning, Filter: in, Actor: p.Name, Node: s.node.ID(), CreatedAt: now, UpdatedAt: now}
	if err := s.saveJob(c.Request().Context(), &j); err != nil {
		<-s.jobs.running
		return err
	}
	detail, _ := json.Marshal(in)
	setAudit(c, "", j.ID, string(detail))
	s.jobs.wg.Go(func() {
		defer func() { <-s.jobs.running }()
		s.runJob(s.jobs.ctx, &j, f, act)
	})
	return c.JSON(http.StatusAccepted, map[string]string{"id": j.ID})
}

// filter checks the body and turns it into the store's filter; a job
// searches as deep as an operator's list does.
func (in *jobFilter) filter() (storage.MessageFilter, error) {
	f := storage.MessageFilter{Deep: true}
	if in.Status != "" {
		st := strings.ToUpper(in.Status)
		if !contains(messageStatuses, st) {
			return f, fmt.Errorf("%w: status must be one of %s", storage.ErrInvalid, strings.Join(messageStatuses, ", "))
		}
		f.Status = st
	}
	var err error
	if in.Since != "" {
		if f.Since, err = parseTime("since", in.Since); err != nil {
			return f, err
		}
	}
	if in.Until != "" {
		if f.Until, err = parseTime("until", in.Until); err != nil {
			return f, err
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until) {
		return f, fmt.Errorf("%w: since must not be after until", storage.ErrInvalid)
	}
	switch {
	case in.Limit < 0 || in.Limit > maxJobMessages:
		return f, fmt.Errorf("%w: limit must be a whole number from 1 to %d, got %d", storage.ErrInvalid, maxJobMessages, in.Limit)
	case in.Limit == 0:
		in.Limit = maxJobMessages
	}
	return f, readFilterFields(&f, in.ProviderID, in.FunctionID, in.URI, in.Q)
}

// runJob selects the messages, then acts on them a batch at a time,
// saving its progress, until done, cancelled or stopped.
func (s *Server) runJob(ctx context.Context, j *job, f storage.MessageFilter, act func(context.Context, []string) (int, error)) {
	ids, err := s.selectMessages(ctx, f, j.Filter.Limit)
	if err == nil {
		j.Total = len(ids)
		err = s.saveJob(ctx, j)
	}
	last := time.Now()
	for start := 0; err == nil && start < len(ids); start += jobBatch {
		if s.jobCancelled(ctx, j.ID) {
			j.State = jobCancelled
			break
		}
		batch := ids[start:min(start+jobBatch, len(ids))]
		n, actErr := act(ctx, batch)
		if ctx.Err() != nil {
			err = ctx.Err()
			break
		}
		j.Done += n
		j.Failed += len(batch) - n
		if actErr != nil {
			s.log.Warn("a filter job could not act on a batch", "job", j.ID, "kind", j.Kind, "err", actErr)
			j.Error = actErr.Error()
		}
		if time.Since(last) >= jobSaveEvery {
			last = time.Now()
			err = s.saveJob(ctx, j)
		}
	}
	switch {
	case ctx.Err() != nil:
		j.State, j.Error = jobInterrupted, "the node stopped before the job finished"
	case err != nil:
		j.State, j.Error = jobFailed, err.Error()
		s.log.Error("a filter job failed", "job", j.ID, "kind", j.Kind, "err", err)
	case j.State == jobRunning && j.Failed > 0 && j.Done == 0:
		j.State = jobFailed
	case j.State == jobRunning:
		j.State = jobDone
	}
	// Recorded even when the node is stopping, within a short time.
	saveCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.saveJob(saveCtx, j); err != nil {
		s.log.Error("could not record the end of a filter job", "job", j.ID, "err", err)
	}
}

// selectMessages pages through the filter's messages, newest first, up to
// limit of them. Each page is bounded (see storage.SearchScan); the job
// goes on until the filter's end.
func (s *Server) selectMessages(ctx context.Context, f storage.MessageFilter, limit int) ([]string, error) {
	var ids []string
	for len(ids) < limit {
		f.Limit = min(maxLimit, limit-len(ids))
		items, next, err := s.store.ListMessages(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("select messages: %w", err)
		}
		for _, m := range items {
			ids = append(ids, m.ID)
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	return ids, nil
}

// resubmitBatch resubmits each message as POST /messages/{id}/resubmit
// does (asynchronously), jobResubmitters at a time so that their appends
// share commits, and says how many it resubmitted.
func (s *Server) resubmitBatch(ctx context.Context, ids []string) (int, error) {
	var (
		mu   sync.Mutex
		n    int
		last error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, jobResubmitters)
	)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := s.resubmitOne(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				last = err
				return
			}
			n++
		})
	}
	wg.Wait()
	return n, last
}

// resubmitOne sends the message id through again as a new message.
func (s *Server) resubmitOne(ctx context.Context, id string) error {
	d, err := s.store.GetMessage(ctx, id)
	var body []byte
	if err == nil {
		body, err = s.store.GetPayload(ctx, id)
	}
	if err == nil {
		err = s.disp.Accept(ctx, resubmission(d.Message), body)
	}
	if err != nil {
		return fmt.Errorf("resubmit %s: %w", id, err)
	}
	s.metrics.received.Inc()
	return nil
}

// jobCancelled reports whether someone asked to cancel the job.
func (s *Server) jobCancelled(ctx context.Context, id string) bool {
	v, err := s.store.Setting(ctx, jobCancelSetting(id))
	return err == nil && v != nil
}

func (s *Server) saveJob(ctx context.Context, j *job) error {
	j.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := s.store.PutSetting(ctx, jobSetting(j.ID), b); err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	return nil
}

// loadJob reads a job's record; a running one whose node has not saved it
// for jobStale reads "interrupted".
func (s *Server) loadJob(ctx context.Context, id string) (job, error) {
	var j job
	if _, err := uuid.Parse(id); err != nil {
		return j, fmt.Errorf("job %s: %w", strconv.Quote(id), storage.ErrNotFound)
	}
	b, err := s.store.Setting(ctx, jobSetting(id))
	if err != nil {
		return j, err
	}
	if b == nil {
		return j, fmt.Errorf("job %s: %w", id, storage.ErrNotFound)
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return j, fmt.Errorf("job %s: %w", id, err)
	}
	if j.State == jobRunning && time.Since(j.UpdatedAt) > jobStale {
		j.State, j.Error = jobInterrupted, "its node stopped before the job finished"
	}
	return j, nil
}

// getJob: GET /jobs/{id} answers the job's progress, from any node.
func (s *Server) getJob(c echo.Context) error {
	j, err := s.loadJob(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

// cancelJob: POST /jobs/{id}/cancel asks the job to stop before its next
// batch; it answers the job as it stands. Cancelling a delete job takes
// the admin role, like starting one.
func (s *Server) cancelJob(c echo.Context) error {
	ctx := c.Request().Context()
	j, err := s.loadJob(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if p := principal(c); j.Kind == "delete" && !p.Can(access.Admin) {
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("the %s role may not cancel a delete job (it needs the %s permission)", p.Role, access.Admin))
	}
	if j.State != jobRunning {
		return fmt.Errorf("%w: the job is %s already", storage.ErrConflict, j.State)
	}
	if err := s.store.PutSetting(ctx, jobCancelSetting(j.ID), []byte("1")); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, j)
}
