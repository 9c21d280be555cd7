package api

import (
	"net/http"

	"github.com/ghodss/yaml"
	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	echoSwagger "github.com/swaggo/echo-swagger"

	"syncd/openapi"
)

// opsHandlers serve health, readiness, metrics and the API document.
type opsHandlers struct {
	store    Store
	version  string
	gatherer prometheus.Gatherer
}

// GetHealthz answers while the process runs.
func (h *opsHandlers) GetHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, Health{Status: HealthStatusOk, Version: &h.version})
}

// GetReadyz answers 200 when the database answers and is migrated.
func (h *opsHandlers) GetReadyz(c echo.Context) error {
	db := HealthDatabase(h.store.Dialect())
	if err := h.store.Ready(c.Request().Context()); err != nil {
		msg := err.Error()
		return c.JSON(http.StatusServiceUnavailable, Health{Status: HealthStatusUnavailable, Database: &db, Error: &msg})
	}
	return c.JSON(http.StatusOK, Health{Status: HealthStatusOk, Version: &h.version, Database: &db})
}

// GetMetrics serves Prometheus metrics.
func (h *opsHandlers) GetMetrics(c echo.Context) error {
	return echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: h.gatherer})(c)
}

// GetOpenapiYaml serves the OpenAPI document as written.
func (h *opsHandlers) GetOpenapiYaml(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", openapi.YAML)
}

// specJSON is the document converted once.
var specJSON = func() []byte {
	b, err := yaml.YAMLToJSON(openapi.YAML)
	if err != nil {
		panic(err) // the embedded document is checked by tests
	}
	return b
}()

// GetOpenapiJson serves the OpenAPI document as JSON.
func (h *opsHandlers) GetOpenapiJson(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, specJSON)
}

// registerDocs serves Swagger UI at /docs/, reading /openapi.json.
func registerDocs(e *echo.Echo) {
	ui := echoSwagger.EchoWrapHandler(func(c *echoSwagger.Config) {
		// Setting URLs directly avoids the default doc.json entry, which answers 500.
		c.URLs = []string{"/openapi.json"}
		c.DeepLinking = true
	})
	e.GET("/docs", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/docs/") })
	e.GET("/docs/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/docs/index.html") })
	e.GET("/docs/*", ui)
}
