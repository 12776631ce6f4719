package server

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard-dev/switchyard/web"
)

// routes builds the one Echo instance that serves everything.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = clientIP(s.opts.TrustedProxies)
	e.Use(s.recoverPanics)

	e.Any("/webhooks/v1/*", s.receive)

	e.GET("/healthz", s.healthz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))

	api := e.Group("/api/v1", s.requireToken)
	api.GET("/providers", s.listProviders)
	api.POST("/providers", s.createProvider)
	api.PUT("/providers/order", s.reorderProviders)
	api.GET("/providers/:id", s.getProvider)
	api.PUT("/providers/:id", s.updateProvider)
	api.DELETE("/providers/:id", s.deleteProvider)
	api.GET("/providers/:id/versions", s.listVersions)
	api.GET("/providers/:id/versions/:version", s.getVersion)
	api.POST("/providers/:id/versions/:version/rollback", s.rollbackProvider)
	api.GET("/provider-templates", s.listTemplates)
	api.GET("/provider-templates/:name", s.getTemplate)

	api.GET("/functions", s.listFunctions)
	api.POST("/functions", s.createFunction)
	api.GET("/functions/:id", s.getFunction)
	api.PUT("/functions/:id", s.updateFunction)
	api.DELETE("/functions/:id", s.deleteFunction)
	api.GET("/functions/:id/versions", s.listVersions)
	api.GET("/functions/:id/versions/:version", s.getVersion)
	api.POST("/functions/:id/versions/:version/rollback", s.rollbackFunction)

	api.GET("/messages", s.listMessages)
	api.GET("/messages/:id", s.getMessage)
	api.GET("/messages/:id/payload", s.getPayload)
	api.POST("/messages/:id/resubmit", s.resubmit)
	api.POST("/messages/:id/dry-run", s.dryRun)
	api.POST("/messages/:id/signature-check", s.signatureCheck)

	api.GET("/endpoints", s.listEndpoints)
	api.POST("/endpoints", s.createEndpoint)
	api.GET("/endpoints/:id", s.getEndpoint)
	api.PUT("/endpoints/:id", s.updateEndpoint)
	api.DELETE("/endpoints/:id", s.deleteEndpoint)
	api.POST("/endpoints/:id/test", s.testEndpoint)
	api.POST("/endpoints/:id/replay", s.replayEndpoint)
	api.GET("/endpoint-templates", s.listEndpointTemplates)
	api.POST("/events", s.publishEvent)
	api.GET("/deliveries", s.listDeliveries)
	api.GET("/deliveries/:id", s.getDelivery)
	api.POST("/deliveries/:id/retry", s.retryDelivery)
	api.GET("/outbound", s.getOutbound)
	api.PUT("/outbound", s.putOutbound)

	ui := http.StripPrefix("/ui/", web.Handler())
	e.GET("/ui/*", echo.WrapHandler(ui))
	e.GET("/ui", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/ui/") })
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/ui/") })
	return e
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

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
