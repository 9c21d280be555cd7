package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// recordHandlers serve the hub's copy of each side: the records list of any
// connection, and the writes and change feed of hosted connections.
type recordHandlers struct {
	store Store
	now   func() time.Time
}

func recordOut(r *domain.Record) Record {
	fields := map[string]any(r.Fields)
	if fields == nil {
		fields = map[string]any{}
	}
	return Record{
		Id: r.ID, ExternalId: r.ExternalID, Fields: fields, Hash: r.Hash, Active: r.Active, Deleted: r.Deleted,
		DeletedAt: r.DeletedAt, SourceUpdatedAt: r.SourceUpdatedAt, FirstSeenAt: r.FirstSeenAt, LastSeenAt: r.LastSeenAt,
		Version: r.Version,
	}
}

func recordChangeOut(ch *domain.RecordChange) RecordChange {
	r := recordOut(&ch.Record)
	return RecordChange{
		Id: r.Id, ExternalId: r.ExternalId, Fields: r.Fields, Hash: r.Hash, Active: r.Active, Deleted: r.Deleted,
		DeletedAt: r.DeletedAt, SourceUpdatedAt: r.SourceUpdatedAt, FirstSeenAt: r.FirstSeenAt, LastSeenAt: r.LastSeenAt,
		Version: r.Version, Seq: ch.Seq, ChangedAt: ch.ChangedAt,
	}
}

// recordSet names the set of the request, in the caller's workspace.
func recordSet(c echo.Context, connectionID, object string) domain.RecordSet {
	return domain.RecordSet{WorkspaceID: principal(c).WorkspaceID, ConnectionID: connectionID, Object: object}
}

// hostedSet is recordSet for the routes only hosted connections have.
func (h *recordHandlers) hostedSet(c echo.Context, connectionID, object string) (domain.RecordSet, error) {
	set := recordSet(c, connectionID, object)
	conn, err := h.store.Connection(c.Request().Context(), set.WorkspaceID, connectionID)
	if err != nil {
		return set, err
	}
	return set, domain.RequireHosted(conn)
}

// ListRecords pages through the hub's copy of one side, in external-id order.
func (h *recordHandlers) ListRecords(c echo.Context, connectionID, object string, params ListRecordsParams) error {
	p, err := pageOf(params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	f := domain.RecordFilter{ChangedSince: params.ChangedSince, IncludeDeleted: params.IncludeDeleted != nil && *params.IncludeDeleted}
	recs, err := h.store.Records(c.Request().Context(), recordSet(c, connectionID, object), f, p)
	if err != nil {
		return err
	}
	out := RecordList{Data: make([]Record, len(recs))}
	for i := range recs {
		out.Data[i] = recordOut(&recs[i])
	}
	out.NextCursor = nextCursor(len(recs), p, func() string { return recs[len(recs)-1].ExternalID })
	return c.JSON(http.StatusOK, out)
}

// PutRecord creates or replaces one record of a hosted connection.
func (h *recordHandlers) PutRecord(c echo.Context, connectionID, object, externalID string, params PutRecordParams) error {
	set, err := h.hostedSet(c, connectionID, object)
	if err != nil {
		return err
	}
	ifVersion, err := headerVersion(params.IfMatch)
	if err != nil {
		return err
	}
	var req RecordPut
	if err := bind(c, &req); err != nil {
		return err
	}
	r := domain.Record{ExternalID: externalID, Fields: req.Fields, Active: req.Active == nil || *req.Active, SourceUpdatedAt: req.SourceUpdatedAt}
	stored, outcome, err := h.store.PutRecord(c.Request().Context(), set, r, ifVersion, domain.OriginSource, h.now())
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(stored.Version))
	return c.JSON(writeStatus(outcome), recordOut(stored))
}

// DeleteRecord tombstones one record of a hosted connection.
func (h *recordHandlers) DeleteRecord(c echo.Context, connectionID, object, externalID string, params DeleteRecordParams) error {
	set, err := h.hostedSet(c, connectionID, object)
	if err != nil {
		return err
	}
	ifVersion, err := headerVersion(params.IfMatch)
	if err != nil {
		return err
	}
	stored, _, err := h.store.DeleteRecord(c.Request().Context(), set, externalID, ifVersion, domain.OriginSource, h.now())
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(stored.Version))
	return noContent(c)
}

// ApplyRecordBatch applies up to 1000 upserts and deletes to a hosted
// connection, answering one result per item in request order.
func (h *recordHandlers) ApplyRecordBatch(c echo.Context, connectionID, object string, _ ApplyRecordBatchParams) error {
	set, err := h.hostedSet(c, connectionID, object)
	if err != nil {
		return err
	}
	var req RecordBatch
	if err := bind(c, &req); err != nil {
		return err
	}
	results := make([]RecordBatchResult, len(req.Items))
	writes := make([]domain.RecordWrite, 0, len(req.Items))
	index := make([]int, 0, len(req.Items)) // request position of each write sent to the store
	for i, it := range req.Items {
		results[i].ExternalId = it.ExternalId
		w := domain.RecordWrite{Op: domain.WriteOp(it.Op), Record: domain.Record{ExternalID: it.ExternalId}}
		if it.IfMatch != nil {
			v, ok := parseETag(*it.IfMatch)
			if !ok {
				batchFailure(&results[i], errBadETag("if_match"))
				continue
			}
			w.IfVersion = v
		}
		if w.Op == domain.WriteUpsert {
			w.Record.SourceUpdatedAt, w.Record.Active = it.SourceUpdatedAt, it.Active == nil || *it.Active
			if it.Fields != nil { // absent fields stay nil, which the store reports as missing
				w.Record.Fields = *it.Fields
			}
		}
		writes = append(writes, w)
		index = append(index, i)
	}
	done, err := h.store.ApplyRecordBatch(c.Request().Context(), set, writes, domain.OriginSource, h.now())
	if err != nil {
		return err
	}
	for j, res := range done {
		out := &results[index[j]]
		if res.Err != nil {
			batchFailure(out, res.Err)
			continue
		}
		status := writeStatus(res.Outcome)
		if domain.WriteOp(req.Items[index[j]].Op) == domain.WriteDelete {
			status = http.StatusNoContent // as DELETE answers, also for a record already deleted
		}
		etag, version, outcome := etagOf(res.Record.Version), res.Record.Version, RecordBatchResultOutcome(res.Outcome)
		out.Status, out.Etag, out.Version, out.Outcome = status, &etag, &version, &outcome
	}
	return c.JSON(http.StatusOK, RecordBatchResults{Results: results})
}

// batchFailure fills a result with the status and message the error would
// have answered on its own.
func batchFailure(out *RecordBatchResult, err error) {
	status, p := toProblem(err)
	out.Status, out.Error = status, &p.Detail
	if len(p.Errors) > 0 {
		out.Errors = &p.Errors
	}
}

// ListRecordChanges serves the change feed of a hosted connection: the
// records the hub last changed, in change order after the cursor.
func (h *recordHandlers) ListRecordChanges(c echo.Context, connectionID, object string, params ListRecordChangesParams) error {
	set, err := h.hostedSet(c, connectionID, object)
	if err != nil {
		return err
	}
	after, cursor := domain.ChangeCursor{}, changeCursor(domain.ChangeCursor{})
	if params.Cursor != nil && *params.Cursor != "" {
		if after, err = parseChangeCursor(*params.Cursor); err != nil {
			return err
		}
		cursor = *params.Cursor
	}
	limit := domain.Page{}.Normalized().Limit
	if params.Limit != nil {
		limit = domain.Page{Limit: *params.Limit}.Normalized().Limit
	}
	changes, err := h.store.Changes(c.Request().Context(), set, after, limit)
	if err != nil {
		return err
	}
	out := RecordChangeList{Data: make([]RecordChange, len(changes)), HasMore: len(changes) == limit}
	for i := range changes {
		out.Data[i] = recordChangeOut(&changes[i])
	}
	// The cursor is always set, also on an empty page, so a client can store
	// it and poll again later from where it stopped.
	if len(changes) > 0 {
		cursor = changeCursor(changes[len(changes)-1].Cursor())
	}
	out.NextCursor = cursor
	return c.JSON(http.StatusOK, out)
}

// changeCursor encodes a feed position as an opaque cursor.
func changeCursor(p domain.ChangeCursor) string {
	return encodeCursor(strconv.FormatInt(p.Seq, 10) + ":" + p.ID)
}

func parseChangeCursor(s string) (domain.ChangeCursor, error) {
	bad := domain.Invalid("invalid cursor", map[string]string{"query.cursor": "is not a cursor this feed gave out"})
	key, err := decodeCursor(s)
	if err != nil {
		return domain.ChangeCursor{}, bad
	}
	seqPart, id, ok := strings.Cut(key, ":")
	seq, err := strconv.ParseInt(seqPart, 10, 64)
	if !ok || err != nil || seq < 0 {
		return domain.ChangeCursor{}, bad
	}
	return domain.ChangeCursor{Seq: seq, ID: id}, nil
}

// writeStatus is the status a single request answers for an outcome.
func writeStatus(o domain.WriteOutcome) int {
	switch o {
	case domain.OutcomeCreated:
		return http.StatusCreated
	case domain.OutcomeDeleted:
		return http.StatusNoContent
	}
	return http.StatusOK
}

// etagOf renders a version as a strong ETag.
func etagOf(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseETag reads an If-Match value: one ETag this server gave out ("3"; the
// quotes may be left out) or * for any live record.
func parseETag(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return domain.IfExists, true
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && v > 0
}

func errBadETag(field string) error {
	return domain.Invalid("If-Match is not an ETag this server gave out", map[string]string{field: `must be one ETag like "3", or *`})
}

// headerVersion reads the If-Match header: 0 when it is absent.
func headerVersion(h *IfMatch) (int64, error) {
	if h == nil {
		return 0, nil
	}
	v, ok := parseETag(*h)
	if !ok {
		return 0, errBadETag("header.If-Match")
	}
	return v, nil
}
