package server

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard-dev/switchyard/server/access"
	"github.com/switchyard-dev/switchyard/server/openapi"
	"github.com/switchyard-dev/switchyard/web"
)

// routes builds the one Echo instance that serves everything.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientIP(s.opts.TrustedProxies)
	e.Use(s.recoverPanics, answerHeaders)

	e.Any(webhooksPrefix+"*", s.receive)
	e.Any(flexDeployPrefix+webhooksPrefix+"*", s.receive) // FlexDeploy's path, for senders moving over

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))

	for _, r := range publicRoutes(s) {
		e.Add(r.Method, "/api/v1"+r.Path, r.handler)
	}
	api := e.Group("/api/v1", s.bodyDeadline, s.authenticate)
	for _, r := range s.apiRoutes() {
		api.Add(r.Method, r.Path, r.handler, s.authorize(r))
	}

	ui := http.StripPrefix("/ui/", web.Handler())
	e.GET("/ui/*", echo.WrapHandler(ui), uiHeaders)
	e.GET("/ui", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/ui/") })
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/ui/") })
	return e
}

// apiRoute is one admin API route: who may call it, and the audit
// action it records when it succeeds ("" for routes that change nothing).
type apiRoute struct {
	Method     string
	Path       string // below /api/v1
	Permission access.Permission
	Action     string
	handler    echo.HandlerFunc
}

// publicRoutes are the API routes that take no credential: they are
// their own check (sign-in, and the first run's setup, which checks the
// admin token and counts failures as sign-in does). Permission and Action
// are empty: they audit for themselves.
func publicRoutes(s *Server) []apiRoute {
	return []apiRoute{
		{Method: "POST", Path: "/login", handler: s.login},
		{Method: "GET", Path: "/setup", handler: s.getSetup},
		{Method: "POST", Path: "/setup", handler: s.postSetup},
		{Method: "GET", Path: "/openapi.json", handler: s.openAPI},
	}
}

// apiRoutes is every admin API route; the permission tests walk it.
func (s *Server) apiRoutes() []apiRoute {
	const (
		read, operate, edit, admin = access.Read, access.Operate, access.Edit, access.Admin
	)
	r := func(method, path string, p access.Permission, action string, h echo.HandlerFunc) apiRoute {
		return apiRoute{method, path, p, action, h}
	}
	return []apiRoute{
		r("GET", "/me", read, "", s.me),
		r("GET", "/stats", read, "", s.stats),
		r("POST", "/logout", read, "user.logout", s.logout),

		r("GET", "/providers", read, "", s.listProviders),
		r("POST", "/providers", edit, "provider.create", s.createProvider),
		r("PUT", "/providers/order", edit, "providers.reorder", s.reorderProviders),
		r("GET", "/providers/:id", read, "", s.getProvider),
		r("PUT", "/providers/:id", edit, "provider.update", s.updateProvider),
		r("DELETE", "/providers/:id", edit, "provider.delete", s.deleteProvider),
		r("GET", "/providers/:id/versions", read, "", s.listVersions),
		r("GET", "/providers/:id/versions/:version", read, "", s.getVersion),
		r("POST", "/providers/:id/versions/:version/rollback", edit, "provider.rollback", s.rollbackProvider),
		r("GET", "/provider-templates", read, "", s.listTemplates),
		r("GET", "/provider-templates/:name", read, "", s.getTemplate),

		r("GET", "/functions", read, "", s.listFunctions),
		r("POST", "/functions", edit, "function.create", s.createFunction),
		r("GET", "/functions/:id", read, "", s.getFunction),
		r("PUT", "/functions/:id", edit, "function.update", s.updateFunction),
		r("DELETE", "/functions/:id", edit, "function.delete", s.deleteFunction),
		r("GET", "/functions/:id/versions", read, "", s.listVersions),
		r("GET", "/functions/:id/versions/:version", read, "", s.getVersion),
		r("POST", "/functions/:id/versions/:version/rollback", edit, "function.rollback", s.rollbackFunction),

		r("GET", "/messages", read, "", s.listMessages),
		r("GET", "/messages/count", read, "", s.countMessages),
		r("GET", "/messages/:id", read, "", s.getMessage), // details redacted below operate
		r("GET", "/messages/:id/payload", operate, "", s.getPayload),
		r("POST", "/messages/resubmit", operate, "messages.resubmit", s.resubmitMessages),
		r("POST", "/messages/delete", admin, "messages.delete", s.deleteMessages),
		r("POST", "/messages/:id/resubmit", operate, "message.resubmit", s.resubmit),
		r("POST", "/messages/:id/dry-run", operate, "", s.dryRun),
		r("POST", "/messages/:id/signature-check", operate, "", s.signatureCheck),

		r("GET", "/jobs/:id", operate, "", s.getJob),
		r("POST", "/jobs/:id/cancel", operate, "job.cancel", s.cancelJob),

		r("GET", "/endpoints", read, "", s.listEndpoints),
		r("POST", "/endpoints", edit, "endpoint.create", s.createEndpoint),
		r("POST", "/endpoints/test", edit, "endpoint.test_unsaved", s.testUnsavedEndpoint),
		r("GET", "/endpoints/:id", read, "", s.getEndpoint),
		r("PUT", "/endpoints/:id", edit, "endpoint.update", s.updateEndpoint),
		r("DELETE", "/endpoints/:id", edit, "endpoint.delete", s.deleteEndpoint),
		r("POST", "/endpoints/:id/test", edit, "endpoint.test", s.testEndpoint),
		r("POST", "/endpoints/:id/replay", operate, "endpoint.replay", s.replayEndpoint),
		r("GET", "/endpoint-presets", read, "", s.listEndpointPresets),
		r("GET", "/endpoint-templates", read, "", s.listEndpointPresets), // the old name
		r("POST", "/events", edit, "event.publish", s.publishEvent),
		r("GET", "/event-types", read, "", s.listEventTypes),
		r("GET", "/event-types/:type", read, "", s.getEventType),
		r("POST", "/event-types/:type", edit, "event_type.create", s.createEventType),
		r("PUT", "/event-types/:type", edit, "event_type.update", s.putEventType),
		r("DELETE", "/event-types/:type", edit, "event_type.delete", s.deleteEventType),
		r("GET", "/deliveries", read, "", s.listDeliveries),
		r("GET", "/deliveries/:id", read, "", s.getDelivery), // details redacted below operate
		r("POST", "/deliveries/:id/retry", operate, "delivery.retry", s.retryDelivery),
		r("GET", "/outbound", read, "", s.getOutbound),
		r("PUT", "/outbound", edit, "outbound.switch", s.putOutbound),

		r("GET", "/users", admin, "", s.listUsers),
		r("POST", "/users", admin, "user.create", s.createUser),
		r("GET", "/users/:id", admin, "", s.getUser),
		r("PUT", "/users/:id", admin, "user.update", s.updateUser),
		r("DELETE", "/users/:id", admin, "user.delete", s.deleteUser),
		r("DELETE", "/users/:id/sessions", admin, "user.end_sessions", s.endUserSessions),
		r("GET", "/tokens", read, "", s.listTokens), // one's own; admins may ask for another user's
		r("POST", "/tokens", read, "token.create", s.createToken),
		r("DELETE", "/tokens/:id", read, "token.delete", s.deleteToken),
		r("GET", "/sessions", read, "", s.listSessions), // one's own; admins may ask for another user's
		r("POST", "/sessions/end-others", read, "session.end_others", s.endOtherSessions),
		r("DELETE", "/sessions/:id", read, "session.end", s.endSession),
		r("GET", "/audit", admin, "", s.listAudit),
		r("GET", "/backup", admin, "store.backup", s.backup),
		r("GET", "/cluster", admin, "", s.getCluster),
	}
}

// uiHeaders are the UI's security headers: its own scripts only (the
// editor injects its styles, hence 'unsafe-inline' for styles), no
// framing, no referrer.
func uiHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

// answerHeaders marks every answer but the UI's (the API's JSON, the
// webhook answers, health and metrics) as never to be sniffed as another
// type nor stored by a cache: they carry operators' data.
func answerHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := c.Request().URL.Path; p != "/ui" && !strings.HasPrefix(p, "/ui/") {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// recoverPanics turns a panic in a handler into a logged 500.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("handler panicked", "path", c.Request().URL.Path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = echo.NewHTTPError(http.StatusInternalServerError, "internal error")
			}
		}()
		return next(c)
	}
}

// openAPI is GET /api/v1/openapi.json: the OpenAPI 3.1 document of every
// route (server/openapi/openapi.yaml). It holds no data, so, like the
// sign-in route, it needs no credentials.
func (s *Server) openAPI(c echo.Context) error {
	doc, err := openapi.JSON()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
}

// healthz is liveness: the process answers HTTP.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyTimeout bounds the store's answer to a readiness check.
const readyTimeout = 2 * time.Second

// readyz is readiness: 200 while this node can reach its store and holds
// its lease (see node), 503 with
// a short reason otherwise, so that a load balancer sends webhooks to the
// nodes that can record them. The store's own error is logged (once per
// change), not answered: it may name hosts and users.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		if !s.unready.Swap(true) {
			s.log.Warn("not ready: the store cannot be reached", "store", s.location.String(), "err", err)
		}
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "the store cannot be reached"})
	}
	if !s.node.live() {
		// node logs the loss and the recovery of its lease itself.
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "this node lost its lease"})
	}
	if s.unready.Swap(false) {
		s.log.Info("ready again: the store answers", "store", s.location.String())
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
