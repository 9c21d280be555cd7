package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"syncd/connector/file"
	"syncd/connector/hosted"
	"syncd/domain"
)

// uploadForm holds the text fields of an upload request. They must come
// before the file part: the file is read as it arrives and never stored.
type uploadForm struct {
	Object            string
	Mode              domain.ApplyMode
	Format            file.Format
	Delimiter         string
	Encoding          string
	IDColumn          string
	Sheet             string
	OnRowError        string
	ConfirmMassDelete bool
}

// The values of on_row_error.
const (
	onRowErrorReject = "reject"
	onRowErrorSkip   = "skip"
)

// maxFormField bounds one text field of the form.
const maxFormField = 1024

// uploadFields are the text fields an upload form may carry.
var uploadFields = map[string]bool{
	"object": true, "mode": true, "format": true, "delimiter": true, "encoding": true,
	"id_column": true, "sheet": true, "on_row_error": true, "confirm_mass_delete": true,
}

// multipartReader checks the media type and opens the form for streaming.
func multipartReader(r *http.Request) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, domain.Errorf(domain.CodeUnsupportedType,
			"an upload must be sent as multipart/form-data with the file in a part named \"file\" (got %q)", r.Header.Get("Content-Type"))
	}
	return multipart.NewReader(r.Body, params["boundary"]), nil
}

// readUploadForm reads the text fields up to the file part and returns
// them with that part, unread.
func readUploadForm(mr *multipart.Reader) (uploadForm, *multipart.Part, error) {
	raw := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return uploadForm{}, nil, domain.Invalid("the form has no file", map[string]string{"file": "required: send the file in a part named \"file\", after the other fields"})
		}
		if err != nil {
			return uploadForm{}, nil, multipartError(err)
		}
		name := part.FormName()
		if name == "file" {
			f, err := parseUploadForm(raw)
			return f, part, err
		}
		if !uploadFields[name] {
			part.Close()
			return uploadForm{}, nil, domain.Invalid("the form has an unknown field", map[string]string{name: "unknown field"})
		}
		if _, dup := raw[name]; dup {
			part.Close()
			return uploadForm{}, nil, domain.Invalid("the form has a field twice", map[string]string{name: "given twice"})
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
		part.Close()
		if err != nil {
			return uploadForm{}, nil, multipartError(err)
		}
		if len(b) > maxFormField {
			return uploadForm{}, nil, domain.Invalid("a form field is too long", map[string]string{name: fmt.Sprintf("must be at most %d bytes", maxFormField)})
		}
		raw[name] = string(b)
	}
}

// multipartError explains a body that is not a readable multipart form.
func multipartError(err error) error {
	if tooLarge(err) {
		return errBodyTooLarge
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	return domain.Wrap(domain.CodeMalformed, err, "the multipart form cannot be read: "+err.Error())
}

// parseUploadForm checks the text fields, collecting every problem.
func parseUploadForm(raw map[string]string) (uploadForm, error) {
	f := uploadForm{
		Object: strings.TrimSpace(raw["object"]), Mode: domain.ApplyMode(raw["mode"]), Format: file.Format(raw["format"]),
		Encoding: raw["encoding"], IDColumn: raw["id_column"], Sheet: raw["sheet"], OnRowError: raw["on_row_error"],
	}
	bad := map[string]string{}
	if f.Object == "" || len(f.Object) > 200 {
		bad["object"] = "required: the object (e.g. customers) the file's records belong to, 1 to 200 characters"
	}
	if f.Mode != domain.ApplyFull && f.Mode != domain.ApplyPartial {
		bad["mode"] = "required: full (records missing from the file are deleted) or partial (upsert only)"
	}
	switch f.Format {
	case "", file.FormatCSV, file.FormatXLSX, file.FormatJSON:
	default:
		bad["format"] = "must be csv, xlsx or json (or left out to detect it)"
	}
	switch f.OnRowError {
	case "":
		f.OnRowError = onRowErrorReject
	case onRowErrorReject, onRowErrorSkip:
	default:
		bad["on_row_error"] = "must be reject (nothing is applied when a row has an error) or skip (apply the other rows)"
	}
	switch raw["confirm_mass_delete"] {
	case "", "false":
	case "true":
		f.ConfirmMassDelete = true
	default:
		bad["confirm_mass_delete"] = "must be true or false"
	}
	switch d := raw["delimiter"]; d {
	case "tab", `\t`:
		f.Delimiter = "\t"
	default:
		if d != "" && utf8.RuneCountInString(d) != 1 {
			bad["delimiter"] = "must be one character, such as ; , | or tab"
		}
		f.Delimiter = d
	}
	if len(bad) > 0 {
		return f, domain.Invalid("the upload form has invalid fields", bad)
	}
	return f, nil
}

// errNoUploads explains why a connection takes no files.
func errNoUploads(kind domain.ConnectionKind) error {
	return domain.Errorf(domain.CodeConflict,
		"a %s connection takes no uploads: its records come from its API (use POST /v1/connections/{id}/objects/{object}/pull)", kind)
}

// uploadSettings are how one upload's file is read.
type uploadSettings struct {
	file.ObjectConfig
	// Allowed, when set, are the only columns besides the id a hosted
	// object takes.
	Allowed []string
}

// settingsFor decides how the file is read: the object's settings in the
// connection's config (a file connection's upload settings, a hosted
// connection's id field), with the form's overrides.
func settingsFor(conn *domain.Connection, f uploadForm) (uploadSettings, error) {
	var set uploadSettings
	var names []string
	found := false
	switch conn.Kind {
	case domain.KindFile:
		var cfg file.Config
		if err := json.Unmarshal(conn.Config, &cfg); err != nil {
			return set, domain.Wrap(domain.CodeConflict, err, "the connection's config cannot be read; update it")
		}
		set.ObjectConfig, found = cfg.Objects[f.Object]
		names = slices.Collect(maps.Keys(cfg.Objects))
	case domain.KindHosted:
		var cfg hosted.Config
		if err := json.Unmarshal(conn.Config, &cfg); err != nil {
			return set, domain.Wrap(domain.CodeConflict, err, "the connection's config cannot be read; update it")
		}
		var o hosted.ObjectConfig
		if o, found = cfg.Objects[f.Object]; found {
			set.IDColumn, set.Allowed = cmp.Or(o.IDField, "id"), o.Fields
		}
		names = slices.Collect(maps.Keys(cfg.Objects))
	default:
		return set, errNoUploads(conn.Kind)
	}
	if !found {
		slices.Sort(names)
		for i, n := range names {
			names[i] = strconv.Quote(n)
		}
		return set, domain.Invalid("unknown object", map[string]string{
			"object": fmt.Sprintf("the connection has no object %q; its objects are %s", f.Object, strings.Join(names, ", ")),
		})
	}
	oc := &set.ObjectConfig
	oc.IDColumn = cmp.Or(f.IDColumn, oc.IDColumn)
	oc.Delimiter = cmp.Or(f.Delimiter, oc.Delimiter)
	oc.Encoding = cmp.Or(f.Encoding, oc.Encoding)
	oc.Sheet = cmp.Or(f.Sheet, oc.Sheet)
	// The reader checks the merged settings; its field paths name the
	// config, which the form's fields mirror.
	err := file.Config{Objects: map[string]file.ObjectConfig{f.Object: *oc}}.Validate()
	var de *domain.Error
	if errors.As(err, &de) {
		bad := map[string]string{}
		prefix := "objects." + f.Object + "."
		for k, v := range de.Fields {
			bad[strings.TrimPrefix(k, prefix)] = v
		}
		return set, domain.Invalid("the upload settings are invalid", bad)
	}
	return set, err
}

// checkColumns refuses a file for a hosted object with columns (or JSON
// keys) beyond the object's fields, as the hosted API refuses such writes.
func (s uploadSettings) checkColumns(columns []string) error {
	if len(s.Allowed) == 0 {
		return nil
	}
	for _, c := range columns {
		if !strings.EqualFold(strings.TrimSpace(c), strings.TrimSpace(s.IDColumn)) && !slices.Contains(s.Allowed, c) {
			return &domain.Error{Code: domain.CodeInvalid, Details: map[string]any{"column": c},
				Message: fmt.Sprintf("column %q is not one of the object's fields (%s); nothing was applied", c, strings.Join(s.Allowed, ", "))}
		}
	}
	return nil
}

// uploadFilename keeps the base name of the file as the client named it.
func uploadFilename(p *multipart.Part) string {
	name := filepath.Base(strings.ReplaceAll(p.FileName(), `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
