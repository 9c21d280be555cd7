package outbound

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"

	"syncd/domain"
)

// failure builds the error for a call that got no usable response. shown
// is the redacted URL; err must already be redacted (redactor.err) unless
// it is a guard refusal, whose text never holds secrets.
func (c *Client) failure(ctx context.Context, method, shown string, err error, attempts int) *domain.Error {
	var why string
	var netErr net.Error
	switch b, blocked := isBlocked(err); {
	case blocked:
		why = b.reason
	case ctx.Err() != nil:
		why = fmt.Sprintf("call abandoned: %v", ctx.Err())
	case errors.As(err, &netErr) && netErr.Timeout():
		why = fmt.Sprintf("no answer within %s", c.opts.Timeout)
	default:
		why = err.Error()
	}
	if attempts > 1 {
		why += fmt.Sprintf(" (after %d attempts)", attempts)
	}
	return &domain.Error{
		Code:    domain.CodeUnavailable,
		Message: fmt.Sprintf("%s %s: %s", method, shown, why),
		Err:     err,
	}
}

// statusError builds the error for a non-2xx answer. The remote status is
// kept in Details["remote_status"] for clients that want to show it.
func (c *Client) statusError(call *callState, resp *Response, red redactor) *domain.Error {
	msg := fmt.Sprintf("%s %s answered %d %s", call.method, call.url, resp.Status, http.StatusText(resp.Status))
	if call.attempts > 1 {
		msg += fmt.Sprintf(" after %d attempts", call.attempts)
	}
	if ex := red.excerpt(resp.Body); ex != "" {
		msg += ": " + ex
	}
	e := &domain.Error{
		Code:    domain.CodeUnavailable,
		Message: msg,
		Details: map[string]any{"remote_status": resp.Status},
	}
	if resp.Status == http.StatusTooManyRequests || resp.Status == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > 0 {
			e.RetryAfter = int(math.Ceil(d.Seconds()))
		}
	}
	return e
}
