package api

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"syncd/connector"
	"syncd/connector/file"
	"syncd/domain"
)

// exportHandlers serve the desired state of a side as CSV.
type exportHandlers struct {
	store Store
}

// ExportRecords streams the hub's copy of an object — for a file connection,
// the state its own system should load — as CSV. It reads the records twice:
// once for the column names, once for the rows, so nothing is held whole.
func (h *exportHandlers) ExportRecords(c echo.Context, connectionID, object string) error {
	ctx := c.Request().Context()
	ws := principal(c).WorkspaceID
	conn, err := h.store.Connection(ctx, ws, connectionID)
	if err != nil {
		return err
	}
	if err := connector.HasObject(conn, object); err != nil {
		return err
	}
	var cfg file.ObjectConfig
	if conn.Kind == domain.KindFile {
		var fc file.Config
		if err := json.Unmarshal(conn.Config, &fc); err == nil {
			cfg = fc.Objects[object]
		}
		if cfg.Delimiter == "" {
			// Write back in the delimiter the side's own files use.
			if cfg.Delimiter, err = h.store.LastDelimiter(ctx, ws, connectionID, object); err != nil {
				return err
			}
		}
	}
	set := domain.RecordSet{WorkspaceID: ws, ConnectionID: connectionID, Object: object}
	seen := map[string]bool{}
	var names []string
	err = h.each(c, set, func(r domain.Record) error {
		for k := range r.Fields {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+object+`.csv"`)
	res.WriteHeader(http.StatusOK)
	e, err := file.NewExporter(res, cfg, names)
	if err != nil {
		return nil // the client went away; the status is sent
	}
	if err := h.each(c, set, e.Write); err != nil {
		return nil
	}
	return e.Close()
}

// each visits every live record of the set in external-id order, a page at a time.
func (h *exportHandlers) each(c echo.Context, set domain.RecordSet, fn func(domain.Record) error) error {
	p := domain.Page{Limit: domain.MaxPageLimit}
	for {
		recs, err := h.store.Records(c.Request().Context(), set, domain.RecordFilter{}, p)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(recs) < p.Limit {
			return nil
		}
		p.After = recs[len(recs)-1].ExternalID
	}
}
