package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-dev/switchyard/storage"
)

// OAuth 2.0 client credentials (RFC 6749 §4.4), written here rather than
// taken from golang.org/x/oauth2: the request must go through the
// endpoint's guarded client (its proxy, the egress guard), the answer is
// read within a small bound, errors must name no secret, and the cache is
// the engine's (one token per endpoint, one fetch at a time, dropped on a
// 401): what the library would add is the form and the JSON below.

// Token fetch limits.
const (
	maxTokenResponse = 64 << 10
	maxToken         = 16 << 10
	// tokenMargin is how long before its expiry a token is no longer used
	// (at most a tenth of its life).
	tokenMargin = 30 * time.Second
)

// token is an access token and when it stops being used (zero: until a
// receiver refuses it).
type token struct {
	value   string
	expires time.Time
}

// tokenSource is an endpoint's token: cached until it expires, fetched
// by one caller at a time while the others wait for that fetch.
type tokenSource struct {
	key    string // oauthKey of the settings it was made for
	mu     sync.Mutex
	tok    token
	flight *tokenFlight // the fetch under way, if any
}

// tokenFlight is one fetch; done is closed when tok and err are set.
type tokenFlight struct {
	done chan struct{}
	tok  token
	err  error
}

// get returns the cached token, or fetches one (once, for every caller
// that asks meanwhile).
func (s *tokenSource) get(ctx context.Context, now func() time.Time, fetch func(context.Context) (token, error)) (string, error) {
	s.mu.Lock()
	if s.tok.value != "" && (s.tok.expires.IsZero() || now().Before(s.tok.expires)) {
		v := s.tok.value
		s.mu.Unlock()
		return v, nil
	}
	f := s.flight
	if f == nil {
		f = &tokenFlight{done: make(chan struct{})}
		s.flight = f
		s.mu.Unlock()
		f.tok, f.err = fetch(ctx)
		s.mu.Lock()
		if f.err == nil {
			s.tok = f.tok
		}
		s.flight = nil
		close(f.done)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return f.tok.value, f.err
}

// drop forgets the cached token if it is still v (a receiver refused
// it); a newer one, fetched meanwhile, stays.
func (s *tokenSource) drop(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.value == v {
		s.tok = token{}
	}
}

// tokenAnswer is a token endpoint's answer (RFC 6749 §5.1, §5.2).
type tokenAnswer struct {
	AccessToken      string      `json:"access_token"`
	TokenType        string      `json:"token_type"`
	ExpiresIn        json.Number `json:"expires_in"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
}

// fetchToken asks a's token endpoint for a token by the client
// credentials grant, the client authenticated by HTTP Basic (§2.3.1).
func fetchToken(ctx context.Context, hc *http.Client, a *storage.Auth, now time.Time) (token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(a.Scopes) > 0 {
		form.Set("scope", strings.Join(a.Scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return token{}, fmt.Errorf("bad token_url: %s", cleanURLError(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(a.ClientID), url.QueryEscape(a.ClientSecret))
	resp, err := hc.Do(req)
	if err != nil {
		return token{}, fmt.Errorf("the token endpoint: %s", attemptError(ctx, err, 0))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return token{}, fmt.Errorf("reading the token endpoint's answer: %s", cleanURLError(err))
	}
	if len(body) > maxTokenResponse {
		return token{}, fmt.Errorf("the token endpoint's answer is larger than %d KiB", maxTokenResponse>>10)
	}
	var ans tokenAnswer
	jsonErr := json.Unmarshal(body, &ans)
	if resp.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("the token endpoint answered %d", resp.StatusCode)
		if jsonErr == nil && ans.Error != "" {
			msg += ": " + clip(ans.Error, 100)
			if ans.ErrorDescription != "" {
				msg += " (" + clip(ans.ErrorDescription, 300) + ")"
			}
		}
		return token{}, errors.New(msg)
	}
	if jsonErr != nil {
		return token{}, errors.New("the token endpoint's answer is not a JSON object")
	}
	switch {
	case ans.AccessToken == "":
		return token{}, errors.New("the token endpoint's answer has no access_token")
	case len(ans.AccessToken) > maxToken || strings.ContainsFunc(ans.AccessToken, func(r rune) bool { return r < 0x20 || r >= 0x7f }):
		return token{}, errors.New("the token endpoint's access_token is too long or not printable ASCII")
	case ans.TokenType != "" && !strings.EqualFold(ans.TokenType, "bearer"):
		return token{}, fmt.Errorf("the token endpoint gave a token of type %q; only bearer tokens are sent", clip(ans.TokenType, 50))
	}
	t := token{value: ans.AccessToken}
	if ans.ExpiresIn != "" {
		secs, err := ans.ExpiresIn.Float64()
		if err != nil || secs <= 0 {
			return token{}, fmt.Errorf("the token endpoint's expires_in %q is not a positive number", clip(ans.ExpiresIn.String(), 30))
		}
		life := time.Duration(min(secs, 366*24*3600) * float64(time.Second))
		t.expires = now.Add(life - min(tokenMargin, life/10))
	}
	return t, nil
}

// clip cuts s to n bytes at most, for texts from outside put in errors.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
