package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/connector"
	"syncd/connector/outbound"
	"syncd/domain"
)

// The handlers in this file reach a connection's own system. Each call gets
// an outbound client of its own: the client's rate limit and redaction set
// belong to one connection.

// TestConnection tries a rest connection's credentials with its probe.
// A failed try is an answer, not an error: {ok: false, error}.
func (h *connectionHandlers) TestConnection(c echo.Context, id ConnectionID, _ TestConnectionParams) error {
	ctx := c.Request().Context()
	conn, err := h.store.Connection(ctx, principal(c).WorkspaceID, id)
	if err != nil {
		return err
	}
	if conn.Kind != domain.KindREST {
		// file and hosted connections reach no other system.
		return c.JSON(http.StatusOK, ConnectionTestResult{Ok: true})
	}
	remote, err := connector.Remote(conn, outbound.New(h.outbound))
	if err != nil {
		return err
	}
	start := time.Now()
	err = remote.Test(ctx)
	out := ConnectionTestResult{Ok: err == nil, LatencyMs: int(time.Since(start).Milliseconds())}
	if err != nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Code == domain.CodeInternal {
			return err // a bug, not an answer of the remote system
		}
		msg := de.Message // client-safe and redacted; the cause is not shown
		out.Error = &msg
	}
	return c.JSON(http.StatusOK, out)
}

// PullObject lists an object of a rest connection through its connector
// into the hub's copy: a full apply for scope all (missing records become
// tombstones), a partial one otherwise.
func (h *connectionHandlers) PullObject(c echo.Context, id ConnectionID, object ObjectName, _ PullObjectParams) error {
	var req PullRequest
	if err := bindOptional(c, &req); err != nil {
		return err
	}
	scope, err := pullScope(req.Scope)
	if err != nil {
		return err
	}
	ctx, ws := c.Request().Context(), principal(c).WorkspaceID
	conn, err := h.store.Connection(ctx, ws, id)
	if err != nil {
		return err
	}
	if conn.Kind != domain.KindREST {
		return domain.Errorf(domain.CodeConflict, "only rest connections can be pulled; %q is a %s connection, whose records %s",
			conn.Name, conn.Kind, map[domain.ConnectionKind]string{
				domain.KindFile:   "arrive as uploads",
				domain.KindHosted: "clients write through the API",
			}[conn.Kind])
	}
	if err := connector.HasObject(conn, object); err != nil {
		return err
	}
	remote, err := connector.Remote(conn, outbound.New(h.outbound))
	if err != nil {
		return err
	}

	start := time.Now()
	apply, err := h.store.StageRecords(ctx, domain.RecordSet{WorkspaceID: ws, ConnectionID: conn.ID, Object: object})
	if err != nil {
		return err
	}
	defer apply.Discard(ctx)
	if err := remote.List(ctx, object, scope, func(r domain.Record) error { return apply.Add(ctx, r) }); err != nil {
		return err
	}
	mode := domain.ApplyPartial
	if scope.Complete() {
		mode = domain.ApplyFull
	}
	stats, err := apply.Commit(ctx, domain.ApplyOptions{
		Mode: mode, MaxDeleteRatio: h.massDeleteRatio, ConfirmMassDelete: req.ConfirmMassDelete != nil && *req.ConfirmMassDelete,
		Source: "pull", Origin: domain.OriginSource, Now: h.now(),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, PullResult{
		Rows: stats.Rows, Inserted: stats.Inserted, Updated: stats.Updated, Unchanged: stats.Unchanged, Deleted: stats.Deleted,
		DurationMs: int(time.Since(start).Milliseconds()),
	})
}

// pullScope turns a request's scope into the domain's, checking that each
// type has the bounds it needs and no others. Errors: CodeInvalid.
func pullScope(s *Scope) (domain.Scope, error) {
	if s == nil {
		return domain.Scope{Type: domain.ScopeAll}, nil
	}
	out := domain.Scope{Type: domain.ScopeType(s.Type)}
	fields := map[string]string{}
	only := func(name string, set bool, typ string) {
		if set {
			fields["scope."+name] = "is only used with type " + typ
		}
	}
	switch out.Type {
	case domain.ScopeAll:
		only("from", s.From != nil, "range")
		only("to", s.To != nil, "range")
		only("since", s.Since != nil, "changed_since")
	case domain.ScopeRange:
		if s.From == nil && s.To == nil {
			fields["scope.from"] = "a range needs from, to or both"
		}
		if s.From != nil {
			out.From = *s.From
		}
		if s.To != nil {
			out.To = *s.To
		}
		only("since", s.Since != nil, "changed_since")
	case domain.ScopeChangedSince:
		if s.Since == nil {
			fields["scope.since"] = "is required for changed_since"
		} else {
			out.Since = s.Since.UTC()
		}
		only("from", s.From != nil, "range")
		only("to", s.To != nil, "range")
	default:
		fields["scope.type"] = "must be all, range or changed_since"
	}
	if len(fields) > 0 {
		return domain.Scope{}, domain.Invalid("the scope is incomplete or mixes types", fields)
	}
	return out, nil
}

// bindOptional decodes a JSON body into v when there is one; an empty body
// leaves v as it is.
func bindOptional(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if tooLarge(err) {
			return errBodyTooLarge
		}
		return domain.Wrap(domain.CodeMalformed, err, "the request body cannot be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	return bind(c, v)
}
