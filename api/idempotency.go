package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// idempotency answers a retried POST with the same Idempotency-Key from the
// stored first response, so the retry does nothing twice. Responses with a
// 5xx status are not stored: the client should be able to retry those.
func idempotency(store domain.IdempotencyStore, now func() time.Time) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get("Idempotency-Key")
			p := principal(c)
			if c.Request().Method != http.MethodPost || key == "" || p.WorkspaceID == "" {
				return next(c)
			}
			ctx := c.Request().Context()
			path := c.Request().URL.Path
			prev, err := store.IdempotentResponse(ctx, p.WorkspaceID, p.Subject(), key, now())
			switch {
			case err == nil && prev.Path != path:
				return domain.Invalid("Idempotency-Key was already used for another request", map[string]string{"header.Idempotency-Key": "already used for " + prev.Method + " " + prev.Path})
			case err == nil:
				c.Response().Header().Set("Idempotent-Replayed", "true")
				return c.Blob(prev.Status, prev.ContentType, prev.Body)
			case !domain.IsCode(err, domain.CodeNotFound):
				return err
			}
			rec := &recorder{ResponseWriter: c.Response().Writer}
			c.Response().Writer = rec
			if err := next(c); err != nil {
				c.Error(err) // render now, so the problem can be stored too
			}
			status := c.Response().Status
			if status < 500 && !rec.overflow {
				_ = store.SaveIdempotentResponse(ctx, &domain.IdempotentResponse{
					WorkspaceID: p.WorkspaceID, Subject: p.Subject(), Key: key, Method: http.MethodPost, Path: path,
					Status: status, ContentType: c.Response().Header().Get(echo.HeaderContentType), Body: rec.body.Bytes(), CreatedAt: now(),
				})
			}
			return nil
		}
	}
}

// recorder keeps a copy of what a handler writes, up to a limit.
type recorder struct {
	http.ResponseWriter
	body     bytes.Buffer
	overflow bool
}

const maxIdempotentBody = 1 << 20

func (r *recorder) Write(b []byte) (int, error) {
	if r.body.Len()+len(b) <= maxIdempotentBody {
		r.body.Write(b)
	} else {
		r.overflow = true
	}
	return r.ResponseWriter.Write(b)
}
