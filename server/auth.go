package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchyard-dev/switchyard/internal/field"
	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/storage"
	"github.com/switchyard-dev/switchyard/storage/seal"
)

// tokenCheck holds the SHA-256 of the admin token, compared in constant time.
type tokenCheck [sha256.Size]byte

func (t tokenCheck) ok(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], t[:]) == 1
}

// adminToken returns the admin token's check: from Options.AdminToken, or
// from <data>/admin-token, created (mode 0600) on first start. The file's
// path is logged, never the token.
func (s *Server) adminToken() (tokenCheck, error) {
	if tok := strings.TrimSpace(s.opts.AdminToken); tok != "" {
		return sha256.Sum256([]byte(tok)), nil
	}
	path := filepath.Join(s.opts.DataDir, "admin-token")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return tokenCheck{}, fmt.Errorf("admin token file %s is empty; delete it to create a new token", path)
		}
		return sha256.Sum256([]byte(tok)), nil
	case !errors.Is(err, os.ErrNotExist):
		return tokenCheck{}, fmt.Errorf("admin token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return tokenCheck{}, fmt.Errorf("admin token: %w", err)
	}
	tok := "sy_" + base64.RawURLEncoding.EncodeToString(raw)
	if err := seal.WriteSecretFile(path, tok+"\n"); err != nil {
		return tokenCheck{}, fmt.Errorf("admin token: %w", err)
	}
	s.log.Info("created an admin API token; read it from the file", "path", path)
	return sha256.Sum256([]byte(tok)), nil
}

// Sessions.
const (
	sessionCookie = "switchyard_session"
	csrfHeader    = "X-CSRF-Token"
	principalKey  = "principal"
)

var errUnauthorized = unauthorized("sign in, or send a bearer token (Authorization: Bearer <token>)")

// unauthorized is a 401 that says which credential failed and why.
func unauthorized(why string) *echo.HTTPError {
	return echo.NewHTTPError(http.StatusUnauthorized, why)
}

// principal is who makes the request (set by authenticate).
func principal(c echo.Context) access.Principal {
	p, _ := c.Get(principalKey).(access.Principal)
	return p
}

// authenticate identifies the caller of an admin API route: a bearer
// token (the admin token, or a personal API token) or a UI session
// cookie. A session must also carry its CSRF token on every request that
// changes something.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.identify(c)
		if err != nil {
			if statusOf(err) == http.StatusUnauthorized {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="switchyard"`)
			}
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

func (s *Server) identify(c echo.Context) (access.Principal, error) {
	req := c.Request()
	ctx := req.Context()
	if auth := req.Header.Get(echo.HeaderAuthorization); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		tok = strings.TrimSpace(tok)
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return access.Principal{}, unauthorized("the Authorization header must be \"Bearer <token>\"")
		}
		if s.token.ok(tok) {
			return access.Principal{Name: "admin-token", Role: storage.RoleAdmin, Via: "admin-token"}, nil
		}
		if !strings.HasPrefix(tok, access.TokenPrefix) {
			return access.Principal{}, unauthorized("this bearer token is not valid: send the admin token or a personal API token (" + access.TokenPrefix + "...)")
		}
		return s.auth.Token(ctx, tok)
	}
	ck, err := req.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return access.Principal{}, errUnauthorized
	}
	p, err := s.auth.Session(ctx, ck.Value)
	if err != nil {
		return access.Principal{}, err
	}
	if changes(req.Method) {
		if !access.SameSecret(req.Header.Get(csrfHeader), p.CSRF) {
			return access.Principal{}, echo.NewHTTPError(http.StatusForbidden, "missing or wrong "+csrfHeader+" header (GET /api/v1/me gives the session's token)")
		}
		if err := checkOrigin(req); err != nil {
			return access.Principal{}, err
		}
	}
	return p, nil
}

// changes reports whether a method may change state (and so needs CSRF
// protection when a cookie authenticates it).
func changes(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// checkOrigin refuses a request whose Origin header names another site.
// Without the header (API clients such as curl) it passes.
func checkOrigin(req *http.Request) error {
	if o := req.Header.Get("Origin"); o != "" && !sameOrigin(o, req.Host) {
		return echo.NewHTTPError(http.StatusForbidden, "cross-origin request refused")
	}
	return nil
}

// sameOrigin reports whether an Origin header names this host.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
}

// authorize checks the route's permission, runs it, and records an audit
// entry when a change succeeds. A handler may refine the entry with
// setAudit.
func (s *Server) authorize(r apiRoute) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principal(c)
			if !p.Can(r.Permission) {
				return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("the %s role may not do this (it needs the %s permission)", p.Role, r.Permission))
			}
			err := next(c)
			if r.Action != "" && err == nil && c.Response().Status < 400 {
				e := storage.AuditEntry{Actor: p.Name, UserID: p.UserID, Action: r.Action, Target: c.Param("id")}
				if a, ok := c.Get(auditKey).(auditNote); ok {
					e.Action, e.Target, e.Detail = cmp.Or(a.action, e.Action), cmp.Or(a.target, e.Target), a.detail
				}
				s.audit(c, e)
			}
			return err
		}
	}
}

const auditKey = "audit"

// auditNote refines the audit entry of a request.
type auditNote struct{ action, target, detail string }

// setAudit lets a handler name what its change was: the action (when more
// precise than the route's, e.g. "endpoint.disable"), its target (e.g. the
// id a create made) and a short detail.
func setAudit(c echo.Context, action, target, detail string) {
	c.Set(auditKey, auditNote{action, target, detail})
}

// audit records an entry about a request, with the client's
// address.
func (s *Server) audit(c echo.Context, e storage.AuditEntry) {
	e.IP = c.RealIP()
	s.appendAudit(c.Request().Context(), e)
}

// auditDisabled records that the outbound engine disabled an endpoint.
func (s *Server) auditDisabled(ctx context.Context, ep storage.Endpoint, reason string) {
	s.appendAudit(ctx, storage.AuditEntry{Actor: "system", Action: "endpoint.disable", Target: ep.ID, Detail: ep.Name + ": " + reason})
}

// appendAudit records an entry with a new id and the time; a failure is
// logged (the change is made).
func (s *Server) appendAudit(ctx context.Context, e storage.AuditEntry) {
	id, err := uuid.NewV7()
	if err == nil {
		e.ID, e.Time = id.String(), time.Now().UTC()
		err = s.store.AppendAudit(ctx, e)
	}
	if err != nil {
		s.log.Error("recording an audit entry", "action", e.Action, "actor", e.Actor, "err", err)
	}
}

// login: POST /api/v1/login {"name", "password"} starts a UI session: it
// sets the session cookie and answers the user and the CSRF token.
//
// Login CSRF: a cross-site page may post a form (text/plain, urlencoded,
// multipart) without asking the browser first, and so sign its visitor
// in to the attacker's account. Sign-in therefore takes JSON only, and a
// foreign Origin is refused as on every change.
func (s *Server) login(c echo.Context) error {
	req := c.Request()
	if err := jsonOnly(req, "sign-in"); err != nil {
		return err
	}
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	name := strings.TrimSpace(in.Name)
	ctx := req.Context()
	if err := s.allowSignIn(c, name); err != nil {
		return err
	}
	u, sess, cookie, err := s.auth.SignIn(ctx, name, in.Password)
	if errors.Is(err, access.ErrWrongPassword) {
		if err := s.logins.failed(ctx, c.RealIP(), name); err != nil {
			s.log.Error("counting a failed sign-in", "err", err)
		}
		s.audit(c, storage.AuditEntry{Actor: field.Clip(name, maxUserName+1), UserID: u.ID, Action: "user.login_failed"})
	}
	if err != nil {
		return err
	}
	s.setSessionCookie(c, cookie, sess)
	if err := s.logins.succeeded(ctx, c.RealIP(), name); err != nil {
		s.log.Error("remembering a sign-in's address", "err", err)
	}
	s.audit(c, storage.AuditEntry{Actor: u.Name, UserID: u.ID, Action: "user.login"})
	return c.JSON(http.StatusOK, meAnswer(access.Principal{UserID: u.ID, Name: u.Name, Role: u.Role, Via: "session", CSRF: sess.CSRF}, &u, &sess.ExpiresAt))
}

// jsonOnly refuses a public route's request unless its body is JSON and
// its Origin, if any, is this site's (see login).
func jsonOnly(req *http.Request, what string) error {
	if mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, what+" takes a JSON body: send Content-Type: application/json")
	}
	return checkOrigin(req)
}

// allowSignIn asks the sign-in limits whether name may be tried from the
// client's address now; a refusal is a 429 with Retry-After.
func (s *Server) allowSignIn(c echo.Context, name string) error {
	verdict, wait, err := s.logins.allow(c.Request().Context(), c.RealIP(), name)
	if err != nil {
		return fmt.Errorf("sign-in limits: %w", err)
	}
	switch verdict {
	case loginLimited:
		secs := int(math.Ceil(wait.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("too many failed sign-ins; try again in %d s", secs))
	case loginBusy:
		c.Response().Header().Set("Retry-After", "60")
		return echo.NewHTTPError(http.StatusTooManyRequests, "too many sign-in attempts on this server right now; try again in a minute")
	}
	return nil
}

// setSessionCookie hands the browser a new session's cookie.
func (s *Server) setSessionCookie(c echo.Context, cookie string, sess storage.Session) {
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: cookie, Path: "/", Expires: sess.ExpiresAt, MaxAge: int(access.SessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookie(c),
	})
}

// secureCookie says whether the session cookie is marked Secure: always,
// except on plain HTTP to a host that is not loopback (where a browser
// would drop it); put Switchyard behind TLS for remote use.
func (s *Server) secureCookie(c echo.Context) bool {
	req := c.Request()
	if req.TLS != nil {
		return true
	}
	if req.Header.Get("X-Forwarded-Proto") == "https" && s.trustedPeer(req.RemoteAddr) {
		return true
	}
	host, _, err := net.SplitHostPort(req.Host)
	if err != nil {
		host = req.Host
	}
	if host == "localhost" {
		return true
	}
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && a.IsLoopback() {
		return true
	}
	s.warnInsecureOnce.Do(func() {
		s.log.Warn("UI sessions over plain HTTP to a non-loopback host: the session cookie is not marked Secure; serve Switchyard behind TLS")
	})
	return false
}

// trustedPeer reports whether the connection's peer is a trusted proxy.
func (s *Server) trustedPeer(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// logout: POST /api/v1/logout ends the session (a no-op for tokens).
func (s *Server) logout(c echo.Context) error {
	p := principal(c)
	if p.SessionID != "" {
		if err := s.users.DeleteSession(c.Request().Context(), p.SessionID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookie(c)})
	return c.NoContent(http.StatusNoContent)
}

// me: GET /api/v1/me says who the caller is and what they may do; a UI
// session also gets its CSRF token back (after a page reload).
func (s *Server) me(c echo.Context) error {
	p := principal(c)
	var u *storage.User
	if p.UserID != "" {
		got, err := s.users.GetUser(c.Request().Context(), p.UserID)
		if err != nil {
			return err
		}
		u = &got
	}
	return c.JSON(http.StatusOK, meAnswer(p, u, nil))
}

type meView struct {
	Name        string              `json:"name"`
	Role        string              `json:"role"`
	Via         string              `json:"via"`
	Permissions []access.Permission `json:"permissions"`
	User        *storage.User       `json:"user,omitempty"`
	CSRFToken   string              `json:"csrf_token,omitempty"`
	ExpiresAt   *time.Time          `json:"expires_at,omitempty"`
}

func meAnswer(p access.Principal, u *storage.User, expires *time.Time) meView {
	v := meView{Name: p.Name, Role: p.Role, Via: p.Via, User: u, CSRFToken: p.CSRF, ExpiresAt: expires, Permissions: []access.Permission{}}
	for _, perm := range []access.Permission{access.Read, access.Operate, access.Edit, access.Admin} {
		if p.Can(perm) {
			v.Permissions = append(v.Permissions, perm)
		}
	}
	return v
}
