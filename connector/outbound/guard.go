package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"code.dny.dev/ssrf"
)

// publicPorts are the ports a public target may use. Besides 80 and 443,
// 8080 and 8443 are common for self-hosted ERPs and CRMs without a reverse
// proxy; other ports are refused because they mostly reach services that
// were never meant to be called (databases, admin consoles). With
// Options.AllowPrivate every port is allowed.
var publicPorts = []uint16{80, 443, 8080, 8443}

// guard decides which addresses the client may connect to.
type guard struct {
	allowPrivate bool
	ssrf         *ssrf.Guardian
}

func newGuard(allowPrivate bool) *guard {
	return &guard{
		allowPrivate: allowPrivate,
		// Ports are checked by check itself, after the address.
		ssrf: ssrf.New(ssrf.WithAnyPort()),
	}
}

// control is the dialer's Control hook: it sees the resolved IP address
// right before the socket connects.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	if g.allowPrivate {
		return nil
	}
	if network != "tcp4" && network != "tcp6" {
		return &blockedError{reason: fmt.Sprintf("network %s is not allowed", network)}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &blockedError{reason: fmt.Sprintf("cannot parse the address %q", address)}
	}
	return g.check(ap)
}

// check refuses special-purpose addresses and non-public ports. The
// address is checked first: it is the finding that matters to the person
// configuring the target.
func (g *guard) check(ap netip.AddrPort) error {
	if g.allowPrivate {
		return nil
	}
	if err := g.ssrf.SafeAddr(ap.Addr()); err != nil {
		return &blockedError{reason: fmt.Sprintf(
			"outbound target %s is a private or loopback address; set SYNCD_ALLOW_PRIVATE_TARGETS=true to allow it",
			ap.Addr().Unmap())}
	}
	if !slices.Contains(publicPorts, ap.Port()) {
		return &blockedError{reason: fmt.Sprintf(
			"outbound target port %d is not allowed; public targets may use ports %s (set SYNCD_ALLOW_PRIVATE_TARGETS=true to allow any port)",
			ap.Port(), portList())}
	}
	return nil
}

// parseURL accepts absolute http(s) URLs without userinfo and, for IP
// literals, checks the address before any connection is tried. Host names
// are checked by control once resolved.
func (c *Client) parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &blockedError{reason: "the outbound URL is not a valid URL"}
	}
	if err := checkScheme(u); err != nil {
		return nil, err
	}
	if u.User != nil {
		return nil, &blockedError{reason: "the outbound URL must not contain a user name or password; configure credentials instead"}
	}
	host := u.Hostname()
	if host == "" {
		return nil, &blockedError{reason: "the outbound URL has no host"}
	}
	if addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		if err := c.guard.check(netip.AddrPortFrom(addr, portOf(u))); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func checkScheme(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return nil
	case "":
		return &blockedError{reason: "the outbound URL must be absolute (http:// or https://)"}
	}
	return &blockedError{reason: fmt.Sprintf("the outbound URL scheme %q is not allowed; use http or https", u.Scheme)}
}

// portOf returns the URL's port, or the scheme's default.
func portOf(u *url.URL) uint16 {
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(p)
	}
	if strings.EqualFold(u.Scheme, "https") {
		return 443
	}
	return 80
}

func portList() string {
	s := make([]string, len(publicPorts))
	for i, p := range publicPorts {
		s[i] = strconv.Itoa(int(p))
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// blockedError is a refusal by the guard. Its message is written for the
// person configuring the connection and never contains the URL's secrets.
type blockedError struct{ reason string }

func (e *blockedError) Error() string { return e.reason }

func (e *blockedError) Is(target error) bool { return target == ErrBlocked }

// isBlocked finds a guard refusal inside the errors net/http wraps around
// a dialer's Control error.
func isBlocked(err error) (*blockedError, bool) {
	var b *blockedError
	ok := errors.As(err, &b)
	return b, ok
}
