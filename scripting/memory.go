package scripting

import (
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
)

// DefaultMaxHeap is the default of Limits.MaxHeap.
const DefaultMaxHeap = 2 << 30

// Watchdog timings.
const (
	// watchInterval is how often the watchdog looks at the heap while
	// scripts run.
	watchInterval = 10 * time.Millisecond
	// minForcedGC is the least time between two collections the
	// watchdog forces, so that a live heap just under the limit with
	// garbage on top does not turn into a collection every tick.
	minForcedGC = 100 * time.Millisecond
	// stopGrace is how long the watchdog waits for a run it stopped to
	// end (an interrupt takes effect at the next JavaScript step; a
	// built-in call in progress finishes first) before it judges the
	// heap again.
	stopGrace = time.Second
)

// ErrMemory is wrapped by the error of a run stopped because the process
// heap passed Limits.MaxHeap.
var ErrMemory = errors.New("script stopped: the memory limit for scripts was reached")

// errOverHeap is the value runs are interrupted with by the watchdog.
var errOverHeap = errors.New("over the heap limit")

// Heap metrics: the bytes of heap objects, live or not yet swept (cheap,
// read every tick), and the live heap marked by the last collection.
const (
	heapMetric = "/memory/classes/heap/objects:bytes"
	liveMetric = "/gc/heap/live:bytes"
)

// watchdog stops the script that holds the heap past a limit. goja has no
// memory accounting: a script that grows a string or an array step by
// step (s += s; a.push(...) in a loop) is bounded only by its deadline,
// and in 30 s can ask for more memory than the machine has, which kills
// the process.
//
// While scripts run, the heap is sampled every watchInterval. Past the
// limit, the sample may be mostly garbage (a flood of webhooks, a script
// that builds and drops strings), so the watchdog forces a collection
// and judges the live heap. If that is still over, it stops the run that
// has run longest, waits for it to end, and collects and judges again:
// one run at a time, until the live heap is under the limit. A stopped
// run may take long to end (a built-in call in progress finishes first);
// while it has not, the next run is stopped only if the heap has grown
// by more than an eighth of the limit since the stop.
//
// The Go runtime cannot say which goroutine allocated what, so "the one
// that has run longest" is a guess. It holds for the attack it is made
// for: a script that grows the heap by gigabytes has run for a while,
// webhook scripts are short, and a second run is stopped only if the
// live heap is still over once the first has ended.
// It guesses wrong when a long run (one waiting on a slow HTTP.request)
// is older than a fast grower: that run is stopped first, then the
// grower. Memory that no script holds (request bodies, the store) counts
// too: if it alone is over the limit, every run is stopped, one after
// the other, which is what the limit is for. A watchdog goroutine runs
// only while scripts do.
type watchdog struct {
	limit uint64

	mu      sync.Mutex
	runs    map[*watched]struct{}
	running bool
	// tripped counts the runs stopped (tests, metrics).
	tripped int
	// held counts the times it waited for a stopped run to end (tests).
	held int
}

// watched is one run as the watchdog sees it.
type watched struct {
	start time.Time
	done  chan struct{} // closed when the run is over and its runtime out of reach

	// Set by attach, cleared by end, under watchdog.mu.
	rt     *goja.Runtime
	cancel context.CancelFunc

	stopped atomic.Bool // stopped by the watchdog
}

// begin watches a run until end. The runtime is attached when it exists.
func (w *watchdog) begin() *watched {
	r := &watched{start: time.Now(), done: make(chan struct{})}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.runs == nil {
		w.runs = map[*watched]struct{}{}
	}
	w.runs[r] = struct{}{}
	if !w.running {
		w.running = true
		go w.loop()
	}
	return r
}

// attach names the runtime to interrupt and the context to cancel when r
// is stopped.
func (w *watchdog) attach(r *watched, rt *goja.Runtime, cancel context.CancelFunc) {
	w.mu.Lock()
	r.rt, r.cancel = rt, cancel
	w.mu.Unlock()
}

// end stops watching r. Call it once the runtime is out of reach, so that
// a collection afterwards frees what the run held.
func (w *watchdog) end(r *watched) {
	w.mu.Lock()
	delete(w.runs, r)
	r.rt, r.cancel = nil, nil
	w.mu.Unlock()
	close(r.done)
}

// count is the number of runs watched (tests).
func (w *watchdog) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.runs)
}

// loop samples the heap until no script runs.
func (w *watchdog) loop() {
	sample := []metrics.Sample{{Name: heapMetric}}
	read := func(name string) uint64 {
		sample[0].Name = name
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	var lastGC time.Time
	// The heap sampled and the live heap when a run was last stopped:
	// while that run is still ending, another is stopped only if the
	// heap has grown since by more than slack.
	var stopSample, stopLive uint64
	slack := w.limit / 8
	for range t.C {
		w.mu.Lock()
		if len(w.runs) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		ending := w.endingLocked()
		w.mu.Unlock()
		heap := read(heapMetric)
		if heap <= w.limit || ending && heap <= stopSample+slack {
			if ending && heap > w.limit {
				w.holdBack()
			}
			continue
		}
		if time.Since(lastGC) < minForcedGC {
			continue
		}
		runtime.GC()
		lastGC = time.Now()
		live := read(liveMetric)
		if live <= w.limit {
			continue
		}
		if ending && live <= stopLive+slack {
			w.holdBack()
			continue
		}
		if w.stopLongest() {
			// The baseline for "grown since the stop" is taken once the
			// stopped run has had its grace: what it allocated between
			// the judgement above and its interrupt taking effect (on a
			// busy machine, many steps of a fast grower) is its own, not
			// growth elsewhere. If it has ended, this collection frees
			// what it held.
			runtime.GC()
			lastGC = time.Now()
			stopSample, stopLive = read(heapMetric), read(liveMetric)
		}
	}
}

// endingLocked says whether a run the watchdog stopped has not ended yet.
func (w *watchdog) endingLocked() bool {
	for r := range w.runs {
		if r.stopped.Load() {
			return true
		}
	}
	return false
}

// holdBack counts a time the watchdog waited for a stopped run to end.
func (w *watchdog) holdBack() {
	w.mu.Lock()
	w.held++
	w.mu.Unlock()
}

// stopLongest stops the run that has run longest among those not stopped
// yet, and waits up to stopGrace for it to end. It says whether it
// stopped one.
func (w *watchdog) stopLongest() bool {
	w.mu.Lock()
	var victim *watched
	for r := range w.runs {
		if r.rt == nil || r.stopped.Load() {
			continue
		}
		if victim == nil || r.start.Before(victim.start) {
			victim = r
		}
	}
	if victim == nil {
		w.mu.Unlock()
		return false
	}
	w.tripped++
	victim.stopped.Store(true)
	victim.rt.Interrupt(errOverHeap)
	victim.cancel() // Go functions waiting on its context return
	done := victim.done
	w.mu.Unlock()

	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
	}
	return true
}

// formatBytes renders a byte count in MiB or GiB.
func formatBytes(n uint64) string {
	if n%(1<<30) == 0 {
		return strconv.FormatUint(n>>30, 10) + " GiB"
	}
	return strconv.FormatUint(n>>20, 10) + " MiB"
}

// heldBack is how many times the watchdog refrained from stopping
// another run while a stopped one was still ending (tests).
func (w *watchdog) heldBack() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.held
}
