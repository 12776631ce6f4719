package server

import (
	"strconv"
	"testing"
	"time"
)

// The table never holds more than its capacity, however many addresses
// come, and the addresses it forgot start over with a full burst.
func TestRateLimiterTableIsBounded(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(1, 2, 100)
	now := time.Unix(1_700_000_000, 0)
	for i := range 10000 {
		l.take("203.0."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256), now)
		if n := l.order.Len(); n > 100 || len(l.byKey) != n {
			t.Fatalf("after %d addresses the table holds %d (%d keyed), want at most 100", i+1, n, len(l.byKey))
		}
	}
	// The newest addresses are remembered, spent.
	l.take("203.0.39.15", now)
	if ok, wait := l.take("203.0.39.15", now); ok || wait != time.Second {
		t.Fatalf("a remembered address past its burst: %v, wait %s", ok, wait)
	}
	// IPv6 addresses of one /64 are one key, and count together.
	for i := range 2 {
		if ok, _ := l.take("2001:db8:0:1::"+strconv.Itoa(i+1), now); !ok {
			t.Fatalf("IPv6 request %d within the burst refused", i)
		}
	}
	if ok, _ := l.take("2001:db8:0:1:ffff::1", now); ok {
		t.Fatal("a third request from one /64 allowed past a burst of 2")
	}
	// Tokens come back at the rate, up to the burst.
	if ok, _ := l.take("2001:db8:0:1::1", now.Add(time.Second)); !ok {
		t.Fatal("no token back after a second at 1/s")
	}
	if ok, _ := l.take("2001:db8:0:1::1", now.Add(time.Second)); ok {
		t.Fatal("two tokens back after a second at 1/s")
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for wait, want := range map[time.Duration]string{time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", 1000 * time.Second: "1000"} {
		if got := retryAfter(wait); got != want {
			t.Errorf("retryAfter(%s) = %s, want %s", wait, got, want)
		}
	}
}

// BenchmarkRateLimiterTake is what the limit costs a webhook when it is
// on: one bucket taken, from one of 64 senders.
func BenchmarkRateLimiterTake(b *testing.B) {
	l := newRateLimiter(1e9, 1e9, rateKeys)
	addrs := make([]string, 64)
	for i := range addrs {
		addrs[i] = "10.0." + strconv.Itoa(i) + ".1"
	}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.take(addrs[i%len(addrs)], now)
	}
}
