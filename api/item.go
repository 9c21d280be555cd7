package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// itemHandlers serve one window item: its detail, its suggested partners
// and the actions a person takes on it.
type itemHandlers struct {
	store Store
	now   func() time.Time
}

// itemDetailOut is an item with its base, the diff of its fields and the
// actions its category allows.
func itemDetailOut(v *domain.ItemView, diffs []domain.FieldDiff) ItemDetail {
	it := itemOut(v)
	out := ItemDetail{
		Id: it.Id, Category: it.Category, Status: it.Status, Error: it.Error, Side: it.Side, Disabled: it.Disabled,
		Conflicts: it.Conflicts, Left: it.Left, Right: it.Right, Version: it.Version, UpdatedAt: it.UpdatedAt,
		Diff: make([]FieldDiff, len(diffs)), AllowedActions: []ItemAction{},
	}
	if v.Item.Base != nil {
		base := map[string]any(v.Item.Base)
		out.Base = &base
	}
	for i, d := range diffs {
		out.Diff[i] = FieldDiff{
			Field: d.Field, RightField: d.RightField, Type: FieldType(d.Type), Left: d.Left, Right: d.Right,
			Base: d.Base, HasBase: d.HasBase, Outcome: FieldDiffOutcome(d.Outcome), Conflict: d.Conflict(),
		}
	}
	for _, a := range domain.AllowedActions(v.Item) {
		out.AllowedActions = append(out.AllowedActions, ItemAction(a))
	}
	return out
}

// answer writes an item's detail with its ETag. The diff is the pure
// reconcile of the item under its sync's current settings; nothing is stored.
func (h *itemHandlers) answer(c echo.Context, syncID, object string, v *domain.ItemView) error {
	s, objects, err := h.store.Sync(c.Request().Context(), principal(c).WorkspaceID, syncID)
	if err != nil {
		return err
	}
	o, err := findObject(objects, object)
	if err != nil {
		return err
	}
	rec := domain.Reconcile(domain.ReconcileInput{Sync: *s, Object: *o, Item: v.Item, Left: v.Left, Right: v.Right, Now: h.now()})
	c.Response().Header().Set("ETag", etagOf(v.Item.Version))
	return c.JSON(http.StatusOK, itemDetailOut(v, rec.Merge.Diffs))
}

// GetItem shows one item of the window.
func (h *itemHandlers) GetItem(c echo.Context, syncID, object, itemID string) error {
	v, err := h.store.Item(c.Request().Context(), principal(c).WorkspaceID, syncID, object, itemID)
	if err != nil {
		return err
	}
	return h.answer(c, syncID, object, v)
}

// ListItemSuggestions lists the candidate partners of an unpaired item with
// the match key each shares with it.
func (h *itemHandlers) ListItemSuggestions(c echo.Context, syncID, object, itemID string) error {
	ctx, ws := c.Request().Context(), principal(c).WorkspaceID
	found, err := h.store.Suggestions(ctx, ws, syncID, object, itemID)
	if err != nil {
		return err
	}
	_, objects, err := h.store.Sync(ctx, ws, syncID)
	if err != nil {
		return err
	}
	o, err := findObject(objects, object)
	if err != nil {
		return err
	}
	out := SuggestionList{Data: make([]Suggestion, 0, len(found))}
	for i := range found {
		s := &found[i]
		if s.Key < 0 || s.Key >= len(o.MatchKeys) {
			continue // the mapping changed since the keys were indexed
		}
		out.Data = append(out.Data, Suggestion{Item: itemOut(&s.View), Key: matchKeyOut(o.MatchKeys[s.Key])})
	}
	return c.JSON(http.StatusOK, out)
}

// act carries out one action on one item and answers the item as it is
// after it: for pair, the link, which keeps the partner's id.
func (h *itemHandlers) act(c echo.Context, syncID, object, itemID string, ifMatchHeader *string, req domain.ActionRequest) error {
	ifVersion, err := ifMatch(ifMatchHeader)
	if err != nil {
		return err
	}
	p := principal(c)
	req.Subject, req.Now = p.Subject(), h.now()
	results, err := h.store.Act(c.Request().Context(), p.WorkspaceID, syncID, object, []string{itemID}, req, ifVersion)
	if err != nil {
		return err
	}
	if results[0].Err != nil {
		return results[0].Err
	}
	return h.answer(c, syncID, object, results[0].View)
}

// PairItem pairs a new item with a chosen unpaired item on the other side.
func (h *itemHandlers) PairItem(c echo.Context, syncID, object, itemID string, params PairItemParams) error {
	var req PairRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionPair, PartnerItemID: req.PartnerItemId})
}

// UnpairItem splits a link into two unpaired items.
func (h *itemHandlers) UnpairItem(c echo.Context, syncID, object, itemID string, params UnpairItemParams) error {
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionUnpair})
}

// CreateCounterpart queues the creation of a new record's partner.
func (h *itemHandlers) CreateCounterpart(c echo.Context, syncID, object, itemID string, params CreateCounterpartParams) error {
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionCreateCounterpart})
}

// DisableItem stops syncing an item.
func (h *itemHandlers) DisableItem(c echo.Context, syncID, object, itemID string, params DisableItemParams) error {
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionDisable})
}

// EnableItem syncs a disabled item again.
func (h *itemHandlers) EnableItem(c echo.Context, syncID, object, itemID string, params EnableItemParams) error {
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionEnable})
}

// DeleteRemaining queues the delete of a deleted link's remaining record.
func (h *itemHandlers) DeleteRemaining(c echo.Context, syncID, object, itemID string, params DeleteRemainingParams) error {
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionDeleteRemaining})
}

// RestoreItem queues the re-creation of a deleted link's missing record.
func (h *itemHandlers) RestoreItem(c echo.Context, syncID, object, itemID string, params RestoreItemParams) error {
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionRestore})
}

// ActivateItem queues the activation of an inactive record.
func (h *itemHandlers) ActivateItem(c echo.Context, syncID, object, itemID string, params ActivateItemParams) error {
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionActivate})
}

// ResolveItem answers a conflict with a whole side or per-field choices.
func (h *itemHandlers) ResolveItem(c echo.Context, syncID, object, itemID string, params ResolveItemParams) error {
	res, err := resolveIn(c)
	if err != nil {
		return err
	}
	return h.act(c, syncID, object, itemID, params.IfMatch, domain.ActionRequest{Action: domain.ActionResolve, Resolve: res})
}

// resolveBody is ResolveRequest as read here: each field choice, a side or
// {"value": ...}, is decoded by resolveIn.
type resolveBody struct {
	Winner *Side                      `json:"winner"`
	Fields map[string]json.RawMessage `json:"fields"`
}

// resolveIn reads a resolve request. Custom values keep their numbers as
// written (json.Number), as record values do.
func resolveIn(c echo.Context) (domain.ResolveRequest, error) {
	var body resolveBody
	if err := bind(c, &body); err != nil {
		return domain.ResolveRequest{}, err
	}
	out := domain.ResolveRequest{Winner: domain.Side(orZero(body.Winner))}
	for name, raw := range body.Fields {
		var side string
		if json.Unmarshal(raw, &side) == nil {
			out.Fields = putChoice(out.Fields, name, domain.FieldChoice{Side: domain.Side(side)})
			continue
		}
		var custom struct {
			Value any `json:"value"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		dec.DisallowUnknownFields()
		if err := dec.Decode(&custom); err != nil {
			return out, domain.Invalid("the resolution is invalid", map[string]string{"fields." + name: `must be "left", "right" or {"value": ...}`})
		}
		out.Fields = putChoice(out.Fields, name, domain.FieldChoice{Value: custom.Value})
	}
	return out, nil
}

func putChoice(m map[string]domain.FieldChoice, name string, c domain.FieldChoice) map[string]domain.FieldChoice {
	if m == nil {
		m = map[string]domain.FieldChoice{}
	}
	m[name] = c
	return m
}
