package domain

import (
	"context"
	"time"
)

// UploadStatus says what became of an uploaded file.
type UploadStatus string

// The outcomes of an upload.
const (
	// UploadApplied: the file's good rows were merged into the hub's copy.
	UploadApplied UploadStatus = "applied"
	// UploadRejected: nothing was applied (a broken file, row errors, a
	// refused mass delete).
	UploadRejected UploadStatus = "rejected"
)

// MaxUploadRowErrors is how many row errors an upload keeps for showing;
// Upload.ErrorCount has the total.
const MaxUploadRowErrors = 1000

// UploadRowError is a problem with one row of an uploaded file.
type UploadRowError struct {
	Row     int    // 1-based as a person sees it (the header is row 1)
	Line    int    // the text line the row starts on, 0 when unknown
	Column  string // the column (or JSON key), "" when the row as a whole is at fault
	Message string
	ID      string // the row's id when the fault is elsewhere and the id is good
}

// Upload is one attempt to bring a file's records into a connection's copy:
// what was asked, what was found in the file and what it changed. Rejected
// attempts are kept too, so a person can see why nothing happened.
type Upload struct {
	ID           string
	WorkspaceID  string
	ConnectionID string
	Object       string
	Filename     string
	Mode         ApplyMode
	Status       UploadStatus
	// Rows counts the file's data rows, good or not; Skipped the rows left
	// out for errors (only an applied upload with on_row_error=skip has any).
	Rows, Inserted, Updated, Unchanged, Deleted, Skipped int
	// What was detected (or forced): csv, xlsx or json; the character set;
	// the CSV delimiter; the XLSX sheet. Empty where it does not apply or
	// reading stopped before it was known.
	Format, Encoding, Delimiter, Sheet string
	// Detail says why a rejected upload applied nothing; "" when applied.
	Detail string
	// Errors are the first MaxUploadRowErrors row errors; ErrorCount is
	// how many there were in all.
	Errors     []UploadRowError
	ErrorCount int
	CreatedBy  string // the principal's subject, "user:ID" or "api_key:ID"
	CreatedAt  time.Time
	Duration   time.Duration
}

// UploadStore keeps the history of uploads.
type UploadStore interface {
	// CreateUpload records an upload attempt, giving it an id when it has
	// none. Errors: CodeNotFound when the connection is not the workspace's.
	CreateUpload(ctx context.Context, u *Upload) error
	// Uploads lists a connection's uploads, newest first, after the cursor
	// (an upload id). Errors: CodeNotFound when the connection is not the
	// workspace's.
	Uploads(ctx context.Context, workspaceID, connectionID string, page Page) ([]Upload, error)
	// LastDelimiter is the delimiter of the object's newest applied CSV
	// upload on the connection, or "" when it has none.
	LastDelimiter(ctx context.Context, workspaceID, connectionID, object string) (string, error)
}
