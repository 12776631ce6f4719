// Package signature knows how webhook senders sign their requests and
// explains, for the signature debugger, why a signature does or does not
// match: it computes every common variant (algorithm, encoding, signed
// content, key form) over the raw body and says which one the sender used.
package signature

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"
)

// Schemes the debugger knows, by name.
const (
	GitHub    = "github"
	GitLab    = "gitlab"
	Bitbucket = "bitbucket"
	Slack     = "slack"
	Stripe    = "stripe"
	Standard  = "standard"
	Discord   = "discord"
	SendGrid  = "sendgrid"
	Generic   = "hmac"
)

// Schemes lists the scheme names in the order they are guessed.
var Schemes = []string{GitHub, GitLab, Bitbucket, Slack, Stripe, Standard, Generic}

// DefaultTolerance is how far a signed timestamp may be from now.
const DefaultTolerance = 300 * time.Second

// Input is what the debugger checks.
type Input struct {
	Headers   map[string]string // lower-case names
	Body      []byte            // the raw body, byte for byte
	Secret    string
	Scheme    string // one of Schemes, or "" to guess from the headers
	Tolerance time.Duration
	Now       time.Time
}

// Report is the debugger's answer.
type Report struct {
	Scheme     string      `json:"scheme"`
	Guessed    bool        `json:"guessed"`  // the scheme was guessed from the headers
	Expected   string      `json:"expected"` // how this scheme signs, in words
	Verified   bool        `json:"verified"` // the scheme's own rule accepts the request
	Reason     string      `json:"reason"`   // why it does or does not
	Received   []Received  `json:"received"`
	Match      *Candidate  `json:"match"` // the first variant that matches a received signature
	Candidates []Candidate `json:"candidates"`
	Hints      []string    `json:"hints"`
}

// Received is a header that carries (or may carry) a signature.
type Received struct {
	Header string `json:"header"`
	Value  string `json:"value"`
}

// Candidate is one computed variant.
type Candidate struct {
	Algorithm     string `json:"algorithm"` // sha1, sha256, sha512
	Encoding      string `json:"encoding"`  // hex, base64, base64url
	Signed        string `json:"signed"`    // what was signed, e.g. "body", "v0:{timestamp}:{body}"
	Key           string `json:"key"`       // "secret", "secret, trimmed", "secret, base64-decoded"
	Value         string `json:"value"`     // the computed signature, as the sender would write it
	Matches       bool   `json:"matches"`
	MatchedHeader string `json:"matched_header,omitempty"`
}

// Check explains the request's signature under in.Secret.
func Check(in Input) (Report, error) {
	if in.Secret == "" {
		return Report{}, fmt.Errorf("secret is required")
	}
	if in.Tolerance <= 0 {
		in.Tolerance = DefaultTolerance
	}
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	r := Report{Scheme: in.Scheme}
	if r.Scheme == "" {
		r.Scheme, r.Guessed = Guess(in.Headers), true
	}
	if !slices.Contains(Schemes, r.Scheme) {
		return Report{}, fmt.Errorf("unknown scheme %q (use one of %s)", in.Scheme, strings.Join(Schemes, ", "))
	}
	r.Expected = expected[r.Scheme]
	r.Received = received(in.Headers)
	r.Verified, r.Reason = Verify(r.Scheme, in.Headers, in.Body, in.Secret, in.Tolerance, in.Now)
	r.Candidates = candidates(in, r.Received)
	for i := range r.Candidates {
		if r.Candidates[i].Matches {
			c := r.Candidates[i]
			r.Match = &c
			break
		}
	}
	r.Hints = hints(in, &r)
	return r, nil
}

// Guess names the scheme a request's headers point to.
func Guess(h map[string]string) string {
	switch {
	case h["x-github-event"] != "" || h["x-hub-signature-256"] != "" && h["x-event-key"] == "":
		return GitHub
	case h["x-gitlab-token"] != "" || h["x-gitlab-event"] != "":
		return GitLab
	case h["x-event-key"] != "":
		return Bitbucket
	case h["x-slack-signature"] != "":
		return Slack
	case h["stripe-signature"] != "":
		return Stripe
	case h["webhook-signature"] != "":
		return Standard
	}
	return Generic
}

var expected = map[string]string{
	GitHub:    "X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body> (older: X-Hub-Signature: sha1=<hex HMAC-SHA1>)",
	GitLab:    "X-Gitlab-Token: the secret token itself, no HMAC",
	Bitbucket: "X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>",
	Slack:     "X-Slack-Signature: v0=<hex HMAC-SHA256 of \"v0:{X-Slack-Request-Timestamp}:{body}\">, timestamp within the tolerance",
	Stripe:    "Stripe-Signature: t=<timestamp>,v1=<hex HMAC-SHA256 of \"{t}.{body}\">, timestamp within the tolerance",
	Standard:  "webhook-signature: v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\"> with the base64-decoded whsec_ secret (or v1a,<base64 Ed25519 signature> with a whpk_ public key), timestamp within the tolerance",
	Generic:   "a header holding an HMAC of the body; the candidates show every common form",
}

// Verify applies a scheme's own rule and says why it accepts or refuses.
// It compares in constant time.
func Verify(scheme string, h map[string]string, body []byte, secret string, tolerance time.Duration, now time.Time) (bool, string) {
	sc := Lookup(scheme)
	if sc == nil {
		return false, "the generic scheme has no single rule; see the candidates"
	}
	r := &Request{Headers: h, Body: body, Now: now, Tolerance: tolerance}
	if err := sc.Prepare(r, secret); err != nil {
		return false, "the secret " + err.Error()
	}
	if why := sc.Check(r); why != "" {
		return false, why
	}
	return true, "signed as " + scheme + " signs"
}

// ParseStripe splits a Stripe-Signature header into its timestamp and v1
// signatures.
func ParseStripe(v string) (t string, v1 []string) {
	for part := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			t = val
		case "v1":
			v1 = append(v1, val)
		}
	}
	return t, v1
}

// sum is the HMAC of prefix followed by body.
func sum(h func() hash.Hash, key []byte, prefix string, body []byte) []byte {
	return mac(h, key, signedContent(prefix, body))
}

// received lists the headers that look like they carry a signature.
func received(h map[string]string) []Received {
	var out []Received
	for name, v := range h {
		if signatureHeader(name) {
			out = append(out, Received{Header: name, Value: v})
		}
	}
	slices.SortFunc(out, func(a, b Received) int { return strings.Compare(a.Header, b.Header) })
	return out
}

func signatureHeader(name string) bool {
	switch name {
	case "x-gitlab-token", "stripe-signature", "webhook-signature":
		return true
	}
	for _, w := range []string{"signature", "hmac", "-sig", "digest", "token"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// tokens splits a header value into the signatures it may hold, with the
// usual "sha256=", "v0=", "v1," prefixes removed and timestamps left out.
func tokens(v string) []string {
	var out []string
	for field := range strings.FieldsSeq(v) {
		if sig, ok := strings.CutPrefix(field, "v1,"); ok { // Standard Webhooks
			out = append(out, sig)
			continue
		}
		for part := range strings.SplitSeq(field, ",") {
			k, val, ok := strings.Cut(part, "=")
			switch {
			case !ok:
				out = append(out, part)
			case k == "t" || k == "ts" || k == "timestamp":
			case k == "sha1" || k == "sha256" || k == "sha512" || k == "v0" || k == "v1" || k == "signature" || k == "s":
				out = append(out, val)
			default:
				out = append(out, part) // base64 padding ends in '='
			}
		}
	}
	return out
}

// signedForm is one way a sender builds the signed bytes.
type signedForm struct {
	label  string
	prefix string // signed = prefix + body
	scheme string // the scheme that signs this way, for the value's form
}

func signedForms(h map[string]string) []signedForm {
	forms := []signedForm{{label: "{body}"}}
	if ts := h["x-slack-request-timestamp"]; ts != "" {
		forms = append(forms, signedForm{"v0:{x-slack-request-timestamp}:{body}", "v0:" + ts + ":", Slack})
	}
	if t, _ := ParseStripe(h["stripe-signature"]); t != "" {
		forms = append(forms, signedForm{"{t}.{body}", t + ".", Stripe})
	}
	if id, ts := h["webhook-id"], h["webhook-timestamp"]; id != "" && ts != "" {
		forms = append(forms, signedForm{"{webhook-id}.{webhook-timestamp}.{body}", id + "." + ts + ".", Standard})
	}
	for _, name := range []string{"x-timestamp", "x-signature-timestamp", "x-request-timestamp", "x-webhook-timestamp"} {
		if ts := h[name]; ts != "" {
			forms = append(forms, signedForm{"{" + name + "}.{body}", ts + ".", ""}, signedForm{"{" + name + "}{body}", ts, ""})
		}
	}
	return forms
}

type keyForm struct {
	label string
	key   []byte
}

func keyForms(secret string) []keyForm {
	keys := []keyForm{{"secret", []byte(secret)}}
	if t := strings.TrimSpace(secret); t != secret && t != "" {
		keys = append(keys, keyForm{"secret, trimmed", []byte(t)})
	}
	if k, err := StandardKey(secret); err == nil {
		keys = append(keys, keyForm{"secret, base64-decoded", k})
	}
	return keys
}

var algorithms = []struct {
	name string
	h    func() hash.Hash
}{{"sha1", sha1.New}, {"sha256", sha256.New}, {"sha512", sha512.New}}

var encodings = []struct {
	name string
	enc  func([]byte) string
}{
	{"hex", hex.EncodeToString},
	{"base64", base64.StdEncoding.EncodeToString},
	{"base64url", base64.RawURLEncoding.EncodeToString},
}

// candidates computes every variant and marks those matching a received
// signature; matches come first.
func candidates(in Input, recv []Received) []Candidate {
	type tok struct{ header, value string }
	var toks []tok
	for _, r := range recv {
		for _, t := range tokens(r.Value) {
			toks = append(toks, tok{r.Header, t})
		}
	}
	var out []Candidate
	for _, k := range keyForms(in.Secret) {
		for _, f := range signedForms(in.Headers) {
			for _, a := range algorithms {
				raw := sum(a.h, k.key, f.prefix, in.Body)
				for _, e := range encodings {
					v := e.enc(raw)
					c := Candidate{Algorithm: a.name, Encoding: e.name, Signed: f.label, Key: k.label, Value: display(a.name, e.name, f.scheme, v)}
					for _, t := range toks {
						if t.value == v || e.name == "hex" && strings.EqualFold(t.value, v) {
							c.Matches, c.MatchedHeader = true, t.header
							break
						}
					}
					out = append(out, c)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Candidate) int {
		switch {
		case a.Matches == b.Matches:
			return 0
		case a.Matches:
			return -1
		}
		return 1
	})
	return out
}

// display writes a computed signature as a sender would put it in its
// header.
func display(alg, enc, scheme, v string) string {
	switch {
	case scheme == Slack && alg == "sha256" && enc == "hex":
		return "v0=" + v
	case scheme == Stripe && alg == "sha256" && enc == "hex":
		return "v1=" + v
	case scheme == Standard && alg == "sha256" && enc == "base64":
		return "v1," + v
	case scheme == "" && enc == "hex":
		return alg + "=" + v
	}
	return v
}

// hints turn the findings into advice.
func hints(in Input, r *Report) []string {
	var out []string
	if len(r.Received) == 0 {
		out = append(out, "No header of the request looks like a signature: check that the sender is configured with a secret, and which header it uses.")
	}
	if in.Secret != strings.TrimSpace(in.Secret) {
		out = append(out, "The secret begins or ends with whitespace; pasted secrets often pick some up.")
	}
	if m := r.Match; m != nil {
		if !r.Verified && r.Scheme != Generic {
			out = append(out, fmt.Sprintf("The request is signed with HMAC-%s, %s, over %s, with the %s, which is not how %s signs: did you pick the right scheme?", strings.ToUpper(m.Algorithm), m.Encoding, m.Signed, m.Key, r.Scheme))
		}
		if m.Key == "secret, trimmed" {
			out = append(out, "It matches only with the whitespace removed from the secret: fix the stored secret.")
		}
		if r.Scheme == Generic {
			out = append(out, fmt.Sprintf("In a script: HMAC.sign(%q, FLX_PRISTINE_PAYLOAD, PROPERTIES.secret, %q), compared with HMAC.equals against header %s.", m.Algorithm, baseEncoding(m.Encoding), m.MatchedHeader))
		}
	} else if len(r.Received) > 0 && !r.Verified {
		out = append(out, "No variant matches the received signature: the secret is most likely not the one the sender has; or something between the sender and Switchyard changed the body (a proxy that re-encodes JSON).")
	}
	if strings.Contains(r.Reason, "old") || strings.Contains(r.Reason, "future") {
		out = append(out, "The signature's timestamp is outside the tolerance: a replayed request, a resubmitted old message, or clocks that disagree.")
	}
	return out
}

func baseEncoding(e string) string {
	if e == "hex" {
		return "hex"
	}
	return "base64"
}
