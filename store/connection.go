package store

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"gorm.io/gorm"

	"syncd/domain"
)

type connectionRow struct {
	ID               string `gorm:"primaryKey"`
	WorkspaceID      string
	Name             string
	Kind             string
	Config           string
	Credentials      *string // sealed by the keyring, bound to the connection id
	CredentialFields string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int64
}

func (connectionRow) TableName() string { return "connections" }

func (r connectionRow) domain() domain.Connection {
	c := domain.Connection{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Kind: domain.ConnectionKind(r.Kind), Config: []byte(r.Config),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version,
	}
	_ = json.Unmarshal([]byte(r.CredentialFields), &c.CredentialFields)
	if c.CredentialFields == nil {
		c.CredentialFields = []string{}
	}
	return c
}

// errNoKeyring guards against storing credentials with no key configured.
var errNoKeyring = domain.Errorf(domain.CodeInternal, "no encryption key configured")

// seal encrypts credentials for the connection and lists their field names.
func (s *Store) seal(id string, creds []byte) (*string, string, error) {
	if len(creds) == 0 {
		return nil, "[]", nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(creds, &m); err != nil {
		return nil, "", domain.Invalid("credentials must be a JSON object", map[string]string{"credentials": "must be an object"})
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	fields, _ := json.Marshal(names)
	if len(m) == 0 {
		return nil, string(fields), nil
	}
	if s.keyring == nil {
		return nil, "", errNoKeyring
	}
	sealed := s.keyring.Seal(creds, []byte(id))
	return &sealed, string(fields), nil
}

// CreateConnection stores c, sealing its credentials.
func (s *Store) CreateConnection(ctx context.Context, c *domain.Connection) error {
	if c.ID == "" {
		c.ID = newID()
	}
	sealed, fields, err := s.seal(c.ID, c.Credentials)
	if err != nil {
		return err
	}
	now := utc(time.Now())
	row := connectionRow{
		ID: c.ID, WorkspaceID: c.WorkspaceID, Name: c.Name, Kind: string(c.Kind), Config: string(c.Config),
		Credentials: sealed, CredentialFields: fields, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return translate(err)
	}
	*c = row.domain()
	return nil
}

// Connection finds a connection with its credentials decrypted.
func (s *Store) Connection(ctx context.Context, workspaceID, id string) (*domain.Connection, error) {
	return s.connection(s.db.WithContext(ctx), workspaceID, id)
}

func (s *Store) connection(db *gorm.DB, workspaceID, id string) (*domain.Connection, error) {
	var r connectionRow
	if err := db.Take(&r, "workspace_id = ? AND id = ?", workspaceID, id).Error; err != nil {
		return nil, notFound("connection", err)
	}
	c := r.domain()
	if r.Credentials != nil {
		if s.keyring == nil {
			return nil, errNoKeyring
		}
		plain, err := s.keyring.Open(*r.Credentials, []byte(r.ID))
		if err != nil {
			return nil, err
		}
		c.Credentials = plain
	}
	return &c, nil
}

// Connections lists the workspace's connections without credential values.
func (s *Store) Connections(ctx context.Context, workspaceID string, p domain.Page) ([]domain.Connection, error) {
	var rows []connectionRow
	if err := page(s.db.WithContext(ctx).Where("workspace_id = ?", workspaceID), p).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Connection, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdateConnection applies a patch, checking the version when asked to.
func (s *Store) UpdateConnection(ctx context.Context, workspaceID, id string, p domain.ConnectionPatch, ifVersion int64, now time.Time) (*domain.Connection, error) {
	var out *domain.Connection
	err := s.InTx(ctx, func(tx *Store) error {
		cur, err := tx.connection(tx.db, workspaceID, id)
		if err != nil {
			return err
		}
		if ifVersion != 0 && cur.Version != ifVersion {
			return domain.Errorf(domain.CodeStale, "the connection changed since it was read (If-Match is stale)")
		}
		set := map[string]any{"updated_at": utc(now), "version": cur.Version + 1}
		if p.Name != nil {
			set["name"] = *p.Name
		}
		if p.Config != nil {
			set["config"] = string(p.Config)
		}
		if p.Credentials != nil {
			sealed, fields, err := tx.seal(id, p.Credentials)
			if err != nil {
				return err
			}
			set["credentials"], set["credential_fields"] = sealed, fields
		}
		if err := tx.db.Model(&connectionRow{}).Where("workspace_id = ? AND id = ?", workspaceID, id).Updates(set).Error; err != nil {
			return translate(err)
		}
		out, err = tx.connection(tx.db, workspaceID, id)
		return err
	})
	return out, err
}

// DeleteConnection removes a connection; its records go with it.
func (s *Store) DeleteConnection(ctx context.Context, workspaceID, id string) error {
	return s.InTx(ctx, func(tx *Store) error {
		tx.windowChanged(workspaceID)
		// The hub's copy goes with the connection (no per-row foreign key:
		// it made every record written slower), before the connection's
		// sets, which cascade.
		err := tx.db.Exec("DELETE FROM records WHERE workspace_id = ? AND set_id IN (SELECT id FROM record_sets WHERE connection_id = ?)", workspaceID, id).Error
		if err != nil {
			return translate(err)
		}
		res := tx.db.Where("workspace_id = ? AND id = ?", workspaceID, id).Delete(&connectionRow{})
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return domain.Errorf(domain.CodeNotFound, "connection not found")
		}
		return nil
	})
}

// RotateKeys re-encrypts every stored credential under the keyring's current
// key, in one transaction, and returns how many it rewrote.
func (s *Store) RotateKeys(ctx context.Context) (int, error) {
	if s.keyring == nil {
		return 0, errNoKeyring
	}
	n := 0
	err := s.InTx(ctx, func(tx *Store) error {
		var rows []connectionRow
		if err := tx.db.Where("credentials IS NOT NULL").Find(&rows).Error; err != nil {
			return translate(err)
		}
		for _, r := range rows {
			plain, err := s.keyring.Open(*r.Credentials, []byte(r.ID))
			if err != nil {
				return err
			}
			sealed := s.keyring.Seal(plain, []byte(r.ID))
			if err := tx.db.Model(&connectionRow{}).Where("id = ?", r.ID).UpdateColumn("credentials", sealed).Error; err != nil {
				return translate(err)
			}
			n++
		}
		return nil
	})
	return n, err
}
