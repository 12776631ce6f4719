// Package egress is Switchyard's one way out: every outbound HTTP request,
// from the notification engine and from scripts (HTTP.request), goes
// through a Client from this package.
//
// The Client refuses to connect to private addresses: loopback, RFC 1918,
// carrier-grade NAT, link-local (cloud metadata services live there),
// unique local, multicast, reserved and documentation ranges, and IPv6
// forms that embed one of them (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
// Teredo). The check runs in the dialer, on the address about to be
// connected, after name resolution: a name that resolves to a private
// address is refused however it got there (DNS rebinding included), and so
// is every hop of a redirect. Options.AllowPrivate turns the check off
// (--allow-private-targets); Options.Allow lists exceptions.
//
// The Client never uses a proxy from the environment (HTTP_PROXY and
// friends are ignored), follows at most MaxRedirects redirects, never from
// https to http, and refuses a response body larger than its cap instead
// of buffering it. A client made by Routed uses the proxy it is given,
// dialled through the guard, and checks each request's target before the
// proxy gets it.
package egress

import (
	"errors"
	"net/netip"
	"strings"
	"syscall"
)

// ErrRefused is wrapped by every error of a connection the guard refused
// (see RefusedError).
var ErrRefused = errors.New("egress: refused")

// RefusedError is a connection the guard refused.
type RefusedError struct {
	Addr   string // the address that was to be connected, "127.0.0.1:8080", "[::1]:443"
	Reason string // why, e.g. "loopback address"
}

// Error returns e.g. "egress: refused 127.0.0.1:8080: loopback address
// (outbound HTTP to private addresses is off; see --allow-private-targets)".
func (e *RefusedError) Error() string {
	return "egress: refused " + e.Addr + ": " + e.Reason +
		" (outbound HTTP to private addresses is off; see --allow-private-targets)"
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// addrRange is a range of addresses refused for one reason.
type addrRange struct {
	prefix netip.Prefix
	reason string
}

// Reasons shared by several ranges.
const (
	reasonPrivate  = "private address"
	reasonMetadata = "cloud metadata address"
	reasonDocs     = "documentation address"
	reasonReserved = "reserved address"
)

// refusedV4 are the IPv4 ranges refused, the first match giving the reason
// (so single addresses come before the ranges that hold them).
var refusedV4 = []addrRange{
	{mustPrefix("169.254.169.254/32"), reasonMetadata},         // AWS, GCP, Azure, OpenStack...
	{mustPrefix("100.100.100.200/32"), reasonMetadata},         // Alibaba Cloud
	{mustPrefix("192.0.0.192/32"), reasonMetadata},             // Oracle Cloud (classic)
	{mustPrefix("168.63.129.16/32"), reasonMetadata},           // Azure WireServer
	{mustPrefix("0.0.0.0/8"), "unspecified address"},           // "this network"; 0.0.0.0 reaches the local host
	{mustPrefix("10.0.0.0/8"), reasonPrivate},                  // RFC 1918
	{mustPrefix("100.64.0.0/10"), "carrier-grade NAT address"}, // RFC 6598
	{mustPrefix("127.0.0.0/8"), "loopback address"},
	{mustPrefix("169.254.0.0/16"), "link-local address"},
	{mustPrefix("172.16.0.0/12"), reasonPrivate},          // RFC 1918
	{mustPrefix("192.0.0.0/24"), reasonReserved},          // IETF protocol assignments
	{mustPrefix("192.0.2.0/24"), reasonDocs},              // TEST-NET-1
	{mustPrefix("192.88.99.0/24"), reasonReserved},        // former 6to4 relay anycast
	{mustPrefix("192.168.0.0/16"), reasonPrivate},         // RFC 1918
	{mustPrefix("198.18.0.0/15"), "benchmarking address"}, // RFC 2544; also proxies' "fake IP" ranges
	{mustPrefix("198.51.100.0/24"), reasonDocs},           // TEST-NET-2
	{mustPrefix("203.0.113.0/24"), reasonDocs},            // TEST-NET-3
	{mustPrefix("224.0.0.0/4"), "multicast address"},
	{mustPrefix("255.255.255.255/32"), "broadcast address"},
	{mustPrefix("240.0.0.0/4"), reasonReserved}, // class E
}

// refusedV6 are the IPv6 ranges refused outright. Ranges that embed an
// IPv4 address are handled by embeddedV4 first; anything outside global
// unicast (2000::/3) is refused as reserved in the end.
var refusedV6 = []addrRange{
	{mustPrefix("fd00:ec2::254/128"), reasonMetadata}, // AWS (IPv6)
	{mustPrefix("::/128"), "unspecified address"},
	{mustPrefix("::1/128"), "loopback address"},
	{mustPrefix("64:ff9b:1::/48"), "local-use NAT64 address"}, // RFC 8215
	{mustPrefix("100::/64"), "discard-only address"},          // RFC 6666
	{mustPrefix("2001:db8::/32"), reasonDocs},
	{mustPrefix("2001:2::/48"), "benchmarking address"}, // RFC 5180
	{mustPrefix("2001:10::/28"), reasonReserved},        // ORCHID (deprecated)
	{mustPrefix("2001:20::/28"), reasonReserved},        // ORCHIDv2
	{mustPrefix("fc00::/7"), "unique local address"},    // RFC 4193
	{mustPrefix("fe80::/10"), "link-local address"},
	{mustPrefix("fec0::/10"), "site-local address"}, // deprecated
	{mustPrefix("ff00::/8"), "multicast address"},
}

// IPv6 ranges that carry an IPv4 address.
var (
	nat64       = mustPrefix("64:ff9b::/96")    // RFC 6052 well-known prefix
	v4Compat    = mustPrefix("::/96")           // IPv4-compatible (deprecated)
	v4Translate = mustPrefix("::ffff:0:0:0/96") // SIIT IPv4-translated
	sixToFour   = mustPrefix("2002::/16")       // 6to4: 2002:AABB:CCDD::/48
	teredo      = mustPrefix("2001::/32")       // 2001:0:<server v4>:<flags>:<port>:<client v4 xor ff>
	globalV6    = mustPrefix("2000::/3")        // global unicast
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// Classify says why the guard refuses a, e.g. "loopback address", or
// returns "" when a is a public address that may be reached. IPv4-mapped
// IPv6 addresses (::ffff:127.0.0.1) are classified as the IPv4 address
// they map, and IPv6 addresses that embed an IPv4 address (NAT64
// 64:ff9b::/96, 6to4, Teredo, IPv4-compatible and -translated) by the
// address they embed. An invalid address is refused.
func Classify(a netip.Addr) string {
	if !a.IsValid() {
		return "invalid address"
	}
	a = a.WithZone("").Unmap() // a zoned address never matches a prefix
	if a.Is4() {
		return classify4(a)
	}
	for _, r := range refusedV6 {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	if v4, form, ok := embeddedV4(a); ok {
		for _, e := range v4 {
			if why := classify4(e); why != "" {
				return why + " " + e.String() + " embedded in " + form + " address"
			}
		}
		if form == "an IPv4-compatible" || form == "an IPv4-translated" {
			return reasonReserved + " (" + strings.TrimPrefix(form, "an ") + ")"
		}
		return ""
	}
	if !globalV6.Contains(a) {
		return reasonReserved
	}
	return ""
}

// classify4 classifies an IPv4 address.
func classify4(a netip.Addr) string {
	for _, r := range refusedV4 {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}

// embeddedV4 returns the IPv4 addresses an IPv6 address carries, and the
// name of its form with its article ("a NAT64").
func embeddedV4(a netip.Addr) ([]netip.Addr, string, bool) {
	b := a.As16()
	last := netip.AddrFrom4([4]byte(b[12:16]))
	switch {
	case nat64.Contains(a):
		return []netip.Addr{last}, "a NAT64", true
	case v4Translate.Contains(a):
		return []netip.Addr{last}, "an IPv4-translated", true
	case v4Compat.Contains(a): // :: and ::1 were classified before
		return []netip.Addr{last}, "an IPv4-compatible", true
	case sixToFour.Contains(a):
		return []netip.Addr{netip.AddrFrom4([4]byte(b[2:6]))}, "a 6to4", true
	case teredo.Contains(a):
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return []netip.Addr{netip.AddrFrom4(client), netip.AddrFrom4([4]byte(b[4:8]))}, "a Teredo", true
	}
	return nil, "", false
}

// guard decides which addresses may be connected.
type guard struct {
	allowPrivate bool
	allow        []netip.Prefix // normalised: masked, IPv4 as IPv4
}

// refuse returns why a may not be connected, "" when it may.
func (g *guard) refuse(a netip.Addr) string {
	if g.allowPrivate {
		return ""
	}
	plain := a.WithZone("").Unmap()
	for _, p := range g.allow {
		if p.Contains(plain) {
			return ""
		}
	}
	return Classify(a)
}

// control is the dialer's Control function: it runs after name
// resolution, just before each connect(2), with the address to connect.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") {
		return &RefusedError{Addr: address, Reason: "network " + network + " is not allowed"}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Addr: address, Reason: "unparsable address"}
	}
	if why := g.refuse(ap.Addr()); why != "" {
		return &RefusedError{Addr: address, Reason: why}
	}
	return nil
}

// normalisePrefix masks p and turns an IPv4-mapped prefix into the IPv4
// prefix it maps, since addresses are unmapped before the comparison.
func normalisePrefix(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return p, false
	}
	a := p.Addr().WithZone("")
	if a.Is4In6() {
		if p.Bits() < 96 {
			return p, false
		}
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked(), true
	}
	return netip.PrefixFrom(a, p.Bits()).Masked(), true
}
