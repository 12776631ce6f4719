package main

// Broker mode (-broker amqp,nats,redis or all): for each broker, the
// engine's deliveries per second to broker endpoints (-endpoints of them,
// each with its connection and the default concurrency), every delivery
// confirmed by the broker and recorded SUCCESS in a real bbolt store,
// over the messages per second that a plain client of that broker
// publishes with confirms: as many connections, as many publishes in
// flight, the same body. Plain and engine runs alternate, and the median
// ratio is the figure (goal ≥ 0.5). The brokers are the local ones
// (RabbitMQ 127.0.0.1:5672 guest/guest, NATS with JetStream
// 127.0.0.1:4222, Redis 127.0.0.1:6379); each run publishes to a queue,
// stream or key of its own, deleted after.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
)

const (
	benchAMQP  = "127.0.0.1:5672"
	benchNATS  = "127.0.0.1:4222"
	benchRedis = "127.0.0.1:6379"
)

// destination is one run's place at a broker: the url an endpoint names,
// a plain publisher factory, a count of what arrived, and a cleanup.
type destination struct {
	url     string
	publish func(ctx context.Context) (func(body []byte) error, func(), error) // one plain connection: publish with confirm, close
	count   func(ctx context.Context) (int64, error)
	cleanup func()
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// newDestination makes a fresh queue, stream or key at kind's broker.
func newDestination(ctx context.Context, kind string) (*destination, error) {
	switch kind {
	case "amqp":
		conn, err := amqp.Dial("amqp://guest:guest@" + benchAMQP + "/")
		if err != nil {
			return nil, err
		}
		ch, err := conn.Channel()
		if err != nil {
			conn.Close()
			return nil, err
		}
		q := randomName("sy_bench")
		if _, err := ch.QueueDeclare(q, false, false, false, false, nil); err != nil {
			conn.Close()
			return nil, err
		}
		return &destination{
			url: "amqp://guest:guest@" + benchAMQP + "/?routing_key=" + q,
			publish: func(ctx context.Context) (func([]byte) error, func(), error) {
				c, err := amqp.Dial("amqp://guest:guest@" + benchAMQP + "/")
				if err != nil {
					return nil, nil, err
				}
				pch, err := c.Channel()
				if err == nil {
					err = pch.Confirm(false)
				}
				if err != nil {
					c.Close()
					return nil, nil, err
				}
				return func(body []byte) error {
					dc, err := pch.PublishWithDeferredConfirmWithContext(ctx, "", q, true, false, amqp.Publishing{
						ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: body,
						Headers: amqp.Table{"webhook-id": "msg_x", "x-switchyard-event": eventType},
					})
					if err != nil {
						return err
					}
					if ok, err := dc.WaitContext(ctx); err != nil || !ok {
						return fmt.Errorf("not confirmed: %v", err)
					}
					return nil
				}, func() { c.Close() }, nil
			},
			count: func(ctx context.Context) (int64, error) {
				qi, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
				return int64(qi.Messages), err
			},
			cleanup: func() {
				_, _ = ch.QueueDelete(q, false, false, false)
				conn.Close()
			},
		}, nil
	case "nats":
		nc, err := nats.Connect("nats://" + benchNATS)
		if err != nil {
			return nil, err
		}
		js, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return nil, err
		}
		name := randomName("sy_bench")
		s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Storage: jetstream.FileStorage})
		if err != nil {
			nc.Close()
			return nil, err
		}
		subject := name + ".events"
		return &destination{
			url: "nats://" + benchNATS + "/" + subject,
			publish: func(ctx context.Context) (func([]byte) error, func(), error) {
				c, err := nats.Connect("nats://" + benchNATS)
				if err != nil {
					return nil, nil, err
				}
				pjs, err := jetstream.New(c)
				if err != nil {
					c.Close()
					return nil, nil, err
				}
				return func(body []byte) error {
					m := nats.NewMsg(subject)
					m.Data = body
					m.Header["webhook-id"] = []string{"msg_x"}
					m.Header["x-switchyard-event"] = []string{eventType}
					_, err := pjs.PublishMsg(ctx, m)
					return err
				}, c.Close, nil
			},
			count: func(ctx context.Context) (int64, error) {
				info, err := s.Info(ctx)
				if err != nil {
					return 0, err
				}
				return int64(info.State.Msgs), nil
			},
			cleanup: func() {
				_ = js.DeleteStream(context.Background(), name)
				nc.Close()
			},
		}, nil
	case "redis":
		rc := redis.NewClient(&redis.Options{Addr: benchRedis, Protocol: 2, DisableIdentity: true})
		if err := rc.Ping(ctx).Err(); err != nil {
			rc.Close()
			return nil, err
		}
		stream := randomName("sy_bench")
		return &destination{
			url: "redis://" + benchRedis + "/0?stream=" + stream,
			publish: func(ctx context.Context) (func([]byte) error, func(), error) {
				// A pool as large as the publishes in flight: the engine's
				// is as large as the endpoint's concurrency too.
				c := redis.NewClient(&redis.Options{Addr: benchRedis, Protocol: 2, DisableIdentity: true, PoolSize: 8})
				return func(body []byte) error {
					return c.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"body", body, "webhook-id", "msg_x", "x-switchyard-event", eventType}}).Err()
				}, func() { c.Close() }, nil
			},
			count: func(ctx context.Context) (int64, error) { return rc.XLen(ctx, stream).Result() },
			cleanup: func() {
				rc.Del(context.Background(), stream)
				rc.Close()
			},
		}, nil
	}
	return nil, fmt.Errorf("-broker: %q is not amqp, nats or redis", kind)
}

// brokerPlainRun publishes n copies of the body with confirms from
// b.o.endpoints connections, b.o.concurrency publishes in flight on each.
func (b *bench) brokerPlainRun(ctx context.Context, d *destination, n int64) (tput, error) {
	var next, bad atomic.Int64
	var firstErr atomic.Value
	var pubs []func([]byte) error
	for range b.o.endpoints {
		pub, closeFn, err := d.publish(ctx)
		if err != nil {
			return tput{}, err
		}
		defer closeFn()
		pubs = append(pubs, pub)
	}
	var wg sync.WaitGroup
	c0, t0 := usage(), time.Now()
	for g := range b.o.endpoints * b.o.concurrency {
		wg.Go(func() {
			pub := pubs[g%len(pubs)]
			for next.Add(1) <= n {
				if err := pub(b.body); err != nil {
					firstErr.CompareAndSwap(nil, err)
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t := tput{n: n, wall: time.Since(t0), cpu: usage() - c0}
	if bad.Load() > 0 {
		return t, fmt.Errorf("plain client: %d publishes failed (first error: %v)", bad.Load(), firstErr.Load())
	}
	return t, nil
}

// brokerEngineRun publishes b.o.events events to b.o.endpoints endpoints
// that all name d, and waits until every delivery is recorded SUCCESS.
func (b *bench) brokerEngineRun(ctx context.Context, run string, d *destination) (tput, error) {
	k := b.o.endpoints
	want := int64(b.o.events) * int64(k)
	targets := make([]target, k)
	for i := range targets {
		targets[i] = target{url: d.url}
	}
	e, err := b.openEngine(ctx, run, targets, want)
	if err != nil {
		return tput{}, err
	}
	defer e.close(ctx)
	var next atomic.Int64
	var perr atomic.Value
	var wg sync.WaitGroup
	s0 := e.store.WriterStats()
	c0, t0 := usage(), time.Now()
	for range b.o.publishers {
		wg.Go(func() {
			for {
				seq := next.Add(1)
				if seq > int64(b.o.events) {
					return
				}
				if _, _, err := e.eng.Publish(ctx, event(seq, time.Now())); err != nil {
					perr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	published := time.Since(t0)
	if err, _ := perr.Load().(error); err != nil {
		return tput{}, err
	}
	select {
	case <-e.obs.done:
	case <-time.After(b.o.drain):
		return tput{}, fmt.Errorf("engine run %s: %d of %d deliveries confirmed after %s (%d retries, %d failed)",
			run, e.obs.success.Load(), want, b.o.drain, e.obs.retry.Load(), e.obs.failed.Load())
	}
	// The CPU time stops with the clock: reading every delivery back
	// from the store is the benchmark's check, not the engine's work.
	end, cpu := time.Now(), usage()-c0
	for {
		ok, err := e.allSuccess(ctx, b.o.events)
		if err != nil {
			return tput{}, fmt.Errorf("engine run %s: %w", run, err)
		}
		if ok {
			break
		}
		if time.Since(t0) > b.o.drain {
			return tput{}, fmt.Errorf("engine run %s: not every delivery is SUCCESS in the store after %s", run, b.o.drain)
		}
		time.Sleep(10 * time.Millisecond)
		end, cpu = time.Now(), usage()-c0
	}
	t := tput{n: want, wall: end.Sub(t0), cpu: cpu, publish: published}
	s1 := e.store.WriterStats()
	t.commits, t.writes = s1.Commits-s0.Commits, s1.Writes-s0.Writes
	t.commitT = time.Duration((s1.CommitSeconds - s0.CommitSeconds) * float64(time.Second))
	for _, m := range b.logs.take() {
		b.problems = append(b.problems, "engine run "+run+": "+m)
	}
	if r, f := e.obs.retry.Load(), e.obs.failed.Load(); r+f > 0 {
		b.problems = append(b.problems, fmt.Sprintf("engine run %s: %d attempts to retry, %d failed", run, r, f))
	}
	return t, nil
}

// brokerResult is one broker's runs.
type brokerResult struct {
	kind        string
	plain, eng  []tput
	arrived     int64 // messages at the broker after the runs
	wantArrived int64
}

// brokerMode runs the broker benchmark for each broker of -broker.
func (b *bench) brokerMode() (string, error) {
	ctx := context.Background()
	kinds := strings.Split(b.o.broker, ",")
	if b.o.broker == "all" {
		kinds = []string{"amqp", "nats", "redis"}
	}
	n := int64(b.o.events) * int64(b.o.endpoints)
	var results []brokerResult
	var runErr error
	for _, kind := range kinds {
		d, err := newDestination(ctx, kind)
		if err != nil {
			runErr = fmt.Errorf("%s: %w", kind, err)
			break
		}
		res := brokerResult{kind: kind}
		for r := 1; r <= b.o.rounds && runErr == nil; r++ {
			b.progress("%s round %d: plain client, %d messages, %d connections x %d in flight", kind, r, n, b.o.endpoints, b.o.concurrency)
			var t tput
			err := b.profiled(fmt.Sprintf("%s-plain-%d", kind, r), func() (err error) {
				t, err = b.brokerPlainRun(ctx, d, n)
				return err
			})
			if err != nil {
				runErr = fmt.Errorf("%s: %w", kind, err)
				break
			}
			res.plain = append(res.plain, t)
			b.progress("  %.0f msg/s", t.rate())
			b.progress("%s round %d: engine, %d events x %d endpoints", kind, r, b.o.events, b.o.endpoints)
			err = b.profiled(fmt.Sprintf("%s-engine-%d", kind, r), func() (err error) {
				t, err = b.brokerEngineRun(ctx, fmt.Sprintf("%s%d", kind, r), d)
				return err
			})
			if err != nil {
				runErr = fmt.Errorf("%s: %w", kind, err)
				break
			}
			res.eng = append(res.eng, t)
			b.progress("  %.0f deliveries/s, ratio %.2f", t.rate(), t.rate()/res.plain[len(res.plain)-1].rate())
		}
		res.wantArrived = n * int64(len(res.plain)+len(res.eng))
		res.arrived, err = d.count(ctx)
		if err != nil && runErr == nil {
			runErr = fmt.Errorf("%s: counting the messages: %w", kind, err)
		}
		d.cleanup()
		results = append(results, res)
		if runErr != nil {
			break
		}
	}
	if len(results) == 0 || len(results[0].eng) == 0 {
		return "", runErr
	}
	return b.brokerReport(results), runErr
}

func (b *bench) brokerReport(results []brokerResult) string {
	var sb strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	p("### Broker destinations benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	p("- machine: %d cores (GOMAXPROCS %d), %s, %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	p("- %d events x %d endpoints per engine run (filter: %v), %d publishers; the plain client: %d connections x %d publishes in flight, each waiting for its confirm\n",
		b.o.events, b.o.endpoints, b.o.filter, b.o.publishers, b.o.endpoints, b.o.concurrency)
	p("- brokers on this machine: RabbitMQ %s (a classic queue, persistent messages), NATS %s (a JetStream file stream), Redis %s (XADD)\n\n", benchAMQP, benchNATS, benchRedis)
	p("| broker | plain msg/s (median) | engine deliveries/s (median) | ratio (median of rounds) | goal ≥ 0.5 | engine CPU per delivery | engine: publishing took, of the run | store commits (writes each, ms each) | messages at the broker |\n")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range results {
		var pr, er, ratios []float64
		var cpu, pub, wall, commitT time.Duration
		var delivered int64
		var commits, writes uint64
		for i, e := range r.eng {
			pr = append(pr, r.plain[i].rate())
			er = append(er, e.rate())
			ratios = append(ratios, e.rate()/r.plain[i].rate())
			cpu += e.cpu
			delivered += e.n
			pub, wall, commitT = pub+e.publish, wall+e.wall, commitT+e.commitT
			commits, writes = commits+e.commits, writes+e.writes
		}
		slices.Sort(ratios)
		ratio := median(ratios)
		perDelivery := time.Duration(0)
		if delivered > 0 {
			perDelivery = cpu / time.Duration(delivered)
		}
		share := 0.0
		if wall > 0 {
			share = 100 * pub.Seconds() / wall.Seconds()
		}
		p("| %s | %.0f | %.0f | %.2f | %s | %s | %.0f %% | %d (%.1f, %.1f) | %d of %d |\n", r.kind, median(pr), median(er), ratio, verdict(ratio >= 0.5),
			fmt.Sprintf("%.0f µs", float64(perDelivery.Nanoseconds())/1000), share,
			commits, float64(writes)/float64(max(commits, 1)), float64(commitT.Microseconds())/1000/float64(max(commits, 1)), r.arrived, r.wantArrived)
	}
	if len(b.problems) > 0 {
		p("\nProblems:\n\n")
		for _, pr := range b.problems {
			p("- %s\n", pr)
		}
	}
	return sb.String()
}
