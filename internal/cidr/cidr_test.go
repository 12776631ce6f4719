package cidr

import (
	"net/netip"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.30.252.0/22":     "192.30.252.0/22",
		" 10.1.2.3/8 ":        "10.0.0.0/8",
		"203.0.113.9":         "203.0.113.9/32",
		"2001:db8::1/32":      "2001:db8::/32",
		"2001:db8::1":         "2001:db8::1/128",
		"::ffff:10.0.0.1":     "10.0.0.1/32",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
		"fe80::1%eth0":        "fe80::1/128",
	} {
		p, err := Parse(in)
		if err != nil || p.String() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "10.0.0.0/33", "example.com", "10.0.0/8", "1.2.3.4/-1", "/8"} {
		if p, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, p)
		}
	}
}

func TestContains(t *testing.T) {
	t.Parallel()
	ranges := []netip.Prefix{mustParse(t, "10.0.0.0/8"), mustParse(t, "2001:db8::/32")}
	for addr, want := range map[string]bool{
		"10.9.8.7": true, "::ffff:10.9.8.7": true, "11.0.0.1": false,
		"2001:db8:1::5": true, "2001:db9::1": false, "": false, "junk": false,
	} {
		if got := Contains(ranges, Addr(addr)); got != want {
			t.Errorf("Contains(%q) = %v, want %v", addr, got, want)
		}
	}
	if Contains(nil, Addr("10.0.0.1")) {
		t.Error("no range contains an address")
	}
}

func mustParse(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkAddrContains is what a provider's allowed_sources cost a
// request: the client address read once, then checked against the
// provider's ranges (GitHub's four hook ranges here).
func BenchmarkAddrContains(b *testing.B) {
	var ranges []netip.Prefix
	for _, s := range []string{"192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20"} {
		p, err := Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		ranges = append(ranges, p)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !Contains(ranges, Addr("143.55.70.9")) {
			b.Fatal("not contained")
		}
	}
}
