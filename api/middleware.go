package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"syncd/domain"
)

// middlewares is the stack every request passes, outermost first.
func middlewares(d Deps, reg prometheus.Registerer) []echo.MiddlewareFunc {
	cfg := d.Config
	return []echo.MiddlewareFunc{
		middleware.RequestID(),
		recoverer(d.Logger),
		securityHeaders,
		echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
			Namespace: "syncd", Registerer: reg, DoNotUseRequestPathFor404: true,
			Skipper: func(c echo.Context) bool { return c.Path() == "/metrics" },
		}),
		requestLog(d.Logger),
		middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  cfg.CORSOrigins,
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, "If-Match", "If-None-Match", "Idempotency-Key"},
			ExposeHeaders: []string{"ETag", "Retry-After", echo.HeaderXRequestID, "Idempotent-Replayed"},
			MaxAge:        600,
		}),
		bodyLimit(cfg.BodyLimit),
		rateLimit(cfg.RateLimit, cfg.RateBurst),
	}
}

// recoverer turns a panic into a 500 problem without internals; the stack
// goes to the log only.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.ErrorContext(c.Request().Context(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()),
						"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
					err = domain.Errorf(domain.CodeInternal, "internal error")
				}
			}()
			return next(c)
		}
	}
}

// securityHeaders sets the headers every API response should carry. The docs
// UI needs its scripts, so it gets no restrictive content policy.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(c.Request().URL.Path, "/docs") {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		if c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// requestLog writes one structured line per request. It logs the route
// pattern and path, never headers or bodies, so no token or secret reaches it.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			if !log.Enabled(c.Request().Context(), level) {
				return nil
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", c.Request().Method),
				slog.String("route", c.Path()),
				slog.String("path", c.Request().URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", c.Response().Size),
				slog.Duration("duration", time.Since(start)),
				slog.String("ip", c.RealIP()),
			)
			return nil
		}
	}
}

// bodyLimit refuses bodies over limit bytes with 413. Upload routes stream
// their files and enforce their own, larger limits.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   strconv.FormatInt(limit, 10) + "B",
		Skipper: streamsBody,
	})
}

// rateLimit allows each caller perSecond requests with a burst. The caller is
// its credential when it sends one (hashed, so the limiter holds no secret),
// else its address.
func rateLimit(perSecond float64, burst int) echo.MiddlewareFunc {
	if perSecond <= 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	retry := int(math.Max(1, math.Ceil(1/perSecond)))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return p == "/healthz" || p == "/readyz" || p == "/metrics"
		},
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(perSecond), Burst: burst, ExpiresIn: 3 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) {
			if a := c.Request().Header.Get(echo.HeaderAuthorization); a != "" {
				sum := sha256.Sum256([]byte(a))
				return "cred:" + hex.EncodeToString(sum[:12]), nil
			}
			return "ip:" + c.RealIP(), nil
		},
		ErrorHandler: func(c echo.Context, err error) error {
			return domain.Errorf(domain.CodeInternal, "rate limiter failed")
		},
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return &domain.Error{Code: domain.CodeRateLimited, Message: "rate limit exceeded; slow down", RetryAfter: retry}
		},
	})
}
