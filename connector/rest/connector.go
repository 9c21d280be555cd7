package rest

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"path"
	"strings"

	"syncd/connector/outbound"
	"syncd/domain"
)

// Connector reads and writes one rest connection's records. It implements
// domain.Connector and is safe for concurrent use.
type Connector struct {
	cfg     Config // with defaults filled in
	creds   Credentials
	client  *outbound.Client
	base    *url.URL
	objects map[string]ObjectConfig
	tokens  *tokenSource // nil unless OAuth2
}

var _ domain.Connector = (*Connector)(nil)

// New validates cfg and creds and builds a Connector that sends every
// request through client. The client should belong to this connection
// alone: New registers the credentials with it for redaction, and its rate
// limit is the connection's. A nil client gets outbound's defaults (public
// targets only). Errors: CodeInvalid, with Fields keyed by JSON path.
func New(cfg Config, creds Credentials, client *outbound.Client) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Auth = cfg.Auth.withDefaults()
	if err := creds.Validate(cfg.Auth); err != nil {
		return nil, err
	}
	if client == nil {
		client = outbound.New(outbound.Options{})
	}
	client.Redact(creds.secrets()...)

	base, _ := url.Parse(strings.TrimRight(cfg.BaseURL, "/")) // Validate parsed it
	c := &Connector{
		cfg:     cfg,
		creds:   creds,
		client:  client,
		base:    base,
		objects: make(map[string]ObjectConfig, len(cfg.Objects)),
	}
	for name, o := range cfg.Objects {
		c.objects[name] = o.withDefaults()
	}
	if cfg.Auth.Type == AuthOAuth2 {
		c.tokens = newTokenSource(client, cfg.Auth, creds)
	}
	return c, nil
}

func (c *Connector) object(name string) (ObjectConfig, error) {
	o, ok := c.objects[name]
	if !ok {
		return ObjectConfig{}, domain.Errorf(domain.CodeInvalid, "the rest connection has no object %q", name)
	}
	return o, nil
}

// Create sends fields to the create endpoint and returns the id the API
// gave the record: from create_id_path, else the id field of the response
// (also under body_path), else the Location header, else the hint.
// Errors: CodeConflict when the object has no create endpoint or the API
// refuses the record (400, 409, 422), CodeUnavailable, CodeInvalid when
// no id can be found.
func (c *Connector) Create(ctx context.Context, object, externalID string, fields domain.Fields) (string, error) {
	o, err := c.object(object)
	if err != nil {
		return "", err
	}
	if o.Create == nil {
		return "", domain.Errorf(domain.CodeConflict, "object %q of this connection has no create endpoint", object)
	}
	if strings.Contains(o.Create.Path, "{id}") && externalID == "" {
		return "", domain.Errorf(domain.CodeConflict, "object %q creates records under a chosen id, and none was given", object)
	}
	body, err := json.Marshal(nest(o.BodyPath, fields))
	if err != nil {
		return "", domain.Wrap(domain.CodeInvalid, err, "the record's fields cannot be sent as JSON")
	}
	resp, err := c.call(ctx, o.Create.Method, c.endpoint(o.Create.Path, externalID), nil, body)
	if err != nil {
		return "", classify(err, resp, map[int]domain.Code{400: domain.CodeConflict, 409: domain.CodeConflict, 422: domain.CodeConflict})
	}
	if id := createdID(o, resp); id != "" {
		return id, nil
	}
	if externalID != "" {
		return externalID, nil
	}
	return "", domain.Errorf(domain.CodeInvalid, "the create response of object %q has no id; set create_id_path", object)
}

// createdID finds the new record's id in a create response.
func createdID(o ObjectConfig, resp *outbound.Response) string {
	if doc, err := decodeJSON(resp.Body); err == nil {
		paths := []string{o.CreateIDPath}
		if o.CreateIDPath == "" {
			paths = []string{o.IDField, joinPath(o.BodyPath, o.IDField)}
		}
		for _, p := range paths {
			if v, ok := lookup(doc, p); ok && idString(v) != "" {
				return idString(v)
			}
		}
	}
	if o.CreateIDPath != "" {
		return ""
	}
	// 201 Created with an empty body and a Location header is common too.
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil && u.Path != "" {
			if id, err := url.PathUnescape(path.Base(u.Path)); err == nil && id != "/" && id != "." {
				return id
			}
		}
	}
	return ""
}

// Update sends fields to the update endpoint of the record.
// Errors: CodeNotFound when the API answers 404 or 410, CodeConflict when
// the object has no update endpoint, CodeUnavailable.
func (c *Connector) Update(ctx context.Context, object, externalID string, fields domain.Fields) error {
	o, err := c.object(object)
	if err != nil {
		return err
	}
	if o.Update == nil {
		return domain.Errorf(domain.CodeConflict, "object %q of this connection has no update endpoint", object)
	}
	body, err := json.Marshal(nest(o.BodyPath, fields))
	if err != nil {
		return domain.Wrap(domain.CodeInvalid, err, "the record's fields cannot be sent as JSON")
	}
	resp, err := c.call(ctx, o.Update.Method, c.endpoint(o.Update.Path, externalID), nil, body)
	return classify(err, resp, map[int]domain.Code{404: domain.CodeNotFound, 410: domain.CodeNotFound})
}

// Delete removes the record. A 404 or 410 answer means it is already gone,
// which is success. Errors: CodeConflict when the object has no delete
// endpoint, CodeUnavailable.
func (c *Connector) Delete(ctx context.Context, object, externalID string) error {
	o, err := c.object(object)
	if err != nil {
		return err
	}
	if o.Delete == nil {
		return domain.Errorf(domain.CodeConflict, "object %q of this connection has no delete endpoint", object)
	}
	resp, err := c.call(ctx, o.Delete.Method, c.endpoint(o.Delete.Path, externalID), nil, nil)
	if err != nil && resp != nil && (resp.Status == http.StatusNotFound || resp.Status == http.StatusGone) {
		return nil
	}
	return err
}

// Test sends the probe request, or without one fetches the first page of
// the first object (by name) and checks the records can be read.
// Errors: CodeUnavailable, CodeInvalid when the answer does not fit the
// configuration.
func (c *Connector) Test(ctx context.Context) error {
	if p := c.cfg.Probe; p != nil {
		method := strings.ToUpper(p.Method)
		if method == "" {
			method = http.MethodGet
		}
		_, err := c.call(ctx, method, c.endpoint(p.Path, ""), nil, nil)
		return err
	}
	name := sortedNames(c.objects)[0]
	o := c.objects[name]
	l := &lister{c: c, name: name, o: o}
	_, err := l.fetch(ctx, l.firstURL(nil))
	return err
}

// call sends one request with the connection's headers and credentials.
// With OAuth2, a 401 answer drops the token and the request is sent once
// more with a fresh one. resp is returned with a non-2xx error as well.
func (c *Connector) call(ctx context.Context, method, rawURL string, query url.Values, body []byte) (*outbound.Response, error) {
	for attempt := 0; ; attempt++ {
		req := outbound.Request{Method: method, URL: withQuery(rawURL, query), Header: http.Header{}, Body: body}
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range c.cfg.Headers {
			req.Header.Set(k, v)
		}
		tok, err := c.authorize(ctx, &req)
		if err != nil {
			return nil, err
		}
		resp, err := c.client.Do(ctx, req)
		if err != nil && resp != nil && resp.Status == http.StatusUnauthorized && c.tokens != nil && attempt == 0 {
			c.tokens.invalidate(tok)
			continue
		}
		return resp, err
	}
}

// endpoint joins a configured path to the base URL, with id in place of
// {id}.
func (c *Connector) endpoint(p, id string) string {
	p = strings.ReplaceAll(p, "{id}", url.PathEscape(id))
	return c.base.String() + "/" + strings.TrimLeft(p, "/")
}

// withQuery adds params to a URL that may already have a query string.
func withQuery(raw string, params url.Values) string {
	if len(params) == 0 {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw // outbound reports the bad URL
	}
	q := u.Query()
	maps.Copy(q, params)
	u.RawQuery = q.Encode()
	return u.String()
}

// classify re-codes an outbound error by the remote status, keeping its
// client-safe message.
func classify(err error, resp *outbound.Response, codes map[int]domain.Code) error {
	if err == nil || resp == nil {
		return err
	}
	code, ok := codes[resp.Status]
	if !ok {
		return err
	}
	return recoded(err, code, "")
}

// prefixed adds context to an error's message, keeping its code.
func prefixed(err error, prefix string) error {
	return recoded(err, domain.ErrorCode(err), prefix)
}

func recoded(err error, code domain.Code, prefix string) error {
	de, ok := err.(*domain.Error)
	if !ok {
		return domain.Wrap(code, err, prefix+"the remote call failed")
	}
	out := *de
	out.Code = code
	out.Message = prefix + de.Message
	return &out
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
