package egress

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/testcert"
	"github.com/switchyard-dev/switchyard/internal/testproxy"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct{ addr, want string }{
		// IPv4
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.215.14", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.167.255.255", ""},
		{"223.255.255.255", ""},
		{"0.0.0.0", "unspecified address"},
		{"0.1.2.3", "unspecified address"},
		{"10.0.0.1", "private address"},
		{"10.255.255.255", "private address"},
		{"172.16.0.1", "private address"},
		{"172.31.255.255", "private address"},
		{"192.168.1.1", "private address"},
		{"100.64.0.1", "carrier-grade NAT address"},
		{"100.127.255.255", "carrier-grade NAT address"},
		{"127.0.0.1", "loopback address"},
		{"127.0.0.2", "loopback address"},
		{"127.255.255.254", "loopback address"},
		{"169.254.0.1", "link-local address"},
		{"169.254.169.254", "cloud metadata address"},
		{"169.254.170.2", "link-local address"}, // ECS task metadata
		{"100.100.100.200", "cloud metadata address"},
		{"168.63.129.16", "cloud metadata address"},
		{"192.0.0.192", "cloud metadata address"},
		{"192.0.0.8", "reserved address"},
		{"192.0.2.1", "documentation address"},
		{"198.51.100.7", "documentation address"},
		{"203.0.113.9", "documentation address"},
		{"198.18.0.1", "benchmarking address"},
		{"198.19.255.255", "benchmarking address"},
		{"224.0.0.1", "multicast address"},
		{"239.255.255.250", "multicast address"},
		{"240.0.0.1", "reserved address"},
		{"255.255.255.255", "broadcast address"},
		// IPv4-mapped IPv6: the IPv4 address decides
		{"::ffff:127.0.0.1", "loopback address"},
		{"::ffff:169.254.169.254", "cloud metadata address"},
		{"::ffff:10.1.2.3", "private address"},
		{"::ffff:0.0.0.0", "unspecified address"},
		{"::ffff:8.8.8.8", ""},
		// IPv6
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		{"::", "unspecified address"},
		{"::1", "loopback address"},
		{"fe80::1", "link-local address"},
		{"fe80::1%eth0", "link-local address"},
		{"febf:ffff::1", "link-local address"},
		{"fec0::1", "site-local address"},
		{"fc00::1", "unique local address"},
		{"fd12:3456::1", "unique local address"},
		{"fd00::2", "unique local address"},
		{"fd00:ec2::254", "cloud metadata address"},
		{"ff02::1", "multicast address"},
		{"ff05::1:3", "multicast address"},
		{"2001:db8::1", "documentation address"},
		{"100::1", "discard-only address"},
		{"2001:2::1", "benchmarking address"},
		{"2001:20::1", "reserved address"},
		{"64:ff9b:1::1", "local-use NAT64 address"},
		{"4000::1", "reserved address"},
		{"::2:1", "unspecified address 0.2.0.1 embedded in an IPv4-compatible address"},
		// IPv6 that embeds IPv4
		{"::127.0.0.1", "loopback address 127.0.0.1 embedded in an IPv4-compatible address"},
		{"::8.8.8.8", "reserved address (IPv4-compatible)"},
		{"::ffff:0:127.0.0.1", "loopback address 127.0.0.1 embedded in an IPv4-translated address"},
		{"64:ff9b::127.0.0.1", "loopback address 127.0.0.1 embedded in a NAT64 address"},
		{"64:ff9b::a9fe:a9fe", "cloud metadata address 169.254.169.254 embedded in a NAT64 address"},
		{"64:ff9b::10.0.0.1", "private address 10.0.0.1 embedded in a NAT64 address"},
		{"64:ff9b::8.8.8.8", ""},
		{"2002:7f00:1::1", "loopback address 127.0.0.1 embedded in a 6to4 address"},
		{"2002:c0a8:101::", "private address 192.168.1.1 embedded in a 6to4 address"},
		{"2002:808:808::1", ""},
		// Teredo: 2001:0:<server>:<flags>:<port>:<client, bits inverted>
		// (server 65.54.227.120; client 127.0.0.1 is 80ff:fffe)
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback address 127.0.0.1 embedded in a Teredo address"},
		{"2001:0:7f00:1:8000:63bf:f7f7:f7f7", "loopback address 127.0.0.1 embedded in a Teredo address"},
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", ""}, // client 8.8.8.8
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation address 192.0.2.45 embedded in a Teredo address"},
	}
	for _, tc := range tests {
		a := netip.MustParseAddr(tc.addr)
		if got := Classify(a); got != tc.want {
			t.Errorf("Classify(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	if got := Classify(netip.Addr{}); got != "invalid address" {
		t.Errorf("Classify(zero) = %q", got)
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Allow: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.2/32"),
		netip.MustParsePrefix("10.1.2.3/24"),            // masked to 10.1.2.0/24
		netip.MustParsePrefix("::ffff:192.168.0.0/112"), // means 192.168.0.0/16
		netip.MustParsePrefix("fd00:1::/32"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.2:80", false},
		{"[::ffff:127.0.0.2]:80", false},
		{"127.0.0.1:80", true},
		{"10.1.2.200:443", false},
		{"10.1.3.1:443", true},
		{"192.168.77.1:80", false},
		{"[fd00:1::5]:80", false},
		{"[fd00:2::5]:80", true},
		{"[fe80::1%lo]:80", true},
		{"8.8.8.8:53", false},
		{"169.254.169.254:80", true},
	}
	for _, tc := range tests {
		err := c.guard.control("tcp4", tc.addr, nil)
		if refused := errors.Is(err, ErrRefused); refused != tc.refused {
			t.Errorf("%s: err = %v, want refused %v", tc.addr, err, tc.refused)
		}
	}
	err = c.guard.control("tcp4", "127.0.0.1:8080", nil)
	want := "egress: refused 127.0.0.1:8080: loopback address (outbound HTTP to private addresses is off; see --allow-private-targets)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	var re *RefusedError
	if !errors.As(err, &re) || re.Addr != "127.0.0.1:8080" || re.Reason != "loopback address" {
		t.Errorf("RefusedError = %+v", re)
	}
	if err := c.guard.control("udp4", "8.8.8.8:53", nil); !errors.Is(err, ErrRefused) {
		t.Errorf("udp: %v", err)
	}
	if err := c.guard.control("tcp", "nonsense", nil); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "unparsable") {
		t.Errorf("unparsable: %v", err)
	}

	open, err := New(Options{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1:80", "[::1]:80", "169.254.169.254:80", "10.0.0.1:80"} {
		if err := open.guard.control("tcp", a, nil); err != nil {
			t.Errorf("AllowPrivate: %s: %v", a, err)
		}
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{Allow: []netip.Prefix{{}}}); err == nil || !strings.Contains(err.Error(), "Allow[0]") {
		t.Errorf("invalid prefix: %v", err)
	}
	if _, err := New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("::ffff:0:0/80")}}); err == nil {
		t.Error("a mapped prefix shorter than /96 was accepted")
	}
	if _, err := New(Options{MaxResponseBytes: -1}); err == nil {
		t.Error("negative MaxResponseBytes accepted")
	}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.max != DefaultMaxResponseBytes {
		t.Errorf("max = %d", c.max)
	}
	if c.transport.Proxy != nil {
		t.Error("the transport has a Proxy function")
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{1 << 20: "1 MiB", 5 << 20: "5 MiB", 512 << 10: "512 KiB", 1000: "1000 bytes", 0: "0 bytes"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRoutedChecksTheTargetBehindAProxy(t *testing.T) {
	t.Parallel()
	proxy := testproxy.New(t)
	// The proxy (127.0.0.1) may be reached; other loopback addresses may
	// not, and the proxy must not be asked for them.
	c, err := New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(proxy.URL)
	hc := c.Routed(Route{Proxy: pu})
	defer hc.CloseIdleConnections()
	for _, target := range []string{"http://127.0.0.2:9/", "http://[::1]:9/", "https://10.0.0.1:9/"} {
		resp, err := hc.Get(target)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: sent through the proxy", target)
		}
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("%s: want a refusal, got %v", target, err)
		}
	}
	if seen := proxy.Seen(); len(seen) != 0 {
		t.Fatalf("the proxy was asked %+v", seen)
	}
	// A target the guard allows goes through it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	resp, err := hc.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if seen := proxy.Seen(); len(seen) != 1 || seen[0].Target != srv.URL+"/ok" {
		t.Fatalf("the proxy was asked %+v", seen)
	}
	// A proxy at a refused address is refused when dialled.
	c2, _ := New(Options{})
	hc2 := c2.Routed(Route{Proxy: pu})
	if _, err := hc2.Get("http://93.184.215.14/"); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("a loopback proxy: want a refusal of 127.0.0.1, got %v", err)
	}
}

// An https proxy is spoken to over TLS, checked against ProxyRoots; the
// target's own TLS (through the tunnel) uses the route's config.
func TestRoutedThroughAnHTTPSProxy(t *testing.T) {
	t.Parallel()
	certs := testcert.New(t)
	proxy := testproxy.NewTLS(t, certs.ServerTLS(t, false))
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	target.TLS = certs.ServerTLS(t, false)
	target.StartTLS()
	defer target.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	c, err := New(Options{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(proxy.URL)
	hc := c.Routed(Route{Proxy: pu, ProxyRoots: certs.Pool, TLS: &tls.Config{RootCAs: certs.Pool}})
	defer hc.CloseIdleConnections()
	for _, u := range []string{target.URL + "/tunnel", plain.URL + "/forward"} {
		resp, err := hc.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", u, resp.StatusCode)
		}
	}
	seen := proxy.Seen()
	if len(seen) != 2 || seen[0].Method != http.MethodConnect || seen[1].Target != plain.URL+"/forward" {
		t.Fatalf("the proxy saw %+v", seen)
	}
	// Without the proxy's roots, its certificate is refused.
	hc2 := c.Routed(Route{Proxy: pu})
	if _, err := hc2.Get(plain.URL); err == nil || !strings.Contains(err.Error(), "TLS with the proxy") {
		t.Fatalf("an unknown proxy certificate: %v", err)
	}
}
