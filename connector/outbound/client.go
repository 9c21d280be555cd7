// Package outbound is syncd's one HTTP client for calls to other systems:
// REST connectors today, webhook deliveries later. It refuses private and
// loopback targets unless allowed (SSRF), retries only what is safe to
// retry, limits the request rate, caps response sizes, and keeps
// credentials out of every error message it builds.
//
// Targets: http and https only, no user:password in the URL, no proxy
// (a proxy would dial for us and bypass the check). Every resolved
// address is checked right before connecting, so DNS tricks do not help;
// special-purpose addresses (loopback, private, link-local, CGNAT,
// multicast, documentation ranges...) are refused, and public targets may
// use ports 80, 443, 8080 and 8443 only. Options.AllowPrivate lifts both
// restrictions. Redirects are followed only on the same host.
//
// Retries: an attempt is repeated, up to Options.MaxRetries times with
// jittered exponential backoff, after a failed connection, a timeout, or a
// 408, 429 or 5xx answer other than 501. 429 and 503 wait for Retry-After
// (seconds or an HTTP-date) up to Options.MaxRetryAfter; a longer one ends
// the call. POST and PATCH are repeated after a timeout or a 5xx only when
// Request.Idempotent says so, because the first attempt may have done the
// work. A refused target and every other 4xx are never repeated.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"syncd/domain"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxRetries       = 4
	DefaultRetryWaitMin     = 500 * time.Millisecond
	DefaultRetryWaitMax     = 10 * time.Second
	DefaultMaxRetryAfter    = 60 * time.Second
	DefaultRateLimit        = rate.Limit(10)
	DefaultMaxResponseBytes = 10 << 20
)

// maxRedirects is lower than net/http's 10: APIs redirect once or twice,
// and every hop is another chance to be steered somewhere unexpected.
const maxRedirects = 5

// Options configures a Client. Zero fields take the defaults above.
type Options struct {
	// AllowPrivate permits loopback, private, link-local and other
	// special-purpose addresses, on any port. It mirrors
	// SYNCD_ALLOW_PRIVATE_TARGETS and is meant for local use and tests.
	AllowPrivate bool
	// Timeout bounds one attempt, from dialing to the last body byte
	// (default 30 s). The caller's context bounds the whole call.
	Timeout time.Duration
	// MaxRetries is how many times a failed attempt is repeated (default 4);
	// a negative value disables retries.
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the jittered exponential backoff
	// between attempts (defaults 0.5 s and 10 s).
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for
	// (default 60 s). A longer one ends the call at once, with the
	// error's RetryAfter set, rather than calling back too early.
	MaxRetryAfter time.Duration
	// RateLimit is the sustained number of attempts per second (default 10);
	// rate.Inf disables the limit. Retries count as attempts.
	RateLimit rate.Limit
	// Burst is how many attempts may go out at once (default: RateLimit
	// rounded up, at least 1).
	Burst int
	// MaxResponseBytes caps a response body after decompression
	// (default 10 MiB); a longer body fails the call.
	MaxResponseBytes int64
	// Logger receives retries at debug level, with redacted URLs.
	// Nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = DefaultRetryWaitMin
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = DefaultRetryWaitMax
	}
	o.RetryWaitMax = max(o.RetryWaitMax, o.RetryWaitMin)
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.RateLimit <= 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.Burst <= 0 {
		o.Burst = 1
		if o.RateLimit != rate.Inf {
			o.Burst = max(1, int(math.Ceil(float64(o.RateLimit))))
		}
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Client sends requests to other systems. It is safe for concurrent use.
// Its rate limit and redaction set are per Client, so a Client should serve
// one connection (or one webhook subscription), not the whole server.
type Client struct {
	opts    Options
	guard   *guard
	retry   *retryablehttp.Client
	limiter *rate.Limiter

	mu      sync.RWMutex
	secrets map[string]struct{}
}

// New builds a Client from o, filling in the documented defaults.
func New(o Options) *Client {
	o = o.withDefaults()
	c := &Client{
		opts:    o,
		guard:   newGuard(o.AllowPrivate),
		limiter: rate.NewLimiter(o.RateLimit, o.Burst),
		secrets: map[string]struct{}{},
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		// The check runs on the resolved address right before connecting,
		// so a name that resolves (or re-resolves) to a private address is
		// refused as well.
		Control: c.guard.control,
	}
	transport := &http.Transport{
		// A proxy would dial on our behalf and bypass the address check.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
	httpClient := &http.Client{
		Transport:     transport,
		Timeout:       o.Timeout,
		CheckRedirect: checkRedirect,
	}
	c.retry = &retryablehttp.Client{
		HTTPClient:     httpClient,
		Logger:         nil, // it would log raw URLs; we log redacted ones ourselves
		RetryWaitMin:   o.RetryWaitMin,
		RetryWaitMax:   o.RetryWaitMax,
		RetryMax:       o.MaxRetries,
		RequestLogHook: c.countAttempt,
		CheckRetry:     c.checkRetry,
		Backoff:        c.backoff,
		ErrorHandler:   keepLastResponse,
		// Every attempt, not only the first, waits for the rate limiter.
		PrepareRetry: func(req *http.Request) error { return c.wait(req.Context()) },
	}
	return c
}

// checkRedirect follows redirects only on the same host. net/http drops
// Authorization on a cross-host redirect but forwards custom headers such
// as X-API-Key, so a redirect elsewhere could hand a credential to a
// stranger. Every hop is also dialed through the guard.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if err := checkScheme(req.URL); err != nil {
		return err
	}
	if from := via[0].URL; !strings.EqualFold(req.URL.Host, from.Host) {
		return &blockedError{reason: fmt.Sprintf("the target redirected to another host (%s); such redirects are not followed", req.URL.Hostname())}
	}
	return nil
}

// Request is one outbound call. Body is held in memory so that a retry can
// send it again unchanged.
type Request struct {
	Method string // default GET
	URL    string // absolute http or https URL without user:password
	Header http.Header
	Body   []byte
	// Idempotent lets a POST or PATCH be retried after a 5xx or a timeout.
	// Set it only when repeating the call cannot do the work twice (the
	// target de-duplicates, e.g. by an Idempotency-Key or webhook id).
	// GET, HEAD, PUT, DELETE and OPTIONS are always treated as idempotent.
	Idempotent bool
	// Redact lists further values (such as a short-lived access token) to
	// hide from this call's error messages, besides those given to
	// Client.Redact.
	Redact []string
}

// Response is a completed call: status, headers and the whole body (at most
// Options.MaxResponseBytes).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrBlocked is the cause (errors.Is) of every error for a target the
// client refuses to reach: a private or loopback address, a port not
// allowed for public targets, a scheme other than http(s), or a URL with
// credentials in it.
var ErrBlocked = errors.New("outbound target not allowed")

// Do sends r, retrying as the package documents, and returns the response.
// Every error is a *domain.Error with CodeUnavailable whose message names
// the method, the redacted URL and, when the target answered, the status
// and a redacted excerpt of the body. When the target answered with a
// non-2xx status, Do returns that Response together with the error, so a
// caller can treat, say, 404 or 401 specially.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	method := strings.ToUpper(r.Method)
	if method == "" {
		method = http.MethodGet
	}
	red := c.redactor(r.Redact)
	u, err := c.parseURL(r.URL)
	if err != nil {
		return nil, c.failure(ctx, method, red.rawURL(r.URL), err, 0)
	}
	shown := red.url(u)

	call := &callState{method: method, url: shown, red: red, idempotent: r.Idempotent || idempotent(method)}
	ctx = context.WithValue(ctx, callKey{}, call)
	var body any
	if r.Body != nil {
		body = r.Body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, c.failure(ctx, method, shown, red.err(err), 0)
	}
	if r.Header != nil {
		req.Header = r.Header.Clone()
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "syncd")
	}

	if err := c.wait(ctx); err != nil {
		return nil, c.failure(ctx, method, shown, err, 0)
	}
	resp, err := c.retry.Do(req)
	if err != nil {
		return nil, c.failure(ctx, method, shown, red.err(err), call.attempts)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxResponseBytes+1))
	if err != nil {
		return nil, c.failure(ctx, method, shown, red.err(err), call.attempts)
	}
	if int64(len(data)) > c.opts.MaxResponseBytes {
		return nil, &domain.Error{
			Code:    domain.CodeUnavailable,
			Message: fmt.Sprintf("%s %s: response body is larger than %d bytes", method, shown, c.opts.MaxResponseBytes),
		}
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, c.statusError(call, out, red)
	}
	return out, nil
}

// CheckURL reports whether raw is a URL the client would try to reach:
// http or https, no credentials in it, and, when the host is an IP
// literal, an allowed address and port. Host names are checked only when
// dialing, after they resolve. It returns a *domain.Error with CodeInvalid,
// meant for validating configuration such as a webhook target.
func (c *Client) CheckURL(raw string) error {
	if _, err := c.parseURL(raw); err != nil {
		return &domain.Error{Code: domain.CodeInvalid, Message: err.Error(), Err: err}
	}
	return nil
}

// wait takes a token from the rate limiter, giving up when ctx ends first.
func (c *Client) wait(ctx context.Context) error {
	if err := c.limiter.Wait(ctx); err != nil {
		return fmt.Errorf("waiting for the rate limit: %w", err)
	}
	return nil
}

// callKey carries a call's callState through the request context, because
// retryablehttp's hooks are client-wide and see only the request.
type callKey struct{}

type callState struct {
	method     string
	url        string // redacted, for logs
	red        redactor
	idempotent bool
	attempts   int // written only by the goroutine running the call
}

func stateOf(ctx context.Context) *callState {
	if s, ok := ctx.Value(callKey{}).(*callState); ok {
		return s
	}
	return &callState{idempotent: true}
}

// countAttempt runs before every attempt.
func (c *Client) countAttempt(_ retryablehttp.Logger, req *http.Request, _ int) {
	stateOf(req.Context()).attempts++
}

// idempotent reports whether repeating method cannot do the work twice
// (RFC 9110, section 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}
