// Package api is syncd's HTTP surface: the echo server, its routes and
// handlers, the wire types generated from openapi/openapi.yaml, request
// validation against that document, authentication and problem+json errors.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"syncd/auth"
	"syncd/connector/file"
	"syncd/connector/outbound"
	"syncd/domain"
)

// Store is everything the handlers need from persistence.
type Store interface {
	domain.ConnectionStore
	domain.RecordStore
	domain.HostedStore
	domain.WorkspaceStore
	domain.UserStore
	domain.APIKeyStore
	domain.SessionStore
	domain.IdempotencyStore
	domain.SyncStore
	domain.ItemStore
	domain.ActionStore
	domain.AuditStore
	domain.UploadStore
	domain.LoginFailureStore
	// Ready reports an error unless the database answers and is migrated.
	Ready(ctx context.Context) error
	// Dialect names the database ("sqlite" or "postgres").
	Dialect() string
}

// Config holds the server's HTTP settings.
type Config struct {
	Version     string
	BodyLimit   int64    // bytes, for JSON bodies
	CORSOrigins []string // allowed origins; empty = no cross-origin access
	RateLimit   float64  // requests per second per caller (api key, user or IP)
	RateBurst   int
	TrustProxy  bool          // take the client address from X-Forwarded-For
	RefreshTTL  time.Duration // how long a refresh token lives
	// UploadLimit bounds one upload request in bytes (SYNCD_UPLOAD_LIMIT);
	// FileLimits bound what the file may cost beyond its size (zero
	// fields take the reader's defaults).
	UploadLimit int64
	FileLimits  file.Limits
	// MassDeleteRatio is the share of an object's records a full upload
	// may delete without confirmation (SYNCD_MASS_DELETE_RATIO).
	MassDeleteRatio float64
	// WindowCache bounds, in bytes, the window pages and summaries kept
	// encoded until their workspace's window changes; 0 keeps none.
	WindowCache int64
	// SpoolDir holds the temporary copies of uploads being read.
	SpoolDir string
	// Outbound is the template of the client each call to a connection's
	// system gets; AllowPrivate mirrors SYNCD_ALLOW_PRIVATE_TARGETS.
	Outbound outbound.Options
}

// Deps are the server's collaborators.
type Deps struct {
	Store     Store
	Tokens    *auth.Tokens
	Passwords *auth.Hasher
	Keys      *auth.KeyHasher
	Logger    *slog.Logger
	Now       func() time.Time // nil = time.Now
	Config    Config
}

// handlers implements the generated ServerInterface. Each resource's handlers
// are methods of a small struct holding only what they need; embedding them
// here promotes those methods.
type handlers struct {
	*opsHandlers
	*authHandlers
	*meHandlers
	*userHandlers
	*apiKeyHandlers
	*syncHandlers
	*objectHandlers
	*windowHandlers
	*itemHandlers
	*actionHandlers
	*auditHandlers
	*connectionHandlers
	*uploadHandlers
	*recordHandlers
	*exportHandlers
}

// NewServer builds the HTTP server: every route of the contract is registered
// here, through the handlers generated from the OpenAPI document, behind one
// middleware stack.
func NewServer(d Deps) (*echo.Echo, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.IPExtractor = echo.ExtractIPDirect()
	if d.Config.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	authn := &authenticator{store: d.Store, tokens: d.Tokens, keys: d.Keys, now: d.Now, users: newUserCache(time.Second)}
	validator, err := newValidator(authn)
	if err != nil {
		return nil, err
	}
	e.Use(middlewares(d, reg)...)
	e.Use(validator)
	e.Use(idempotency(d.Store, d.Now))

	connections, err := newConnectionHandlers(d)
	if err != nil {
		return nil, err
	}
	h := handlers{
		opsHandlers:        &opsHandlers{store: d.Store, version: d.Config.Version, gatherer: reg},
		authHandlers:       newAuthHandlers(d),
		meHandlers:         &meHandlers{store: d.Store},
		userHandlers:       &userHandlers{store: d.Store, passwords: d.Passwords, now: d.Now, users: authn.users},
		apiKeyHandlers:     &apiKeyHandlers{store: d.Store, keys: d.Keys},
		syncHandlers:       &syncHandlers{store: d.Store, now: d.Now},
		objectHandlers:     &objectHandlers{store: d.Store},
		windowHandlers:     &windowHandlers{store: d.Store, cache: newWindowCache(d.Config.WindowCache)},
		itemHandlers:       &itemHandlers{store: d.Store, now: d.Now},
		actionHandlers:     &actionHandlers{store: d.Store, now: d.Now, log: d.Logger},
		auditHandlers:      &auditHandlers{store: d.Store},
		connectionHandlers: connections,
		uploadHandlers:     newUploadHandlers(d),
		recordHandlers:     &recordHandlers{store: d.Store, now: d.Now},
		exportHandlers:     &exportHandlers{store: d.Store},
	}
	RegisterHandlers(e, h)
	registerDocs(e)
	return e, nil
}

var _ ServerInterface = handlers{}

// noContent answers 204.
func noContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
