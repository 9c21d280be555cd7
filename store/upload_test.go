package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store/storetest"
)

func TestUploads(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	w, _ := workspace(t, s, "a@example.com")
	conn := connection(t, s, w.ID)
	other, _ := workspace(t, s, "b@example.com")

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 5 {
		u := &domain.Upload{
			WorkspaceID: w.ID, ConnectionID: conn, Object: "customers", Filename: fmt.Sprintf("f%d.csv", i),
			Mode: domain.ApplyFull, Status: domain.UploadApplied, Rows: 10 + i, Inserted: 3, Updated: 2, Unchanged: 5, Deleted: 1,
			Format: "csv", Encoding: "windows-1252", Delimiter: ";", CreatedBy: "user:u1", CreatedAt: at.Add(time.Duration(i) * time.Second),
			Duration: 1500 * time.Millisecond,
		}
		require.NoError(t, s.CreateUpload(ctx, u))
		ids = append(ids, u.ID)
	}

	t.Run("newest_first_in_pages", func(t *testing.T) {
		first, err := s.Uploads(ctx, w.ID, conn, domain.Page{Limit: 3})
		require.NoError(t, err)
		require.Len(t, first, 3)
		require.Equal(t, []string{ids[4], ids[3], ids[2]}, []string{first[0].ID, first[1].ID, first[2].ID})
		rest, err := s.Uploads(ctx, w.ID, conn, domain.Page{Limit: 3, After: first[2].ID})
		require.NoError(t, err)
		require.Equal(t, []string{ids[1], ids[0]}, []string{rest[0].ID, rest[1].ID})
		u := rest[1]
		require.Equal(t, "f0.csv", u.Filename)
		require.Equal(t, domain.ApplyFull, u.Mode)
		require.Equal(t, 10, u.Rows)
		require.Equal(t, 3, u.Inserted)
		require.Equal(t, 1, u.Deleted)
		require.Equal(t, ";", u.Delimiter)
		require.Equal(t, 1500*time.Millisecond, u.Duration)
		require.True(t, at.Equal(u.CreatedAt))
		require.Empty(t, u.Errors)
	})
	t.Run("row_errors_are_capped_and_counted", func(t *testing.T) {
		errs := make([]domain.UploadRowError, domain.MaxUploadRowErrors+5)
		for i := range errs {
			errs[i] = domain.UploadRowError{Row: i + 2, Column: "Nr", Message: "the id is empty"}
		}
		u := &domain.Upload{
			WorkspaceID: w.ID, ConnectionID: conn, Object: "customers", Mode: domain.ApplyPartial, Status: domain.UploadRejected,
			Detail: "rows have errors", Errors: errs, ErrorCount: len(errs), CreatedBy: "api_key:k", CreatedAt: at.Add(time.Hour),
		}
		require.NoError(t, s.CreateUpload(ctx, u))
		list, err := s.Uploads(ctx, w.ID, conn, domain.Page{Limit: 1})
		require.NoError(t, err)
		got := list[0]
		require.Equal(t, domain.UploadRejected, got.Status)
		require.Len(t, got.Errors, domain.MaxUploadRowErrors)
		require.Equal(t, domain.MaxUploadRowErrors+5, got.ErrorCount)
		require.Equal(t, domain.UploadRowError{Row: 2, Column: "Nr", Message: "the id is empty"}, got.Errors[0])
		require.Equal(t, "rows have errors", got.Detail)
	})
	t.Run("last_delimiter_is_the_newest_applied_uploads_of_the_object", func(t *testing.T) {
		add := func(object string, status domain.UploadStatus, delimiter string) {
			require.NoError(t, s.CreateUpload(ctx, &domain.Upload{WorkspaceID: w.ID, ConnectionID: conn, Object: object,
				Mode: domain.ApplyFull, Status: status, Format: "csv", Delimiter: delimiter, CreatedAt: at.Add(2 * time.Hour)}))
		}
		add("customers", domain.UploadApplied, "|")
		add("customers", domain.UploadRejected, "\t")
		add("orders", domain.UploadApplied, ",")
		add("customers", domain.UploadApplied, "") // JSON, say: no delimiter
		d, err := s.LastDelimiter(ctx, w.ID, conn, "customers")
		require.NoError(t, err)
		require.Equal(t, "|", d)
		d, err = s.LastDelimiter(ctx, w.ID, conn, "contacts")
		require.NoError(t, err)
		require.Empty(t, d)
		d, err = s.LastDelimiter(ctx, other.ID, conn, "customers")
		require.NoError(t, err)
		require.Empty(t, d, "another workspace's uploads are not read")
	})
	t.Run("another_workspace_sees_not_found", func(t *testing.T) {
		_, err := s.Uploads(ctx, other.ID, conn, domain.Page{})
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		err = s.CreateUpload(ctx, &domain.Upload{WorkspaceID: other.ID, ConnectionID: conn, Object: "x", Mode: domain.ApplyFull,
			Status: domain.UploadApplied, CreatedAt: at})
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
	})
}
