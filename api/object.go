package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// objectHandlers serve the objects of a sync: which object on each side,
// the field mapping and the match keys.
type objectHandlers struct {
	store Store
}

// objectIn reads a wire object; what the client left out is filled in by
// domain's WithDefaults.
func objectIn(name string, p ObjectPut) domain.Object {
	o := domain.Object{
		Name: name, LeftObject: p.LeftObject, RightObject: p.RightObject,
		LeftIDField: orZero(p.LeftIdField), RightIDField: orZero(p.RightIdField), AutoPair: orZero(p.AutoPair),
	}
	for _, f := range p.Fields {
		o.Fields = append(o.Fields, domain.FieldMap{
			Left: f.Left, Right: f.Right, Type: domain.FieldType(f.Type), Direction: domain.Direction(orZero(f.Direction)),
		})
	}
	for _, k := range orZero(p.MatchKeys) {
		o.MatchKeys = append(o.MatchKeys, domain.MatchKey{Left: k.Left, Right: k.Right, Normalize: domain.Normalizer(orZero(k.Normalize))})
	}
	if a := p.ActiveField; a != nil {
		o.ActiveField = domain.FieldPair{Left: orZero(a.Left), Right: orZero(a.Right)}
	}
	return o.WithDefaults()
}

func objectOut(o domain.Object) SyncObject {
	out := SyncObject{
		Name: o.Name, LeftObject: o.LeftObject, RightObject: o.RightObject, LeftIdField: o.LeftIDField, RightIdField: o.RightIDField,
		Fields: make([]FieldMap, len(o.Fields)), MatchKeys: make([]MatchKey, len(o.MatchKeys)), AutoPair: o.AutoPair,
		ActiveField: ActiveField{Left: omitEmpty(o.ActiveField.Left), Right: omitEmpty(o.ActiveField.Right)},
	}
	for i, f := range o.Fields {
		d := FieldMapDirection(f.Direction)
		out.Fields[i] = FieldMap{Left: f.Left, Right: f.Right, Type: FieldType(f.Type), Direction: &d}
	}
	for i, k := range o.MatchKeys {
		out.MatchKeys[i] = matchKeyOut(k)
	}
	return out
}

func matchKeyOut(k domain.MatchKey) MatchKey {
	n := MatchKeyNormalize(k.Normalize)
	return MatchKey{Left: k.Left, Right: k.Right, Normalize: &n}
}

// findObject picks a sync's object by name. Errors: CodeNotFound.
func findObject(objects []domain.Object, name string) (*domain.Object, error) {
	for i := range objects {
		if objects[i].Name == name {
			return &objects[i], nil
		}
	}
	return nil, domain.Errorf(domain.CodeNotFound, "sync object not found")
}

// GetSyncObject shows one object of a sync.
func (h *objectHandlers) GetSyncObject(c echo.Context, syncID, object string) error {
	_, objects, err := h.store.Sync(c.Request().Context(), principal(c).WorkspaceID, syncID)
	if err != nil {
		return err
	}
	o, err := findObject(objects, object)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, objectOut(*o))
}

// PutSyncObject creates or replaces an object of a sync; the store has every
// item of a replaced object reconciled again under the new mapping.
func (h *objectHandlers) PutSyncObject(c echo.Context, syncID, object string) error {
	var req ObjectPut
	if err := bind(c, &req); err != nil {
		return err
	}
	o := objectIn(object, req)
	o.SyncID = syncID
	if err := o.Validate(); err != nil {
		return err
	}
	ctx, ws := c.Request().Context(), principal(c).WorkspaceID
	_, objects, err := h.store.Sync(ctx, ws, syncID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if _, err := findObject(objects, object); err != nil {
		status = http.StatusCreated
	}
	stored, err := h.store.PutObject(ctx, ws, o)
	if err != nil {
		return err
	}
	return c.JSON(status, objectOut(*stored))
}
