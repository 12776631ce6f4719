package scripting

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// liveHeap is the heap left after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// One script that grows the heap past the limit is stopped; scripts of
// the same engine running at the same time are not (they started later,
// and once the hostile one is stopped the live heap is under the limit).
// Not parallel: it measures the process heap.
func TestWatchdogStopsTheGrowerNotTheInnocent(t *testing.T) {
	e := NewEngine(Limits{MaxHeap: liveHeap() + 128<<20})
	hostile := mustCompile(t, "grow", `var a = [], s = 'x'.repeat(1 << 20); for (;;) a.push(s + a.length)`)
	innocent := mustCompile(t, "innocent", `var s = 0; for (var i = 0; i < 20000; i++) s += i % 7; return s`)

	grown := make(chan Result, 1)
	go func() { grown <- e.Run(context.Background(), hostile, &Request{}, time.Minute) }()
	// The innocent runs start once the hostile one is running.
	deadline := time.Now().Add(30 * time.Second)
	for e.watchdog.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the hostile script did not start within 30 s")
		}
		runtime.Gosched()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var runs int
	var failed []error
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res := e.Run(context.Background(), innocent, &Request{}, time.Minute)
				mu.Lock()
				runs++
				if res.Err != nil {
					failed = append(failed, res.Err)
				}
				mu.Unlock()
			}
		})
	}
	var res Result
	select {
	case res = <-grown:
	case <-time.After(2 * time.Minute):
		t.Fatal("the hostile script was not stopped within 2 minutes")
	}
	close(stop)
	wg.Wait()
	if !errors.Is(res.Err, ErrMemory) {
		t.Fatalf("hostile: err = %v, want ErrMemory", res.Err)
	}
	if runs == 0 {
		t.Fatal("no innocent script ran while the hostile one grew")
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d innocent runs failed, the first: %v", len(failed), runs, failed[0])
	}
	// The innocent scripts run on afterwards.
	if res := e.Run(context.Background(), innocent, &Request{}, time.Minute); res.Err != nil {
		t.Fatalf("after: %v", res.Err)
	}
}

// Garbage is not memory in use: heap that nothing holds any more (a
// flood of request bodies, answers already sent) does not stop scripts,
// however far past the limit it is. Not parallel: it changes the GC
// percent and measures the process heap.
func TestWatchdogIgnoresGarbage(t *testing.T) {
	e := NewEngine(Limits{MaxHeap: liveHeap() + 64<<20})
	// The collector runs only when the watchdog forces it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for range 64 {
		garbage = make([]byte, 4<<20)
	}
	garbage = nil
	// The script runs long enough for the watchdog to look many times.
	p := mustCompile(t, "innocent", `var s = 0; for (var i = 0; i < 2e5; i++) s += i % 7; return s`)
	res := e.Run(context.Background(), p, &Request{}, time.Minute)
	if res.Err != nil {
		t.Fatalf("err = %v, want success (256 MiB of garbage, 64 MiB limit)", res.Err)
	}
}

// garbage keeps the test's allocations from being optimised away.
var garbage []byte

// A stopped run that takes long to end (stuck in a built-in call) is
// waited for: the watchdog does not stop the next run while the heap does
// not grow. Not parallel: it measures the process heap.
func TestWatchdogWaitsForAStoppedRunToEnd(t *testing.T) {
	w := &watchdog{limit: uint64(liveHeap()) + 64<<20}
	ballast := make([]byte, 128<<20) // held by the first run, as the watchdog sees it
	first, second := w.begin(), w.begin()
	w.attach(first, goja.New(), func() {})
	w.attach(second, goja.New(), func() {})
	defer w.end(second)

	deadline := time.Now().Add(30 * time.Second)
	for !first.stopped.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the first run was not stopped within 30 s")
		}
		runtime.Gosched()
	}
	// The first run does not end; the watchdog holds back (several
	// times, more than stopGrace after the stop), or stops the second.
	for w.heldBack() < 10 && !second.stopped.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the watchdog neither held back nor stopped the second run within 30 s")
		}
		runtime.Gosched()
	}
	if second.stopped.Load() {
		t.Fatal("the second run was stopped while the first was still ending")
	}
	runtime.KeepAlive(ballast)
	w.end(first)
}
