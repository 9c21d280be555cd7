// Package resttest provides a fake CRM: an HTTP/JSON API that behaves like
// the real ones the rest connector meets, for tests in any package that
// need a remote system (the connector's own tests, API tests that create a
// rest connection and pull from it).
//
// The CRM serves one object, customers, through several API styles that
// differ only in paging and shape:
//
//	GET  /v1/customers       page/per_page, {"data": [...], "meta": {...}}
//	POST /v1/customers       201 {"data": {...}} with a Location header;
//	                         422 without an email, 409 for a taken email
//	GET|PUT|PATCH|DELETE /v1/customers/{id}   404 when absent
//	GET  /v2/customers       offset/limit, a bare array, ids as strings
//	GET  /v3/customers       cursor/limit, {"results": [...], "paging": {"next": ...}}
//	GET  /v4/customers       page/per_page, a bare array, one Link header
//	                         with absolute URLs and quoted rels
//	GET  /v5/customers       the same with one Link line per link,
//	                         relative URLs and bare rel=next
//	GET  /v6/customers       broken: ignores the page parameter
//	GET  /v7/customers       broken: always answers the same cursor
//	GET  /v1/ping            {"ok": true}
//	POST /oauth/token        OAuth2 client credentials (basic or body)
//
// Every list accepts updated_since (RFC 3339, unix seconds or a date) and
// caps the page size at MaxPageSize, as real APIs quietly do. Records look
// like {"id": 7, "name": "Customer 7", "email": "customer007@example.com",
// "active": true, "updated_at": "2026-01-01T00:00:00Z"}; updated_at comes
// from the CRM's own clock, which tests move with Advance.
package resttest

import (
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The credentials the CRM accepts. Their odd characters catch encoding
// mistakes (a colon in a basic password, reserved characters in a client
// secret that RFC 6749 wants form-encoded).
const (
	APIKey       = "crm-key-7Hq2x9"
	Token        = "crm-bearer-Zx81k4"
	Username     = "syncd"
	Password     = "pa55:w0rd!"
	ClientID     = "syncd-client"
	ClientSecret = "cs&s3cret/+1="
)

// MaxPageSize is the largest page the CRM returns, whatever is asked.
const MaxPageSize = 25

// AuthMode is the credential the CRM demands on its API routes.
type AuthMode string

// The modes of UseAuth.
const (
	AuthNone         AuthMode = "none"
	AuthAPIKeyHeader AuthMode = "api_key_header" // X-API-Key: APIKey
	AuthAPIKeyQuery  AuthMode = "api_key_query"  // ?api_key=APIKey
	AuthBearer       AuthMode = "bearer"         // Authorization: Bearer Token
	AuthBasic        AuthMode = "basic"          // Username, Password
	AuthOAuth2       AuthMode = "oauth2"         // a token from /oauth/token
)

// Fault is a misbehaviour injected into the next API request (the token
// endpoint is never affected).
type Fault struct {
	Status     int           // answer this status with no work done; 0 answers normally
	RetryAfter string        // sent as Retry-After with Status
	Delay      time.Duration // wait this long first, or until the client gives up
}

// CRM is a running fake CRM. Its methods are safe for concurrent use.
type CRM struct {
	// URL is the server's root, such as http://127.0.0.1:41234; base_url
	// of a rest connection is URL itself, paths start with /v1.
	URL string

	mu            sync.Mutex
	auth          AuthMode
	tokenTTL      time.Duration
	now           time.Time
	records       map[int64]map[string]any
	nextID        int64
	faults        []Fault
	tokens        map[string]time.Time // access token → expiry
	tokenSeq      int
	apiRequests   int
	tokenRequests int
	log           []string
}

// NewCRM starts a CRM with no records, no authentication and its clock at
// 2026-01-01T00:00:00Z; it stops when the test ends.
func NewCRM(t testing.TB) *CRM {
	t.Helper()
	c := &CRM{
		auth:     AuthNone,
		tokenTTL: time.Hour,
		now:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		records:  map[int64]map[string]any{},
		nextID:   1,
		tokens:   map[string]time.Time{},
	}
	srv := httptest.NewServer(c.routes())
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// UseAuth sets the credential the API routes demand.
func (c *CRM) UseAuth(m AuthMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.auth = m
}

// SetTokenTTL sets the expires_in of tokens issued from now on.
func (c *CRM) SetTokenTTL(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokenTTL = d
}

// Advance moves the CRM's clock: later edits get later updated_at values,
// and issued tokens come closer to expiring.
func (c *CRM) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Now is the CRM's clock.
func (c *CRM) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// RevokeTokens makes every issued access token invalid, as a provider does
// when a key is rotated.
func (c *CRM) RevokeTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.tokens)
}

// Inject queues faults; each of the following API requests takes one.
func (c *CRM) Inject(faults ...Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, faults...)
}

// Seed adds n customers and returns their ids.
func (c *CRM) Seed(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		c.mu.Lock()
		id := c.nextID
		c.mu.Unlock()
		ids[i] = c.Add(map[string]any{
			"name":  fmt.Sprintf("Customer %d", id),
			"email": fmt.Sprintf("customer%03d@example.com", id),
		})
	}
	return ids
}

// Add stores a customer as if created in the CRM's own UI and returns its
// id; "active" defaults to true.
func (c *CRM) Add(fields map[string]any) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strconv.FormatInt(c.insert(fields), 10)
}

// Touch changes a customer's fields as if edited in the CRM's own UI,
// moving its updated_at to the CRM's clock. It reports whether the
// customer exists.
func (c *CRM) Touch(id string, fields map[string]any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec := c.records[parseID(id)]
	if rec == nil {
		return false
	}
	maps.Copy(rec, fields)
	rec["updated_at"] = c.now.Format(time.RFC3339)
	return true
}

// Record returns a copy of a customer.
func (c *CRM) Record(id string) (map[string]any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.records[parseID(id)]
	return maps.Clone(rec), ok
}

// Len is the number of customers.
func (c *CRM) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.records)
}

// Requests counts the API requests received, faulty ones included, token
// requests not.
func (c *CRM) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.apiRequests
}

// TokenRequests counts the requests to /oauth/token.
func (c *CRM) TokenRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokenRequests
}

// Log lists the API requests received, as "METHOD /path?query".
func (c *CRM) Log() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log)
}

// insert stores a new customer; c.mu must be held.
func (c *CRM) insert(fields map[string]any) int64 {
	id := c.nextID
	if v, ok := fields["id"]; ok {
		if given := parseID(fmt.Sprint(v)); given > 0 {
			id = given
		}
	}
	c.nextID = max(c.nextID, id+1)
	rec := map[string]any{"active": true}
	maps.Copy(rec, fields)
	rec["id"] = id
	rec["updated_at"] = c.now.Format(time.RFC3339)
	c.records[id] = rec
	return id
}

// sorted returns copies of the customers by id; c.mu must be held.
func (c *CRM) sorted() []map[string]any {
	ids := slices.Sorted(maps.Keys(c.records))
	out := make([]map[string]any, len(ids))
	for i, id := range ids {
		out[i] = maps.Clone(c.records[id])
	}
	return out
}

func parseID(s string) int64 {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return id
}
