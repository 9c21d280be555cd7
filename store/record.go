package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

type recordRow struct {
	ID              string `gorm:"primaryKey"`
	WorkspaceID     string
	ConnectionID    string
	Object          string
	SetID           int64 // the set's number (recordSetRow.ID)
	ExternalID      string
	Fields          string
	Hash            string
	Active          bool
	Deleted         bool
	DeletedAt       *time.Time
	SourceUpdatedAt *time.Time
	FirstSeenAt     time.Time
	LastSeenAt      time.Time
	ChangedAt       time.Time
	Seq             int64
	Origin          string
	Version         int64
}

func (recordRow) TableName() string { return "records" }

func (r recordRow) domain(lastFull *time.Time) (domain.Record, error) {
	out := domain.Record{
		ID: r.ID, WorkspaceID: r.WorkspaceID, ConnectionID: r.ConnectionID, Object: r.Object, ExternalID: r.ExternalID,
		Hash: r.Hash, Active: r.Active, Deleted: r.Deleted, DeletedAt: utcPtr(r.DeletedAt), SourceUpdatedAt: utcPtr(r.SourceUpdatedAt),
		FirstSeenAt: r.FirstSeenAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), Version: r.Version,
	}
	// A full listing sees every live record, so the set's last full listing
	// is when each live record was last seen (without rewriting every row).
	if !r.Deleted && lastFull != nil && lastFull.After(out.LastSeenAt) {
		out.LastSeenAt = lastFull.UTC()
	}
	if err := decodeFields(r.Fields, &out.Fields); err != nil {
		return out, err
	}
	return out, nil
}

// decodeFields reads stored field values, keeping numbers exact.
func decodeFields(s string, f *domain.Fields) (err error) {
	if *f, err = domain.ParseFieldsJSON(s); err != nil {
		return domain.Wrap(domain.CodeInternal, err, "stored record is unreadable")
	}
	return nil
}

func encodeFields(f domain.Fields) (string, error) {
	if f == nil {
		return "{}", nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return "", domain.Wrap(domain.CodeInvalid, err, "record fields must be JSON values")
	}
	return string(b), nil
}

// recordSetRow is a set that holds records, with its number and its last
// full listing.
type recordSetRow struct {
	ConnectionID string `gorm:"primaryKey"`
	Object       string `gorm:"primaryKey"`
	// ID is the set's number, which its records carry; the database gives
	// it to a new set.
	ID          int64 `gorm:"->"`
	WorkspaceID string
	LastFullAt  *time.Time
}

func (recordSetRow) TableName() string { return "record_sets" }

// setIDOf is the condition that a record is of the set a connection's id
// and an object's name (its arguments) name: one statement finds the set's
// number and the records on its indexes.
const setIDOf = "set_id = (SELECT id FROM record_sets WHERE connection_id = ? AND object = ?)"

// setID is the number of a set, which the set takes with its first write.
func setID(db *gorm.DB, set domain.RecordSet) (int64, error) {
	for range 2 {
		var ids []int64
		if err := db.Model(&recordSetRow{}).Where("connection_id = ? AND object = ?", set.ConnectionID, set.Object).Pluck("id", &ids).Error; err != nil {
			return 0, translate(err)
		}
		if len(ids) > 0 {
			return ids[0], nil
		}
		err := db.Exec(`INSERT INTO record_sets (connection_id, object, workspace_id) VALUES (?, ?, ?) ON CONFLICT (connection_id, object) DO NOTHING`,
			set.ConnectionID, set.Object, set.WorkspaceID).Error
		if err != nil {
			return 0, translate(err)
		}
	}
	return 0, domain.Errorf(domain.CodeInternal, "the record set %s/%s got no number", set.ConnectionID, set.Object)
}

func lastFullAt(db *gorm.DB, set domain.RecordSet) (*time.Time, error) {
	var rows []recordSetRow
	err := db.Where("connection_id = ? AND object = ? AND workspace_id = ?", set.ConnectionID, set.Object, set.WorkspaceID).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, translate(err)
	}
	return rows[0].LastFullAt, nil
}

// nextSeq takes the workspace's next change number. The row lock it takes is
// held until the transaction ends, so numbers commit in order (see the
// migration); a fill's records commit later than their number, in a set no
// reader has a position in (see fill).
func nextSeq(db *gorm.DB, workspaceID string) (int64, error) {
	var seq int64
	err := db.Raw(`INSERT INTO change_seq (workspace_id, value) VALUES (?, 1)
		ON CONFLICT (workspace_id) DO UPDATE SET value = change_seq.value + 1 RETURNING value`, workspaceID).Scan(&seq).Error
	return seq, translate(err)
}

// Records lists a set's records in external-id order after the cursor (an
// external id), on the set's unique index.
func (s *Store) Records(ctx context.Context, set domain.RecordSet, f domain.RecordFilter, p domain.Page) ([]domain.Record, error) {
	db := s.db.WithContext(ctx)
	if err := connectionExists(db, set.WorkspaceID, set.ConnectionID); err != nil {
		return nil, err
	}
	q := db.Where("workspace_id = ? AND "+setIDOf, set.WorkspaceID, set.ConnectionID, set.Object)
	if !f.IncludeDeleted {
		q = q.Where("deleted = ?", false)
	}
	if f.ChangedSince != nil {
		q = q.Where("changed_at > ?", utc(*f.ChangedSince))
	}
	p = p.Normalized()
	if p.After != "" {
		q = q.Where("external_id > ?", p.After)
	}
	var rows []recordRow
	if err := q.Order("external_id").Limit(p.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	full, err := lastFullAt(db, set)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Record, len(rows))
	for i, r := range rows {
		if out[i], err = r.domain(full); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recordsByExternalID loads a set's records by their external ids.
func recordsByExternalID(db *gorm.DB, set domain.RecordSet, ids []string) (map[string]*domain.Record, error) {
	out := map[string]*domain.Record{}
	for in := range inLists(db, ids) {
		var rows []recordRow
		err := db.Where("workspace_id = ? AND "+setIDOf+" AND external_id IN ?", set.WorkspaceID, set.ConnectionID, set.Object, in).Find(&rows).Error
		if err != nil {
			return nil, translate(err)
		}
		for _, r := range rows {
			rec, err := r.domain(nil)
			if err != nil {
				return nil, err
			}
			out[r.ExternalID] = &rec
		}
	}
	return out, nil
}

// Record finds one record of a set by its external id.
func (s *Store) Record(ctx context.Context, set domain.RecordSet, externalID string) (*domain.Record, error) {
	db := s.db.WithContext(ctx)
	var r recordRow
	err := db.Take(&r, "workspace_id = ? AND "+setIDOf+" AND external_id = ?",
		set.WorkspaceID, set.ConnectionID, set.Object, externalID).Error
	if err != nil {
		return nil, notFound("record", err)
	}
	full, err := lastFullAt(db, set)
	if err != nil {
		return nil, err
	}
	out, err := r.domain(full)
	return &out, err
}

// connectionExists checks that the connection is the workspace's.
func connectionExists(db *gorm.DB, workspaceID, id string) error {
	var n int64
	if err := db.Table("connections").Where("workspace_id = ? AND id = ?", workspaceID, id).Count(&n).Error; err != nil {
		return translate(err)
	}
	if n == 0 {
		return domain.Errorf(domain.CodeNotFound, "connection not found")
	}
	return nil
}
