package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"syncd/domain"
)

// maxPages ends a listing that never ends, whatever the reason; at any
// realistic page size it is far beyond the largest real dataset.
const maxPages = 100_000

// List fetches every page of the object's list endpoint and yields the
// records within scope. Changed-since uses updated_since_param when
// configured and, where records carry updated_at_field, also filters
// client-side; range filters client-side by external id. A listing stops
// at an empty page, at the end of the cursor or Link chain, and refuses to
// loop: a repeated cursor or next link, or a page repeating the previous
// one, is an error rather than an endless run.
// Errors: CodeUnavailable, CodeInvalid when the answers do not fit the
// configuration, and whatever fn returns.
func (c *Connector) List(ctx context.Context, object string, scope domain.Scope, fn func(domain.Record) error) error {
	o, err := c.object(object)
	if err != nil {
		return err
	}
	keep, err := scopeFilter(scope)
	if err != nil {
		return err
	}
	fixed := url.Values{}
	if scope.Type == domain.ScopeChangedSince && o.UpdatedSinceParam != "" {
		fixed.Set(o.UpdatedSinceParam, formatSince(scope.Since, o.UpdatedSinceFormat))
	}
	l := &lister{c: c, name: object, o: o, seen: map[string]bool{}}
	next := l.firstURL(fixed)
	for {
		pg, err := l.fetch(ctx, next)
		if err != nil {
			return err
		}
		if len(pg.records) == 0 {
			return nil
		}
		if err := l.checkAdvances(pg); err != nil {
			return err
		}
		for _, rec := range pg.records {
			if !keep(rec) {
				continue
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		var more bool
		next, more, err = l.nextURL(pg, fixed)
		if err != nil || !more {
			return err
		}
	}
}

// scopeFilter is the client-side part of a scope.
func scopeFilter(s domain.Scope) (func(domain.Record) bool, error) {
	switch s.Type {
	case "", domain.ScopeAll:
		return func(domain.Record) bool { return true }, nil
	case domain.ScopeRange:
		r := newIDRange(s)
		return func(rec domain.Record) bool { return r.contains(rec.ExternalID) }, nil
	case domain.ScopeChangedSince:
		// Records without a readable updated-at are kept: yielding too much
		// costs a comparison, yielding too little loses a change.
		return func(rec domain.Record) bool {
			return rec.SourceUpdatedAt == nil || !rec.SourceUpdatedAt.Before(s.Since)
		}, nil
	}
	return nil, domain.Errorf(domain.CodeInvalid, "scope type %q is not supported", s.Type)
}

// lister walks one listing's pages.
type lister struct {
	c    *Connector
	name string
	o    ObjectConfig

	n        int             // pages fetched
	page     int             // page pagination: the page last asked for
	offset   int             // offset pagination: records received so far
	seen     map[string]bool // cursors and links followed
	lastKeys string          // the previous page's ids, to spot a repeat
}

// page is one decoded list response.
type page struct {
	url     *url.URL
	header  http.Header
	doc     any
	records []domain.Record
}

func (l *lister) firstURL(fixed url.Values) string {
	pg := l.o.Pagination
	q := cloneValues(fixed)
	if pg.Size > 0 && pg.SizeParam != "" {
		q.Set(pg.SizeParam, strconv.Itoa(pg.Size))
	}
	switch pg.Type {
	case PageNumber:
		l.page = *pg.Start
		q.Set(pg.PageParam, strconv.Itoa(l.page))
	case PageOffset:
		q.Set(pg.OffsetParam, "0")
	}
	return withQuery(l.c.endpoint(l.o.ListPath, ""), q)
}

// fetch gets and decodes one page.
func (l *lister) fetch(ctx context.Context, rawURL string) (*page, error) {
	l.n++
	if l.n > maxPages {
		return nil, domain.Errorf(domain.CodeInvalid, "listing %q stopped after %d pages; check the pagination settings", l.name, maxPages)
	}
	resp, err := l.c.call(ctx, http.MethodGet, rawURL, nil, nil)
	if err != nil {
		return nil, err
	}
	doc, err := decodeJSON(resp.Body)
	if err != nil {
		return nil, domain.Wrap(domain.CodeInvalid, err, fmt.Sprintf("page %d of %q is not JSON", l.n, l.name))
	}
	u, _ := url.Parse(rawURL)
	pg := &page{url: u, header: resp.Header, doc: doc}

	raw, found := lookup(doc, l.o.RecordsPath)
	switch items := raw.(type) {
	case []any:
		for i, item := range items {
			rec, err := toRecord(l.o, item)
			if err != nil {
				return nil, domain.Errorf(domain.CodeInvalid, "record %d on page %d of %q: %v", i+1, l.n, l.name, err)
			}
			pg.records = append(pg.records, rec)
		}
	case nil:
		// A missing array on the first page is most likely a wrong
		// records_path; treating it as "no records" would make every record
		// look deleted. Later pages may well omit an empty array.
		if !found && l.n == 1 {
			return nil, domain.Errorf(domain.CodeInvalid, "the list response of %q has nothing at records_path %q", l.name, l.o.RecordsPath)
		}
	default:
		return nil, domain.Errorf(domain.CodeInvalid, "records_path %q of %q does not lead to an array", l.o.RecordsPath, l.name)
	}
	return pg, nil
}

// checkAdvances refuses a page identical to the previous one: an API that
// ignores the page parameter would otherwise be listed forever.
func (l *lister) checkAdvances(pg *page) error {
	ids := make([]string, len(pg.records))
	for i, r := range pg.records {
		ids[i] = r.ExternalID
	}
	keys := strings.Join(ids, "\x00")
	if keys == l.lastKeys {
		return domain.Errorf(domain.CodeInvalid, "listing %q does not advance: page %d repeats page %d; check the pagination settings", l.name, l.n, l.n-1)
	}
	l.lastKeys = keys
	return nil
}

// nextURL works out the next page's URL; more is false at the end.
func (l *lister) nextURL(pg *page, fixed url.Values) (next string, more bool, err error) {
	p := l.o.Pagination
	q := cloneValues(fixed)
	if p.Size > 0 && p.SizeParam != "" {
		q.Set(p.SizeParam, strconv.Itoa(p.Size))
	}
	list := l.c.endpoint(l.o.ListPath, "")
	switch p.Type {
	case PageNumber:
		l.page++
		q.Set(p.PageParam, strconv.Itoa(l.page))
		return withQuery(list, q), true, nil
	case PageOffset:
		l.offset += len(pg.records)
		q.Set(p.OffsetParam, strconv.Itoa(l.offset))
		return withQuery(list, q), true, nil
	case PageCursor:
		v, _ := lookup(pg.doc, p.CursorPath)
		cursor := cursorString(v)
		if cursor == "" {
			return "", false, nil
		}
		if l.seen[cursor] {
			return "", false, domain.Errorf(domain.CodeInvalid, "listing %q loops: the API returned a cursor it returned before", l.name)
		}
		l.seen[cursor] = true
		// Some APIs put the whole next URL where the cursor goes.
		if strings.HasPrefix(cursor, "https://") || strings.HasPrefix(cursor, "http://") {
			return l.follow(pg.url, cursor)
		}
		q.Set(p.CursorParam, cursor)
		return withQuery(list, q), true, nil
	case PageLink:
		link := nextLink(pg.header)
		if link == "" {
			return "", false, nil
		}
		return l.follow(pg.url, link)
	}
	return "", false, nil
}

// follow resolves a next link and keeps it on the API's own host: the
// request carries the credentials.
func (l *lister) follow(from *url.URL, link string) (string, bool, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return "", false, domain.Errorf(domain.CodeInvalid, "listing %q: the next-page link is not a URL", l.name)
	}
	u := from.ResolveReference(ref)
	base := l.c.base
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) {
		return "", false, domain.Errorf(domain.CodeInvalid, "listing %q: the next-page link leads to another host (%s); the credentials are not sent there", l.name, u.Host)
	}
	next := u.String()
	if l.seen[next] {
		return "", false, domain.Errorf(domain.CodeInvalid, "listing %q loops: the API linked to a page it linked to before", l.name)
	}
	l.seen[next] = true
	return next, true, nil
}

func cursorString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case nil, bool:
		return ""
	}
	return idString(v)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// toRecord reads one list item. Fields are the item's top-level members,
// nested values kept whole.
func toRecord(o ObjectConfig, item any) (domain.Record, error) {
	obj, ok := item.(map[string]any)
	if !ok {
		return domain.Record{}, fmt.Errorf("not a JSON object")
	}
	idv, _ := lookup(obj, o.IDField)
	id := idString(idv)
	if id == "" {
		return domain.Record{}, fmt.Errorf("no id at id_field %q", o.IDField)
	}
	rec := domain.Record{ExternalID: id, Fields: make(domain.Fields, len(obj)), Active: true}
	for k, v := range obj {
		rec.Fields[k] = normalize(v)
	}
	if o.ActiveField != "" {
		if v, ok := lookup(obj, o.ActiveField); ok {
			rec.Active = flag(v, true)
		}
	}
	if o.DeletedField != "" {
		if v, ok := lookup(obj, o.DeletedField); ok {
			rec.Deleted = flag(v, false)
		}
	}
	if o.UpdatedAtField != "" {
		if v, ok := lookup(obj, o.UpdatedAtField); ok {
			if t, ok := parseTime(v); ok {
				rec.SourceUpdatedAt = &t
			}
		}
	}
	return rec, nil
}
