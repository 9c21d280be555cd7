package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

type itemRow struct {
	ID            string `gorm:"primaryKey"`
	WorkspaceID   string
	SyncID        string
	Object        string
	LeftRecordID  *string
	RightRecordID *string
	Side          string
	Base          *string
	Resolutions   string
	Disabled      bool
	NoAutoPair    bool
	Category      string
	Shown         bool
	Status        string
	Error         string
	Conflicts     string
	Search        string
	Version       int64
	UpdatedAt     time.Time
}

func (itemRow) TableName() string { return "items" }

// resolution is the stored form of domain.Resolution.
type resolution struct {
	Value any `json:"value"`
	Left  any `json:"left"`
	Right any `json:"right"`
}

func orEmpty(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r itemRow) domain() (domain.Item, error) {
	it := domain.Item{
		ID: r.ID, WorkspaceID: r.WorkspaceID, SyncID: r.SyncID, Object: r.Object,
		LeftRecordID: orEmpty(r.LeftRecordID), RightRecordID: orEmpty(r.RightRecordID), Side: domain.Side(r.Side),
		Disabled: r.Disabled, NoAutoPair: r.NoAutoPair, Category: domain.Category(r.Category),
		Status: domain.ItemStatus(r.Status), Error: r.Error, Version: r.Version, UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.Base != nil {
		if err := decodeFields(*r.Base, &it.Base); err != nil {
			return it, err
		}
	}
	var res map[string]resolution
	if err := decodeJSON(r.Resolutions, &res); err != nil {
		return it, err
	}
	for k, v := range res {
		if it.Resolutions == nil {
			it.Resolutions = map[string]domain.Resolution{}
		}
		it.Resolutions[k] = domain.Resolution{Value: v.Value, Left: v.Left, Right: v.Right}
	}
	if err := decodeJSON(r.Conflicts, &it.Conflicts); err != nil {
		return it, err
	}
	return it, nil
}

func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return domain.Wrap(domain.CodeInternal, err, "stored item is unreadable")
	}
	return nil
}

// itemToRow is the stored form of an item; search is its window search text.
func itemToRow(it domain.Item, shown bool, search string) (itemRow, error) {
	r := itemRow{
		ID: it.ID, WorkspaceID: it.WorkspaceID, SyncID: it.SyncID, Object: it.Object,
		LeftRecordID: orNil(it.LeftRecordID), RightRecordID: orNil(it.RightRecordID), Side: string(it.Side),
		Disabled: it.Disabled, NoAutoPair: it.NoAutoPair, Category: string(it.Category), Shown: shown,
		Status: string(it.Status), Error: it.Error, Search: search, Version: it.Version, UpdatedAt: it.UpdatedAt,
	}
	if r.Status == "" {
		r.Status = string(domain.StatusOK)
	}
	if it.Base != nil {
		b, err := encodeFields(it.Base)
		if err != nil {
			return r, err
		}
		r.Base = &b
	}
	res := map[string]resolution{}
	for k, v := range it.Resolutions {
		res[k] = resolution{v.Value, v.Left, v.Right}
	}
	rb, err := json.Marshal(res)
	if err != nil {
		return r, domain.Wrap(domain.CodeInvalid, err, "resolution values must be JSON values")
	}
	cb, _ := json.Marshal(it.Conflicts)
	if it.Conflicts == nil {
		cb = []byte("[]")
	}
	r.Resolutions, r.Conflicts = string(rb), string(cb)
	return r, nil
}

// Items lists a window page: shown items in id order after the cursor, with
// their records, filtered by category, side, status and search text.
func (s *Store) Items(ctx context.Context, workspaceID, syncID, object string, f domain.ItemFilter, p domain.Page) ([]domain.ItemView, error) {
	db := s.db.WithContext(ctx)
	if err := objectExists(db, workspaceID, syncID, object); err != nil {
		return nil, err
	}
	p = p.Normalized()
	q := db.Model(&itemRow{}).Where("sync_id = ? AND object = ? AND shown = ?", syncID, object, true)
	if f.Category != "" {
		q = q.Where("category = ?", string(f.Category))
	}
	if f.Side != "" {
		q = q.Where("side = ?", string(f.Side))
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.Query != "" {
		q = q.Where("search LIKE ? ESCAPE '\\'", "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	if p.After != "" {
		q = q.Where("id > ?", p.After)
	}
	var rows []itemRow
	if err := q.Order("id").Limit(p.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	return views(db, workspaceID, rows)
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// views loads the records of items in one query.
func views(db *gorm.DB, workspaceID string, rows []itemRow) ([]domain.ItemView, error) {
	var ids []string
	for _, r := range rows {
		for _, id := range []*string{r.LeftRecordID, r.RightRecordID} {
			if id != nil {
				ids = append(ids, *id)
			}
		}
	}
	recs, err := recordsByID(db, workspaceID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]domain.ItemView, len(rows))
	for i, r := range rows {
		it, err := r.domain()
		if err != nil {
			return nil, err
		}
		out[i] = domain.ItemView{Item: it, Left: recs[it.LeftRecordID], Right: recs[it.RightRecordID]}
	}
	return out, nil
}

// recordsByID loads records by the hub's ids.
func recordsByID(db *gorm.DB, workspaceID string, ids []string) (map[string]*domain.Record, error) {
	out := map[string]*domain.Record{}
	for start := 0; start < len(ids); start += 900 {
		var rows []recordRow
		chunk := ids[start:min(start+900, len(ids))]
		if err := db.Where("workspace_id = ? AND id IN ?", workspaceID, chunk).Find(&rows).Error; err != nil {
			return nil, translate(err)
		}
		for _, r := range rows {
			rec, err := r.domain(nil)
			if err != nil {
				return nil, err
			}
			out[r.ID] = &rec
		}
	}
	return out, nil
}

// Item finds one shown item of an object with its records.
func (s *Store) Item(ctx context.Context, workspaceID, syncID, object, id string) (*domain.ItemView, error) {
	return item(s.db.WithContext(ctx), workspaceID, syncID, object, id)
}

func item(db *gorm.DB, workspaceID, syncID, object, id string) (*domain.ItemView, error) {
	var r itemRow
	err := db.Take(&r, "workspace_id = ? AND sync_id = ? AND object = ? AND id = ? AND shown = ?", workspaceID, syncID, object, id, true).Error
	if err != nil {
		return nil, notFound("item", err)
	}
	v, err := views(db, workspaceID, []itemRow{r})
	if err != nil {
		return nil, err
	}
	return &v[0], nil
}

// Summary counts the window of an object.
func (s *Store) Summary(ctx context.Context, workspaceID, syncID, object string) (domain.Summary, error) {
	db := s.db.WithContext(ctx)
	var out domain.Summary
	if err := objectExists(db, workspaceID, syncID, object); err != nil {
		return out, err
	}
	var rows []struct {
		Category string
		Side     string
		N        int64
	}
	err := db.Table("window_counts").Select("category, side, n").Where("sync_id = ? AND object = ?", syncID, object).Scan(&rows).Error
	if err != nil {
		return out, translate(err)
	}
	for _, r := range rows {
		switch domain.Category(r.Category) {
		case domain.CategoryConflict:
			out.Conflict += r.N
		case domain.CategoryDeleted:
			out.Deleted += r.N
		case domain.CategoryDisabled:
			out.Disabled += r.N
		case domain.CategorySynced:
			out.Synced += r.N
		case domain.CategoryInactive:
			out.Inactive += r.N
		case domain.CategoryNew:
			if domain.Side(r.Side) == domain.SideLeft {
				out.NewLeft += r.N
			} else {
				out.NewRight += r.N
			}
		}
	}
	return out, nil
}

// objectExists checks that the sync is the workspace's and has the object.
func objectExists(db *gorm.DB, workspaceID, syncID, object string) error {
	var n int64
	err := db.Table("sync_objects").Where("workspace_id = ? AND sync_id = ? AND name = ?", workspaceID, syncID, object).Count(&n).Error
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return domain.Errorf(domain.CodeNotFound, "sync object not found")
	}
	return nil
}
