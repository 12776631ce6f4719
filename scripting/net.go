package scripting

import (
	"math"
	"net/netip"
	"strconv"

	"github.com/dop251/goja"

	"github.com/switchyard-dev/switchyard/internal/cidr"
)

// NET's bounds: its work grows with what a script passes, and a native
// function is not stopped by the script's deadline, so both are capped.
const (
	// maxCIDRs is the most ranges one NET.inCIDR call reads.
	maxCIDRs = 10000
	// maxAddrLen is the longest text read as an address or a range
	// (an IPv6 range with a zone is well under it).
	maxAddrLen = 100
)

// netMethods are the functions of NET.
var netMethods = []method{
	{"inCIDR", func(r *run) func(goja.FunctionCall) goja.Value { return r.netInCIDR }},
}

var netNames = methodNames(netMethods)

// netInCIDR implements NET.inCIDR(ip, cidrs): whether the address ip is
// in the range cidrs, or in one of the ranges of an array cidrs. Ranges
// are written as in allowed_sources ("192.30.252.0/22", "2001:db8::/32",
// or a single address). ip is usually sender-controlled (FLX_REMOTE_ADDR,
// a header): one that is not an address is in no range. A range that is
// not one is the script's mistake: a TypeError says which.
func (r *run) netInCIDR(call goja.FunctionCall) goja.Value {
	ipArg, list := call.Argument(0), call.Argument(1)
	var addr netip.Addr
	if isString(ipArg) && ipArg.String() != "" && len(ipArg.String()) <= maxAddrLen {
		addr = cidr.Addr(ipArg.String())
	}
	if isString(list) {
		return r.rt.ToValue(r.inRange(addr, list, -1))
	}
	obj, ok := list.(*goja.Object)
	if !ok || obj.ClassName() != "Array" {
		panic(r.rt.NewTypeError("%s", "NET.inCIDR: cidrs must be a string or an array of strings, not "+quote(list)))
	}
	n := obj.Get("length").ToFloat()
	if n > maxCIDRs || math.IsNaN(n) {
		panic(r.rt.NewTypeError("%s", "NET.inCIDR: cidrs holds "+strconv.FormatFloat(n, 'f', -1, 64)+" ranges; at most "+strconv.Itoa(maxCIDRs)+" are read"))
	}
	found := false
	for i := range int(n) {
		// Every range is checked, even past a match: a mistake in the
		// list shows whatever the address.
		if r.inRange(addr, obj.Get(strconv.Itoa(i)), i) {
			found = true
		}
	}
	return r.rt.ToValue(found)
}

// inRange reads v as a range (element i of the list; -1: the only one)
// and reports whether addr is in it.
func (r *run) inRange(addr netip.Addr, v goja.Value, i int) bool {
	where := "NET.inCIDR: "
	if i >= 0 {
		where += "cidrs[" + strconv.Itoa(i) + "]: "
	}
	if !isString(v) {
		panic(r.rt.NewTypeError("%s", where+quote(v)+" is not a string"))
	}
	if s := v.String(); len(s) <= maxAddrLen {
		if p, err := cidr.Parse(s); err == nil {
			return addr.IsValid() && p.Contains(addr)
		}
	}
	panic(r.rt.NewTypeError("%s", where+quote(v)+" is not a CIDR (e.g. 192.30.252.0/22) nor an IP address"))
}
