package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/connector/file"
	"syncd/domain"
)

// uploadStore is what uploads need from persistence.
type uploadStore interface {
	Connection(ctx context.Context, workspaceID, id string) (*domain.Connection, error)
	domain.RecordStore
	domain.UploadStore
}

// uploadHandlers bring uploaded files into a connection's records. The
// file is streamed from the request through the reader into the store's
// staging area and applied in one transaction, or not at all.
type uploadHandlers struct {
	store    uploadStore
	limit    int64       // bytes of one upload request (SYNCD_UPLOAD_LIMIT)
	limits   file.Limits // what one file may cost beyond its size
	ratio    float64     // SYNCD_MASS_DELETE_RATIO
	spoolDir string
	now      func() time.Time
}

func newUploadHandlers(d Deps) *uploadHandlers {
	lim := d.Config.FileLimits
	if d.Config.UploadLimit > 0 {
		lim.MaxBytes = d.Config.UploadLimit
	}
	return &uploadHandlers{
		store: d.Store, limit: d.Config.UploadLimit, limits: lim, ratio: d.Config.MassDeleteRatio,
		spoolDir: d.Config.SpoolDir, now: d.Now,
	}
}

// formSlack is what the multipart framing and the text fields may add to
// the file's size.
const formSlack = 1 << 20

// drainLimit is how much of a refused request's remaining body is read, so
// the client, still sending, gets to see the answer.
const drainLimit = 8 << 20

// CreateUpload reads the file part of a multipart form and applies its
// records to the connection's object. The text fields come first; the
// file part must be the last part.
func (h *uploadHandlers) CreateUpload(c echo.Context, connectionID string, _ CreateUploadParams) error {
	err := h.createUpload(c, connectionID)
	if err == nil {
		return nil
	}
	// Answer first (through the one error handler), then read on a little:
	// a client that is still sending gets to see the answer instead of a
	// reset connection. The connection closes after the answer, as what is
	// left of the body may be long (see endBody).
	c.Response().Header().Set(echo.HeaderConnection, "close")
	c.Error(err)
	c.Response().Flush()
	_, _ = io.CopyN(io.Discard, c.Request().Body, drainLimit)
	return nil
}

func (h *uploadHandlers) createUpload(c echo.Context, connectionID string) error {
	ctx := c.Request().Context()
	p := principal(c)
	conn, err := h.store.Connection(ctx, p.WorkspaceID, connectionID)
	if err != nil {
		return err
	}
	if conn.Kind != domain.KindFile && conn.Kind != domain.KindHosted {
		return errNoUploads(conn.Kind)
	}
	req := c.Request()
	// Answer a broken file while the client is still sending it, rather
	// than reading on first (net/http's default for HTTP/1.1).
	_ = http.NewResponseController(c.Response()).EnableFullDuplex()
	if h.limit > 0 {
		req.Body = http.MaxBytesReader(c.Response(), req.Body, h.limit+formSlack)
	}
	mr, err := multipartReader(req)
	if err != nil {
		return err
	}
	form, part, err := readUploadForm(mr)
	if err != nil {
		return err
	}
	settings, err := settingsFor(conn, form)
	if err != nil {
		return err
	}
	up := &domain.Upload{
		WorkspaceID: p.WorkspaceID, ConnectionID: conn.ID, Object: form.Object, Filename: uploadFilename(part),
		Mode: form.Mode, CreatedBy: p.Subject(), CreatedAt: h.now(),
	}
	start := time.Now()
	applyErr := h.apply(ctx, up, form, settings, part, mr)
	up.Duration = time.Since(start)
	up.Status = domain.UploadApplied
	if applyErr != nil {
		de := asDomainError(applyErr)
		if statusOf[de.Code] >= 500 || statusOf[de.Code] == 0 {
			// A failing database, a cancelled request or a bug: not the
			// file's fault, and maybe not recordable either.
			return applyErr
		}
		up.Status, up.Detail = domain.UploadRejected, de.Message
	}
	if err := h.store.CreateUpload(context.WithoutCancel(ctx), up); err != nil {
		return err
	}
	if applyErr != nil {
		return withUploadID(applyErr, up.ID)
	}
	endBody(c)
	return c.JSON(http.StatusCreated, uploadOut(up))
}

// endBody reads what the client sends after the form's end (an epilogue)
// before the answer. With full duplex on, net/http leaves the rest of a
// body to after the answer, and when it meets the body's end there it
// panics reading the connection's next request (golang/go#68560). A body
// that goes on past epilogueLimit, or stalls, closes the connection
// instead.
func endBody(c echo.Context) {
	const epilogueLimit = 64 << 10
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(time.Second))
	_, err := io.CopyN(io.Discard, c.Request().Body, epilogueLimit)
	_ = rc.SetReadDeadline(time.Time{})
	if !errors.Is(err, io.EOF) {
		c.Response().Header().Set(echo.HeaderConnection, "close")
	}
}

// apply streams the file into a staged apply and commits it when the file
// is whole and its rows may be applied. It fills up's detected format and
// stats; an error means nothing was applied.
func (h *uploadHandlers) apply(ctx context.Context, up *domain.Upload, form uploadForm, set uploadSettings, part *multipart.Part, mr *multipart.Reader) error {
	staged, err := h.store.StageRecords(ctx, domain.RecordSet{WorkspaceID: up.WorkspaceID, ConnectionID: up.ConnectionID, Object: up.Object})
	if err != nil {
		return err
	}
	defer staged.Discard(context.WithoutCancel(ctx))
	opts := set.Options()
	opts.Format, opts.Filename, opts.SpoolDir, opts.Limits = form.Format, up.Filename, h.spoolDir, h.limits
	det, rowErrs, err := file.Read(ctx, part, opts, set.Mapping(), func(_ int, r domain.Record) error {
		return staged.Add(ctx, r)
	})
	up.Format, up.Encoding, up.Delimiter, up.Sheet = string(det.Format), det.Encoding, det.Delimiter, det.Sheet
	if up.Format == string(file.FormatXLSX) {
		up.Encoding = ""
	}
	up.Errors, up.ErrorCount = rowErrors(rowErrs), len(rowErrs)
	bad := badRows(rowErrs)
	up.Rows = det.Rows + bad
	if err != nil {
		return uploadReadError(err)
	}
	// Whatever follows the file must be the form's end: a field after the
	// file could not be honoured, and a cut-off body must not be applied.
	if next, err := mr.NextPart(); !errors.Is(err, io.EOF) {
		if err != nil {
			return multipartError(err)
		}
		return domain.Invalid("the file must be the last part of the form", map[string]string{next.FormName(): "must come before the file part"})
	}
	if err := set.checkColumns(det.Columns); err != nil {
		return err
	}
	if det.Rows == 0 && form.Mode == domain.ApplyPartial {
		// A full upload without rows means the object is now empty (which
		// the mass-delete rule guards); a partial one can only be a mistake.
		msg := "the file has a header but no data rows; nothing was applied"
		if bad > 0 {
			msg = fmt.Sprintf("all %d rows have errors; nothing was applied", bad)
		}
		return &domain.Error{Code: domain.CodeUnprocessable, Message: msg,
			Details: map[string]any{"row_errors": rowErrorsOut(up.Errors), "error_count": up.ErrorCount}}
	}
	if len(rowErrs) > 0 {
		if form.OnRowError != onRowErrorSkip {
			return &domain.Error{Code: domain.CodeUnprocessable,
				Message: fmt.Sprintf("%d of %d rows have errors, so nothing was applied; fix them, or send on_row_error=skip to apply the other rows", bad, up.Rows),
				Details: map[string]any{"row_errors": rowErrorsOut(up.Errors), "error_count": up.ErrorCount}}
		}
		if form.Mode == domain.ApplyFull {
			if err := keepNamed(ctx, staged, rowErrs); err != nil {
				return err
			}
		}
		up.Skipped = bad
	}
	st, err := staged.Commit(ctx, domain.ApplyOptions{
		Mode: form.Mode, MaxDeleteRatio: h.ratio, ConfirmMassDelete: form.ConfirmMassDelete,
		Source: "upload", Origin: domain.OriginSource, Now: up.CreatedAt, UniqueIDs: true,
	})
	if err != nil {
		return err
	}
	up.Inserted, up.Updated, up.Unchanged, up.Deleted = st.Inserted, st.Updated, st.Unchanged, st.Deleted
	return nil
}

// keepNamed keeps the records of a full upload's skipped rows as they are,
// where a row's id could be read: skipping a row must not delete its
// record. A row's errors come one after another, and only one row names
// an id (a repeat of it is an id error).
func keepNamed(ctx context.Context, staged domain.RecordApply, errs []file.RowError) error {
	last := ""
	for _, e := range errs {
		if e.ID == "" || e.ID == last {
			continue
		}
		if err := staged.Keep(ctx, e.ID); err != nil {
			return err
		}
		last = e.ID
	}
	return nil
}

// uploadReadError passes the reader's errors on; a body over the request
// limit is explained like a file over it.
func uploadReadError(err error) error {
	if tooLarge(err) {
		return errBodyTooLarge
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, multipart.ErrMessageTooLarge) {
		return domain.Wrap(domain.CodeMalformed, err, "the upload was cut off before the file ended")
	}
	return err
}

// withUploadID names the recorded upload in a refusal, so the client can
// find it in the history.
func withUploadID(err error, id string) error {
	de := asDomainError(err)
	out := *de
	out.Details = maps.Clone(de.Details)
	if out.Details == nil {
		out.Details = map[string]any{}
	}
	out.Details["upload_id"] = id
	return &out
}

// rowErrors turns the reader's row errors into the domain's.
func rowErrors(errs []file.RowError) []domain.UploadRowError {
	out := make([]domain.UploadRowError, len(errs))
	for i, e := range errs {
		out[i] = domain.UploadRowError(e)
	}
	return out
}

// badRows counts the distinct rows with errors; a row may have several.
func badRows(errs []file.RowError) int {
	n, last := 0, -1
	for _, e := range errs {
		if e.Row != last {
			n++
			last = e.Row
		}
	}
	return n
}

// ListUploads lists a connection's uploads, newest first.
func (h *uploadHandlers) ListUploads(c echo.Context, connectionID string, params ListUploadsParams) error {
	pg, err := pageOf(params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	list, err := h.store.Uploads(c.Request().Context(), principal(c).WorkspaceID, connectionID, pg)
	if err != nil {
		return err
	}
	out := UploadList{Data: make([]Upload, len(list))}
	for i := range list {
		out.Data[i] = uploadOut(&list[i])
	}
	out.NextCursor = nextCursor(len(list), pg, func() string { return list[len(list)-1].ID })
	return c.JSON(http.StatusOK, out)
}

func rowErrorsOut(list []domain.UploadRowError) []UploadRowError {
	out := make([]UploadRowError, len(list))
	for i, e := range list {
		out[i] = UploadRowError{Row: e.Row, Message: e.Message}
		if e.Line > 0 {
			out[i].Line = &e.Line
		}
		if e.Column != "" {
			out[i].Column = &e.Column
		}
		if e.ID != "" {
			out[i].Id = &e.ID
		}
	}
	return out
}

func uploadOut(u *domain.Upload) Upload {
	return Upload{
		Id: u.ID, ConnectionId: u.ConnectionID, Object: u.Object, Filename: u.Filename,
		Mode: UploadMode(u.Mode), Status: UploadStatus(u.Status),
		Rows: u.Rows, Inserted: u.Inserted, Updated: u.Updated, Unchanged: u.Unchanged, Deleted: u.Deleted, Skipped: u.Skipped,
		Format: u.Format, Encoding: u.Encoding, Delimiter: u.Delimiter, Sheet: u.Sheet, Detail: u.Detail,
		Errors: rowErrorsOut(u.Errors), ErrorCount: u.ErrorCount, CreatedBy: u.CreatedBy, CreatedAt: u.CreatedAt, DurationMs: int(u.Duration.Milliseconds()),
	}
}
