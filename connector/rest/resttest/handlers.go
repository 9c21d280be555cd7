package resttest

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func (c *CRM) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", c.issueToken)

	api := http.NewServeMux()
	api.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	api.HandleFunc("GET /v1/customers", c.listPages)
	api.HandleFunc("POST /v1/customers", c.create)
	api.HandleFunc("GET /v1/customers/{id}", c.get)
	api.HandleFunc("PUT /v1/customers/{id}", c.write)
	api.HandleFunc("PATCH /v1/customers/{id}", c.write)
	api.HandleFunc("DELETE /v1/customers/{id}", c.remove)
	api.HandleFunc("GET /v2/customers", c.listOffset)
	api.HandleFunc("GET /v3/customers", c.listCursor)
	api.HandleFunc("GET /v4/customers", c.listLinks)
	api.HandleFunc("GET /v5/customers", c.listLinks)
	api.HandleFunc("GET /v6/customers", c.listIgnoringPage)
	api.HandleFunc("GET /v7/customers", c.listSameCursor)
	mux.Handle("/", c.guard(api))
	return mux
}

// guard counts an API request, plays the next injected fault, then checks
// the credentials, in the order a real gateway would.
func (c *CRM) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.apiRequests++
		c.log = append(c.log, r.Method+" "+r.URL.RequestURI())
		var f Fault
		if len(c.faults) > 0 {
			f, c.faults = c.faults[0], c.faults[1:]
		}
		c.mu.Unlock()

		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if f.Status != 0 {
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			writeJSON(w, f.Status, map[string]any{"error": http.StatusText(f.Status)})
			return
		}
		if msg := c.authorized(r); msg != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="crm"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": msg})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorized returns "" when r carries the demanded credential, else why not.
func (c *CRM) authorized(r *http.Request) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.auth {
	case AuthAPIKeyHeader:
		if !same(r.Header.Get("X-API-Key"), APIKey) {
			return "invalid api key"
		}
	case AuthAPIKeyQuery:
		if !same(r.URL.Query().Get("api_key"), APIKey) {
			return "invalid api key"
		}
	case AuthBearer:
		if !same(r.Header.Get("Authorization"), "Bearer "+Token) {
			return "invalid token"
		}
	case AuthBasic:
		user, pass, ok := r.BasicAuth()
		if !ok || !same(user, Username) || !same(pass, Password) {
			return "invalid user name or password"
		}
	case AuthOAuth2:
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		expiry, known := c.tokens[tok]
		switch {
		case !ok || !known:
			return "invalid access token"
		case !c.now.Before(expiry):
			return "access token expired"
		}
	}
	return ""
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// issueToken is the client-credentials grant (RFC 6749 section 4.4).
func (c *CRM) issueToken(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.tokenRequests++
	c.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type"})
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		// RFC 6749 section 2.3.1: both parts are form-encoded.
		id, _ = url.QueryUnescape(user)
		secret, _ = url.QueryUnescape(pass)
	}
	if !same(id, ClientID) || !same(secret, ClientSecret) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client"})
		return
	}
	c.mu.Lock()
	c.tokenSeq++
	tok := fmt.Sprintf("at-%d-%d", c.tokenSeq, c.now.UnixNano())
	c.tokens[tok] = c.now.Add(c.tokenTTL)
	ttl := int(c.tokenTTL / time.Second)
	c.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": ttl})
}

// page selects the customers changed since updated_since, from index
// start, at most size (capped at MaxPageSize).
func (c *CRM) page(r *http.Request, start, size int) (items []map[string]any, total int, ok bool) {
	since, ok := parseSince(r.URL.Query().Get("updated_since"))
	if !ok {
		return nil, 0, false
	}
	if size <= 0 {
		size = 10
	}
	size = min(size, MaxPageSize)
	c.mu.Lock()
	all := c.sorted()
	c.mu.Unlock()
	var matched []map[string]any
	for _, rec := range all {
		if t, _ := time.Parse(time.RFC3339, rec["updated_at"].(string)); !t.Before(since) {
			matched = append(matched, rec)
		}
	}
	start = max(start, 0)
	if start >= len(matched) {
		return []map[string]any{}, len(matched), true
	}
	return matched[start:min(start+size, len(matched))], len(matched), true
}

func parseSince(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func intParam(r *http.Request, name string, def int) int {
	if n, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil {
		return n
	}
	return def
}

func badSince(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": "updated_since is not a time"})
}

func (c *CRM) listPages(w http.ResponseWriter, r *http.Request) {
	p, size := intParam(r, "page", 1), intParam(r, "per_page", 10)
	items, total, ok := c.page(r, (p-1)*min(max(size, 1), MaxPageSize), size)
	if !ok {
		badSince(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": items, "meta": map[string]any{"page": p, "total": total}})
}

func (c *CRM) listOffset(w http.ResponseWriter, r *http.Request) {
	items, _, ok := c.page(r, intParam(r, "offset", 0), intParam(r, "limit", 10))
	if !ok {
		badSince(w)
		return
	}
	for _, rec := range items {
		rec["id"] = fmt.Sprint(rec["id"]) // this API version sends ids as strings
	}
	writeJSON(w, http.StatusOK, items)
}

func (c *CRM) listCursor(w http.ResponseWriter, r *http.Request) {
	start := 0
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		if start, err = strconv.Atoi(string(b)); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "bad cursor"})
			return
		}
	}
	items, total, ok := c.page(r, start, intParam(r, "limit", 10))
	if !ok {
		badSince(w)
		return
	}
	var next any // null on the last page
	if end := start + len(items); end < total {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": items, "paging": map[string]any{"next": next}})
}

// listLinks pages through Link headers; /v4 sends one header with
// absolute URLs, /v5 one line per link with relative URLs.
func (c *CRM) listLinks(w http.ResponseWriter, r *http.Request) {
	p, size := intParam(r, "page", 1), intParam(r, "per_page", 10)
	items, total, ok := c.page(r, (p-1)*min(max(size, 1), MaxPageSize), size)
	if !ok {
		badSince(w)
		return
	}
	size = min(max(size, 1), MaxPageSize)
	last := max(1, (total+size-1)/size)
	at := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if strings.HasPrefix(r.URL.Path, "/v4/") {
		links := []string{fmt.Sprintf(`<%s%s>; rel="first"`, c.URL, at(1))}
		if p > 1 {
			links = append(links, fmt.Sprintf(`<%s%s>; rel="prev"`, c.URL, at(p-1)))
		}
		if p < last {
			links = append(links, fmt.Sprintf(`<%s%s>; title="next, please"; rel="next"`, c.URL, at(p+1)))
		}
		links = append(links, fmt.Sprintf(`<%s%s>; rel="last"`, c.URL, at(last)))
		w.Header().Set("Link", strings.Join(links, ", "))
	} else {
		w.Header().Add("Link", fmt.Sprintf("<%s>; rel=first", at(1)))
		if p < last {
			w.Header().Add("Link", fmt.Sprintf("<%s>; REL=Next", at(p+1)))
		}
	}
	writeJSON(w, http.StatusOK, items)
}

func (c *CRM) listIgnoringPage(w http.ResponseWriter, r *http.Request) {
	items, _, _ := c.page(r, 0, intParam(r, "per_page", 10))
	writeJSON(w, http.StatusOK, map[string]any{"data": items})
}

func (c *CRM) listSameCursor(w http.ResponseWriter, r *http.Request) {
	start := 0
	if r.URL.Query().Get("cursor") != "" {
		start = 1 // a different page each time, but always the same cursor
	}
	items, _, _ := c.page(r, start, 1)
	writeJSON(w, http.StatusOK, map[string]any{"results": items, "paging": map[string]any{"next": "c1"}})
}

// readFields reads a customer from a request body, plain or under "data".
func readFields(r *http.Request) (map[string]any, bool) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, false
	}
	if inner, ok := body["data"].(map[string]any); ok && len(body) == 1 {
		body = inner
	}
	return body, true
}

func (c *CRM) create(w http.ResponseWriter, r *http.Request) {
	fields, ok := readFields(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body is not a JSON object"})
		return
	}
	email, _ := fields["email"].(string)
	if email == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "email is required"})
		return
	}
	c.mu.Lock()
	for _, rec := range c.records {
		if rec["email"] == email {
			c.mu.Unlock()
			writeJSON(w, http.StatusConflict, map[string]any{"error": "email " + email + " is taken"})
			return
		}
	}
	delete(fields, "id") // the CRM chooses ids
	id := c.insert(fields)
	rec := maps.Clone(c.records[id])
	c.mu.Unlock()
	w.Header().Set("Location", fmt.Sprintf("/v1/customers/%d", id))
	writeJSON(w, http.StatusCreated, map[string]any{"data": rec})
}

func (c *CRM) get(w http.ResponseWriter, r *http.Request) {
	rec, ok := c.Record(r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": rec})
}

// write is PUT (replace) and PATCH (merge) of an existing customer.
func (c *CRM) write(w http.ResponseWriter, r *http.Request) {
	fields, ok := readFields(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body is not a JSON object"})
		return
	}
	id := parseID(r.PathValue("id"))
	c.mu.Lock()
	rec := c.records[id]
	if rec == nil {
		c.mu.Unlock()
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
		return
	}
	if r.Method == http.MethodPut {
		clear(rec)
		rec["active"] = true
	}
	for k, v := range fields {
		rec[k] = v
	}
	rec["id"] = id
	rec["updated_at"] = c.now.Format(time.RFC3339)
	out := maps.Clone(rec)
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (c *CRM) remove(w http.ResponseWriter, r *http.Request) {
	id := parseID(r.PathValue("id"))
	c.mu.Lock()
	_, ok := c.records[id]
	delete(c.records, id)
	c.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
