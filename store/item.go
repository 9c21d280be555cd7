package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
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
	ObjectID      int64 // the sync object's number (syncObjectRow.ID)
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
	// LeftActive and RightActive tell whether each side's record counts as
	// active for the sync (the object's active field, when the side names
	// one, decides over the record's own flag).
	LeftActive  bool
	RightActive bool
	Version     int64
	UpdatedAt   time.Time
}

func (itemRow) TableName() string { return "items" }

// findItems reads the items a condition (with what follows it) selects.
// The reconciler and actions read thousands at once, so the rows are
// scanned directly rather than through gorm's reflection.
func findItems(db *gorm.DB, where string, args ...any) ([]domain.Item, error) {
	rows, err := db.Raw(`SELECT id, workspace_id, sync_id, object, left_record_id, right_record_id, side, base, resolutions,
		disabled, no_auto_pair, category, shown, status, error, conflicts, search, left_active, right_active, version, updated_at
		FROM items WHERE `+where, args...).Rows()
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []domain.Item
	for rows.Next() {
		var r itemRow
		err := rows.Scan(&r.ID, &r.WorkspaceID, &r.SyncID, &r.Object, &r.LeftRecordID, &r.RightRecordID, &r.Side, &r.Base, &r.Resolutions,
			&r.Disabled, &r.NoAutoPair, &r.Category, &r.Shown, &r.Status, &r.Error, &r.Conflicts, &r.Search, &r.LeftActive, &r.RightActive,
			&r.Version, &r.UpdatedAt)
		if err != nil {
			return nil, translate(err)
		}
		it, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, translate(rows.Err())
}

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
	if r.Conflicts != "" && r.Conflicts != "[]" && r.Conflicts != "null" {
		// Field names need no exact numbers: the plain decoder is cheaper.
		if err := json.Unmarshal([]byte(r.Conflicts), &it.Conflicts); err != nil {
			return it, domain.Wrap(domain.CodeInternal, err, "stored item is unreadable")
		}
	}
	return it, nil
}

func decodeJSON(s string, v any) error {
	if s == "" || s == "[]" || s == "{}" || s == "null" {
		return nil // most items have no conflicts and no resolutions
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return domain.Wrap(domain.CodeInternal, err, "stored item is unreadable")
	}
	return nil
}

// itemToRow is the stored form of an item; search is its window search text,
// left and right its records as the sync sees them (nil where absent).
func itemToRow(it domain.Item, shown bool, search string, left, right *domain.Record) (itemRow, error) {
	r := itemRow{
		ID: it.ID, WorkspaceID: it.WorkspaceID, SyncID: it.SyncID, Object: it.Object,
		LeftRecordID: orNil(it.LeftRecordID), RightRecordID: orNil(it.RightRecordID), Side: string(it.Side),
		Disabled: it.Disabled, NoAutoPair: it.NoAutoPair, Category: string(it.Category), Shown: shown,
		Status: string(it.Status), Error: it.Error, Search: search, Version: it.Version, UpdatedAt: it.UpdatedAt,
		LeftActive: left == nil || left.Active, RightActive: right == nil || right.Active,
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
// their records, filtered by category, side, status and search text. It is
// the hot path of every sync window, so it is one indexed query joined to
// both records, scanned without reflection.
func (s *Store) Items(ctx context.Context, workspaceID, syncID, object string, f domain.ItemFilter, p domain.Page) ([]domain.ItemView, error) {
	p = p.Normalized()
	where, args := itemWhere(workspaceID, syncID, object, f, p.After)
	// The limit is written into the statement, not bound: with a bound
	// limit PostgreSQL cannot cost a prepared statement's generic plan and
	// plans every page anew, which took longer than running it.
	rows, err := s.reads.WithContext(ctx).Raw(`SELECT `+windowColumns+` FROM items i
		LEFT JOIN records l ON l.id = i.left_record_id
		LEFT JOIN records r ON r.id = i.right_record_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY i.id LIMIT `+strconv.Itoa(p.Limit), args...).Rows()
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := make([]domain.ItemView, 0, p.Limit)
	for rows.Next() {
		v, err := scanWindowRow(rows, workspaceID, syncID, object)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(out) == 0 {
		// An empty page is fine; an object that is not the workspace's is 404.
		if err := objectExists(s.db.WithContext(ctx), workspaceID, syncID, object); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// itemWhere is the condition of a window query, with its arguments.
func itemWhere(workspaceID, syncID, object string, f domain.ItemFilter, after string) ([]string, []any) {
	where := []string{"i.workspace_id = ?", "i." + objectIDOf, "i.shown = ?"}
	args := []any{workspaceID, workspaceID, syncID, object, true}
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.Category != "" {
		add("i.category = ?", string(f.Category))
	}
	if f.Side != "" {
		add("i.side = ?", string(f.Side))
	}
	if f.Status != "" {
		add("i.status = ?", string(f.Status))
	}
	if f.Query != "" {
		add(`i.search LIKE ? ESCAPE '\'`, "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	if after != "" {
		add("i.id > ?", after)
	}
	return where, args
}

// ItemIDs lists the ids of the window rows a filter matches, in id order,
// at most limit of them: what a bulk action by filter acts on.
func (s *Store) ItemIDs(ctx context.Context, workspaceID, syncID, object string, f domain.ItemFilter, limit int) ([]string, error) {
	db := s.db.WithContext(ctx)
	if err := objectExists(db, workspaceID, syncID, object); err != nil {
		return nil, err
	}
	where, args := itemWhere(workspaceID, syncID, object, f, "")
	var ids []string
	err := db.Raw(`SELECT i.id FROM items i WHERE `+strings.Join(where, " AND ")+` ORDER BY i.id LIMIT `+strconv.Itoa(limit), args...).Scan(&ids).Error
	return ids, translate(err)
}

// windowColumns are the item's and both records' columns a window row shows;
// an item's base and resolutions are for its detail, not the list. A
// record's active flag is the item's: as the sync sees it.
const windowColumns = `i.id, i.left_record_id, i.right_record_id, i.side,
	i.disabled, i.no_auto_pair, i.category, i.status, i.error, i.conflicts, i.version, i.updated_at,
	l.id, l.external_id, l.fields, i.left_active, l.deleted, l.source_updated_at, l.version,
	r.id, r.external_id, r.fields, i.right_active, r.deleted, r.source_updated_at, r.version`

// sideColumns receive one record's columns of a window row; all may be NULL.
type sideColumns struct {
	id, externalID, fields sql.NullString
	active, deleted        sql.NullBool
	updatedAt              sql.NullTime
	version                sql.NullInt64
}

func (c *sideColumns) targets(into []any) []any {
	return append(into, &c.id, &c.externalID, &c.fields, &c.active, &c.deleted, &c.updatedAt, &c.version)
}

func (c *sideColumns) record() (*domain.Record, error) {
	if !c.id.Valid {
		return nil, nil
	}
	r := &domain.Record{ID: c.id.String, ExternalID: c.externalID.String, Active: c.active.Bool, Deleted: c.deleted.Bool,
		Version: c.version.Int64, RawFields: []byte(c.fields.String)}
	if c.updatedAt.Valid {
		t := c.updatedAt.Time.UTC()
		r.SourceUpdatedAt = &t
	}
	return r, nil
}

func scanWindowRow(rows *sql.Rows, workspaceID, syncID, object string) (domain.ItemView, error) {
	it := itemRow{WorkspaceID: workspaceID, SyncID: syncID, Object: object, Shown: true, Resolutions: "{}"}
	var l, r sideColumns
	targets := append(make([]any, 0, 26), &it.ID, &it.LeftRecordID, &it.RightRecordID, &it.Side,
		&it.Disabled, &it.NoAutoPair, &it.Category, &it.Status, &it.Error, &it.Conflicts, &it.Version, &it.UpdatedAt)
	if err := rows.Scan(r.targets(l.targets(targets))...); err != nil {
		return domain.ItemView{}, translate(err)
	}
	item, err := it.domain()
	if err != nil {
		return domain.ItemView{}, err
	}
	v := domain.ItemView{Item: item}
	if v.Left, err = l.record(); err != nil {
		return v, err
	}
	v.Right, err = r.record()
	return v, err
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
		out[i] = domain.ItemView{Item: it, Left: asSeen(recs[it.LeftRecordID], r.LeftActive), Right: asSeen(recs[it.RightRecordID], r.RightActive)}
	}
	return out, nil
}

// asSeen is a record with the active flag the sync gives it.
func asSeen(rec *domain.Record, active bool) *domain.Record {
	if rec == nil {
		return nil
	}
	c := *rec
	c.Active = active
	return &c
}

// recordsByID loads records by the hub's ids, with their fields both
// decoded and as stored (RawFields), which snapshots and views reuse.
// Bulk actions and reconciles read thousands at once, so the rows are
// scanned directly rather than through gorm's reflection.
func recordsByID(db *gorm.DB, workspaceID string, ids []string) (map[string]*domain.Record, error) {
	out := make(map[string]*domain.Record, len(ids))
	for in := range inLists(db, ids) {
		rows, err := db.Raw(`SELECT id, connection_id, object, external_id, fields, hash, active, deleted, deleted_at,
			source_updated_at, first_seen_at, last_seen_at, version FROM records WHERE workspace_id = ? AND id IN ?`, workspaceID, in).Rows()
		if err != nil {
			return nil, translate(err)
		}
		err = scanRecords(rows, workspaceID, out)
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanRecords reads the rows, then decodes their fields on every core: for
// the thousands of records a bulk action reads, decoding is most of the
// cost.
func scanRecords(rows *sql.Rows, workspaceID string, into map[string]*domain.Record) error {
	var list []recordRow
	for rows.Next() {
		r := recordRow{WorkspaceID: workspaceID}
		err := rows.Scan(&r.ID, &r.ConnectionID, &r.Object, &r.ExternalID, &r.Fields, &r.Hash, &r.Active, &r.Deleted, &r.DeletedAt,
			&r.SourceUpdatedAt, &r.FirstSeenAt, &r.LastSeenAt, &r.Version)
		if err != nil {
			return translate(err)
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	recs := make([]domain.Record, len(list))
	err := inParallel(len(list), func(i int) error {
		var err error
		recs[i], err = list[i].domain(nil)
		recs[i].RawFields = json.RawMessage(list[i].Fields)
		return err
	})
	if err != nil {
		return err
	}
	for i := range recs {
		into[recs[i].ID] = &recs[i]
	}
	return nil
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
	var out domain.Summary
	// One read: the object's row, so a missing object is told from an empty
	// one, joined to its counts. Frontends poll it.
	rows, err := s.reads.WithContext(ctx).Raw(`SELECT c.category, c.side, c.n FROM sync_objects o
		LEFT JOIN window_counts c ON c.sync_id = o.sync_id AND c.object = o.name
		WHERE o.workspace_id = ? AND o.sync_id = ? AND o.name = ?`, workspaceID, syncID, object).Rows()
	if err != nil {
		return out, translate(err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		found = true
		var r struct {
			Category, Side sql.NullString
			N              sql.NullInt64
		}
		if err := rows.Scan(&r.Category, &r.Side, &r.N); err != nil {
			return out, translate(err)
		}
		out.Add(domain.Category(r.Category.String), domain.Side(r.Side.String), r.N.Int64)
	}
	if err := rows.Err(); err != nil {
		return out, translate(err)
	}
	if !found {
		return out, errNoObject
	}
	return out, nil
}

// objectExists checks that the sync is the workspace's and has the object.
func objectExists(db *gorm.DB, workspaceID, syncID, object string) error {
	_, err := objectID(db, workspaceID, syncID, object)
	return err
}

// objectID is the number of the workspace's sync object.
func objectID(db *gorm.DB, workspaceID, syncID, object string) (int64, error) {
	var ids []int64
	err := db.Table("sync_objects").Where("workspace_id = ? AND sync_id = ? AND name = ?", workspaceID, syncID, object).Pluck("id", &ids).Error
	if err != nil {
		return 0, translate(err)
	}
	if len(ids) == 0 {
		return 0, errNoObject
	}
	return ids[0], nil
}

// objectIDOf is the condition that a row's object_id is the numbered
// object's, with the workspace's id, the sync's and the object's name as
// arguments: one statement finds the number and the rows on its index.
const objectIDOf = "object_id = (SELECT id FROM sync_objects WHERE workspace_id = ? AND sync_id = ? AND name = ?)"

var errNoObject = domain.Errorf(domain.CodeNotFound, "sync object not found")
