package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// actionHandlers serve the window actions on many items at once: one action
// on chosen or filtered items, and automatic pairing.
type actionHandlers struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
}

// maxBulkByFilter caps the items one filtered bulk action covers, so a
// request stays bounded; the response says when more matched.
const maxBulkByFilter = 100_000

// ActOnItems applies one action to items given by id or by a window filter,
// answering one result per item.
func (h *actionHandlers) ActOnItems(c echo.Context, syncID, object string, _ ActOnItemsParams) error {
	var body BulkActionRequest
	if err := bind(c, &body); err != nil {
		return err
	}
	if err := checkBulk(body); err != nil {
		return err
	}
	ctx, p := c.Request().Context(), principal(c)
	ids, truncated, err := h.selected(ctx, p.WorkspaceID, syncID, object, body)
	if err != nil {
		return err
	}
	req := domain.ActionRequest{Action: domain.Action(body.Action), Subject: p.Subject(), Now: h.now()}
	req.Resolve.Winner = domain.Side(orZero(body.Winner))
	results, err := h.store.Act(ctx, p.WorkspaceID, syncID, object, ids, req, 0)
	if err != nil {
		return err
	}
	out := BulkActionResults{
		Results:   make([]BulkActionResult, len(results)),
		Counts:    BulkActionCounts{ByStatus: map[string]int{}},
		Truncated: truncated,
	}
	var failure error // the first server-side failure, for the log: the answer is 200
	for i, r := range results {
		res := bulkResultOut(r)
		out.Results[i] = res
		out.Counts.ByStatus[strconv.Itoa(res.Status)]++
		if res.Status < 300 {
			out.Counts.Succeeded++
		} else {
			out.Counts.Failed++
		}
		if res.Status >= 500 && failure == nil {
			failure = r.Err
		}
	}
	if failure != nil {
		h.log.Error("bulk action partly failed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"action", body.Action, "failed", out.Counts.Failed, "error", failure)
	}
	return c.JSON(http.StatusOK, out)
}

// checkBulk checks what the schema cannot: ids or a filter, and a winner
// exactly for resolve.
func checkBulk(b BulkActionRequest) error {
	fields := map[string]string{}
	switch {
	case b.ItemIds != nil && b.Filter != nil:
		fields["item_ids"] = "give item_ids or filter, not both"
	case b.ItemIds == nil && b.Filter == nil:
		fields["item_ids"] = "give item_ids or a filter"
	}
	switch {
	case b.Action == BulkResolve && b.Winner == nil:
		fields["winner"] = "resolve needs a winner: left or right"
	case b.Action != BulkResolve && b.Winner != nil:
		fields["winner"] = "only resolve takes a winner"
	}
	if len(fields) > 0 {
		return domain.Invalid("the bulk action is invalid", fields)
	}
	return nil
}

// selected returns the ids the request names, or those its filter matches in
// id order, at most maxBulkByFilter of them, and whether more matched.
func (h *actionHandlers) selected(ctx context.Context, workspaceID, syncID, object string, b BulkActionRequest) ([]string, bool, error) {
	if b.ItemIds != nil {
		return *b.ItemIds, false, nil
	}
	fl := b.Filter
	f := filterOf(fl.Category, fl.Side, fl.Status, fl.Q)
	ids, err := h.store.ItemIDs(ctx, workspaceID, syncID, object, f, maxBulkByFilter+1)
	if err != nil || len(ids) <= maxBulkByFilter {
		return ids, false, err
	}
	return ids[:maxBulkByFilter], true, nil
}

// bulkResultOut is one item's result, with the status and message the
// single action would have answered.
func bulkResultOut(r domain.ActionResult) BulkActionResult {
	out := BulkActionResult{ItemId: r.ItemID, Status: http.StatusOK}
	if r.Err != nil {
		status, p := toProblem(r.Err)
		out.Status, out.Error = status, &p.Detail
		if len(p.Errors) > 0 {
			out.Errors = &p.Errors
		}
		return out
	}
	category, etag := ItemCategory(r.View.Item.Category), etagOf(r.View.Item.Version)
	out.Category, out.Etag = &category, &etag
	return out
}

// AutoPair pairs every unambiguous match-key pair of an object.
func (h *actionHandlers) AutoPair(c echo.Context, syncID, object string, _ AutoPairParams) error {
	p := principal(c)
	n, err := h.store.AutoPair(c.Request().Context(), p.WorkspaceID, syncID, object, p.Subject(), h.now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AutoPairResult{Paired: n})
}
