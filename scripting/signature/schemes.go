package signature

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Request is a request as a scheme checks it.
type Request struct {
	Headers   map[string]string // lower-case names
	Body      []byte            // the raw body
	Key       []byte            // the HMAC key (or GitLab's token), see Scheme.Key
	Public    crypto.PublicKey  // the sender's public key, for public-key schemes
	Now       time.Time         // timed schemes only
	Tolerance time.Duration     // timed schemes only
}

// Scheme is one sender's way of signing. The script globals (GITHUB.verify
// and the rest) and the signature debugger both check through it.
type Scheme struct {
	Name  string // "github"
	Timed bool   // the signature covers a timestamp, checked against a tolerance
	// Key turns the secret into the HMAC key; nil means its UTF-8 bytes.
	Key func(secret string) ([]byte, error)
	// Public turns a key into the sender's public key. When it is set, a
	// key it accepts (ok) is a public key, and any other key goes to Key;
	// a scheme with no HMAC form has no Key and always says ok.
	Public func(key string) (pub crypto.PublicKey, ok bool, err error)
	// Check returns "" when the request is signed right, else why not. The
	// reason never holds the key or the expected signature.
	Check func(r *Request) string
}

var schemes = map[string]*Scheme{
	GitHub:    {Name: GitHub, Check: checkGitHub},
	GitLab:    {Name: GitLab, Check: checkGitLab},
	Bitbucket: {Name: Bitbucket, Check: checkBitbucket},
	Slack:     {Name: Slack, Timed: true, Check: checkSlack},
	Stripe:    {Name: Stripe, Timed: true, Check: checkStripe},
	Standard:  {Name: Standard, Timed: true, Key: StandardKey, Public: standardPublicKey, Check: checkStandard},
	Discord:   {Name: Discord, Timed: true, Public: discordKey, Check: checkDiscord},
	SendGrid:  {Name: SendGrid, Timed: true, Public: sendGridKey, Check: checkSendGrid},
}

// Lookup returns the named scheme, nil for an unknown name or Generic
// (which has no single rule).
func Lookup(name string) *Scheme { return schemes[name] }

// KeyOf turns a secret into the scheme's HMAC key.
func (sc *Scheme) KeyOf(secret string) ([]byte, error) {
	if sc.Key == nil {
		return []byte(secret), nil
	}
	return sc.Key(secret)
}

// Prepare puts the key for secret into r: the HMAC key, or the public key
// of a public-key scheme (or of a Standard Webhooks whpk_ key). The error
// says what is wrong with the secret without repeating it.
func (sc *Scheme) Prepare(r *Request, secret string) error {
	if sc.Public != nil {
		pub, ok, err := sc.Public(secret)
		if ok || err != nil {
			r.Public = pub
			return err
		}
	}
	k, err := sc.KeyOf(secret)
	r.Key = k
	return err
}

// mac computes the HMAC of data under key.
func mac(h func() hash.Hash, key, data []byte) []byte {
	m := hmac.New(h, key)
	m.Write(data)
	return m.Sum(nil)
}

// checkGitHub: X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of
// the body; only when it is absent, X-Hub-Signature, "sha1=" and the hex
// HMAC-SHA1 (older GitHub Enterprise Server).
func checkGitHub(s *Request) string {
	if v, ok := s.Headers["x-hub-signature-256"]; ok {
		return checkHex("X-Hub-Signature-256", v, "sha256=", mac(sha256.New, s.Key, s.Body))
	}
	if v, ok := s.Headers["x-hub-signature"]; ok {
		return checkHex("X-Hub-Signature", v, "sha1=", mac(sha1.New, s.Key, s.Body))
	}
	return "no X-Hub-Signature-256 or X-Hub-Signature header"
}

// checkGitLab: X-Gitlab-Token is the token itself.
func checkGitLab(s *Request) string {
	v := s.Headers["x-gitlab-token"]
	if v == "" {
		return "no X-Gitlab-Token header"
	}
	// Comparing digests keeps the token's length from the timing too.
	got, want := sha256.Sum256([]byte(v)), sha256.Sum256(s.Key)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return "X-Gitlab-Token does not match"
	}
	return ""
}

// checkBitbucket: X-Hub-Signature is "sha256=" and the hex HMAC-SHA256 of
// the body, from Bitbucket Cloud and Bitbucket Data Center alike (HmacSHA256
// is the only algorithm either documents).
func checkBitbucket(s *Request) string {
	v, ok := s.Headers["x-hub-signature"]
	if !ok {
		return "no X-Hub-Signature header"
	}
	if alg, _, ok := strings.Cut(v, "="); ok && isHashName(alg) {
		return "X-Hub-Signature uses " + alg + ", not sha256"
	}
	return checkHex("X-Hub-Signature", v, "sha256=", mac(sha256.New, s.Key, s.Body))
}

// isHashName reports whether alg looks like an algorithm a sender might
// name in a signature prefix.
func isHashName(alg string) bool {
	switch alg {
	case "sha1", "sha384", "sha512", "md5": // not sha256: that is checked
		return true
	}
	return false
}

// checkSlack: X-Slack-Signature is "v0=" and the hex HMAC-SHA256 of
// "v0:<X-Slack-Request-Timestamp>:<body>".
func checkSlack(s *Request) string {
	ts, t, v, why := timedHeaders(s, "x-slack-request-timestamp", "x-slack-signature")
	if why != "" {
		return why
	}
	if why := checkHex("X-Slack-Signature", v, "v0=", mac(sha256.New, s.Key, signedContent("v0:"+ts+":", s.Body))); why != "" {
		return why
	}
	return s.fresh(t)
}

// checkStripe: Stripe-Signature is "t=<timestamp>,v1=<hex>[,v1=<hex>...]"
// (other schemes ignored); one v1 must be the hex HMAC-SHA256 of
// "<timestamp>.<body>".
func checkStripe(s *Request) string {
	h, ok := s.Headers["stripe-signature"]
	if !ok {
		return "no Stripe-Signature header"
	}
	var ts string
	var sigs []string
	tSeen := false
	for item := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if tSeen {
				return "Stripe-Signature has more than one timestamp (t=)"
			}
			ts, tSeen = v, true
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if !tSeen {
		return "Stripe-Signature has no timestamp (t=)"
	}
	t, ok := parseTimestamp(ts)
	if !ok {
		return "Stripe-Signature timestamp is malformed (want seconds since 1970)"
	}
	if len(sigs) == 0 {
		return "Stripe-Signature has no v1 signature"
	}
	want := []byte(hex.EncodeToString(mac(sha256.New, s.Key, signedContent(ts+".", s.Body))))
	if !anyEqual(sigs, want) {
		return "no v1 signature in Stripe-Signature matches"
	}
	return s.fresh(t)
}

// checkStandard: Standard Webhooks. webhook-signature holds space-separated
// "v1,<base64>" and "v1a,<base64>" entries (other versions ignored). With a
// whsec_ secret one v1 entry must be the base64 HMAC-SHA256 of
// "<webhook-id>.<webhook-timestamp>.<body>"; with a whpk_ public key one
// v1a entry must be the base64 Ed25519 signature of the same content.
func checkStandard(s *Request) string {
	id := s.Headers["webhook-id"]
	if id == "" {
		return "no webhook-id header"
	}
	ts := s.Headers["webhook-timestamp"]
	if ts == "" {
		return "no webhook-timestamp header"
	}
	t, ok := parseTimestamp(ts)
	if !ok {
		return "webhook-timestamp is malformed (want seconds since 1970)"
	}
	h := s.Headers["webhook-signature"]
	if h == "" {
		return "no webhook-signature header"
	}
	version := "v1"
	if s.Public != nil {
		version = "v1a"
	}
	var sigs []string
	for entry := range strings.SplitSeq(h, " ") {
		if v, ok := strings.CutPrefix(entry, version+","); ok {
			sigs = append(sigs, v)
		}
	}
	if len(sigs) == 0 {
		return "webhook-signature has no " + version + " signature"
	}
	if s.Public != nil {
		signed := signedContent(id+"."+ts+".", s.Body)
		for _, sig := range sigs {
			if raw, err := base64.StdEncoding.DecodeString(sig); err == nil && ed25519.Verify(s.Public.(ed25519.PublicKey), signed, raw) {
				return s.fresh(t)
			}
		}
		return "no v1a signature in webhook-signature matches"
	}
	want := []byte(base64.StdEncoding.EncodeToString(mac(sha256.New, s.Key, signedContent(id+"."+ts+".", s.Body))))
	if !anyEqual(sigs, want) {
		return "no v1 signature in webhook-signature matches"
	}
	return s.fresh(t)
}

// StandardKey decodes a Standard Webhooks secret, "whsec_<base64>", as the
// standardwebhooks libraries do: the prefix is optional, the rest is
// base64.
func StandardKey(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return nil, errors.New("is not base64 (want whsec_<base64>)")
	}
	if len(k) == 0 {
		return nil, errors.New("is empty after whsec_")
	}
	return k, nil
}

// standardPublicKey reads a Standard Webhooks public key, "whpk_" and the
// base64 of the 32 bytes of an Ed25519 key. Keys without the prefix are
// secrets (ok is false).
func standardPublicKey(key string) (crypto.PublicKey, bool, error) {
	b64, ok := strings.CutPrefix(key, "whpk_")
	if !ok {
		return nil, false, nil
	}
	k, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, true, errors.New("is not a public key (want whpk_<base64 of 32 bytes>)")
	}
	return ed25519.PublicKey(k), true, nil
}

// checkHex checks a header holding prefix and a lower-case hex signature
// against sum, in constant time.
func checkHex(name, v, prefix string, sum []byte) string {
	if v == "" {
		return name + " is empty"
	}
	digits, ok := strings.CutPrefix(v, prefix)
	if !ok || len(digits) != 2*len(sum) || !isLowerHex(digits) {
		return name + " is malformed (want " + prefix + "<" + strconv.Itoa(2*len(sum)) + " lower-case hex digits>)"
	}
	want := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(want, sum)
	if subtle.ConstantTimeCompare([]byte(digits), want) != 1 {
		return name + " does not match"
	}
	return ""
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// anyEqual reports whether one of sigs equals want, each compared in
// constant time.
func anyEqual(sigs []string, want []byte) bool {
	found := false
	for _, sig := range sigs {
		if subtle.ConstantTimeCompare([]byte(sig), want) == 1 {
			found = true
		}
	}
	return found
}

// signedContent returns prefix followed by body, the content some senders sign.
func signedContent(prefix string, body []byte) []byte {
	b := make([]byte, 0, len(prefix)+len(body))
	return append(append(b, prefix...), body...)
}

// parseTimestamp parses seconds since 1970 written as senders write them:

// timedHeaders reads the two headers of a sender that signs a timestamp
// with the body: the timestamp (seconds since 1970) and the signature.
// Names are lower case; reasons name the headers as senders write them.
// why is set when either is missing or the timestamp is malformed.
func timedHeaders(s *Request, tsHeader, sigHeader string) (ts string, t int64, sig, why string) {
	ts, ok := s.Headers[tsHeader]
	if !ok {
		return "", 0, "", "no " + http.CanonicalHeaderKey(tsHeader) + " header"
	}
	if t, ok = parseTimestamp(ts); !ok {
		return "", 0, "", http.CanonicalHeaderKey(tsHeader) + " is malformed (want seconds since 1970)"
	}
	if sig, ok = s.Headers[sigHeader]; !ok {
		return "", 0, "", "no " + http.CanonicalHeaderKey(sigHeader) + " header"
	}
	return ts, t, sig, ""
}

// decimal digits, no sign, no leading zero.
func parseTimestamp(s string) (int64, bool) {
	if s == "" || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	t, err := strconv.ParseInt(s, 10, 64)
	return t, err == nil
}

// fresh returns "" when t (seconds since 1970) is within the tolerance of
// now, in the past or in the future, else why not. Like the senders'
// libraries, it counts whole seconds: now is rounded down.
func (s *Request) fresh(t int64) string {
	age := s.Now.Unix() - t // t < 10^18: no overflow
	tol := s.Tolerance.Seconds()
	var when string
	switch {
	case float64(age) > tol:
		when = strconv.FormatInt(age, 10) + " s old"
	case float64(-age) > tol:
		when = strconv.FormatInt(-age, 10) + " s in the future"
	default:
		return ""
	}
	return "timestamp is " + when + " (tolerance " + strconv.FormatFloat(tol, 'f', -1, 64) + " s)"
}
