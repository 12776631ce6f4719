package scripting

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/cidr"
)

func TestNetInCIDR(t *testing.T) {
	t.Parallel()
	req := &Request{RemoteAddr: "192.30.253.7"}
	for _, tc := range []struct {
		src  string
		want any
	}{
		{`return NET.inCIDR(FLX_REMOTE_ADDR, "192.30.252.0/22")`, true},
		{`return NET.inCIDR(FLX_REMOTE_ADDR, "192.30.252.0/24")`, false},
		{`return NET.inCIDR(FLX_REMOTE_ADDR, ["10.0.0.0/8", "192.30.252.0/22"])`, true},
		{`return NET.inCIDR(FLX_REMOTE_ADDR, [])`, false},
		{`return NET.inCIDR(FLX_REMOTE_ADDR, "192.30.253.7")`, true},
		{`return NET.inCIDR("::ffff:192.30.253.7", "192.30.252.0/22")`, true},
		{`return NET.inCIDR("2001:db8:1::9", ["2001:db8::/32"])`, true},
		{`return NET.inCIDR("2001:db9::9", "2001:db8::/32")`, false},
		// What a sender sends in place of an address is in no range.
		{`return NET.inCIDR("not an address", "0.0.0.0/0")`, false},
		{`return NET.inCIDR(undefined, "0.0.0.0/0")`, false},
		{`return NET.inCIDR("1".repeat(1000), "0.0.0.0/0")`, false},
		{`return NET.inCIDR(HTTP_HEADERS["x-forwarded-for"], "0.0.0.0/0")`, false},
		{`return Object.keys(NET).join() + " " + NET.inCIDR.name`, "inCIDR inCIDR"},
	} {
		if got := mustValue(t, tc.src, req); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.src, got, tc.want)
		}
	}
	// A range that is not one is the script's mistake, and says where.
	for src, want := range map[string]string{
		`return NET.inCIDR("10.0.0.1", "10.0.0.0/33")`:                 `TypeError: NET.inCIDR: "10.0.0.0/33" is not a CIDR`,
		`return NET.inCIDR("10.0.0.1", ["10.0.0.0/8", "example.com"])`: `NET.inCIDR: cidrs[1]: "example.com" is not a CIDR`,
		`return NET.inCIDR("10.0.0.1", [8])`:                           `cidrs[0]: 8 is not a string`,
		`return NET.inCIDR("10.0.0.1", {length: 1, 0: "10.0.0.0/8"})`:  `cidrs must be a string or an array of strings`,
		`return NET.inCIDR("10.0.0.1")`:                                `cidrs must be a string or an array of strings, not undefined`,
		`return NET.inCIDR("10.0.0.1", "1".repeat(1e6))`:               `is not a CIDR`,
	} {
		res := runScript(t, src, req)
		if res.Err == nil || !strings.Contains(res.Err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, res.Err, want)
		}
	}
}

// NET is installed only in scripts that can reach it.
func TestNetIsLazy(t *testing.T) {
	t.Parallel()
	if p := mustCompile(t, "lazy", `return typeof HMAC`); p.reach.can("NET") {
		t.Fatal("a script that does not name NET reaches it")
	}
	if got := mustValue(t, `return typeof NET`, nil); got != "object" {
		t.Fatalf("typeof NET = %v", got)
	}
}

// FuzzNetInCIDR: NET.inCIDR answers what cidr.Parse and Contains say of
// any address and ranges, and fails only with the TypeError of a range
// that is not one.
func FuzzNetInCIDR(f *testing.F) {
	for _, seed := range [][2]string{
		{"192.30.253.7", "192.30.252.0/22"}, {"::ffff:10.0.0.1", "10.0.0.0/8"}, {"2001:db8::1", "2001:db8::/32"},
		{"fe80::1%eth0", "fe80::/10"}, {"", "0.0.0.0/0"}, {"10.0.0.1", "10.0.0.0/33"}, {"10.0.0.1", "::ffff:10.0.0.0/104"},
	} {
		f.Add(seed[0], seed[1], seed[1])
	}
	e := NewEngine(Limits{})
	prog := mustCompile(f, "net", `return NET.inCIDR(HTTP_HEADERS.ip, [HTTP_HEADERS.a, HTTP_HEADERS.b])`)
	f.Fuzz(func(t *testing.T, ip, a, b string) {
		ip, a, b = strings.ToValidUTF8(ip, "?"), strings.ToValidUTF8(a, "?"), strings.ToValidUTF8(b, "?")
		req := &Request{Headers: map[string]string{"ip": ip, "a": a, "b": b}}
		res := e.Run(context.Background(), prog, req, 20*time.Second)
		var ranges []netip.Prefix
		for _, s := range []string{a, b} {
			p, err := cidr.Parse(s)
			if err != nil || len(s) > maxAddrLen {
				if res.Err == nil || !strings.Contains(res.Err.Error(), "TypeError: NET.inCIDR") {
					t.Fatalf("range %q: error %v, want a TypeError", s, res.Err)
				}
				return
			}
			ranges = append(ranges, p)
		}
		if res.Err != nil {
			t.Fatalf("inCIDR(%q, [%q, %q]): %v", ip, a, b, res.Err)
		}
		addr := netip.Addr{}
		if len(ip) <= maxAddrLen {
			addr = cidr.Addr(ip)
		}
		if want := cidr.Contains(ranges, addr); res.Value != want {
			t.Fatalf("inCIDR(%q, [%q, %q]) = %v, want %v", ip, a, b, res.Value, want)
		}
	})
}
