package outbound

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// checkRetry is retryablehttp's CheckRetry. It returns a nil error for
// every decision, so the last response or transport error reaches Do
// unchanged (see keepLastResponse).
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	call := stateOf(ctx)
	retry := c.retryable(ctx, call, resp, err)
	if retry && call.attempts <= c.opts.MaxRetries {
		attrs := []any{"method", call.method, "url", call.url, "attempt", call.attempts}
		if resp != nil {
			attrs = append(attrs, "status", resp.StatusCode)
		} else {
			attrs = append(attrs, "error", call.red.err(err).Error())
		}
		c.opts.Logger.Debug("outbound request failed; retrying", attrs...)
	}
	return retry, nil
}

// retryable decides whether another attempt may help and cannot do harm.
func (c *Client) retryable(ctx context.Context, call *callState, resp *http.Response, err error) bool {
	if err != nil {
		if _, blocked := isBlocked(err); blocked {
			return false // the address will not become public by asking again
		}
		// retryablehttp's own policy knows the permanent transport errors:
		// bad TLS certificates, too many redirects, unsupported schemes.
		if ok, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err); !ok {
			return false
		}
		// A POST that timed out may have been carried out; repeating it
		// could create a second record. Only a failed dial is certain to
		// have sent nothing.
		return call.idempotent || notSent(err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests, code == http.StatusServiceUnavailable:
		// Both say the request was not processed; a Retry-After we will
		// not wait for ends the call instead of calling back too early.
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > c.opts.MaxRetryAfter {
			return false
		}
		return true
	case code == http.StatusRequestTimeout:
		return true
	case code == http.StatusNotImplemented:
		return false
	case code >= 500:
		return call.idempotent
	}
	// Any other 4xx is the request's fault; repeating it changes nothing.
	return false
}

// notSent reports whether err happened while connecting, before any byte
// of the request left.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// backoff is retryablehttp's Backoff: the server's Retry-After when it
// sent one (capped), else exponential backoff with jitter so that many
// clients failing together do not retry together.
func (c *Client) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, c.opts.MaxRetryAfter)
		}
	}
	d := hi
	if attempt < 30 { // 2^30 × any sane minimum is past any sane maximum
		d = min(lo<<attempt, hi)
	}
	return d/2 + rand.N(d/2+1)
}

// keepLastResponse is retryablehttp's ErrorHandler. Without it, giving up
// after retries discards the last response; Do needs its status and body
// for the error message.
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil || resp == nil {
		if resp != nil {
			resp.Body.Close()
		}
		if err == nil {
			err = errors.New("no response")
		}
		return nil, err
	}
	return resp, nil
}

// maxRetryAfterSeconds keeps absurd Retry-After values from overflowing a
// time.Duration.
const maxRetryAfterSeconds = 7 * 24 * 3600

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP-date
// (RFC 9110, section 10.2.3). A date in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, maxRetryAfterSeconds)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfterSeconds*time.Second), true
}
