package providers_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"maps"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/npmtest"
	"github.com/switchyard-dev/switchyard/providers"
	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// Every embedded template is well-formed, and the library holds them all.
func TestTemplateLibrary(t *testing.T) {
	t.Parallel()
	if err := providers.TemplatesError(); err != nil {
		t.Fatal(err)
	}
	want := []string{"asana", "azure-devops", "bitbucket-cloud", "bitbucket-server", "discord", "dropbox", "generic-hmac", "github", "gitlab", "jira",
		"linear", "meta", "microsoft-graph", "pagerduty", "sendgrid", "sentry", "shopify", "slack", "standard-webhooks", "stripe", "twilio", "x", "zoom"}
	// The senders that verify a URL before they send to it.
	handshakes := []string{"asana", "discord", "dropbox", "meta", "microsoft-graph", "slack", "x", "zoom"}
	if got := providers.TemplateNames(); !slices.Equal(got, want) {
		t.Fatalf("templates %v, want %v", got, want)
	}
	for _, tmpl := range providers.Templates() {
		if tmpl.Title == "" || tmpl.Description == "" || !strings.HasPrefix(tmpl.Script, "// @name ") {
			t.Errorf("%s: %+v", tmpl.Name, tmpl)
		}
		if len(tmpl.Secrets) == 0 {
			t.Errorf("%s: no secret: every template must verify something", tmpl.Name)
		}
		if slices.Contains(handshakes, tmpl.Name) != (tmpl.Handshake != "") {
			t.Errorf("%s: handshake script %q", tmpl.Name, tmpl.Handshake)
		}
		again, err := providers.ParseTemplateWithHandshake(tmpl.Name, tmpl.Script, tmpl.Handshake)
		if err != nil || again.Title != tmpl.Title {
			t.Errorf("%s: %v", tmpl.Name, err)
		}
		got, ok := providers.TemplateByName(tmpl.Name)
		if !ok || got.Script != tmpl.Script {
			t.Errorf("TemplateByName(%q) = %v", tmpl.Name, ok)
		}
	}
	if _, ok := providers.TemplateByName("GitHub"); ok {
		t.Error("names are ids: GitHub is not one")
	}
	// Callers get copies.
	a, _ := providers.TemplateByName("generic-hmac")
	a.Properties[0].OneOf[0] = "md5"
	b, _ := providers.TemplateByName("generic-hmac")
	if b.Properties[0].OneOf[0] == "md5" {
		t.Fatal("TemplateByName shares the library's slices")
	}
}

func TestParseTemplateRefusesMalformed(t *testing.T) {
	t.Parallel()
	const ok = "// @name X\n// @description Y.\n// @secret secret: the secret (required)\nreturn HMAC.equals(PROPERTIES.secret, 'x');\n"
	if _, err := providers.ParseTemplate("x", ok); err != nil {
		t.Fatalf("the well-formed example: %v", err)
	}
	for _, c := range []struct{ name, file, src, want string }{
		{"bad id", "GitHub", ok, `name "GitHub"`},
		{"no header", "x", "return true", "no metadata"},
		{"no name", "x", "// @description Y.\n// @secret s: s (required)\nreturn PROPERTIES.s", "no @name"},
		{"no description", "x", "// @name X\n// @secret s: s (required)\nreturn PROPERTIES.s", "no @description"},
		{"twice", "x", "// @name X\n// @name Z\n// @description Y.\nreturn 1", "line 2: @name appears twice"},
		{"unknown tag", "x", "// @name X\n// @description Y.\n// @secrets s: s\nreturn PROPERTIES.s", "line 3: unknown tag @secrets"},
		{"tag spacing", "x", "// @name X\n// @description Y.\n//@secret s: s\nreturn PROPERTIES.s", "line 3: a tag is written"},
		{"no colon", "x", "// @name X\n// @description Y.\n// @secret s the secret\nreturn PROPERTIES.s", "line 3: @secret must be"},
		{"bad param name", "x", "// @name X\n// @description Y.\n// @secret Secret: s\nreturn PROPERTIES.Secret", `name "Secret"`},
		{"no param description", "x", "// @name X\n// @description Y.\n// @secret s: (required)\nreturn PROPERTIES.s", "no description"},
		{"duplicate", "x", "// @name X\n// @description Y.\n// @secret s: s\n// @property s: s\nreturn PROPERTIES.s", `line 4: "s" is already declared on line 3`},
		{"secret default", "x", "// @name X\n// @description Y.\n// @secret s: s (default x)\nreturn PROPERTIES.s", "a secret has no default"},
		{"required and default", "x", "// @name X\n// @description Y.\n// @property p: p (required) (default 1)\nreturn PROPERTIES.p", "both (required) and a default"},
		{"default not allowed", "x", "// @name X\n// @description Y.\n// @property p: p (one of a, b) (default c)\nreturn PROPERTIES.p", `the default "c" is not one of a, b`},
		{"bad condition", "x", "// @name X\n// @description Y.\n// @secret s: s (required when mode)\nreturn PROPERTIES.s", "(required when <property> is <value>)"},
		{"condition on nothing", "x", "// @name X\n// @description Y.\n// @secret s: s (required when mode is a)\nreturn PROPERTIES.s", `"mode" is not a property`},
		{"condition never true", "x", "// @name X\n// @description Y.\n// @property mode: m (one of a, b)\n// @secret s: s (required when mode is c)\nreturn PROPERTIES.s + PROPERTIES.mode", `"mode" is never "c"`},
		{"syntax error", "x", "// @name X\n// @description Y.\n// @secret s: s\nreturn PROPERTIES.s +;", "script: line 4"},
		{"undeclared read", "x", "// @name X\n// @description Y.\n// @secret s: s\nreturn PROPERTIES.s + PROPERTIES['other']", "reads PROPERTIES.other, which is not declared"},
		{"declared unread", "x", "// @name X\n// @description Y.\n// @secret s: s\n// @property p: p\nreturn PROPERTIES.s", `"p" is declared but the script never reads`},
	} {
		_, err := providers.ParseTemplate(c.file, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}

	// Continuation lines and notes after a parenthesised description.
	src := "// @name X\n// @description One\n//   two.\n// @property mode: how (really) it works\n//   (one of a, b) (default b)\n// @secret s: the secret (from the app) (required when mode is a)\n//\n// Prose.\nreturn PROPERTIES.s + PROPERTIES.mode"
	tmpl, err := providers.ParseTemplate("x", src)
	if err != nil {
		t.Fatal(err)
	}
	mode, s := tmpl.Properties[0], tmpl.Secrets[0]
	if tmpl.Description != "One two." || mode.Description != "how (really) it works" || mode.Default != "b" || !slices.Equal(mode.OneOf, []string{"a", "b"}) ||
		s.Description != "the secret (from the app)" || s.Required || s.RequiredWhen == nil || *s.RequiredWhen != (providers.Condition{Property: "mode", Value: "a"}) {
		t.Fatalf("parsed %+v %+v %+v", tmpl, mode, s)
	}
}

func TestTemplateProvider(t *testing.T) {
	t.Parallel()
	gh, _ := providers.TemplateByName("github")
	p, err := gh.Provider(map[string]string{"secret": "s3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "GitHub" || !p.Active || p.MatchScript != gh.Script || p.Secrets["secret"] != "s3" || len(p.Properties) != 0 ||
		p.Description != "Created from the GitHub template." {
		t.Fatalf("%+v", p)
	}
	if err := providers.Normalize(&p); err != nil {
		t.Fatalf("a provider from a template must save: %v", err)
	}

	hm, _ := providers.TemplateByName("generic-hmac")
	p, err = hm.Provider(map[string]string{"secret": "s"}, map[string]string{"encoding": "base64", "prefix": ""})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"algorithm": "sha256", "header": "X-Signature", "encoding": "base64", "prefix": ""}; !maps.Equal(p.Properties, want) {
		t.Fatalf("defaults: %v, want %v", p.Properties, want)
	}

	az, _ := providers.TemplateByName("azure-devops")
	if _, err := az.Provider(map[string]string{"header_value": "v"}, map[string]string{"auth": "header"}); err != nil {
		t.Fatalf("header auth needs no username: %v", err)
	}

	for _, c := range []struct {
		name        string
		tmpl        string
		secrets     map[string]string
		props       map[string]string
		want, avoid []string
	}{
		{"missing", "github", nil, nil, []string{`needs secret "secret" (the webhook's Secret, as typed in GitHub)`}, nil},
		{"empty counts as missing", "github", map[string]string{"secret": ""}, nil, []string{`needs secret "secret"`}, nil},
		{"unknown secret", "github", map[string]string{"secret": "s", "token": "t"}, nil, []string{`unknown secret "token" (this template takes secret)`}, nil},
		{"unknown property", "github", map[string]string{"secret": "s"}, map[string]string{"branch": "main"}, []string{`unknown property "branch" (this template takes none)`}, nil},
		{"secret sent as property", "github", nil, map[string]string{"secret": "s"}, []string{`"secret" is a secret of this template, not a property`, `needs secret "secret"`}, []string{`"s"`}},
		{"property sent as secret", "generic-hmac", map[string]string{"secret": "s", "header": "X-Sig"}, nil, []string{`"header" is a property of this template, not a secret`}, nil},
		{"not one of", "generic-hmac", map[string]string{"secret": "s"}, map[string]string{"algorithm": "md5"}, []string{`property "algorithm" must be one of sha1, sha256, sha512, not "md5"`}, nil},
		{"conditional by default", "azure-devops", nil, nil, []string{`needs secret "username"`, `secret "password"`, "required when auth is basic"}, []string{"header_value"}},
		{"conditional", "azure-devops", map[string]string{"username": "u", "password": "p"}, map[string]string{"auth": "header"}, []string{`needs secret "header_value"`, "required when auth is header"}, nil},
		{"gitlab signing", "gitlab", map[string]string{"token": "t"}, map[string]string{"auth": "signing"}, []string{`needs secret "signing_token"`}, nil},
	} {
		tmpl, _ := providers.TemplateByName(c.tmpl)
		_, err := tmpl.Provider(c.secrets, c.props)
		if !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
		for _, a := range c.avoid {
			if strings.Contains(err.Error(), a) {
				t.Errorf("%s: %q should not mention %q", c.name, err, a)
			}
		}
	}
}

// The shared secret every sender's requests are signed with in the
// matrix below, in the one format every template accepts ("whsec_" and
// base64, for Standard Webhooks), so that only the templates' checks of
// who sent a request tell the senders apart.
var (
	rightSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("It's a Secret to Everybody 32by"))
	wrongSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("It's a Secret to Everybody 32bz"))
)

// senderCase is one sender, configured one way: a template, its settings,
// and a real request from that sender signed with a given secret.
type senderCase struct {
	name     string
	template string
	props    map[string]string
	secrets  func(secret string) map[string]string
	request  func(t *testing.T, secret string) scripting.Request
	// signsBody: the sender signs the body, so a changed body is refused
	// (a shared token or credential does not cover it).
	signsBody bool
}

func secretNamed(name string) func(string) map[string]string {
	return func(s string) map[string]string { return map[string]string{name: s} }
}

func macHex(h func() hash.Hash, key, data []byte) string {
	m := hmac.New(h, key)
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}

func macBase64(h func() hash.Hash, key, data []byte) string {
	m := hmac.New(h, key)
	m.Write(data)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// standardHeaders signs body the Standard Webhooks way.
func standardHeaders(t *testing.T, secret, id string, body []byte) map[string]string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	return map[string]string{
		"webhook-id":        id,
		"webhook-timestamp": ts,
		"webhook-signature": "v1," + macBase64(sha256.New, key, []byte(id+"."+ts+"."+string(body))),
	}
}

func request(body []byte, contentType string, headers map[string]string) scripting.Request {
	h := map[string]string{"content-type": contentType, "content-length": strconv.Itoa(len(body))}
	maps.Copy(h, headers)
	return scripting.Request{Method: "POST", URI: "hooks", Headers: h, Query: url.Values{}, Body: body}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Real payloads, from the senders' documentation (trimmed where long).
const (
	gitlabPush          = `{"object_kind":"push","event_name":"push","before":"95790bf891e76fee5e1747ab589903a6a1f80f22","after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","ref":"refs/heads/master","ref_protected":true,"checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","user_id":4,"user_name":"John Smith","user_username":"jsmith","user_email":"john@example.com","project_id":15,"project":{"id":15,"name":"Diaspora","web_url":"http://example.com/mike/diaspora","path_with_namespace":"mike/diaspora","default_branch":"master"},"commits":[{"id":"b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327","message":"Update Catalan translation to e38cb41.\n\nSee https://gitlab.com/gitlab-org/gitlab for more information","title":"Update Catalan translation to e38cb41.","timestamp":"2011-12-12T14:27:31+02:00","url":"http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327","author":{"name":"Jordi Mallach","email":"jordi@softcatala.org"},"added":["CHANGELOG"],"modified":["app/controller/application.rb"],"removed":[]}],"total_commits_count":1,"repository":{"name":"Diaspora","url":"git@example.com:mike/diaspora.git","homepage":"http://example.com/mike/diaspora"}}`
	bitbucketCloudPush  = `{"push":{"changes":[{"old":{"type":"branch","name":"main","target":{"type":"commit","hash":"7b0f7d0b8f1a6f0b7a1c2a8e4e0d5a1b2c3d4e5f"}},"new":{"type":"branch","name":"main","target":{"type":"commit","hash":"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678","message":"Fix the build\n","author":{"raw":"Ada Lovelace <ada@example.com>"}}},"created":false,"forced":false,"closed":false,"truncated":false}]},"repository":{"type":"repository","full_name":"team/widget","name":"widget","uuid":"{2d5b7e3a-6c1f-4c8e-9a0b-1f2e3d4c5b6a}","is_private":true},"actor":{"type":"user","display_name":"Ada Lovelace","uuid":"{d301aafa-d676-4ee0-88be-962be7417567}","account_id":"557058:ab5a3f2b-2a6d-4f2c-8c2e-4d1c0f3b5e6a"}}`
	bitbucketServerPush = `{"eventKey":"repo:refs_changed","date":"2017-09-19T09:45:32+1000","actor":{"name":"admin","emailAddress":"admin@example.com","id":1,"displayName":"Administrator","active":true,"slug":"admin","type":"NORMAL"},"repository":{"slug":"repository","id":84,"name":"repository","scmId":"git","state":"AVAILABLE","statusMessage":"Available","forkable":true,"project":{"key":"PROJ","id":84,"name":"project","public":false,"type":"NORMAL"},"public":false},"changes":[{"ref":{"id":"refs/heads/master","displayId":"master","type":"BRANCH"},"refId":"refs/heads/master","fromHash":"ecddabb624f6f5ba43816f5926e580a5f680a932","toHash":"178864a7d521b6f5e720b386b2c2b0ef8563e0dc","type":"UPDATE"}]}`
	azurePush           = `{"subscriptionId":"00000000-0000-0000-0000-000000000000","notificationId":3,"id":"03c164c2-8912-4d5e-8009-3707d5f83734","eventType":"git.push","publisherId":"tfs","message":{"text":"Jamal Hartnett pushed updates to Fabrikam-Fiber-Git:master."},"detailedMessage":{"text":"Jamal Hartnett pushed a commit to Fabrikam-Fiber-Git:master.\n - Fixed bug in web.config file 33b55f7c"},"resource":{"commits":[{"commitId":"33b55f7cb7e7e245323987634f960cf4a6e6bc74","author":{"name":"Jamal Hartnett","email":"fabrikamfiber4@hotmail.com","date":"2015-02-25T19:01:00Z"},"comment":"Fixed bug in web.config file"}],"refUpdates":[{"name":"refs/heads/master","oldObjectId":"aad331d8d3b131fa9ae03cf5e53965b51942618a","newObjectId":"33b55f7cb7e7e245323987634f960cf4a6e6bc74"}],"repository":{"id":"278d5cd2-584d-4b63-824a-2ba458937249","name":"Fabrikam-Fiber-Git","url":"https://dev.azure.com/fabrikam/DefaultCollection/_apis/git/repositories/278d5cd2-584d-4b63-824a-2ba458937249"},"pushedBy":{"displayName":"Jamal Hartnett","uniqueName":"Windows Live ID\\fabrikamfiber4@hotmail.com"},"pushId":14,"date":"2014-05-02T19:17:13.3309587Z"},"resourceVersion":"1.0","resourceContainers":{"collection":{"id":"c12d0eb8-e382-443b-9f9c-c52cba5014c2"},"account":{"id":"f844ec47-a9db-4511-8281-8b63f4eaf94e"},"project":{"id":"be9b3917-87e6-42a4-a549-2bc06a7a878f"}},"createdDate":"2026-01-20T10:15:00.0000000Z"}`
	jiraIssueCreated    = `{"timestamp":1525698237764,"webhookEvent":"jira:issue_created","issue_event_type_name":"issue_created","user":{"self":"https://example.atlassian.net/rest/api/2/user?accountId=5b10a2844c20165700ede21g","accountId":"5b10a2844c20165700ede21g","displayName":"Ada Lovelace","active":true},"issue":{"id":"10004","self":"https://example.atlassian.net/rest/api/2/issue/10004","key":"TEST-5","fields":{"summary":"The build fails on Fridays","issuetype":{"name":"Bug"},"project":{"key":"TEST","name":"Test"},"status":{"name":"To Do"},"priority":{"name":"High"}}}}`
	slackCommand        = `token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&enterprise_id=E0001&enterprise_name=Globular%20Construct%20Inc&channel_id=C2147483705&channel_name=test&user_id=U2147483697&user_name=Steve&command=/weather&text=94070&response_url=https://hooks.slack.com/commands/1234/5678&trigger_id=13345224609.738474920.8088930838d88f008e0&api_app_id=A123456`
	stripeEvent         = `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2019-02-19","created":1686089970,"data":{"object":{"id":"seti_1NG8Du2eZvKYlo2C9XMqbR0x","object":"setup_intent","application":null,"automatic_payment_methods":null,"cancellation_reason":null,"client_secret":"seti_1NG8Du2eZvKYlo2C9XMqbR0x_secret_O2CdhLwGFh2Aej7bCY7qp8jlIuyR8DJ","created":1686089970,"customer":null,"livemode":false,"payment_method":"pm_1NG8Du2eZvKYlo2CYzzldNr7","payment_method_types":["acss_debit"],"status":"requires_confirmation","usage":"off_session"}},"livemode":false,"pending_webhooks":0,"request":{"id":null,"idempotency_key":null},"type":"setup_intent.created"}`
	standardEvent       = `{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485","type":"contact","name":"Ada Lovelace"}}`
	genericEvent        = `{"event":"order.paid","id":"ord_2f9a","amount":1250,"currency":"EUR"}`
	zoomEvent           = `{"event":"meeting.started","event_ts":1626230691572,"payload":{"account_id":"AAAAAABBBB","object":{"id":"1234567890","uuid":"czLF6FFFoQOKgAB99DlDb9g==","host_id":"x1yCzABCDEfg23HiJKl4mN","topic":"My Meeting","type":8,"start_time":"2021-07-13T21:44:51Z","timezone":"America/Los_Angeles","duration":60}}}`
	metaEvent           = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}`
	xEvent              = `{"for_user_id":"2244994945","tweet_create_events":[{"created_at":"Wed Oct 10 20:19:24 +0000 2018","id_str":"1050118621198921728","text":"To make room for more expression, we will now count all emojis as equal","user":{"id_str":"6253282","screen_name":"XDevelopers"}}]}`
	asanaEvent          = `{"events":[{"action":"changed","created_at":"2026-01-20T10:15:00.000Z","parent":null,"resource":{"gid":"1204567890123456","resource_type":"task","resource_subtype":"default_task"},"user":{"gid":"1201234567890123","resource_type":"user"},"change":{"field":"completed","action":"changed"}}]}`
	dropboxEvent        = `{"list_folder":{"accounts":["dbid:AACHpXZu5x6GP0tbZXMpMUe3L8z5V3mMeFU"]},"delta":{"users":[12345678]}}`
	discordInteraction  = `{"app_permissions":"442368","application_id":"1011111111111111111","channel_id":"1022222222222222222","data":{"id":"1033333333333333333","name":"deploy","options":[{"name":"env","type":3,"value":"staging"}],"type":1},"guild_id":"1044444444444444444","id":"1055555555555555555","member":{"user":{"id":"1066666666666666666","username":"ada"}},"token":"aW50ZXJhY3Rpb246MTA1NTU1NTU1NTU1NTU1NTU1NTp0b2tlbg","type":2,"version":1}`
	sendgridEvents      = `[{"email":"example@test.com","timestamp":1513299569,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"delivered","category":"cat facts","sg_event_id":"rbtnWrG1DVDGGGFHFyun0A==","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","response":"250 OK"}]`
	twilioURL           = "https://hooks.example.com/webhooks/v1/twilio/sms?tenant=acme"
	twilioSMS           = `ToCountry=US&ToState=CA&SmsMessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&NumMedia=0&ToCity=SAN+FRANCISCO&FromZip=94107&SmsSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Hello+%C3%A9t%C3%A9%21&FromCountry=US&To=%2B14155552671&ToZip=94105&NumSegments=1&MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&AccountSid=AC9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d&From=%2B14155550100&ApiVersion=2010-04-01`
	pagerdutyEvent      = `{"event":{"id":"01DEN1HNLBC1VITYAN4RQYRN39","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2026-01-20T10:15:00.000Z","agent":{"html_url":"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","incident_key":"d3640fbd41094207a1c11e58e46b1662","title":"A little bump in the road","urgency":"high"}}}`
	sentryEvent         = `{"action":"created","installation":{"uuid":"a8e5d37a-696c-4c54-adb5-b3f28d64c7de"},"data":{"issue":{"id":"1170820242","shortId":"SENTRY-APP-1","title":"Error: The server is on fire","culprit":"handler(app.js)","level":"error","status":"unresolved","project":{"id":"1","name":"front-end","slug":"front-end","platform":"javascript"}}},"actor":{"type":"application","id":"sentry","name":"Sentry"}}`
	shopifyOrder        = `{"id":820982911946154508,"email":"jon@example.com","created_at":"2026-01-20T10:15:00-05:00","total_price":"403.00","currency":"USD","financial_status":"paid"}`
)

// linearEvent is a Linear issue webhook sent at at.
func linearEvent(at time.Time) string {
	return `{"action":"create","actor":{"id":"2e6eea91-1111-0000-9486-acea0603064d","type":"user","name":"Ada Lovelace"},"createdAt":"2026-01-20T10:15:00.000Z","data":{"id":"2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9","identifier":"ENG-42","title":"The build is red","priority":2,"teamId":"72b2a2dc-6f4f-4423-9d34-24b5bd10634a"},"url":"https://linear.app/acme/issue/ENG-42","type":"Issue","organizationId":"78c6c8e4-4f64-4cae-8a0f-7ac0ec7e1f01","webhookTimestamp":` + strconv.FormatInt(at.UnixMilli(), 10) + `,"webhookId":"000042e3-d123-4980-b49f-8e140eef9329"}`
}

// senderKeys are the key pairs of the senders that sign with a private
// key (Discord, SendGrid): one pair per secret of the matrix, made once,
// so that "signed with a wrong secret" is signed with another key.
type senderKeys struct {
	ed   ed25519.PrivateKey
	p256 *ecdsa.PrivateKey
}

var (
	keysMu  sync.Mutex
	keysMap = map[string]senderKeys{}
)

func keysFor(secret string) senderKeys {
	keysMu.Lock()
	defer keysMu.Unlock()
	k, ok := keysMap[secret]
	if !ok {
		_, ed, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		k = senderKeys{ed, p}
		keysMap[secret] = k
	}
	return k
}

func senderCases() []senderCase {
	return []senderCase{
		{"github", "github", nil, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			body := readFile(t, "../testdata/github/push.json")
			return request(body, "application/json", map[string]string{
				"user-agent":          "GitHub-Hookshot/044aadd",
				"x-github-event":      "push",
				"x-github-delivery":   "72d3162e-cc78-11e3-81ab-4c9367dc0958",
				"x-github-hook-id":    "292430182",
				"x-hub-signature":     "sha1=" + macHex(sha1.New, []byte(secret), body),
				"x-hub-signature-256": "sha256=" + macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"gitlab token", "gitlab", nil, secretNamed("token"), func(t *testing.T, secret string) scripting.Request {
			return request([]byte(gitlabPush), "application/json", map[string]string{
				"user-agent":      "GitLab/17.8.0",
				"x-gitlab-event":  "Push Hook",
				"x-gitlab-token":  secret,
				"idempotency-key": "f5e5f430-f57b-4e6e-9fac-d9128cd7232f",
			})
		}, false},
		{"gitlab signing", "gitlab", map[string]string{"auth": "signing"}, secretNamed("signing_token"), func(t *testing.T, secret string) scripting.Request {
			h := standardHeaders(t, secret, "f5e5f430-f57b-4e6e-9fac-d9128cd7232f", []byte(gitlabPush))
			h["x-gitlab-event"], h["idempotency-key"] = "Push Hook", h["webhook-id"]
			return request([]byte(gitlabPush), "application/json", h)
		}, true},
		{"bitbucket cloud", "bitbucket-cloud", nil, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(bitbucketCloudPush)
			return request(body, "application/json", map[string]string{
				"user-agent":       "Bitbucket-Webhooks/2.0",
				"x-event-key":      "repo:push",
				"x-hook-uuid":      "cb3d9d2b-7f8a-4a55-b4a3-0d63b3d0b1f0",
				"x-request-uuid":   "fd27f6b8-0b4a-4c8e-9c5b-3b7b2e0c1a11",
				"x-attempt-number": "1",
				"x-hub-signature":  "sha256=" + macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"bitbucket server", "bitbucket-server", nil, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(bitbucketServerPush)
			return request(body, "application/json; charset=utf-8", map[string]string{
				"user-agent":      "Atlassian HttpClient 3.0.4 / Bitbucket-8.19.1 (8019001) / Default",
				"x-event-key":     "repo:refs_changed",
				"x-request-id":    "2ee9a4b5-8e47-4d3e-9bd1-6b1d2c1f8b0e",
				"x-hub-signature": "sha256=" + macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"azure devops basic", "azure-devops", nil, func(s string) map[string]string {
			return map[string]string{"username": "switchyard", "password": s}
		}, func(t *testing.T, secret string) scripting.Request {
			return request([]byte(azurePush), "application/json; charset=utf-8", map[string]string{
				"user-agent":    "VSServices/16.255.35102.2",
				"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("switchyard:"+secret)),
			})
		}, false},
		{"azure devops header", "azure-devops", map[string]string{"auth": "header"}, secretNamed("header_value"), func(t *testing.T, secret string) scripting.Request {
			return request([]byte(azurePush), "application/json; charset=utf-8", map[string]string{"x-webhook-token": secret})
		}, false},
		{"jira signature", "jira", nil, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(jiraIssueCreated)
			return request(body, "application/json; charset=UTF-8", map[string]string{
				"user-agent":                     "Atlassian Webhook HTTP Client",
				"x-atlassian-webhook-identifier": "1234567890123",
				"x-hub-signature":                "sha256=" + macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"jira query", "jira", map[string]string{"auth": "query"}, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			r := request([]byte(jiraIssueCreated), "application/json; charset=UTF-8", nil)
			r.Query = url.Values{"secret": {secret}, "issue": {"TEST-5"}}
			return r
		}, false},
		{"jira header", "jira", map[string]string{"auth": "header", "header": "Authorization"}, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			return request([]byte(jiraIssueCreated), "application/json; charset=UTF-8", map[string]string{"authorization": secret})
		}, false},
		{"slack", "slack", nil, secretNamed("signing_secret"), func(t *testing.T, secret string) scripting.Request {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			return request([]byte(slackCommand), "application/x-www-form-urlencoded", map[string]string{
				"user-agent":                "Slackbot 1.0 (+https://api.slack.com/robots)",
				"x-slack-request-timestamp": ts,
				"x-slack-signature":         "v0=" + macHex(sha256.New, []byte(secret), []byte("v0:"+ts+":"+slackCommand)),
			})
		}, true},
		{"stripe", "stripe", nil, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			return request([]byte(stripeEvent), "application/json; charset=utf-8", map[string]string{
				"user-agent":       "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
				"stripe-signature": "t=" + ts + ",v1=" + macHex(sha256.New, []byte(secret), []byte(ts+"."+stripeEvent)) + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
			})
		}, true},
		{"standard webhooks", "standard-webhooks", nil, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			return request([]byte(standardEvent), "application/json", standardHeaders(t, secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", []byte(standardEvent)))
		}, true},
		{"generic hmac", "generic-hmac", nil, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(genericEvent)
			return request(body, "application/json", map[string]string{"x-signature": strings.ToUpper(macHex(sha256.New, []byte(secret), body))})
		}, true},
		{"generic hmac, Shopify's way", "generic-hmac", map[string]string{"header": "X-Shopify-Hmac-Sha256", "encoding": "base64"}, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(shopifyOrder)
			return request(body, "application/json", map[string]string{
				"x-shopify-topic":       "orders/paid",
				"x-shopify-hmac-sha256": macBase64(sha256.New, []byte(secret), body),
			})
		}, true},
		{"generic hmac, sha512 with a prefix", "generic-hmac", map[string]string{"algorithm": "sha512", "header": "X-Payload-Signature", "prefix": "sha512="}, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(genericEvent)
			return request(body, "application/json", map[string]string{"x-payload-signature": "sha512=" + macHex(sha512.New, []byte(secret), body)})
		}, true},
		{"zoom", "zoom", nil, secretNamed("secret_token"), func(t *testing.T, secret string) scripting.Request {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			return request([]byte(zoomEvent), "application/json; charset=utf-8", map[string]string{
				"user-agent":             "Zoom Marketplace/1.0a",
				"x-zm-request-timestamp": ts,
				"x-zm-signature":         "v0=" + macHex(sha256.New, []byte(secret), []byte("v0:"+ts+":"+zoomEvent)),
			})
		}, true},
		{"meta", "meta", nil, func(s string) map[string]string { return map[string]string{"app_secret": s, "verify_token": "vt"} }, func(t *testing.T, secret string) scripting.Request {
			body := []byte(metaEvent)
			return request(body, "application/json", map[string]string{
				"user-agent":          "facebookexternalua",
				"x-hub-signature":     "sha1=" + macHex(sha1.New, []byte(secret), body),
				"x-hub-signature-256": "sha256=" + macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"microsoft graph", "microsoft-graph", nil, secretNamed("client_state"), func(t *testing.T, secret string) scripting.Request {
			state, _ := json.Marshal(secret)
			body := `{"value":[{"subscriptionId":"7f105c7d-2dc5-4530-97cd-4e7ae6534c07","subscriptionExpirationDateTime":"2026-03-20T11:00:00.0000000Z","changeType":"created","resource":"Users/{user-guid}/messages/{long-id-guid}","resourceData":{"@odata.type":"#Microsoft.Graph.Message","id":"{long-id-guid}"},"clientState":` + string(state) + `,"tenantId":"84bd8158-6d4d-4958-8b9f-9d6445542f95"}]}`
			return request([]byte(body), "application/json; charset=utf-8", nil)
		}, false},
		{"x", "x", nil, secretNamed("consumer_secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(xEvent)
			return request(body, "application/json; charset=utf-8", map[string]string{
				"x-twitter-webhooks-signature": "sha256=" + macBase64(sha256.New, []byte(secret), body),
			})
		}, true},
		{"asana", "asana", nil, secretNamed("hook_secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(asanaEvent)
			return request(body, "application/json; charset=utf-8", map[string]string{
				"user-agent":       "Asana",
				"x-hook-signature": macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"dropbox", "dropbox", nil, secretNamed("app_secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(dropboxEvent)
			return request(body, "application/json", map[string]string{
				"user-agent":          "DropboxWebhooks/1.0",
				"x-dropbox-signature": macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"discord", "discord", nil, func(s string) map[string]string {
			return map[string]string{"public_key": hex.EncodeToString(keysFor(s).ed.Public().(ed25519.PublicKey))}
		}, func(t *testing.T, secret string) scripting.Request {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			return request([]byte(discordInteraction), "application/json", map[string]string{
				"user-agent":            "Discord-Interactions/1.0 (+https://discord.com)",
				"x-signature-timestamp": ts,
				"x-signature-ed25519":   hex.EncodeToString(ed25519.Sign(keysFor(secret).ed, []byte(ts+discordInteraction))),
			})
		}, true},
		{"sendgrid", "sendgrid", nil, func(s string) map[string]string {
			der, err := x509.MarshalPKIXPublicKey(&keysFor(s).p256.PublicKey)
			if err != nil {
				panic(err)
			}
			return map[string]string{"verification_key": base64.StdEncoding.EncodeToString(der)}
		}, func(t *testing.T, secret string) scripting.Request {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			digest := sha256.Sum256([]byte(ts + sendgridEvents))
			sig, err := ecdsa.SignASN1(rand.Reader, keysFor(secret).p256, digest[:])
			if err != nil {
				t.Fatal(err)
			}
			return request([]byte(sendgridEvents), "application/json", map[string]string{
				"user-agent":                             "SendGrid Event API",
				"x-twilio-email-event-webhook-timestamp": ts,
				"x-twilio-email-event-webhook-signature": base64.StdEncoding.EncodeToString(sig),
			})
		}, true},
		{"twilio", "twilio", map[string]string{"public_url": twilioURL}, secretNamed("auth_token"), func(t *testing.T, secret string) scripting.Request {
			// Twilio's documented example: the URL, then each POST
			// parameter sorted by name, name and value concatenated.
			form, err := url.ParseQuery(twilioSMS)
			if err != nil {
				t.Fatal(err)
			}
			signed := twilioURL
			for _, k := range slices.Sorted(maps.Keys(form)) {
				for _, v := range slices.Sorted(slices.Values(form[k])) {
					signed += k + v
				}
			}
			return request([]byte(twilioSMS), "application/x-www-form-urlencoded; charset=UTF-8", map[string]string{
				"user-agent":                 "TwilioProxy/1.1",
				"i-twilio-idempotency-token": "4e9f4b9c-2d1e-4b8e-9a4f-9c1f2a3b4c5d",
				"x-twilio-signature":         macBase64(sha1.New, []byte(secret), []byte(signed)),
			})
		}, true},
		{"shopify", "shopify", nil, secretNamed("client_secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(shopifyOrder)
			return request(body, "application/json", map[string]string{
				"x-shopify-topic":       "orders/create",
				"x-shopify-shop-domain": "example.myshopify.com",
				"x-shopify-webhook-id":  "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
				"x-shopify-hmac-sha256": macBase64(sha256.New, []byte(secret), body),
			})
		}, true},
		{"pagerduty", "pagerduty", nil, secretNamed("secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(pagerdutyEvent)
			// A secret being rotated: the old one's signature first.
			return request(body, "application/json", map[string]string{
				"user-agent":            "PagerDuty-Webhook/V3.0",
				"x-webhook-id":          "01CELS1K0VEV2NCFP9D0EA20S0",
				"x-pagerduty-signature": "v1=" + macHex(sha256.New, []byte("the old secret"), body) + ",v1=" + macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"linear", "linear", nil, secretNamed("signing_secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(linearEvent(time.Now()))
			return request(body, "application/json; charset=utf-8", map[string]string{
				"user-agent":       "Linear-Webhook",
				"linear-delivery":  "234d1a4e-b617-4388-90fe-adc3633d6b72",
				"linear-event":     "Issue",
				"linear-signature": macHex(sha256.New, []byte(secret), body),
			})
		}, true},
		{"sentry", "sentry", nil, secretNamed("client_secret"), func(t *testing.T, secret string) scripting.Request {
			body := []byte(sentryEvent)
			return request(body, "application/json", map[string]string{
				"request-id":            "5bf0dbb0-1b8d-4a68-8d2e-2b1c0e3b4a5d",
				"sentry-hook-resource":  "issue",
				"sentry-hook-timestamp": strconv.FormatInt(time.Now().Unix(), 10),
				"sentry-hook-signature": macHex(sha256.New, []byte(secret), body),
			})
		}, true},
	}
}

// overlaps are the requests a template rightly accepts though they come
// from another case: a GitLab webhook signed with a signing token follows
// the Standard Webhooks specification; the generic HMAC configured
// Shopify's way and the Shopify template check the same thing.
var overlaps = map[[2]string]bool{
	{"standard webhooks", "gitlab signing"}:    true,
	{"shopify", "generic hmac, Shopify's way"}: true,
	{"generic hmac, Shopify's way", "shopify"}: true,
}

// runTemplate runs a provider made from tmpl with the given settings, as
// the dispatcher would: properties and secrets together as PROPERTIES.
func runTemplate(t *testing.T, eng *scripting.Engine, prog *scripting.Program, p storage.Provider, req scripting.Request) scripting.Result {
	t.Helper()
	env := maps.Clone(p.Properties)
	maps.Copy(env, p.Secrets)
	req.Properties = env
	return eng.Run(context.Background(), prog, &req, time.Second)
}

func provider(t *testing.T, c senderCase, secret string) (storage.Provider, *scripting.Program) {
	t.Helper()
	tmpl, ok := providers.TemplateByName(c.template)
	if !ok {
		t.Fatalf("no template %q", c.template)
	}
	p, err := tmpl.Provider(c.secrets(secret), c.props)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := scripting.Compile(c.template, p.MatchScript)
	if err != nil {
		t.Fatal(err)
	}
	return p, prog
}

// Every template, configured every way, accepts its sender's real
// request signed with the right secret, refuses it signed with a wrong
// one, and refuses every other sender's request, even one signed with
// the same secret. None of these throws.
func TestTemplatesVerifySenders(t *testing.T) {
	t.Parallel()
	eng := scripting.NewEngine(scripting.Limits{})
	cases := senderCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.template] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, prog := provider(t, c, rightSecret)
			check := func(what string, req scripting.Request, want bool) scripting.Result {
				t.Helper()
				r := runTemplate(t, eng, prog, p, req)
				if r.Err != nil || r.Truthy != want {
					t.Errorf("%s: matched %v (err %v), want %v; logs %v", what, r.Truthy, r.Err, want, r.Logs)
				}
				for _, l := range r.Logs {
					if strings.Contains(l.Text, rightSecret) || strings.Contains(l.Text, wrongSecret) {
						t.Errorf("%s: a log line shows the secret: %q", what, l.Text)
					}
				}
				return r
			}
			check("signed with the right secret", c.request(t, rightSecret), true)
			// A refused signature says why in the message's log.
			if r := check("signed with a wrong secret", c.request(t, wrongSecret), false); len(r.Logs) == 0 {
				t.Errorf("a wrong secret was refused without a log line")
			}
			if c.signsBody {
				tampered := c.request(t, rightSecret)
				tampered.Body = bytes.Replace(tampered.Body, []byte("e"), []byte("E"), 1)
				check("with a changed body", tampered, false)
			}
			for _, other := range cases {
				if other.name == c.name || overlaps[[2]string{c.name, other.name}] {
					continue
				}
				check("a request from "+other.name, other.request(t, rightSecret), false)
			}
		})
	}
	for _, name := range providers.TemplateNames() {
		if !covered[name] {
			t.Errorf("template %s has no sender case", name)
		}
	}
}

// A provider whose secret was removed after it was made (PUT with "")
// fails loudly, with a TypeError in its log, instead of refusing every
// request without a word.
func TestTemplatesMissingSecretThrows(t *testing.T) {
	t.Parallel()
	eng := scripting.NewEngine(scripting.Limits{})
	for _, c := range senderCases() {
		p, prog := provider(t, c, rightSecret)
		p.Secrets = nil
		r := runTemplate(t, eng, prog, p, c.request(t, rightSecret))
		if r.Truthy || r.Err == nil || !strings.Contains(r.Err.Error(), "TypeError") {
			t.Errorf("%s without its secret: matched %v, err %v", c.name, r.Truthy, r.Err)
		}
	}
}

// The GitHub template matches every example payload GitHub documents
// (@octokit/webhooks-examples), signed as GitHub signs it.
func TestGitHubTemplateMatchesEveryOctokitExample(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(npmtest.Path(t, "@octokit/webhooks-examples/api.github.com/index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var events []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(raw, &events); err != nil {
		t.Fatal(err)
	}
	gh := senderCase{template: "github", secrets: secretNamed("secret")}
	p, prog := provider(t, gh, rightSecret)
	wrong, _ := provider(t, gh, wrongSecret)
	eng := scripting.NewEngine(scripting.Limits{})
	n := 0
	for _, ev := range events {
		for i, ex := range ev.Examples {
			var body bytes.Buffer
			if err := json.Compact(&body, ex); err != nil {
				t.Fatal(err)
			}
			req := request(body.Bytes(), "application/json", map[string]string{
				"x-github-event":      ev.Name,
				"x-github-delivery":   "delivery-" + strconv.Itoa(n),
				"x-hub-signature-256": "sha256=" + macHex(sha256.New, []byte(rightSecret), body.Bytes()),
			})
			if r := runTemplate(t, eng, prog, p, req); !r.Truthy || r.Err != nil {
				t.Errorf("%s example %d: matched %v, err %v, logs %v", ev.Name, i, r.Truthy, r.Err, r.Logs)
			}
			if r := runTemplate(t, eng, prog, wrong, req); r.Truthy || r.Err != nil {
				t.Errorf("%s example %d with a wrong secret: matched %v, err %v", ev.Name, i, r.Truthy, r.Err)
			}
			n++
		}
	}
	if len(events) < 50 || n < 300 {
		t.Fatalf("only %d events, %d examples: is @octokit/webhooks-examples complete?", len(events), n)
	}
	t.Logf("the GitHub template matched all %d examples of %d events", n, len(events))
}

// Requests signed by the senders' own libraries (@octokit/webhooks-methods,
// stripe, standardwebhooks) and by testdata/npm/senders.mjs's renderings of
// the others' documentation match their templates.
func TestTemplatesMatchLibrarySignatures(t *testing.T) {
	t.Parallel()
	now := time.Now().Unix()
	type op struct {
		Op        string `json:"op"`
		Sender    string `json:"sender"`
		Secret    string `json:"secret"`
		Body      []byte `json:"body"` // base64, as senders.mjs wants
		Timestamp int64  `json:"timestamp"`
		ID        string `json:"id"`
	}
	signed := []struct {
		sender, template string
		props            map[string]string
		secret           string
		body             string
		extra            map[string]string // headers the sender adds that the library does not make
	}{
		{"github", "github", nil, "secret", `{"zen":"Design for failure.","hook_id":1}`, map[string]string{"x-github-event": "ping"}},
		{"gitlab", "gitlab", nil, "token", gitlabPush, map[string]string{"x-gitlab-event": "Push Hook"}},
		{"standard", "gitlab", map[string]string{"auth": "signing"}, "signing_token", gitlabPush, map[string]string{"x-gitlab-event": "Push Hook"}},
		{"bitbucket", "bitbucket-cloud", nil, "secret", bitbucketCloudPush, map[string]string{"x-event-key": "repo:push", "x-hook-uuid": "cb3d9d2b-7f8a-4a55-b4a3-0d63b3d0b1f0"}},
		{"bitbucket", "bitbucket-server", nil, "secret", bitbucketServerPush, map[string]string{"x-event-key": "repo:refs_changed"}},
		{"slack", "slack", nil, "signing_secret", slackCommand, nil},
		{"stripe", "stripe", nil, "secret", stripeEvent, nil},
		{"standard", "standard-webhooks", nil, "secret", standardEvent, nil},
	}
	ops := make([]op, len(signed))
	for i, s := range signed {
		ops[i] = op{Op: "sign", Sender: s.sender, Secret: rightSecret, Body: []byte(s.body), Timestamp: now, ID: "msg_" + strconv.Itoa(i)}
	}
	var out []struct {
		Headers map[string]string `json:"headers"`
	}
	npmtest.Node(t, "senders.mjs", ops, &out)
	if len(out) != len(ops) {
		t.Fatalf("%d answers to %d operations", len(out), len(ops))
	}
	eng := scripting.NewEngine(scripting.Limits{})
	for i, s := range signed {
		h := out[i].Headers
		maps.Copy(h, s.extra)
		c := senderCase{template: s.template, props: s.props, secrets: secretNamed(s.secret)}
		p, prog := provider(t, c, rightSecret)
		if r := runTemplate(t, eng, prog, p, request([]byte(s.body), "application/json", h)); !r.Truthy || r.Err != nil {
			t.Errorf("%s signed by %s: matched %v, err %v, logs %v", s.template, s.sender, r.Truthy, r.Err, r.Logs)
		}
	}
}

// Each sender's own rules beyond the signature: Linear's minute, Twilio's
// URL and method, PagerDuty's list of signatures.
func TestTemplatesSenderRules(t *testing.T) {
	t.Parallel()
	eng := scripting.NewEngine(scripting.Limits{})
	byName := map[string]senderCase{}
	for _, c := range senderCases() {
		byName[c.name] = c
	}
	run := func(c senderCase, req scripting.Request) scripting.Result {
		p, prog := provider(t, c, rightSecret)
		return runTemplate(t, eng, prog, p, req)
	}

	linear := byName["linear"]
	for _, c := range []struct {
		age  time.Duration
		want bool
	}{{-30 * time.Second, true}, {30 * time.Second, true}, {-61 * time.Second, false}, {61 * time.Second, false}, {-time.Hour, false}} {
		body := []byte(linearEvent(time.Now().Add(c.age)))
		req := request(body, "application/json", map[string]string{"linear-signature": macHex(sha256.New, []byte(rightSecret), body)})
		if r := run(linear, req); r.Truthy != c.want || r.Err != nil {
			t.Errorf("linear, webhookTimestamp %v from now: matched %v (err %v), want %v; logs %v", c.age, r.Truthy, r.Err, c.want, r.Logs)
		}
	}
	body := []byte(`{"action":"create","type":"Issue"}`)
	if r := run(linear, request(body, "application/json", map[string]string{"linear-signature": macHex(sha256.New, []byte(rightSecret), body)})); r.Truthy || r.Err != nil || len(r.Logs) == 0 {
		t.Errorf("linear without webhookTimestamp: matched %v (err %v), logs %v", r.Truthy, r.Err, r.Logs)
	}

	twilio := byName["twilio"]
	good := twilio.request(t, rightSecret)
	moved := twilio
	moved.props = map[string]string{"public_url": "https://hooks.example.com/webhooks/v1/twilio/sms"}
	if r := run(moved, good); r.Truthy || r.Err != nil || len(r.Logs) == 0 || !strings.Contains(r.Logs[0].Text, "public_url") {
		t.Errorf("twilio with another public_url: matched %v (err %v), logs %v", r.Truthy, r.Err, r.Logs)
	}
	get := good
	get.Method = "GET"
	if r := run(twilio, get); r.Truthy || r.Err != nil {
		t.Errorf("twilio GET: matched %v (err %v)", r.Truthy, r.Err)
	}

	pd := byName["pagerduty"]
	body = []byte(pagerdutyEvent)
	for sig, want := range map[string]bool{
		"v1=" + macHex(sha256.New, []byte(rightSecret), body):                                                   true,
		"v1=" + macHex(sha256.New, []byte(rightSecret), body) + ", v1=" + macHex(sha256.New, []byte("x"), body): true,
		"v1=" + macHex(sha256.New, []byte("x"), body):                                                           false,
		macHex(sha256.New, []byte(rightSecret), body):                                                           false,
		"v0=" + macHex(sha256.New, []byte(rightSecret), body):                                                   false,
	} {
		if r := run(pd, request(body, "application/json", map[string]string{"x-pagerduty-signature": sig})); r.Truthy != want || r.Err != nil {
			t.Errorf("pagerduty %q: matched %v (err %v), want %v", sig, r.Truthy, r.Err, want)
		}
	}
}

// Discord and SendGrid requests signed by Node's crypto (testdata/npm/
// crypto.mjs, from the senders' documentation) match their templates, and
// not each other's.
func TestTemplatesMatchNodeSignedKeys(t *testing.T) {
	t.Parallel()
	var n struct {
		Discord, SendGrid struct {
			PublicKey string            `json:"public_key"`
			Headers   map[string]string `json:"headers"`
		}
	}
	npmtest.Node(t, "crypto.mjs", map[string]any{"data": []byte(discordInteraction), "now": time.Now().Unix(), "id": "msg_1"}, &n)
	eng := scripting.NewEngine(scripting.Limits{})
	discord := senderCase{template: "discord", secrets: secretNamed("public_key")}
	sendgrid := senderCase{template: "sendgrid", secrets: secretNamed("verification_key")}
	for _, c := range []struct {
		what    string
		c       senderCase
		key     string
		headers map[string]string
		want    bool
	}{
		{"discord", discord, n.Discord.PublicKey, n.Discord.Headers, true},
		{"sendgrid", sendgrid, n.SendGrid.PublicKey, n.SendGrid.Headers, true},
		{"discord's request to sendgrid", sendgrid, n.SendGrid.PublicKey, n.Discord.Headers, false},
		{"sendgrid's request to discord", discord, n.Discord.PublicKey, n.SendGrid.Headers, false},
	} {
		p, prog := provider(t, c.c, c.key)
		if r := runTemplate(t, eng, prog, p, request([]byte(discordInteraction), "application/json", c.headers)); r.Truthy != c.want || r.Err != nil {
			t.Errorf("%s: matched %v (err %v), want %v; logs %v", c.what, r.Truthy, r.Err, c.want, r.Logs)
		}
	}
}
