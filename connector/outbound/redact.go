package outbound

import (
	"cmp"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// mask replaces every secret in a message.
const mask = "***"

// excerptBytes bounds the part of a response body quoted in an error.
const excerptBytes = 300

// Redact adds values (API keys, passwords, client secrets) that must never
// appear in this client's error messages or logs. Empty values are ignored.
// Values are kept for the client's lifetime.
func (c *Client) Redact(values ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range values {
		if v != "" {
			c.secrets[v] = struct{}{}
		}
	}
}

// redactor hides a fixed set of secret values plus anything that looks like
// a credential by its name (a query parameter, a JSON or form key).
type redactor struct{ values []string }

func (c *Client) redactor(extra []string) redactor {
	c.mu.RLock()
	vals := make([]string, 0, len(c.secrets)+len(extra))
	for v := range c.secrets {
		vals = append(vals, v)
	}
	c.mu.RUnlock()
	vals = append(vals, extra...)

	// A secret may appear escaped in a URL or a form body.
	var all []string
	for _, v := range vals {
		if v == "" {
			continue
		}
		all = append(all, v, url.QueryEscape(v), url.PathEscape(v))
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(all, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return redactor{values: slices.Compact(all)}
}

// sensitiveWords mark a query parameter, JSON or form key as a credential.
var sensitiveWords = []string{"key", "token", "secret", "password", "passwd", "signature", "credential", "session"}

// sensitiveExact are short names that would match too much as substrings.
var sensitiveExact = []string{"sig", "auth", "pwd"}

func sensitiveName(name string) bool {
	n := strings.ToLower(name)
	if slices.Contains(sensitiveExact, n) {
		return true
	}
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// keyValue finds "name": "value" and name=value pairs whose name looks like
// a credential, in JSON, form bodies and error texts.
var keyValue = regexp.MustCompile(`(?i)("?[a-z0-9_.-]*(?:key|token|secret|password|passwd|signature|credential)[a-z0-9_.-]*"?\s*[:=]\s*"?)([^"&\s,;}]+)`)

// text hides every known secret and every credential-looking pair in s.
func (r redactor) text(s string) string {
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, mask)
	}
	return keyValue.ReplaceAllString(s, "${1}"+mask)
}

// url renders u with credential query parameters and known secrets masked.
func (r redactor) url(u *url.URL) string {
	v := *u
	v.User = nil
	if v.RawQuery != "" {
		parts := strings.Split(v.RawQuery, "&")
		for i, p := range parts {
			name, _, hasValue := strings.Cut(p, "=")
			if key, err := url.QueryUnescape(name); err == nil && hasValue && sensitiveName(key) {
				parts[i] = name + "=" + mask
			}
		}
		v.RawQuery = strings.Join(parts, "&")
	}
	return r.text(v.String())
}

// rawURL renders a URL that may not parse; it is cut at the query string,
// where credentials usually are.
func (r redactor) rawURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return r.url(u)
	}
	s, _, _ := strings.Cut(raw, "?")
	if i := strings.Index(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	return r.text(s)
}

// err wraps err so that its text is redacted too: a *url.Error repeats the
// full URL, query string included, and domain.Error.Error() prints the cause.
func (r redactor) err(err error) error {
	if err == nil {
		return nil
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		// "Get "https://...?api_key=...": dial tcp: ..." says the URL twice
		// over; the operation and the cause are what a reader needs.
		return &redactedError{msg: r.text(ue.Err.Error()), err: err}
	}
	return &redactedError{msg: r.text(err.Error()), err: err}
}

// excerpt quotes the start of a response body, redacted, on one line and
// at most excerptBytes long.
func (r redactor) excerpt(body []byte) string {
	// Redact before cutting, so a secret straddling the cut is still found;
	// the slack covers the longest secret we expect.
	if len(body) > excerptBytes+4096 {
		body = body[:excerptBytes+4096]
	}
	s := r.text(strings.ToValidUTF8(string(body), "�"))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= excerptBytes {
		return s
	}
	cut := excerptBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// redactedError shows a redacted text and keeps the original cause for
// errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
