package scripting

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/switchyard-dev/switchyard/scripting/signature"
)

// DefaultSignatureTolerance is how far from now a signed timestamp may be
// (SLACK, STRIPE and STANDARD) when the script gives no toleranceSeconds.
const DefaultSignatureTolerance = 300 * time.Second

// maxSignatureTolerance bounds toleranceSeconds: one year.
const maxSignatureTolerance = 365 * 24 * time.Hour

// now is the clock of the timestamp checks; tests replace it.
var now = time.Now

// senders are the globals that verify a sender's signature: GITHUB, GITLAB,
// BITBUCKET, SLACK, STRIPE, STANDARD, DISCORD and SENDGRID. Each
// verify(secret) returns true when the request is signed as that sender
// signs it, and false, with one FINE log line saying why, when it is not;
// it throws a TypeError only for a misconfiguration (no secret, a bad key,
// a bad tolerance).
var senders = []api{
	newAPI("GITHUB", []method{
		githubScheme.method(),
		{"event", headerMethod("x-github-event")},
		{"deliveryId", headerMethod("x-github-delivery")},
		{"branch", func(r *run) func(goja.FunctionCall) goja.Value { return r.githubBranch() }},
		{"changedFiles", func(r *run) func(goja.FunctionCall) goja.Value { return r.githubChangedFiles() }},
	}),
	newAPI("GITLAB", []method{gitlabScheme.method()}),
	newAPI("BITBUCKET", []method{bitbucketScheme.method()}),
	newAPI("SLACK", []method{slackScheme.method()}),
	newAPI("STRIPE", []method{stripeScheme.method()}),
	newAPI("STANDARD", []method{standardScheme.method()}),
	newAPI("DISCORD", []method{discordScheme.method()}),
	newAPI("SENDGRID", []method{sendGridScheme.method()}),
}

// signingScheme is a sender's verify method: the scheme (in
// scripting/signature, shared with the signature debugger) and how the
// script sees it.
type signingScheme struct {
	fn     string // "GITHUB.verify", for errors and log lines
	secret string // what the first argument is called: "secret", "token"
	*signature.Scheme
}

var (
	githubScheme    = &signingScheme{"GITHUB.verify", "secret", signature.Lookup(signature.GitHub)}
	gitlabScheme    = &signingScheme{"GITLAB.verify", "token", signature.Lookup(signature.GitLab)}
	bitbucketScheme = &signingScheme{"BITBUCKET.verify", "secret", signature.Lookup(signature.Bitbucket)}
	slackScheme     = &signingScheme{"SLACK.verify", "signing secret", signature.Lookup(signature.Slack)}
	stripeScheme    = &signingScheme{"STRIPE.verify", "secret", signature.Lookup(signature.Stripe)}
	standardScheme  = &signingScheme{"STANDARD.verify", "secret", signature.Lookup(signature.Standard)}
	discordScheme   = &signingScheme{"DISCORD.verify", "public key", signature.Lookup(signature.Discord)}
	sendGridScheme  = &signingScheme{"SENDGRID.verify", "public key", signature.Lookup(signature.SendGrid)}
)

// maxSecrets bounds the list of secrets verify takes.
const maxSecrets = 16

// method returns the scheme's verify method.
func (sc *signingScheme) method() method {
	return method{"verify", func(r *run) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			return r.rt.ToValue(r.senderVerify(sc, call.Argument(0), call.Argument(1)))
		}
	}}
}

// senderVerify implements <SENDER>.verify(secret[, toleranceSeconds]).
// secret may also be an array of secrets (a rotation, or Standard
// Webhooks' whsec_ and whpk_ keys mixed): the request is signed right when
// it is signed with one of them.
func (r *run) senderVerify(sc *signingScheme, secret, tolerance goja.Value) bool {
	reqs := make([]signature.Request, 0, 1)
	for _, s := range r.secretList(sc, secret) {
		req := signature.Request{Headers: r.req.Headers, Body: r.req.Body}
		if err := sc.Prepare(&req, s); err != nil {
			panic(r.rt.NewTypeError("%s", sc.fn+": the "+sc.secret+" "+err.Error()))
		}
		reqs = append(reqs, req)
	}
	if sc.Timed {
		tol, why := r.seconds(tolerance, DefaultSignatureTolerance, maxSignatureTolerance)
		if why != "" {
			panic(r.rt.NewTypeError("%s", sc.fn+": toleranceSeconds "+why))
		}
		for i := range reqs {
			reqs[i].Now, reqs[i].Tolerance = now(), tol
		}
	}
	var whys []string
	for i := range reqs {
		why := sc.Check(&reqs[i])
		if why == "" {
			return true
		}
		if !slices.Contains(whys, why) {
			whys = append(whys, why)
		}
	}
	r.logText(LevelFine, sc.fn+": "+strings.Join(whys, "; "))
	return false
}

// secretList checks verify's first argument: a non-empty string, or an
// array of 1 to maxSecrets of them.
func (r *run) secretList(sc *signingScheme, v goja.Value) []string {
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() != "Array" {
		if !isString(v) || v.String() == "" {
			panic(r.rt.NewTypeError("%s", sc.fn+": the "+sc.secret+" must be a non-empty string, got "+describeNonString(v)))
		}
		return []string{v.String()}
	}
	n := o.Get("length").ToInteger()
	if n < 1 || n > maxSecrets {
		panic(r.rt.NewTypeError("%s: an array of secrets must hold 1 to %d of them, got %d", sc.fn, maxSecrets, n))
	}
	list := make([]string, n)
	for i := range list {
		e := o.Get(strconv.Itoa(i))
		if e == nil || !isString(e) || e.String() == "" {
			panic(r.rt.NewTypeError("%s: the %s at index %d must be a non-empty string, got %s", sc.fn, sc.secret, i, describeNonString(e)))
		}
		list[i] = e.String()
	}
	return list
}

// describeNonString names the type of a value that is not a non-empty
// string, without showing the value (it may be a secret).
func describeNonString(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	switch v.(type) {
	case *goja.Object:
		if _, ok := goja.AssertFunction(v); ok {
			return "a function"
		}
		return "an object"
	case *goja.Symbol:
		return "a symbol"
	}
	if isString(v) {
		return "an empty string"
	}
	switch v.ExportType().Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int64, reflect.Float64:
		return "a number"
	}
	return "a " + v.ExportType().String()
}

// headerMethod makes a method returning a request header, or null when it
// is absent or empty.
func headerMethod(name string) func(r *run) func(goja.FunctionCall) goja.Value {
	return func(r *run) func(goja.FunctionCall) goja.Value {
		return func(goja.FunctionCall) goja.Value {
			if v := r.req.Headers[name]; v != "" {
				return r.rt.ToValue(v)
			}
			r.missingHeader(name)
			return goja.Null()
		}
	}
}

// pushSummary is the part of a GitHub push payload that GITHUB.branch and
// GITHUB.changedFiles read.
type pushSummary struct {
	Ref     string `json:"ref"`
	Commits []struct {
		Added    []string `json:"added"`
		Modified []string `json:"modified"`
		Removed  []string `json:"removed"`
	} `json:"commits"`
}

// parsePush decodes what it can of body: members of an unexpected
// type are left zero; a body that is not JSON gives the zero push.
func parsePush(body []byte) *pushSummary {
	var p pushSummary
	err := json.Unmarshal(body, &p)
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &typeErr) {
		return &pushSummary{}
	}
	return &p
}

// branch returns the branch or tag name of ref ("refs/heads/main" gives
// "main", "refs/tags/v1.2" gives "v1.2"), other refs as they are.
func (p *pushSummary) branch() string {
	for _, prefix := range []string{"refs/heads/", "refs/tags/"} {
		if name, ok := strings.CutPrefix(p.Ref, prefix); ok && name != "" {
			return name
		}
	}
	return p.Ref
}

// changedFiles returns the paths added, modified or removed by the
// commits, each once, in order of first appearance.
func (p *pushSummary) changedFiles() []string {
	var files []string
	seen := map[string]bool{}
	for _, c := range p.Commits {
		for _, list := range [][]string{c.Added, c.Modified, c.Removed} {
			for _, f := range list {
				if f != "" && !seen[f] {
					seen[f] = true
					files = append(files, f)
				}
			}
		}
	}
	return files
}

// githubBranch implements GITHUB.branch(): the pushed branch or tag, null
// when the body has no ref. The body is decoded on the first call.
func (r *run) githubBranch() func(goja.FunctionCall) goja.Value {
	var branch goja.Value
	return func(goja.FunctionCall) goja.Value {
		if branch == nil {
			branch = goja.Null()
			if b := parsePush(r.req.Body).branch(); b != "" {
				branch = r.rt.ToValue(b)
			}
		}
		return branch
	}
}

// githubChangedFiles implements GITHUB.changedFiles(): a new array of the
// paths the push changed on every call, [] when none. The body is decoded
// on the first call.
func (r *run) githubChangedFiles() func(goja.FunctionCall) goja.Value {
	var files []string
	decoded := false
	return func(goja.FunctionCall) goja.Value {
		if !decoded {
			files, decoded = parsePush(r.req.Body).changedFiles(), true
		}
		vals := make([]any, len(files))
		for i, f := range files {
			vals[i] = f
		}
		return r.rt.NewArray(vals...)
	}
}
