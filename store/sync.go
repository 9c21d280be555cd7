package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

type syncRow struct {
	ID                string `gorm:"primaryKey"`
	WorkspaceID       string
	Name              string
	LeftConnectionID  string
	RightConnectionID string
	ConflictMode      string
	ConflictWinner    string
	DeletePolicy      string
	OnError           string
	Schedule          string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Version           int64
}

func (syncRow) TableName() string { return "syncs" }

// schedule is the stored form of domain.Schedule.
type schedule struct {
	Every    string `json:"every,omitempty"`
	Cron     string `json:"cron,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	Enabled  bool   `json:"enabled"`
}

func syncToRow(s *domain.Sync) syncRow {
	sc, _ := json.Marshal(schedule(s.Schedule))
	return syncRow{
		ID: s.ID, WorkspaceID: s.WorkspaceID, Name: s.Name, LeftConnectionID: s.LeftConnectionID, RightConnectionID: s.RightConnectionID,
		ConflictMode: string(s.ConflictPolicy.Mode), ConflictWinner: string(s.ConflictPolicy.Winner), DeletePolicy: string(s.DeletePolicy),
		OnError: string(s.OnError), Schedule: string(sc), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Version: s.Version,
	}
}

func (r syncRow) domain() domain.Sync {
	var sc schedule
	_ = json.Unmarshal([]byte(r.Schedule), &sc)
	return domain.Sync{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, LeftConnectionID: r.LeftConnectionID, RightConnectionID: r.RightConnectionID,
		ConflictPolicy: domain.ConflictPolicy{Mode: domain.ConflictMode(r.ConflictMode), Winner: domain.Winner(r.ConflictWinner)},
		DeletePolicy:   domain.DeletePolicy(r.DeletePolicy), OnError: domain.OnError(r.OnError), Schedule: domain.Schedule(sc),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version,
	}
}

type syncObjectRow struct {
	SyncID string `gorm:"primaryKey"`
	Name   string `gorm:"primaryKey"`
	// ID is the object's number, which its items and match keys carry; the
	// database gives it to a new object.
	ID           int64 `gorm:"->"`
	WorkspaceID  string
	Position     int
	LeftObject   string
	RightObject  string
	LeftIDField  string
	RightIDField string
	Fields       string
	MatchKeys    string
	AutoPair     bool
	ActiveLeft   string
	ActiveRight  string
	LeftSeq      int64
	LeftAfter    string
	RightSeq     int64
	RightAfter   string
	UpdatedAt    time.Time
}

func (syncObjectRow) TableName() string { return "sync_objects" }

// fieldMap and matchKey are the stored forms of the mapping.
type fieldMap struct {
	Left      string `json:"left"`
	Right     string `json:"right"`
	Type      string `json:"type"`
	Direction string `json:"direction"`
}

type matchKey struct {
	Left      string `json:"left"`
	Right     string `json:"right"`
	Normalize string `json:"normalize"`
}

func objectToRow(workspaceID string, pos int, o domain.Object, now time.Time) syncObjectRow {
	fields := make([]fieldMap, len(o.Fields))
	for i, f := range o.Fields {
		fields[i] = fieldMap{f.Left, f.Right, string(f.Type), string(f.Direction)}
	}
	keys := make([]matchKey, len(o.MatchKeys))
	for i, k := range o.MatchKeys {
		keys[i] = matchKey{k.Left, k.Right, string(k.Normalize)}
	}
	fb, _ := json.Marshal(fields)
	kb, _ := json.Marshal(keys)
	return syncObjectRow{
		SyncID: o.SyncID, Name: o.Name, WorkspaceID: workspaceID, Position: pos, LeftObject: o.LeftObject, RightObject: o.RightObject,
		LeftIDField: o.LeftIDField, RightIDField: o.RightIDField, Fields: string(fb), MatchKeys: string(kb), AutoPair: o.AutoPair,
		ActiveLeft: o.ActiveField.Left, ActiveRight: o.ActiveField.Right, UpdatedAt: now,
	}
}

func (r syncObjectRow) domain() domain.Object {
	var fields []fieldMap
	var keys []matchKey
	_ = json.Unmarshal([]byte(r.Fields), &fields)
	_ = json.Unmarshal([]byte(r.MatchKeys), &keys)
	o := domain.Object{
		SyncID: r.SyncID, Name: r.Name, LeftObject: r.LeftObject, RightObject: r.RightObject, LeftIDField: r.LeftIDField,
		RightIDField: r.RightIDField, AutoPair: r.AutoPair, ActiveField: domain.FieldPair{Left: r.ActiveLeft, Right: r.ActiveRight},
		Fields: make([]domain.FieldMap, len(fields)), MatchKeys: make([]domain.MatchKey, len(keys)),
	}
	for i, f := range fields {
		o.Fields[i] = domain.FieldMap{Left: f.Left, Right: f.Right, Type: domain.FieldType(f.Type), Direction: domain.Direction(f.Direction)}
	}
	for i, k := range keys {
		o.MatchKeys[i] = domain.MatchKey{Left: k.Left, Right: k.Right, Normalize: domain.Normalizer(k.Normalize)}
	}
	return o
}

// CreateSync stores a sync and its objects after checking its connections.
func (s *Store) CreateSync(ctx context.Context, sy *domain.Sync, objects []domain.Object) error {
	now := utc(time.Now())
	err := s.InTx(ctx, func(tx *Store) error {
		if err := syncConnections(tx.db, sy); err != nil {
			return err
		}
		sy.ID, sy.CreatedAt, sy.UpdatedAt, sy.Version = newID(), now, now, 1
		row := syncToRow(sy)
		if err := tx.db.Create(&row).Error; err != nil {
			return translate(err)
		}
		for i, o := range objects {
			o.SyncID = sy.ID
			r := objectToRow(sy.WorkspaceID, i, o, now)
			if err := tx.db.Create(&r).Error; err != nil {
				return translate(err)
			}
		}
		return nil
	})
	if err == nil {
		s.readAgain(ctx, sy, objects...)
	}
	return err
}

// readAgain reconciles, now, objects that have records to read from the
// start: a new object over existing records, or one whose mapping or policy
// changed. It runs the records-changed hooks for both sides' sets.
func (s *Store) readAgain(ctx context.Context, sy *domain.Sync, objects ...domain.Object) {
	for _, o := range objects {
		s.RecordsChanged(ctx, domain.RecordSet{WorkspaceID: sy.WorkspaceID, ConnectionID: sy.LeftConnectionID, Object: o.LeftObject})
		s.RecordsChanged(ctx, domain.RecordSet{WorkspaceID: sy.WorkspaceID, ConnectionID: sy.RightConnectionID, Object: o.RightObject})
	}
}

// syncConnections checks that both connections are the workspace's and differ.
func syncConnections(db *gorm.DB, sy *domain.Sync) error {
	fields := map[string]string{}
	for path, id := range map[string]string{"left_connection_id": sy.LeftConnectionID, "right_connection_id": sy.RightConnectionID} {
		if err := connectionExists(db, sy.WorkspaceID, id); err != nil {
			if !domain.IsCode(err, domain.CodeNotFound) {
				return err
			}
			fields[path] = "no such connection in this workspace"
		}
	}
	if sy.LeftConnectionID == sy.RightConnectionID {
		fields["right_connection_id"] = "must differ from left_connection_id"
	}
	if len(fields) > 0 {
		return domain.Invalid("the sync's connections are invalid", fields)
	}
	return nil
}

// Sync finds a sync with its objects in their order.
func (s *Store) Sync(ctx context.Context, workspaceID, id string) (*domain.Sync, []domain.Object, error) {
	return loadSync(s.db.WithContext(ctx), workspaceID, id)
}

func loadSync(db *gorm.DB, workspaceID, id string) (*domain.Sync, []domain.Object, error) {
	sy, err := syncOnly(db, workspaceID, id)
	if err != nil {
		return nil, nil, err
	}
	var rows []syncObjectRow
	if err := db.Where("sync_id = ?", id).Order("position, name").Find(&rows).Error; err != nil {
		return nil, nil, translate(err)
	}
	objects := make([]domain.Object, len(rows))
	for i, o := range rows {
		objects[i] = o.domain()
	}
	return sy, objects, nil
}

// syncOnly reads the workspace's sync without its objects, for work on one
// object that reads that object's row itself.
func syncOnly(db *gorm.DB, workspaceID, id string) (*domain.Sync, error) {
	var r syncRow
	if err := db.Take(&r, "workspace_id = ? AND id = ?", workspaceID, id).Error; err != nil {
		return nil, notFound("sync", err)
	}
	sy := r.domain()
	return &sy, nil
}

// Syncs lists the workspace's syncs after the cursor.
func (s *Store) Syncs(ctx context.Context, workspaceID string, p domain.Page) ([]domain.Sync, error) {
	var rows []syncRow
	if err := page(s.db.WithContext(ctx).Where("workspace_id = ?", workspaceID), p).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Sync, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdateSync applies a patch, checking the version when asked to. A changed
// conflict or delete policy re-reconciles every item of the sync.
func (s *Store) UpdateSync(ctx context.Context, workspaceID, id string, p domain.SyncPatch, ifVersion int64, now time.Time) (*domain.Sync, error) {
	var out *domain.Sync
	var again []domain.Object
	err := s.InTx(ctx, func(tx *Store) error {
		tx.windowChanged(workspaceID)
		cur, objects, err := loadSync(tx.db, workspaceID, id)
		if err != nil {
			return err
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return domain.Errorf(domain.CodeStale, "the sync changed since it was read (If-Match is stale)")
		}
		next := p.Apply(*cur).WithDefaults()
		if err := next.Validate(); err != nil {
			return err
		}
		next.UpdatedAt, next.Version = utc(now), cur.Version+1
		row := syncToRow(&next)
		if err := tx.db.Model(&syncRow{}).Where("id = ?", id).Select("*").Omit("created_at").Updates(&row).Error; err != nil {
			return translate(err)
		}
		if next.ConflictPolicy != cur.ConflictPolicy || next.DeletePolicy != cur.DeletePolicy {
			for _, o := range objects {
				if err := rewind(tx.db, id, o.Name); err != nil {
					return err
				}
			}
			again = objects
		}
		out = &next
		return nil
	})
	if err == nil {
		s.readAgain(ctx, out, again...)
	}
	return out, err
}

// DeleteSync removes a sync with its objects (which cascade), then its items,
// their match keys and its operations.
func (s *Store) DeleteSync(ctx context.Context, workspaceID, id string) error {
	return s.InTx(ctx, func(tx *Store) error {
		tx.windowChanged(workspaceID)
		var objects []int64
		if err := tx.db.Model(&syncObjectRow{}).Where("workspace_id = ? AND sync_id = ?", workspaceID, id).Pluck("id", &objects).Error; err != nil {
			return translate(err)
		}
		res := tx.db.Where("workspace_id = ? AND id = ?", workspaceID, id).Delete(&syncRow{})
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return domain.Errorf(domain.CodeNotFound, "sync not found")
		}
		// After the sync's row: a reconcile or an action still writing to
		// the sync holds an object's row, which the cascade waits for, so
		// the statements below see all it wrote.
		if err := deleteFrom(tx.db, []string{"operations"}, "sync_id = ?", id); err != nil {
			return err
		}
		return deleteFrom(tx.db, []string{"items", "item_keys"}, "object_id IN ?", objects)
	})
}

// PutObject creates or replaces an object of a sync.
func (s *Store) PutObject(ctx context.Context, workspaceID string, o domain.Object) (*domain.Object, error) {
	now := utc(time.Now())
	var sy *domain.Sync
	err := s.InTx(ctx, func(tx *Store) error {
		tx.windowChanged(workspaceID)
		var objects []domain.Object
		var err error
		sy, objects, err = loadSync(tx.db, workspaceID, o.SyncID)
		if err != nil {
			return err
		}
		pos := len(objects)
		for i, cur := range objects {
			if cur.Name != o.Name {
				continue
			}
			pos = i
			if cur.LeftObject != o.LeftObject || cur.RightObject != o.RightObject {
				// Other records entirely: the window starts over.
				if err := clearObject(tx.db, workspaceID, o.SyncID, o.Name); err != nil {
					return err
				}
			}
		}
		row := objectToRow(workspaceID, pos, o, now)
		if pos == len(objects) {
			return translate(tx.db.Create(&row).Error)
		}
		err = tx.db.Model(&syncObjectRow{}).Where("sync_id = ? AND name = ?", o.SyncID, o.Name).
			Select("left_object", "right_object", "left_id_field", "right_id_field", "fields", "match_keys", "auto_pair", "active_left", "active_right", "updated_at").
			Updates(&row).Error
		if err != nil {
			return translate(err)
		}
		return rewind(tx.db, o.SyncID, o.Name)
	})
	if err != nil {
		return nil, err
	}
	s.readAgain(ctx, sy, o)
	return &o, nil
}

// clearObject removes an object's items with their keys, queued writes and counts.
func clearObject(db *gorm.DB, workspaceID, syncID, object string) error {
	if err := deleteFrom(db, []string{"item_keys", "items"}, objectIDOf, workspaceID, syncID, object); err != nil {
		return err
	}
	return deleteFrom(db, []string{"operations", "window_counts"}, "sync_id = ? AND object = ?", syncID, object)
}

// deleteFrom deletes the rows where matches from each table in turn.
func deleteFrom(db *gorm.DB, tables []string, where string, args ...any) error {
	for _, table := range tables {
		if err := db.Exec("DELETE FROM "+table+" WHERE "+where, args...).Error; err != nil {
			return translate(err)
		}
	}
	return nil
}

// rewind makes the reconciler read an object's records from the start, so
// every item is evaluated again (after its mapping or policy changed).
func rewind(db *gorm.DB, syncID, object string) error {
	return translate(db.Model(&syncObjectRow{}).Where("sync_id = ? AND name = ?", syncID, object).
		Updates(map[string]any{"left_seq": 0, "left_after": "", "right_seq": 0, "right_after": ""}).Error)
}
