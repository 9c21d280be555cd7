// Package rest is the generic REST connector: it reads and writes records
// of an HTTP/JSON API described declaratively by a Config (list path,
// records path, id field, pagination, updated-since parameter, write
// paths), with stored Credentials. Every call goes through an
// outbound.Client, which guards, retries, rate-limits and redacts.
package rest

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"syncd/domain"
)

// Config is a rest connection's configuration, exactly as clients send it
// in the connection's "config" member. Credentials are kept apart.
type Config struct {
	// BaseURL is the API's root, http or https; paths are joined to it.
	BaseURL string     `json:"base_url"`
	Auth    AuthConfig `json:"auth"`
	// Headers are sent with every request (an API version, Accept).
	Headers map[string]string `json:"headers,omitempty"`
	// Probe is the request Test sends; without it Test lists the first page
	// of the first object (by name).
	Probe   *Endpoint               `json:"probe,omitempty"`
	Objects map[string]ObjectConfig `json:"objects"`
}

// The authentication types of AuthConfig.Type.
const (
	AuthNone        = "none"
	AuthAPIKey      = "api_key"
	AuthBearer      = "bearer"
	AuthBasic       = "basic"
	AuthOAuth2      = "oauth2_client_credentials"
	AuthInHeader    = "header"
	AuthInQuery     = "query"
	ClientAuthBasic = "basic"
	ClientAuthBody  = "body"
)

// AuthConfig says how requests carry the credentials.
type AuthConfig struct {
	// Type is none (default), api_key, bearer, basic or
	// oauth2_client_credentials.
	Type string `json:"type,omitempty"`
	// In and Name place an api_key: a header (default, "X-API-Key") or a
	// query parameter (default "api_key").
	In   string `json:"in,omitempty"`
	Name string `json:"name,omitempty"`
	// ClientAuth is how an OAuth2 client authenticates at the token URL:
	// basic (default, RFC 6749 section 2.3.1) or body (client_id and
	// client_secret as form fields), for servers that accept only that.
	ClientAuth string `json:"client_auth,omitempty"`
}

// Endpoint is a method and a path below BaseURL. Write paths contain
// "{id}" where the record's external id goes.
type Endpoint struct {
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
}

// ObjectConfig describes one kind of record in the API.
type ObjectConfig struct {
	// ListPath is the GET path that lists the records (may carry a fixed
	// query string).
	ListPath string `json:"list_path"`
	// RecordsPath is the dot path of the record array in the list
	// response ("data", "result.items"); "" means the body is the array.
	RecordsPath string `json:"records_path,omitempty"`
	// IDField is the dot path of the record's id (default "id").
	IDField string `json:"id_field,omitempty"`
	// UpdatedAtField, ActiveField and DeletedField are optional dot paths.
	UpdatedAtField string     `json:"updated_at_field,omitempty"`
	ActiveField    string     `json:"active_field,omitempty"`
	DeletedField   string     `json:"deleted_field,omitempty"`
	Pagination     Pagination `json:"pagination"`
	// UpdatedSinceParam is the query parameter that asks for records changed
	// since a time, in UpdatedSinceFormat: rfc3339 (default), unix,
	// unix_ms, date (2006-01-02) or a Go time layout.
	UpdatedSinceParam  string `json:"updated_since_param,omitempty"`
	UpdatedSinceFormat string `json:"updated_since_format,omitempty"`
	// Create, Update and Delete enable writes; an absent one makes that
	// write fail. An endpoint's empty method or path takes the default:
	// POST list_path, PATCH list_path/{id}, DELETE list_path/{id}, so an
	// empty endpoint ({}) enables the write the usual way. A create path
	// with {id} sends the hinted id.
	Create *Endpoint `json:"create,omitempty"`
	Update *Endpoint `json:"update,omitempty"`
	Delete *Endpoint `json:"delete,omitempty"`
	// CreateIDPath is the dot path of the new id in the create response.
	// Without it the id field is looked up in the response (and under
	// BodyPath), then the Location header, then the hint.
	CreateIDPath string `json:"create_id_path,omitempty"`
	// BodyPath, when set, wraps written fields under that dot path
	// ("data" sends {"data": {...fields}}).
	BodyPath string `json:"body_path,omitempty"`
}

// The pagination types of Pagination.Type.
const (
	PageNone   = "none"
	PageNumber = "page"
	PageOffset = "offset"
	PageCursor = "cursor"
	PageLink   = "link_header"
)

// Pagination says how the list endpoint pages. Listing always stops at an
// empty page; it never stops at a short one, because many APIs quietly cap
// the page size and stopping early would make records look deleted.
type Pagination struct {
	// Type is none (default), page, offset, cursor or link_header.
	Type string `json:"type,omitempty"`
	// PageParam (default "page") counts from Start (default 1).
	PageParam string `json:"page_param,omitempty"`
	Start     *int   `json:"start,omitempty"`
	// SizeParam and Size ask for a page size; SizeParam defaults to "limit"
	// for offset and cursor paging. Without Size no size is sent.
	SizeParam string `json:"size_param,omitempty"`
	Size      int    `json:"size,omitempty"`
	// OffsetParam (default "offset") advances by the records received.
	OffsetParam string `json:"offset_param,omitempty"`
	// CursorParam (default "cursor") sends the value found at CursorPath in
	// the previous response; an absolute URL there is followed as is.
	CursorParam string `json:"cursor_param,omitempty"`
	CursorPath  string `json:"cursor_path,omitempty"`
}

// Validate checks the configuration without contacting the API. It returns
// a domain.Invalid error whose Fields are keyed by JSON path, such as
// "objects.customers.pagination.type".
func (c Config) Validate() error {
	v := problems{}
	v.checkBaseURL(c.BaseURL)
	v.checkAuth(c.Auth)
	for name, value := range c.Headers {
		if name == "" || strings.ContainsAny(name+value, "\r\n") || strings.ContainsAny(name, " :") {
			v.add("headers."+name, "must be a valid header name and a one-line value")
		}
	}
	if c.Probe != nil {
		v.checkEndpoint("probe", *c.Probe, true)
	}
	if len(c.Objects) == 0 {
		v.add("objects", "at least one object is required")
	}
	for _, name := range sortedNames(c.Objects) {
		v.checkObject("objects."+name, name, c.Objects[name])
	}
	if len(v) > 0 {
		return domain.Invalid("the rest connection's config is invalid", v)
	}
	return nil
}

// problems collects field path → message.
type problems map[string]string

func (p problems) add(path, msg string) {
	if _, ok := p[path]; !ok {
		p[path] = msg
	}
}

func (p problems) checkBaseURL(raw string) {
	if raw == "" {
		p.add("base_url", "is required")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.add("base_url", "is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		p.add("base_url", "must start with http:// or https://")
	case u.Host == "":
		p.add("base_url", "has no host")
	case u.User != nil:
		p.add("base_url", "must not contain a user name or password; use credentials")
	case u.RawQuery != "" || u.Fragment != "":
		p.add("base_url", "must not have a query or fragment; put parameters in list_path")
	}
}

func (p problems) checkAuth(a AuthConfig) {
	switch a.Type {
	case "", AuthNone, AuthBearer, AuthBasic:
	case AuthAPIKey:
		if a.In != "" && a.In != AuthInHeader && a.In != AuthInQuery {
			p.add("auth.in", "must be header or query")
		}
	case AuthOAuth2:
		if a.ClientAuth != "" && a.ClientAuth != ClientAuthBasic && a.ClientAuth != ClientAuthBody {
			p.add("auth.client_auth", "must be basic or body")
		}
	default:
		p.add("auth.type", "must be none, api_key, bearer, basic or oauth2_client_credentials")
	}
}

func (p problems) checkObject(at, name string, o ObjectConfig) {
	if strings.TrimSpace(name) == "" {
		p.add(at, "object names must not be empty")
	}
	if o.ListPath == "" {
		p.add(at+".list_path", "is required")
	} else {
		p.checkPath(at+".list_path", o.ListPath)
	}
	pg := o.Pagination
	switch pg.Type {
	case "", PageNone, PageNumber, PageOffset, PageLink:
	case PageCursor:
		if pg.CursorPath == "" {
			p.add(at+".pagination.cursor_path", "is required for cursor pagination")
		}
	default:
		p.add(at+".pagination.type", "must be none, page, offset, cursor or link_header")
	}
	if pg.Size < 0 {
		p.add(at+".pagination.size", "must not be negative")
	}
	if pg.Size > 0 && pg.SizeParam == "" && (pg.Type == PageNumber || pg.Type == PageLink) {
		p.add(at+".pagination.size_param", "is required when size is set")
	}
	if o.UpdatedSinceFormat != "" && o.UpdatedSinceParam == "" {
		p.add(at+".updated_since_param", "is required when updated_since_format is set")
	}
	if !validSinceFormat(o.UpdatedSinceFormat) {
		p.add(at+".updated_since_format", "must be rfc3339, unix, unix_ms, date or a Go time layout")
	}
	if o.Create != nil {
		p.checkEndpoint(at+".create", *o.Create, false)
	}
	for _, w := range []struct {
		key string
		e   *Endpoint
	}{{"update", o.Update}, {"delete", o.Delete}} {
		if w.e == nil {
			continue
		}
		p.checkEndpoint(at+"."+w.key, *w.e, false)
		if w.e.Path != "" && !strings.Contains(w.e.Path, "{id}") {
			p.add(at+"."+w.key+".path", "must contain {id}")
		}
	}
}

func (p problems) checkEndpoint(at string, e Endpoint, pathRequired bool) {
	switch strings.ToUpper(e.Method) {
	case "", http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		p.add(at+".method", "must be GET, HEAD, POST, PUT, PATCH or DELETE")
	}
	if e.Path == "" && pathRequired {
		p.add(at+".path", "is required")
	}
	if e.Path != "" {
		p.checkPath(at+".path", e.Path)
	}
}

// checkPath keeps paths below base_url: an absolute URL here would send the
// credentials to another host.
func (p problems) checkPath(at, path string) {
	if strings.Contains(path, "://") || strings.HasPrefix(path, "//") {
		p.add(at, "must be a path below base_url, not a URL")
	}
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// withDefaults fills in the documented defaults, so the rest of the package
// never checks for empty settings.
func (o ObjectConfig) withDefaults() ObjectConfig {
	if o.IDField == "" {
		o.IDField = "id"
	}
	pg := &o.Pagination
	if pg.Type == "" {
		pg.Type = PageNone
	}
	if pg.PageParam == "" {
		pg.PageParam = "page"
	}
	if pg.Start == nil {
		one := 1
		pg.Start = &one
	}
	if pg.OffsetParam == "" {
		pg.OffsetParam = "offset"
	}
	if pg.CursorParam == "" {
		pg.CursorParam = "cursor"
	}
	if pg.SizeParam == "" && (pg.Type == PageOffset || pg.Type == PageCursor) {
		pg.SizeParam = "limit"
	}
	if o.UpdatedSinceFormat == "" {
		o.UpdatedSinceFormat = "rfc3339"
	}
	base := strings.TrimRight(o.ListPath, "/")
	if q := strings.Index(base, "?"); q >= 0 {
		base = strings.TrimRight(base[:q], "/")
	}
	o.Create = endpointDefaults(o.Create, http.MethodPost, o.ListPath)
	o.Update = endpointDefaults(o.Update, http.MethodPatch, base+"/{id}")
	o.Delete = endpointDefaults(o.Delete, http.MethodDelete, base+"/{id}")
	return o
}

func endpointDefaults(e *Endpoint, method, path string) *Endpoint {
	if e == nil {
		return nil
	}
	out := *e
	out.Method = strings.ToUpper(out.Method)
	if out.Method == "" {
		out.Method = method
	}
	if out.Path == "" {
		out.Path = path
	}
	return &out
}

func (a AuthConfig) withDefaults() AuthConfig {
	if a.Type == "" {
		a.Type = AuthNone
	}
	if a.Type == AuthAPIKey {
		if a.In == "" {
			a.In = AuthInHeader
		}
		if a.Name == "" && a.In == AuthInHeader {
			a.Name = "X-API-Key"
		}
		if a.Name == "" {
			a.Name = "api_key"
		}
	}
	if a.Type == AuthOAuth2 && a.ClientAuth == "" {
		a.ClientAuth = ClientAuthBasic
	}
	return a
}
