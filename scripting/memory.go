package scripting

import (
	"errors"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// DefaultMaxHeap is the default of Limits.MaxHeap.
const DefaultMaxHeap = 2 << 30

// watchInterval is how often the watchdog looks at the heap while scripts
// run.
const watchInterval = 10 * time.Millisecond

// ErrMemory is wrapped by the error of a run stopped because the process
// heap passed Limits.MaxHeap.
var ErrMemory = errors.New("script stopped: the memory limit for scripts was reached")

// errOverHeap is the value runs are interrupted with by the watchdog.
var errOverHeap = errors.New("over the heap limit")

// heapMetric is the bytes of heap objects, live or not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// watchdog stops scripts when the heap (live objects and garbage not yet
// collected) passes a limit. goja has no memory
// accounting: a script that grows a string or an array step by step
// (s += s; a.push(...) in a loop) is bounded only by its deadline, and in
// 30 s can ask for more memory than the machine has, which kills the
// process. The Go runtime cannot say which goroutine allocated what, so
// when the heap passes the limit, every script
// running at that moment is stopped (with ErrMemory); the one that grew it
// is among them. A watchdog goroutine runs only while scripts do.
type watchdog struct {
	limit uint64

	mu      sync.Mutex
	runs    map[*goja.Runtime]struct{}
	running bool
	// tripped counts the times the limit was reached (tests, metrics).
	tripped int
}

// add watches rt until remove.
func (w *watchdog) add(rt *goja.Runtime) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.runs == nil {
		w.runs = map[*goja.Runtime]struct{}{}
	}
	w.runs[rt] = struct{}{}
	if !w.running {
		w.running = true
		go w.loop()
	}
}

// remove stops watching rt.
func (w *watchdog) remove(rt *goja.Runtime) {
	w.mu.Lock()
	delete(w.runs, rt)
	w.mu.Unlock()
}

// loop samples the heap until no script runs.
func (w *watchdog) loop() {
	sample := []metrics.Sample{{Name: heapMetric}}
	heap := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for range t.C {
		w.mu.Lock()
		if len(w.runs) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		if heap() <= w.limit {
			continue
		}
		// No collection first to tell garbage from live memory: a script
		// doubling a string gets through a step (1 GiB to 2 GiB) in the
		// time a collection of such a heap takes.
		w.mu.Lock()
		w.tripped++
		for rt := range w.runs {
			rt.Interrupt(errOverHeap)
		}
		w.mu.Unlock()
	}
}

// formatBytes renders a byte count in MiB or GiB.
func formatBytes(n uint64) string {
	if n%(1<<30) == 0 {
		return strconv.FormatUint(n>>30, 10) + " GiB"
	}
	return strconv.FormatUint(n>>20, 10) + " MiB"
}
