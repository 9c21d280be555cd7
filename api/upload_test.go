package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"

	"syncd/api"
	"syncd/domain"
)

// uploadCase is one upload request: the form's text fields in order, then
// the file (nil sends no file part).
type uploadCase struct {
	fields   [][2]string
	filename string
	file     []byte
}

func form(mode string, more ...string) [][2]string {
	f := [][2]string{{"object", "customers"}, {"mode", mode}}
	for i := 0; i+1 < len(more); i += 2 {
		f = append(f, [2]string{more[i], more[i+1]})
	}
	return f
}

// multipartBody encodes an upload form; fields after the file follow it.
func multipartBody(t *testing.T, u uploadCase, after ...[2]string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range u.fields {
		require.NoError(t, w.WriteField(f[0], f[1]))
	}
	if u.file != nil {
		fw, err := w.CreateFormFile("file", u.filename)
		require.NoError(t, err)
		_, err = fw.Write(u.file)
		require.NoError(t, err)
	}
	for _, f := range after {
		require.NoError(t, w.WriteField(f[0], f[1]))
	}
	require.NoError(t, w.Close())
	return w.FormDataContentType(), b.Bytes()
}

func (ts *testServer) upload(token, connID string, u uploadCase) *response {
	ts.t.Helper()
	ct, body := multipartBody(ts.t, u)
	return ts.do("POST", "/v1/connections/"+connID+"/uploads", token, body, "Content-Type", ct)
}

// uploads lists a connection's upload history.
func (ts *testServer) uploads(token, connID, query string) []map[string]any {
	ts.t.Helper()
	r := ts.do("GET", "/v1/connections/"+connID+"/uploads"+query, token, nil)
	require.Equal(ts.t, 200, r.Status, r.Text())
	var page struct {
		Data []map[string]any `json:"data"`
	}
	r.decode(&page)
	return page.Data
}

// customersConfig is a file connection's config: Danish and German column names.
const customersConfig = `{"objects":{"customers":{"id_column":"Kundennr","active_column":"Aktiv","updated_at_column":"Geändert"}}}`

// newConnection stores a connection of the workspace directly: the
// connections API is not what these tests are about.
func (ts *testServer) newConnection(workspaceID string, kind domain.ConnectionKind, config string) string {
	ts.t.Helper()
	c := &domain.Connection{WorkspaceID: workspaceID, Name: string(kind) + " connection", Kind: kind, Config: []byte(config)}
	require.NoError(ts.t, ts.Store.CreateConnection(context.Background(), c))
	return c.ID
}

// storedRecord is what a person would see of a stored record.
type storedRecord struct {
	Fields  domain.Fields
	Active  bool
	Deleted bool
	Updated string
	Version int64
}

// records returns the connection's stored customers, tombstones included.
func (ts *testServer) records(workspaceID, connID string) map[string]storedRecord {
	ts.t.Helper()
	list, err := ts.Store.Records(context.Background(), domain.RecordSet{WorkspaceID: workspaceID, ConnectionID: connID, Object: "customers"},
		domain.RecordFilter{IncludeDeleted: true}, domain.Page{Limit: 500})
	require.NoError(ts.t, err)
	out := map[string]storedRecord{}
	for _, r := range list {
		s := storedRecord{Fields: r.Fields, Active: r.Active, Deleted: r.Deleted, Version: r.Version}
		if r.SourceUpdatedAt != nil {
			s.Updated = r.SourceUpdatedAt.Format(time.RFC3339)
		}
		out[r.ExternalID] = s
	}
	return out
}

// cp1252 encodes text as Windows-1252, as Excel saves a German CSV.
func cp1252(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

const seedCSV = "Kundennr;Name;Ort;Aktiv;Geändert\n" +
	"1001;Søren Ærø;Århus;ja;01.03.2024 10:00\n" +
	"1002;Jürgen Weiß;Köln;nein;2024-03-02 11:30\n" +
	"1003;Åse Østergård;Ålborg;ja;\n" +
	"1004;Günther Öztürk;Düsseldorf;ja;2024-03-04\n"

func uploadServer(t *testing.T, tweak ...func(*api.Deps)) *testServer {
	t.Helper()
	return newServer(t, append([]func(*api.Deps){func(d *api.Deps) {
		d.Config.MassDeleteRatio = 0.5
		d.Config.UploadLimit = 64 << 20
		d.Config.SpoolDir = t.TempDir()
	}}, tweak...)...)
}

// seeded returns a server with a file connection holding the four seed customers.
func seeded(t *testing.T, tweak ...func(*api.Deps)) (*testServer, string) {
	t.Helper()
	ts := uploadServer(t, tweak...)
	conn := ts.newConnection(ts.Admin.WorkspaceID, domain.KindFile, customersConfig)
	r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full"), filename: "kunden.csv", file: cp1252(t, seedCSV)})
	require.Equal(t, 201, r.Status, r.Text())
	return ts, conn
}

func TestUploadCSV(t *testing.T) {
	ts, conn := seeded(t)
	ws := ts.Admin.WorkspaceID

	t.Run("export_writes_in_the_delimiter_the_uploads_use", func(t *testing.T) {
		exp := ts.do("GET", "/v1/connections/"+conn+"/objects/customers/export.csv", ts.Admin.Access, nil)
		require.Equal(t, 200, exp.Status, exp.Text())
		head, _, _ := strings.Cut(exp.Text(), "\r\n")
		require.Contains(t, head, ";", "no delimiter configured: the detected one, %q", head)
		require.NotContains(t, head, ",")
	})
	t.Run("semicolon_windows_1252_is_detected_and_stored_as_unicode", func(t *testing.T) {
		list := ts.uploads(ts.Admin.Access, conn, "")
		require.Len(t, list, 1)
		u := list[0]
		require.Equal(t, "applied", u["status"])
		require.Equal(t, "kunden.csv", u["filename"])
		require.Equal(t, "csv", u["format"])
		require.Equal(t, "windows-1252", u["encoding"])
		require.Equal(t, ";", u["delimiter"])
		require.EqualValues(t, 4, u["rows"])
		require.EqualValues(t, 4, u["inserted"])
		require.Equal(t, "user:"+ts.Admin.User, u["created_by"])

		recs := ts.records(ws, conn)
		require.Len(t, recs, 4)
		require.Equal(t, domain.Fields{"Name": "Søren Ærø", "Ort": "Århus"}, recs["1001"].Fields)
		require.Equal(t, "Jürgen Weiß", recs["1002"].Fields["Name"])
		require.Equal(t, "Düsseldorf", recs["1004"].Fields["Ort"])
		require.True(t, recs["1001"].Active)
		require.False(t, recs["1002"].Active, "nein is inactive")
		require.Equal(t, "2024-03-01T10:00:00Z", recs["1001"].Updated)
		require.Equal(t, "", recs["1003"].Updated)
	})
	t.Run("re_upload_of_the_same_file_changes_nothing", func(t *testing.T) {
		before := ts.records(ws, conn)
		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full"), filename: "kunden.csv", file: cp1252(t, seedCSV)})
		require.Equal(t, 201, r.Status, r.Text())
		u := r.JSON()
		require.EqualValues(t, 4, u["unchanged"])
		require.EqualValues(t, 0, u["inserted"])
		require.EqualValues(t, 0, u["updated"])
		require.Equal(t, before, ts.records(ws, conn))
	})
	t.Run("utf8_with_bom_and_commas", func(t *testing.T) {
		file := "\xEF\xBB\xBFKundennr,Name,Ort,Aktiv,Geändert\n1001,Søren Ærø,Aarhus,ja,\n1005,\"Weiß, Ærø & Co\",Åbenrå,x,\n"
		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("partial"), filename: "utf8.csv", file: []byte(file)})
		require.Equal(t, 201, r.Status, r.Text())
		u := r.JSON()
		require.Equal(t, "utf-8", u["encoding"])
		require.Equal(t, ",", u["delimiter"])
		require.EqualValues(t, 1, u["inserted"])
		require.EqualValues(t, 1, u["updated"])
		recs := ts.records(ws, conn)
		require.Equal(t, "Aarhus", recs["1001"].Fields["Ort"])
		require.Equal(t, "Weiß, Ærø & Co", recs["1005"].Fields["Name"])
		require.False(t, recs["1002"].Deleted, "a partial upload deletes nothing")
	})
	t.Run("form_fields_override_the_connection_config", func(t *testing.T) {
		file := cp1252(t, "Nummer|Name|Ort|Aktiv|Geändert\n1006|Mette Ødegård|Næstved|ja|\n")
		r := ts.upload(ts.Admin.Access, conn, uploadCase{
			fields: form("partial", "id_column", "Nummer", "delimiter", "|", "encoding", "iso-8859-15"), filename: "x.txt", file: file,
		})
		require.Equal(t, 201, r.Status, r.Text())
		require.Equal(t, "iso-8859-15", r.JSON()["encoding"])
		require.Equal(t, "Mette Ødegård", ts.records(ws, conn)["1006"].Fields["Name"])
	})
}

func TestUploadXLSXAndJSON(t *testing.T) {
	spool := t.TempDir()
	ts := uploadServer(t, func(d *api.Deps) { d.Config.SpoolDir = spool })
	ws := ts.Admin.WorkspaceID
	conn := ts.newConnection(ws, domain.KindFile, customersConfig)

	t.Run("xlsx_named_sheet", func(t *testing.T) {
		f := excelize.NewFile()
		_, err := f.NewSheet("Kunden")
		require.NoError(t, err)
		for cell, v := range map[string]any{
			"A1": "Kundennr", "B1": "Name", "C1": "Aktiv", "D1": "Geändert",
			"A2": 2001, "B2": "Ærø Bådebyggeri", "C2": "ja", "D2": "2024-05-01",
			"A3": 2002, "B3": "Müller & Söhne", "C3": "nein",
		} {
			require.NoError(t, f.SetCellValue("Kunden", cell, v))
		}
		require.NoError(t, f.SetCellValue("Sheet1", "A1", "not this sheet"))
		b, err := f.WriteToBuffer()
		require.NoError(t, err)
		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full", "sheet", "Kunden"), filename: "kunden.xlsx", file: b.Bytes()})
		require.Equal(t, 201, r.Status, r.Text())
		u := r.JSON()
		require.Equal(t, "xlsx", u["format"])
		require.Equal(t, "Kunden", u["sheet"])
		require.Equal(t, "", u["encoding"])
		require.EqualValues(t, 2, u["inserted"])
		recs := ts.records(ws, conn)
		require.Equal(t, "Ærø Bådebyggeri", recs["2001"].Fields["Name"])
		require.False(t, recs["2002"].Active)
		require.Equal(t, "2024-05-01T00:00:00Z", recs["2001"].Updated)
		left, err := os.ReadDir(spool)
		require.NoError(t, err)
		require.Empty(t, left, "the workbook's spooled copy is removed")
	})
	t.Run("json_array_keeps_types", func(t *testing.T) {
		file := `[{"Kundennr": 2001, "Name": "Ærø Bådebyggeri", "Aktiv": true, "Umsatz": 1234.5},
		          {"Kundennr": "2003", "Name": "Jørgensen", "Aktiv": "ja", "Tags": ["a", "b"]}]`
		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("partial"), filename: "kunden.json", file: []byte(file)})
		require.Equal(t, 201, r.Status, r.Text())
		u := r.JSON()
		require.Equal(t, "json", u["format"])
		require.EqualValues(t, 1, u["inserted"])
		require.EqualValues(t, 1, u["updated"])
		recs := ts.records(ws, conn)
		require.Equal(t, json.Number("1234.5"), recs["2001"].Fields["Umsatz"])
		require.Equal(t, []any{"a", "b"}, recs["2003"].Fields["Tags"])
	})
	t.Run("ndjson", func(t *testing.T) {
		file := "{\"Kundennr\": \"2004\", \"Name\": \"Weiß\", \"Aktiv\": \"ja\"}\n{\"Kundennr\": \"2005\", \"Name\": \"Æbelø\", \"Aktiv\": false}\n"
		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("partial"), filename: "kunden.ndjson", file: []byte(file)})
		require.Equal(t, 201, r.Status, r.Text())
		require.EqualValues(t, 2, r.JSON()["inserted"])
		recs := ts.records(ws, conn)
		require.Equal(t, "Weiß", recs["2004"].Fields["Name"])
		require.True(t, recs["2004"].Active)
		require.False(t, recs["2005"].Active)
	})
}

func TestUploadModes(t *testing.T) {
	t.Run("full_tombstones_missing_records_and_partial_does_not", func(t *testing.T) {
		ts, conn := seeded(t)
		ws := ts.Admin.WorkspaceID
		partial := cp1252(t, "Kundennr;Name;Ort;Aktiv;Geändert\n1001;Søren Ærø;Odense;ja;\n")
		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("partial"), filename: "p.csv", file: partial})
		require.Equal(t, 201, r.Status, r.Text())
		require.EqualValues(t, 0, r.JSON()["deleted"])
		require.Len(t, liveOf(ts.records(ws, conn)), 4)

		full := cp1252(t, strings.Join(strings.Split(seedCSV, "\n")[:4], "\n")+"\n") // without 1004
		r = ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full"), filename: "f.csv", file: full})
		require.Equal(t, 201, r.Status, r.Text())
		u := r.JSON()
		require.EqualValues(t, 1, u["deleted"])
		require.EqualValues(t, 1, u["updated"], "1001 is back in Århus")
		recs := ts.records(ws, conn)
		require.True(t, recs["1004"].Deleted)
		require.Equal(t, "Århus", recs["1001"].Fields["Ort"])
	})
	t.Run("mass_delete_is_refused_then_confirmed", func(t *testing.T) {
		ts, conn := seeded(t)
		ws := ts.Admin.WorkspaceID
		before := ts.records(ws, conn)
		one := cp1252(t, "Kundennr;Name;Ort;Aktiv;Geändert\n1001;Søren Ærø;Århus;ja;01.03.2024 10:00\n")
		p := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full"), filename: "one.csv", file: one}).problem(409)
		require.Contains(t, p["detail"], "would delete 3 of 4 records")
		require.EqualValues(t, 3, p["would_delete"])
		require.NotEmpty(t, p["upload_id"])
		require.Equal(t, before, ts.records(ws, conn))

		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full", "confirm_mass_delete", "true"), filename: "one.csv", file: one})
		require.Equal(t, 201, r.Status, r.Text())
		require.EqualValues(t, 3, r.JSON()["deleted"])
		require.Len(t, liveOf(ts.records(ws, conn)), 1)

		hist := ts.uploads(ts.Admin.Access, conn, "")
		require.Equal(t, []any{"applied", "rejected", "applied"}, []any{hist[0]["status"], hist[1]["status"], hist[2]["status"]})
		require.Equal(t, p["upload_id"], hist[1]["id"])
		require.Contains(t, hist[1]["detail"], "confirm_mass_delete")
	})
	t.Run("skip_applies_the_good_rows_and_lists_the_bad", func(t *testing.T) {
		ts, conn := seeded(t)
		ws := ts.Admin.WorkspaceID
		file := cp1252(t, "Kundennr;Name;Ort;Aktiv;Geändert\n1001;Søren;Vejle;ja;\n;Ohne Nummer;Bonn;ja;\n1007;Neu;Kiel;vielleicht;\n1008;Neu 2;Ulm;ja;\n")
		p := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("partial"), filename: "bad.csv", file: file}).problem(422)
		require.EqualValues(t, 2, p["error_count"])
		require.Contains(t, p["detail"], "on_row_error=skip")
		require.Equal(t, "Århus", ts.records(ws, conn)["1001"].Fields["Ort"], "rejected whole by default")

		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("partial", "on_row_error", "skip"), filename: "bad.csv", file: file})
		require.Equal(t, 201, r.Status, r.Text())
		u := r.JSON()
		require.EqualValues(t, 4, u["rows"])
		require.EqualValues(t, 2, u["skipped"])
		require.EqualValues(t, 1, u["inserted"])
		require.EqualValues(t, 1, u["updated"])
		errs := u["errors"].([]any)
		require.Len(t, errs, 2)
		require.Equal(t, map[string]any{"row": 3.0, "line": 3.0, "column": "Kundennr", "message": "the id is empty"}, errs[0])
		require.Equal(t, "Aktiv", errs[1].(map[string]any)["column"])
		recs := ts.records(ws, conn)
		require.Equal(t, "Vejle", recs["1001"].Fields["Ort"])
		require.Contains(t, recs, "1008")
		require.NotContains(t, recs, "1007")
	})
	t.Run("full_upload_keeps_the_records_of_skipped_rows", func(t *testing.T) {
		ts, conn := seeded(t)
		ws := ts.Admin.WorkspaceID
		before := ts.records(ws, conn)
		// 1001 changes, 1003 is gone, 1004's row has a bad value (and a
		// changed town that must not be applied), and one row has no id.
		file := cp1252(t, "Kundennr;Name;Ort;Aktiv;Geändert\n"+
			"1001;Søren Ærø;Vejle;ja;01.03.2024 10:00\n"+
			"1002;Jürgen Weiß;Köln;nein;2024-03-02 11:30\n"+
			"1004;Günther Öztürk;Essen;kaputt;2024-03-04\n"+
			";Ohne Nummer;Bonn;ja;\n")
		p := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full"), filename: "f.csv", file: file}).problem(422)
		require.EqualValues(t, 2, p["error_count"])
		require.Equal(t, before, ts.records(ws, conn), "rejected whole by default")

		r := ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full", "on_row_error", "skip"), filename: "f.csv", file: file})
		require.Equal(t, 201, r.Status, r.Text())
		u := r.JSON()
		require.EqualValues(t, 4, u["rows"])
		require.EqualValues(t, 2, u["skipped"])
		require.EqualValues(t, 1, u["updated"])
		require.EqualValues(t, 1, u["unchanged"])
		require.EqualValues(t, 1, u["deleted"], "only the record missing from the file")
		errs := u["errors"].([]any)
		require.Equal(t, "1004", errs[0].(map[string]any)["id"], "the bad value's row names its record")
		require.NotContains(t, errs[1], "id", "a row without an id names none")
		after := ts.records(ws, conn)
		require.Equal(t, "Vejle", after["1001"].Fields["Ort"])
		require.True(t, after["1003"].Deleted)
		require.Equal(t, before["1004"], after["1004"], "the skipped row's record is kept as it was")

		// Rows whose id is at fault name no record; the rest is applied.
		require.Equal(t, 201, ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full"), filename: "f.csv", file: cp1252(t, seedCSV)}).Status)
		restored := ts.records(ws, conn)
		file = cp1252(t, seedCSV+";Ohne Nummer;Bonn;ja;\n1001;Doppelt;Kiel;ja;\n")
		r = ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("full", "on_row_error", "skip"), filename: "f.csv", file: file})
		require.Equal(t, 201, r.Status, r.Text())
		require.EqualValues(t, 2, r.JSON()["skipped"])
		require.Equal(t, restored, ts.records(ws, conn))
	})
}

func liveOf(recs map[string]storedRecord) []string {
	var ids []string
	for id, r := range recs {
		if !r.Deleted {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestUploadAccess(t *testing.T) {
	ts, conn := seeded(t)
	file := uploadCase{fields: form("partial"), filename: "k.csv", file: cp1252(t, seedCSV)}

	t.Run("another_workspace_gets_404", func(t *testing.T) {
		other := ts.newWorkspace("other@example.com")
		ts.upload(other.Access, conn, file).problem(404)
		ts.do("GET", "/v1/connections/"+conn+"/uploads", other.Access, nil).problem(404)
		require.Len(t, ts.uploads(ts.Admin.Access, conn, ""), 1, "nothing was recorded for the stranger")
	})
	t.Run("viewer_may_list_but_not_upload", func(t *testing.T) {
		viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
		p := ts.upload(viewer.Access, conn, file).problem(403)
		require.Contains(t, p["detail"], "operator")
		require.Len(t, ts.uploads(viewer.Access, conn, ""), 1)
	})
	t.Run("operator_may_upload", func(t *testing.T) {
		op := ts.login(createUser(t, ts, "operator@example.com", "operator"), "password-operator@example.com")
		r := ts.upload(op.Access, conn, file)
		require.Equal(t, 201, r.Status, r.Text())
	})
	t.Run("no_credentials_is_401", func(t *testing.T) {
		ts.upload("", conn, file).problem(401)
	})
	t.Run("unknown_connection_is_404", func(t *testing.T) {
		ts.upload(ts.Admin.Access, "no-such-connection", file).problem(404)
	})
	t.Run("rest_connection_takes_no_uploads", func(t *testing.T) {
		rest := ts.newConnection(ts.Admin.WorkspaceID, domain.KindREST, `{"base_url":"https://crm.example.com","objects":{}}`)
		p := ts.upload(ts.Admin.Access, rest, file).problem(409)
		require.Contains(t, p["detail"], "pull")
	})
	t.Run("hosted_connection_takes_a_bulk_load", func(t *testing.T) {
		hosted := ts.newConnection(ts.Admin.WorkspaceID, domain.KindHosted,
			`{"objects":{"customers":{"id_field":"Kundennr"},"contacts":{"fields":["Name","Ort"]}}}`)
		r := ts.upload(ts.Admin.Access, hosted, uploadCase{fields: form("partial"), filename: "k.csv", file: cp1252(t, seedCSV)})
		require.Equal(t, 201, r.Status, r.Text())
		require.EqualValues(t, 4, r.JSON()["inserted"])
		recs := ts.records(ts.Admin.WorkspaceID, hosted)
		require.Equal(t, "Søren Ærø", recs["1001"].Fields["Name"])
		require.Contains(t, recs["1001"].Fields, "Aktiv", "a hosted object maps no active column")

		contacts := uploadCase{fields: [][2]string{{"object", "contacts"}, {"mode", "partial"}, {"id_column", "Kundennr"}},
			filename: "k.csv", file: cp1252(t, seedCSV)}
		p := ts.upload(ts.Admin.Access, hosted, contacts).problem(422)
		require.Contains(t, p["detail"], `column "Aktiv" is not one of the object's fields (Name, Ort)`)
		contacts.file = cp1252(t, "Kundennr;Name;Ort\n7;Ida;Odense\n")
		r = ts.upload(ts.Admin.Access, hosted, contacts)
		require.Equal(t, 201, r.Status, r.Text())
	})
}

func TestUploadHistory(t *testing.T) {
	ts, conn := seeded(t)
	for i := range 3 {
		file := cp1252(t, fmt.Sprintf("Kundennr;Name;Ort;Aktiv;Geändert\n%d;N;O;ja;\n", 3000+i))
		require.Equal(t, 201, ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("partial"), filename: fmt.Sprintf("h%d.csv", i), file: file}).Status)
	}
	ts.upload(ts.Admin.Access, conn, uploadCase{fields: form("partial"), filename: "empty.csv", file: []byte{}}).problem(422)

	r := ts.do("GET", "/v1/connections/"+conn+"/uploads?limit=3", ts.Admin.Access, nil)
	require.Equal(t, 200, r.Status, r.Text())
	var page struct {
		Data       []map[string]any `json:"data"`
		NextCursor *string          `json:"next_cursor"`
	}
	r.decode(&page)
	require.Len(t, page.Data, 3)
	require.Equal(t, "empty.csv", page.Data[0]["filename"])
	require.Equal(t, "rejected", page.Data[0]["status"])
	require.Contains(t, page.Data[0]["detail"], "empty")
	require.Equal(t, "h2.csv", page.Data[1]["filename"])
	require.NotNil(t, page.NextCursor)
	rest := ts.uploads(ts.Admin.Access, conn, "?limit=3&cursor="+*page.NextCursor)
	require.Len(t, rest, 2)
	require.Equal(t, "h0.csv", rest[0]["filename"])
	require.Equal(t, "kunden.csv", rest[1]["filename"])
}

// rawUpload sends a body as is, for requests a multipart writer would not make.
func (ts *testServer) rawUpload(connID, contentType string, body io.Reader) *response {
	ts.t.Helper()
	req, err := http.NewRequest("POST", ts.URL+"/v1/connections/"+connID+"/uploads", body)
	require.NoError(ts.t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+ts.Admin.Access)
	return ts.send(req)
}
