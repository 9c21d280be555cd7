package store

import (
	"context"
	"encoding/json"
	"time"

	"syncd/domain"
)

type uploadRow struct {
	ID           string `gorm:"primaryKey"`
	WorkspaceID  string
	ConnectionID string
	Object       string
	Filename     string
	Mode         string
	Status       string
	RowCount     int64
	Inserted     int64
	Updated      int64
	Unchanged    int64
	Deleted      int64
	Skipped      int64
	Format       string
	Encoding     string
	Delimiter    string
	Sheet        string
	Detail       string
	Errors       string
	ErrorCount   int64
	CreatedBy    string
	CreatedAt    time.Time
	DurationMs   int64
}

func (uploadRow) TableName() string { return "uploads" }

// uploadError is a row error as stored in uploads.errors.
type uploadError struct {
	Row     int    `json:"row"`
	Line    int    `json:"line,omitempty"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
	ID      string `json:"id,omitempty"`
}

func (r uploadRow) domain() domain.Upload {
	u := domain.Upload{
		ID: r.ID, WorkspaceID: r.WorkspaceID, ConnectionID: r.ConnectionID, Object: r.Object, Filename: r.Filename,
		Mode: domain.ApplyMode(r.Mode), Status: domain.UploadStatus(r.Status),
		Rows: int(r.RowCount), Inserted: int(r.Inserted), Updated: int(r.Updated), Unchanged: int(r.Unchanged),
		Deleted: int(r.Deleted), Skipped: int(r.Skipped),
		Format: r.Format, Encoding: r.Encoding, Delimiter: r.Delimiter, Sheet: r.Sheet, Detail: r.Detail,
		ErrorCount: int(r.ErrorCount), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(),
		Duration: time.Duration(r.DurationMs) * time.Millisecond,
	}
	// The column is written only by CreateUpload; a value it cannot read
	// shows as no errors rather than failing the whole history.
	var errs []uploadError
	_ = json.Unmarshal([]byte(r.Errors), &errs)
	u.Errors = make([]domain.UploadRowError, len(errs))
	for i, e := range errs {
		u.Errors[i] = domain.UploadRowError(e)
	}
	return u
}

// CreateUpload records an upload attempt of a connection of the workspace.
// Only the first domain.MaxUploadRowErrors row errors are kept.
func (s *Store) CreateUpload(ctx context.Context, u *domain.Upload) error {
	db := s.db.WithContext(ctx)
	if err := connectionExists(db, u.WorkspaceID, u.ConnectionID); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = newID()
	}
	u.CreatedAt = utc(u.CreatedAt)
	kept := u.Errors[:min(len(u.Errors), domain.MaxUploadRowErrors)]
	errs := make([]uploadError, len(kept))
	for i, e := range kept {
		errs[i] = uploadError(e)
	}
	b, err := json.Marshal(errs)
	if err != nil {
		return domain.Wrap(domain.CodeInternal, err, "upload errors cannot be stored")
	}
	u.Errors = kept
	u.ErrorCount = max(u.ErrorCount, len(kept))
	return translate(db.Create(&uploadRow{
		ID: u.ID, WorkspaceID: u.WorkspaceID, ConnectionID: u.ConnectionID, Object: u.Object, Filename: u.Filename,
		Mode: string(u.Mode), Status: string(u.Status), RowCount: int64(u.Rows), Inserted: int64(u.Inserted),
		Updated: int64(u.Updated), Unchanged: int64(u.Unchanged), Deleted: int64(u.Deleted), Skipped: int64(u.Skipped),
		Format: u.Format, Encoding: u.Encoding, Delimiter: u.Delimiter, Sheet: u.Sheet, Detail: u.Detail,
		Errors: string(b), ErrorCount: int64(u.ErrorCount), CreatedBy: u.CreatedBy, CreatedAt: u.CreatedAt,
		DurationMs: u.Duration.Milliseconds(),
	}).Error)
}

// LastDelimiter is the delimiter of the object's newest applied CSV upload
// on the connection, or "" when it has none.
func (s *Store) LastDelimiter(ctx context.Context, workspaceID, connectionID, object string) (string, error) {
	var found []string
	err := s.db.WithContext(ctx).Model(&uploadRow{}).
		Where("workspace_id = ? AND connection_id = ? AND object = ? AND status = ? AND delimiter <> ''",
			workspaceID, connectionID, object, string(domain.UploadApplied)).
		Order("id DESC").Limit(1).Pluck("delimiter", &found).Error
	if err != nil || len(found) == 0 {
		return "", translate(err)
	}
	return found[0], nil
}

// Uploads lists a connection's uploads newest first. Ids are time-ordered,
// so the keyset runs down the ids.
func (s *Store) Uploads(ctx context.Context, workspaceID, connectionID string, p domain.Page) ([]domain.Upload, error) {
	db := s.db.WithContext(ctx)
	if err := connectionExists(db, workspaceID, connectionID); err != nil {
		return nil, err
	}
	p = p.Normalized()
	q := db.Where("workspace_id = ? AND connection_id = ?", workspaceID, connectionID)
	if p.After != "" {
		q = q.Where("id < ?", p.After)
	}
	var rows []uploadRow
	if err := q.Order("id DESC").Limit(p.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Upload, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
