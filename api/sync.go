package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// syncHandlers serve syncs: two connections paired, with the settings that
// govern how their records are reconciled.
type syncHandlers struct {
	store Store
	now   func() time.Time
}

func syncOut(s *domain.Sync) Sync {
	return Sync{
		Id: s.ID, Name: s.Name, LeftConnectionId: s.LeftConnectionID, RightConnectionId: s.RightConnectionID,
		ConflictPolicy: conflictPolicyOut(s.ConflictPolicy), DeletePolicy: DeletePolicy(s.DeletePolicy),
		Schedule: scheduleOut(s.Schedule), OnError: OnError(s.OnError),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Version: s.Version,
	}
}

// syncWithObjects is a single sync's answer: the sync and all its objects.
func syncWithObjects(s *domain.Sync, objects []domain.Object) Sync {
	out := syncOut(s)
	list := make([]SyncObject, len(objects))
	for i, o := range objects {
		list[i] = objectOut(o)
	}
	out.Objects = &list
	return out
}

func conflictPolicyOut(p domain.ConflictPolicy) ConflictPolicy {
	out := ConflictPolicy{Mode: ConflictPolicyMode(p.Mode)}
	if p.Winner != "" {
		w := ConflictPolicyWinner(p.Winner)
		out.Winner = &w
	}
	return out
}

func conflictPolicyIn(p ConflictPolicy) domain.ConflictPolicy {
	return domain.ConflictPolicy{Mode: domain.ConflictMode(p.Mode), Winner: domain.Winner(orZero(p.Winner))}
}

func scheduleOut(s domain.Schedule) Schedule {
	return Schedule{Every: omitEmpty(s.Every), Cron: omitEmpty(s.Cron), Timezone: omitEmpty(s.Timezone), Enabled: &s.Enabled}
}

func scheduleIn(s Schedule) domain.Schedule {
	return domain.Schedule{Every: orZero(s.Every), Cron: orZero(s.Cron), Timezone: orZero(s.Timezone), Enabled: orZero(s.Enabled)}
}

// orZero reads an optional wire value, the zero value when absent.
func orZero[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// omitEmpty is the wire form of a value that is left out when empty.
func omitEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ListSyncs lists the workspace's syncs in id order, without their objects.
func (h *syncHandlers) ListSyncs(c echo.Context, params ListSyncsParams) error {
	p, err := pageOf(params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	syncs, err := h.store.Syncs(c.Request().Context(), principal(c).WorkspaceID, p)
	if err != nil {
		return err
	}
	out := SyncList{Data: make([]Sync, len(syncs))}
	for i := range syncs {
		out.Data[i] = syncOut(&syncs[i])
	}
	out.NextCursor = nextCursor(len(syncs), p, func() string { return syncs[len(syncs)-1].ID })
	return c.JSON(http.StatusOK, out)
}

// CreateSync pairs two connections of the workspace, with the objects given.
func (h *syncHandlers) CreateSync(c echo.Context, _ CreateSyncParams) error {
	var req SyncCreate
	if err := bind(c, &req); err != nil {
		return err
	}
	s := domain.Sync{
		WorkspaceID: principal(c).WorkspaceID, Name: req.Name,
		LeftConnectionID: req.LeftConnectionId, RightConnectionID: req.RightConnectionId,
		DeletePolicy: domain.DeletePolicy(orZero(req.DeletePolicy)), OnError: domain.OnError(orZero(req.OnError)),
	}
	if req.ConflictPolicy != nil {
		s.ConflictPolicy = conflictPolicyIn(*req.ConflictPolicy)
	}
	if req.Schedule != nil {
		s.Schedule = scheduleIn(*req.Schedule)
	}
	s = s.WithDefaults()
	objects := []domain.Object{}
	for _, o := range orZero(req.Objects) {
		objects = append(objects, objectIn(o.Name, ObjectPut{
			LeftObject: o.LeftObject, RightObject: o.RightObject, LeftIdField: o.LeftIdField, RightIdField: o.RightIdField,
			Fields: o.Fields, MatchKeys: o.MatchKeys, AutoPair: o.AutoPair, ActiveField: o.ActiveField,
		}))
	}
	if err := s.Validate(objects...); err != nil {
		return err
	}
	if err := h.store.CreateSync(c.Request().Context(), &s, objects); err != nil {
		return err
	}
	for i := range objects {
		objects[i].SyncID = s.ID
	}
	c.Response().Header().Set("ETag", etagOf(s.Version))
	return c.JSON(http.StatusCreated, syncWithObjects(&s, objects))
}

// GetSync shows one sync with its objects.
func (h *syncHandlers) GetSync(c echo.Context, syncID string) error {
	s, objects, err := h.store.Sync(c.Request().Context(), principal(c).WorkspaceID, syncID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(s.Version))
	return c.JSON(http.StatusOK, syncWithObjects(s, objects))
}

// UpdateSync changes a sync's settings; its connections stay.
func (h *syncHandlers) UpdateSync(c echo.Context, syncID string, params UpdateSyncParams) error {
	ifVersion, err := ifMatch(params.IfMatch)
	if err != nil {
		return err
	}
	var req SyncPatch
	if err := bind(c, &req); err != nil {
		return err
	}
	patch := domain.SyncPatch{Name: req.Name}
	if req.ConflictPolicy != nil {
		p := conflictPolicyIn(*req.ConflictPolicy)
		patch.ConflictPolicy = &p
	}
	if req.DeletePolicy != nil {
		p := domain.DeletePolicy(*req.DeletePolicy)
		patch.DeletePolicy = &p
	}
	if req.OnError != nil {
		o := domain.OnError(*req.OnError)
		patch.OnError = &o
	}
	if req.Schedule != nil {
		s := scheduleIn(*req.Schedule)
		patch.Schedule = &s
	}
	ctx, ws := c.Request().Context(), principal(c).WorkspaceID
	if _, err := h.store.UpdateSync(ctx, ws, syncID, patch, ifVersion, h.now()); err != nil {
		return err
	}
	s, objects, err := h.store.Sync(ctx, ws, syncID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(s.Version))
	return c.JSON(http.StatusOK, syncWithObjects(s, objects))
}

// DeleteSync removes a sync with its objects and window; the connections stay.
func (h *syncHandlers) DeleteSync(c echo.Context, syncID string) error {
	if err := h.store.DeleteSync(c.Request().Context(), principal(c).WorkspaceID, syncID); err != nil {
		return err
	}
	return noContent(c)
}

// ifMatch reads an If-Match header of a sync or item write: 0 when absent,
// and also for *, since the target must exist anyway.
func ifMatch(h *string) (int64, error) {
	v, err := headerVersion(h)
	if v == domain.IfExists {
		v = 0
	}
	return v, err
}
