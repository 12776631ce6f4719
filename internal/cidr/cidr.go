// Package cidr reads address ranges as operators write them, for the
// checks of client addresses: providers' allowed_sources and scripts'
// NET.inCIDR.
package cidr

import (
	"net/netip"
	"strings"
)

// Parse reads a CIDR ("192.30.252.0/22", "2001:db8::/32") or a single
// address (as its /32 or /128), and returns it masked: host bits past
// the prefix length are dropped ("10.1.2.3/8" is "10.0.0.0/8"). An
// IPv4-mapped IPv6 address or range is read as the IPv4 one.
func Parse(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// Addr reads a client address as the server records it; an IPv4-mapped
// IPv6 address is read as the IPv4 one, and a zone is dropped. It is
// invalid (contained in no range) when s is not an address.
func Addr(s string) netip.Addr {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// Contains reports whether addr is in one of ranges.
func Contains(ranges []netip.Prefix, addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	for _, p := range ranges {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
