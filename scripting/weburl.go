package scripting

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// webURL is a URL as the WHATWG URL standard parses it (the record behind
// a script's URL object). net/url follows RFC 3986 instead and differs
// where scripts notice: it keeps a default port, does not resolve dot
// segments of an absolute URL, keeps backslashes, and escapes differently.
// Fields are serialised (percent-encoded), as the URL getters give them.
type webURL struct {
	scheme             string // "https", without ":"
	username, password string
	host               string // "" with hasHost for file:///x
	hasHost            bool
	port               string // "" for none or the scheme's default
	path               string // "/a/b", or an opaque path ("x@y" of mailto:x@y)
	opaque             bool
	query              string // without "?"; hasQuery tells "" from none
	hasQuery           bool
	fragment           string
	hasFragment        bool
}

// errInvalidURL is what the parser refuses; the script sees a TypeError.
var errInvalidURL = errors.New("invalid URL")

// specialPorts are the special schemes with their default ports ("" for
// file, which has none).
var specialPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21", "file": ""}

func (u *webURL) special() bool { _, ok := specialPorts[u.scheme]; return ok }

// String is the URL's href.
func (u *webURL) String() string {
	var b strings.Builder
	b.WriteString(u.scheme + ":")
	if u.hasHost {
		b.WriteString("//")
		if u.username != "" || u.password != "" {
			b.WriteString(u.username)
			if u.password != "" {
				b.WriteString(":" + u.password)
			}
			b.WriteByte('@')
		}
		b.WriteString(u.host)
		if u.port != "" {
			b.WriteString(":" + u.port)
		}
	} else if !u.opaque && strings.HasPrefix(u.path, "//") {
		b.WriteString("/.")
	}
	b.WriteString(u.path)
	if u.hasQuery {
		b.WriteString("?" + u.query)
	}
	if u.hasFragment {
		b.WriteString("#" + u.fragment)
	}
	return b.String()
}

// parseWebURL parses input against base (nil for none) as the URL
// standard's basic URL parser does, short of its state overrides (the
// setters re-parse a whole href instead).
func parseWebURL(input string, base *webURL) (*webURL, error) {
	input = strings.TrimFunc(input, func(c rune) bool { return c <= ' ' })
	input = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(input)
	u := &webURL{}
	rest, ok := cutScheme(input)
	if ok {
		u.scheme = strings.ToLower(input[:len(input)-len(rest)-1])
	} else {
		if base == nil {
			return nil, errInvalidURL
		}
		u.scheme, rest = base.scheme, input
	}
	rest = u.cutFragment(rest)
	special := u.special()
	if special {
		rest = u.backslashes(rest)
	}
	switch {
	case ok && (base == nil || base.scheme != u.scheme || !special || strings.HasPrefix(rest, "/")):
		return u, u.absolute(rest)
	case base == nil:
		return nil, errInvalidURL
	case base.opaque:
		if rest != "" || !u.hasFragment || ok {
			return nil, errInvalidURL
		}
		base.copyTo(u, true)
		return u, nil
	}
	return u, u.relative(rest, base)
}

// cutScheme returns what follows "scheme:", if s starts with a scheme.
func cutScheme(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return s[i+1:], true
		default:
			return "", false
		}
	}
	return "", false
}

// cutFragment takes the fragment off s.
func (u *webURL) cutFragment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		u.hasFragment, u.fragment = true, percentEncode(s[i+1:], fragmentSet)
		return s[:i]
	}
	return s
}

// backslashes turns the backslashes before the query into slashes, as a
// special URL takes them.
func (u *webURL) backslashes(s string) string {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		q = len(s)
	}
	return strings.ReplaceAll(s[:q], `\`, "/") + s[q:]
}

// setQuery takes the query off s.
func (u *webURL) setQuery(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		set := querySet
		if u.special() {
			set = specialQuerySet
		}
		u.hasQuery, u.query = true, percentEncode(s[i+1:], set)
		return s[:i]
	}
	return s
}

// absolute parses what follows the scheme of an absolute URL.
func (u *webURL) absolute(rest string) error {
	rest = u.setQuery(rest)
	special := u.special()
	switch {
	case u.scheme == "file":
		if !strings.HasPrefix(rest, "//") {
			u.hasHost, u.path = true, u.normalisePath(rest)
			return nil
		}
		rest = rest[2:]
	case special:
		rest = strings.TrimLeft(rest, "/") // any number of slashes may introduce the authority
	case strings.HasPrefix(rest, "//"):
		rest = rest[2:]
	case strings.HasPrefix(rest, "/"):
		u.path = u.normalisePath(rest)
		return nil
	default:
		u.opaque, u.path = true, percentEncode(rest, c0Set)
		return nil
	}
	return u.authority(rest)
}

// authority parses "userinfo@host:port/path".
func (u *webURL) authority(rest string) error {
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	auth, path := rest[:end], rest[end:]
	u.hasHost = true
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		user, pass, _ := strings.Cut(auth[:at], ":")
		u.username, u.password = percentEncode(user, userinfoSet), percentEncode(pass, userinfoSet)
		auth = auth[at+1:]
	}
	host, port := auth, ""
	if i := strings.LastIndexByte(auth, ':'); i >= 0 && !strings.Contains(auth[i:], "]") {
		host, port = auth[:i], auth[i+1:]
	}
	if err := u.setHost(host); err != nil {
		return err
	}
	if err := u.setPort(port); err != nil {
		return err
	}
	if u.scheme == "file" && (u.username != "" || u.password != "" || u.port != "") {
		return errInvalidURL
	}
	u.path = u.normalisePath(path)
	return nil
}

// setHost parses a host: an IPv6 address in brackets, an IPv4 address in
// any form the standard takes (0x7f.1), or a domain, lower-cased and
// turned into ASCII (IDNA). A non-special URL's host is kept as it is,
// percent-encoded.
func (u *webURL) setHost(host string) error {
	if strings.HasPrefix(host, "[") {
		a, err := netip.ParseAddr(strings.TrimSuffix(host[1:], "]"))
		if !strings.HasSuffix(host, "]") || err != nil || !a.Is6() || a.Zone() != "" {
			return errInvalidURL
		}
		u.host = "[" + serializeIPv6(a.As16()) + "]"
		return nil
	}
	if !u.special() {
		if strings.ContainsAny(host, forbiddenHost) {
			return errInvalidURL
		}
		u.host = percentEncode(host, c0Set)
		return nil
	}
	if host == "" {
		if u.scheme == "file" {
			return nil
		}
		return errInvalidURL
	}
	decoded := percentDecode(host)
	if !utf8.ValidString(decoded) || strings.ContainsRune(decoded, utf8.RuneError) {
		return errInvalidURL // U+FFFD, which UTS 46 refuses
	}
	ascii, err := hostProfile.ToASCII(decoded)
	if err != nil || ascii == "" || strings.ContainsAny(ascii, forbiddenDomain) {
		return errInvalidURL
	}
	ascii = strings.ToLower(ascii)
	if v4, isV4, err := parseIPv4(ascii); isV4 {
		if err != nil {
			return err
		}
		ascii = v4
	}
	if u.scheme == "file" && ascii == "localhost" {
		ascii = ""
	}
	u.host = ascii
	return nil
}

// serializeIPv6 writes an IPv6 address as the URL standard does: eight
// hex pieces, the first longest run of two or more zero pieces as "::",
// never an embedded IPv4 address (netip writes ::ffff:1.2.3.4).
func serializeIPv6(b [16]byte) string {
	var p [8]uint16
	for i := range p {
		p[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	start, length := -1, 1
	for i := 0; i < 8; {
		j := i
		for j < 8 && p[j] == 0 {
			j++
		}
		if j-i > length {
			start, length = i, j-i
		}
		i = j + 1
	}
	var sb strings.Builder
	for i := 0; i < 8; i++ {
		if i == start {
			sb.WriteString("::")
			i += length - 1
			continue
		}
		if i > 0 && i != start+length {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(uint64(p[i]), 16))
	}
	return sb.String()
}

// hostProfile maps a domain as the URL standard's domain-to-ASCII does
// (UTS 46, non-transitional, no hyphen or length checks).
var hostProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.CheckHyphens(false),
	idna.VerifyDNSLength(false), idna.StrictDomainName(false), idna.BidiRule())

// Characters refused in hosts.
const (
	forbiddenHost   = "\x00\t\n\r #/:<>?@[\\]^|"
	forbiddenDomain = forbiddenHost + "%\x7f" + "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
)

// parseIPv4 reads a host whose last label is a number as an IPv4 address
// (each part decimal, 0x hex or 0 octal; the last may fill the rest).
func parseIPv4(host string) (string, bool, error) {
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := parts[len(parts)-1]
	if _, ok := ipv4Number(last); !ok && (last == "" || strings.Trim(last, "0123456789") != "") {
		return "", false, nil
	}
	if len(parts) > 4 {
		return "", true, errInvalidURL
	}
	var addr uint64
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return "", true, errInvalidURL
		}
		if i < len(parts)-1 {
			if n > 255 {
				return "", true, errInvalidURL
			}
			addr |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(5-len(parts))) {
			return "", true, errInvalidURL
		}
		addr |= n
	}
	return netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}).String(), true, nil
}

// ipv4Number reads one part of an IPv4 address.
func ipv4Number(s string) (uint64, bool) {
	base := 10
	switch {
	case s == "":
		return 0, false
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil || n > 1<<32 {
		return 0, false
	}
	return n, true
}

// setPort parses a port: digits up to 65535; the scheme's default is left
// out.
func (u *webURL) setPort(port string) error {
	if port == "" {
		u.port = ""
		return nil
	}
	if strings.Trim(port, "0123456789") != "" {
		return errInvalidURL
	}
	n, err := strconv.ParseUint(strings.TrimLeft(port, "0")+"0", 10, 32)
	if err != nil || n/10 > 65535 {
		return errInvalidURL
	}
	u.port = strconv.FormatUint(n/10, 10)
	if def, ok := specialPorts[u.scheme]; ok && u.port == def {
		u.port = ""
	}
	return nil
}

// relative resolves rest (no scheme, fragment taken off) against base.
func (u *webURL) relative(rest string, base *webURL) error {
	switch {
	case strings.HasPrefix(rest, "//"):
		return u.absolute(rest)
	case strings.HasPrefix(rest, "/"):
		base.copyTo(u, false)
		u.path = u.normalisePath(u.setQuery(rest))
		return nil
	case rest == "":
		base.copyTo(u, false)
		u.hasQuery, u.query = base.hasQuery, base.query
		return nil
	case strings.HasPrefix(rest, "?"):
		base.copyTo(u, false)
		u.setQuery(rest)
		return nil
	}
	base.copyTo(u, false)
	rest = u.setQuery(rest)
	dir := base.path[:strings.LastIndexByte(base.path, '/')+1]
	if dir == "" && base.hasHost {
		dir = "/"
	}
	u.path = u.normalisePath(dir + rest)
	return nil
}

// copyTo copies the authority and path of u to v (with the query when
// query is true, as for a URL that is only a fragment).
func (u *webURL) copyTo(v *webURL, query bool) {
	v.username, v.password, v.host, v.hasHost, v.port = u.username, u.password, u.host, u.hasHost, u.port
	v.path, v.opaque = u.path, u.opaque
	if query {
		v.hasQuery, v.query = u.hasQuery, u.query
	}
}

// normalisePath percent-encodes a path and resolves its "." and ".."
// segments (also when written %2e). A special URL's path is at least "/".
func (u *webURL) normalisePath(p string) string {
	if p == "" {
		if u.special() {
			return "/"
		}
		return ""
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(s) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 && !(u.scheme == "file" && len(out) == 1 && isDriveLetter(out[0])) {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, percentEncode(s, pathSet))
		}
	}
	return "/" + strings.Join(out, "/")
}

// isDriveLetter reports whether s is a Windows drive letter ("C:").
func isDriveLetter(s string) bool {
	return len(s) == 2 && (s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z') && (s[1] == ':' || s[1] == '|')
}

// Percent-encode sets of the URL standard, beyond the C0 controls and the
// characters past U+007E, which every set holds.
const (
	c0Set           = ""
	fragmentSet     = " \"<>`"
	querySet        = " \"#<>"
	specialQuerySet = querySet + "'"
	pathSet         = querySet + "?`{}"
	userinfoSet     = pathSet + "/:;=@[\\]^|"
)

// percentEncode encodes the bytes of s (UTF-8) that are in set, are C0
// controls, or are past U+007E. A "%" is left as it is, as the standard
// does.
func percentEncode(s, set string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7E || strings.IndexByte(set, c) >= 0 {
			if b.Len() == 0 {
				b.Grow(len(s) + 16)
				b.WriteString(s[:i])
			}
			b.WriteString(percentByte(c))
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// percentByte is "%XX" for c.
func percentByte(c byte) string {
	const hex = "0123456789ABCDEF"
	return string([]byte{'%', hex[c>>4], hex[c&15]})
}

// percentDecode decodes the valid %XX sequences of s, leaving the others.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// origin is the URL's origin: scheme://host[:port] for the special
// schemes but file, the inner URL's for blob:, "null" otherwise.
func (u *webURL) origin() string {
	switch u.scheme {
	case "http", "https", "ws", "wss", "ftp":
		o := u.scheme + "://" + u.host
		if u.port != "" {
			o += ":" + u.port
		}
		return o
	case "blob":
		if inner, err := parseWebURL(u.path, nil); err == nil && (inner.scheme == "http" || inner.scheme == "https") {
			return inner.origin()
		}
	}
	return "null"
}

// set is a URL setter: u with field set to value, normalised by parsing
// the result again, or an error when the standard ignores the value.
func (u *webURL) set(field, value string) (*webURL, error) {
	v := *u
	noCredentials := !u.hasHost || u.host == "" || u.scheme == "file"
	switch field {
	case "href":
		return parseWebURL(value, nil)
	case "protocol":
		scheme, _, _ := strings.Cut(value, ":")
		if _, ok := cutScheme(scheme + ":"); !ok {
			return nil, errInvalidURL
		}
		v.scheme = strings.ToLower(scheme)
		if v.special() != u.special() || v.scheme == "file" && (u.username != "" || u.password != "" || u.port != "") {
			return nil, errInvalidURL
		}
		if def, ok := specialPorts[v.scheme]; ok && v.port == def {
			v.port = ""
		}
	case "username", "password":
		if noCredentials {
			return nil, errInvalidURL
		}
		if field == "username" {
			v.username = percentEncode(value, userinfoSet)
		} else {
			v.password = percentEncode(value, userinfoSet)
		}
	case "host", "hostname":
		if u.opaque {
			return nil, errInvalidURL
		}
		if err := v.setHostPort(value, field == "host"); err != nil {
			return nil, err
		}
	case "port":
		if noCredentials {
			return nil, errInvalidURL
		}
		digits := value[:len(value)-len(strings.TrimLeft(value, "0123456789"))]
		if value != "" && digits == "" {
			return nil, errInvalidURL
		}
		if err := v.setPort(digits); err != nil {
			return nil, err
		}
	case "pathname":
		if u.opaque {
			return nil, errInvalidURL
		}
		if v.special() {
			value = strings.ReplaceAll(value, `\`, "/")
		}
		v.path = v.normalisePath(value)
		if !v.special() && !v.hasHost && !strings.HasPrefix(value, "/") {
			v.path = strings.TrimPrefix(v.path, "/")
		}
	case "search":
		v.hasQuery, v.query = false, ""
		if value != "" {
			v.setQuery("?" + strings.TrimPrefix(value, "?"))
		}
	case "hash":
		v.hasFragment, v.fragment = false, ""
		if value != "" {
			v.cutFragment("#" + strings.TrimPrefix(value, "#"))
		}
	default:
		return nil, errInvalidURL
	}
	return parseWebURL(v.String(), nil)
}

// setHostPort is the host and hostname setters: the value up to the first
// "/", "?" or "#" (and, for hostname, ":"), with a port for host.
func (u *webURL) setHostPort(value string, withPort bool) error {
	stops := "/?#"
	if u.special() {
		stops += `\`
	}
	if i := strings.IndexAny(value, stops); i >= 0 {
		value = value[:i]
	}
	host, port, hasPort := value, "", false
	if i := strings.LastIndexByte(value, ':'); i >= 0 && !strings.Contains(value[i:], "]") {
		host, port, hasPort = value[:i], value[i+1:], true
	}
	if hasPort && !withPort || host == "" && u.special() {
		return errInvalidURL // hostname refuses a port
	}
	if err := u.setHost(host); err != nil {
		return err
	}
	u.hasHost = true
	if hasPort {
		digits := port[:len(port)-len(strings.TrimLeft(port, "0123456789"))]
		if digits != "" {
			return u.setPort(digits)
		}
	}
	return nil
}
