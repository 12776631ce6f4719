package server

import (
	"net"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// clientIP decides the client address of a request. Only a peer inside
// one of the trusted proxy ranges may name the client with X-Forwarded-For;
// from anyone else the header is ignored. Echo trusts loopback and private
// ranges by default, so every default trust is switched off here.
func clientIP(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(prefixNet(p)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func prefixNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
