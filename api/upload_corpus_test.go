package api_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"syncd/api"
)

// TestUploadBadInput sends files that must be refused with a clear 4xx
// problem, and checks each time that the stored records did not change.
func TestUploadBadInput(t *testing.T) {
	ts, conn := seeded(t, func(d *api.Deps) {
		d.Config.FileLimits.MaxUnzipBytes = 16 << 20
		d.Config.FileLimits.MaxXMLInMemory = 4 << 20
	})
	ws := ts.Admin.WorkspaceID
	before := ts.records(ws, conn)
	require.Len(t, before, 4)
	header := "Kundennr;Name;Ort;Aktiv;Geändert\n"
	row := "1001;Søren Ærø;Århus;ja;01.03.2024 10:00\n"

	garbage := make([]byte, 4096)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rnd.UintN(256))
	}
	wide := make([]string, 10_000)
	for i := range wide {
		wide[i] = "c" + strconv.Itoa(i) // short, so the header fits the delimiter sniffer's window
	}
	wide[0] = "Kundennr"

	cases := []struct {
		name    string
		u       uploadCase
		status  int
		detail  string         // a part of the problem's detail
		members map[string]any // extension members the problem must carry
	}{
		{name: "empty_file", u: csvCase("partial", ""), status: 422, detail: "file is empty"},
		{name: "header_only_partial", u: csvCase("partial", header), status: 422, detail: "no data rows"},
		{name: "header_only_full_deletes_everything", u: csvCase("full", header), status: 409, detail: "would delete 4 of 4 records"},
		{name: "binary_garbage", u: uploadCase{fields: form("full"), filename: "kunden.csv", file: garbage}, status: 422, detail: "not a text file"},
		{name: "unbalanced_quotes", u: csvCase("full", header+row+"1002;\"Jürgen Weiß;Köln;nein;\n1003;Åse;Ålborg;ja;\n"),
			status: 422, detail: "not closed", members: map[string]any{"row": 3.0}},
		{name: "ragged_rows", u: csvCase("full", header+row+"1002;Jürgen Weiß;Köln\n"),
			status: 422, detail: "row 3 (line 3) has 3 fields but the header has 5", members: map[string]any{"row": 3.0, "line": 3.0}},
		{name: "duplicate_ids", u: csvCase("full", header+row+"1002;Jürgen;Köln;ja;\n1001;Søren again;Århus;ja;\n"),
			status: 422, detail: "1 of 3 rows have errors"},
		{name: "missing_id", u: csvCase("full", header+row+";Ohne Nummer;Bonn;ja;\n"), status: 422, detail: "1 of 2 rows have errors"},
		{name: "field_of_1_MB", u: csvCase("full", header+"1001;"+strings.Repeat("ø", 1<<19)+";Århus;ja;\n"),
			status: 413, detail: "longer than 64 KiB", members: map[string]any{"row": 2.0, "column": "Name"}},
		{name: "10000_columns", u: csvCase("full", strings.Join(wide, ";")+"\n"), status: 413, detail: "at most 1000 are allowed"},
		{name: "xlsx_zip_bomb", u: uploadCase{fields: form("full"), filename: "bomb.xlsx", file: zipBomb(t, 64<<20)},
			status: 413, detail: "zip bomb"},
		{name: "json_that_is_not_an_array", u: uploadCase{fields: form("full"), filename: "k.json", file: []byte(`"Kundennr"`)},
			status: 422, detail: "array of objects or NDJSON"},
		{name: "json_array_of_numbers", u: uploadCase{fields: form("full"), filename: "k.json", file: []byte(`[1, 2, 3]`)},
			status: 422, detail: "not an object"},
		{name: "deeply_nested_json", u: uploadCase{fields: form("full"), filename: "k.json",
			file: []byte(`[{"Kundennr": "1001", "Name": ` + strings.Repeat(`{"a": `, 50) + `1` + strings.Repeat(`}`, 50) + `}]`)},
			status: 413, detail: "nested deeper than", members: map[string]any{"column": "Name"}},
		{name: "wrong_encoding_declared", u: uploadCase{fields: form("full", "encoding", "utf-8"), filename: "k.csv", file: cp1252(t, header+row)},
			status: 422, detail: "UTF-8"},
		{name: "unknown_encoding", u: uploadCase{fields: form("full", "encoding", "ebcdic"), filename: "k.csv", file: cp1252(t, header+row)},
			status: 422, members: map[string]any{"errors": map[string]any{"encoding": "must be one of windows-1252, iso-8859-1, iso-8859-15, utf-8, utf-16, utf-16le, utf-16be"}}},
		{name: "id_column_not_in_file", u: uploadCase{fields: form("full", "id_column", "Nr"), filename: "k.csv", file: cp1252(t, header+row)},
			status: 422, detail: "not in the file"},
		{name: "old_excel_file", u: uploadCase{fields: form("full"), filename: "k.xls", file: append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), garbage...)},
			status: 422, detail: ".xls"},
		{name: "damaged_xlsx", u: uploadCase{fields: form("full"), filename: "k.xlsx", file: xlsxBytes(t)[:300]}, status: 422, detail: "damaged"},
		{name: "missing_mode", u: uploadCase{fields: [][2]string{{"object", "customers"}}, filename: "k.csv", file: cp1252(t, header+row)},
			status: 422, detail: "invalid fields"},
		{name: "unknown_object", u: uploadCase{fields: [][2]string{{"object", "kunden"}, {"mode", "full"}}, filename: "k.csv", file: cp1252(t, header+row)},
			status: 422, members: map[string]any{"errors": map[string]any{"object": `the connection has no object "kunden"; its objects are "customers"`}}},
		{name: "no_file_part", u: uploadCase{fields: form("full")}, status: 422, detail: "no file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := ts.upload(ts.Admin.Access, conn, c.u).problem(c.status)
			require.Contains(t, p["detail"], c.detail)
			for k, v := range c.members {
				require.Equal(t, v, p[k], "member %s", k)
			}
			require.Equal(t, before, ts.records(ws, conn), "stored records changed")
		})
	}

	t.Run("row_errors_name_row_and_column", func(t *testing.T) {
		p := ts.upload(ts.Admin.Access, conn, csvCase("full", header+row+"1002;Jürgen;Köln;ja;\n1001;Søren again;Århus;ja;\n")).problem(422)
		require.Equal(t, []any{map[string]any{"row": 4.0, "line": 4.0, "column": "Kundennr",
			"message": `id "1001" appears again; it was first seen in row 2`}}, p["row_errors"])
		require.NotEmpty(t, p["upload_id"])
	})
	t.Run("wrong_content_type_is_415", func(t *testing.T) {
		r := ts.do("POST", "/v1/connections/"+conn+"/uploads", ts.Admin.Access, map[string]string{"object": "customers", "mode": "full"})
		p := r.problem(415)
		require.Contains(t, p["detail"], "multipart/form-data")
		ts.rawUpload(conn, "text/csv", strings.NewReader(header+row)).problem(415)
		ts.rawUpload(conn, "multipart/mixed; boundary=x", strings.NewReader("--x--\r\n")).problem(415)
	})
	t.Run("a_field_after_the_file_applies_nothing", func(t *testing.T) {
		ct, body := multipartBody(t, csvCase("full", header+row), [2]string{"confirm_mass_delete", "true"})
		p := ts.do("POST", "/v1/connections/"+conn+"/uploads", ts.Admin.Access, body, "Content-Type", ct).problem(422)
		require.Contains(t, p["detail"], "last part")
		require.Equal(t, before, ts.records(ws, conn))
	})
	t.Run("a_cut_off_body_applies_nothing", func(t *testing.T) {
		ct, body := multipartBody(t, csvCase("partial", header+row+"1009;Neu;Kiel;ja;\n"))
		cut := body[:len(body)-40]
		p := ts.rawUpload(conn, ct, bytes.NewReader(cut)).problem(400)
		require.Contains(t, p["detail"], "cut off")
		require.Equal(t, before, ts.records(ws, conn))
	})
	t.Run("every_refused_file_is_in_the_history", func(t *testing.T) {
		hist := ts.uploads(ts.Admin.Access, conn, "?limit=500")
		rejected := 0
		for _, u := range hist {
			if u["status"] == "rejected" {
				rejected++
			}
		}
		// Refusals of the form itself (missing mode, unknown object or
		// encoding, no file, wrong type) are not upload attempts.
		require.GreaterOrEqual(t, rejected, 17)
	})
}

// TestUploadLimits refuses files over the configured size and row limits.
func TestUploadLimits(t *testing.T) {
	header := "Kundennr;Name;Ort;Aktiv;Geändert\n"
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString(header)
		for i := range n {
			b.WriteString("9" + strconv.Itoa(i) + ";Name;Ort;ja;\n")
		}
		return b.String()
	}
	t.Run("file_over_the_upload_limit_is_413", func(t *testing.T) {
		ts, conn := seeded(t, func(d *api.Deps) { d.Config.UploadLimit = 64 << 10 })
		before := ts.records(ts.Admin.WorkspaceID, conn)
		p := ts.upload(ts.Admin.Access, conn, csvCase("partial", rows(10_000))).problem(413)
		require.Contains(t, p["detail"], "larger than 64 KiB")
		require.Equal(t, before, ts.records(ts.Admin.WorkspaceID, conn))
	})
	t.Run("too_many_rows_is_413", func(t *testing.T) {
		ts, conn := seeded(t, func(d *api.Deps) { d.Config.FileLimits.MaxRows = 10 })
		before := ts.records(ts.Admin.WorkspaceID, conn)
		p := ts.upload(ts.Admin.Access, conn, csvCase("partial", rows(11))).problem(413)
		require.Contains(t, p["detail"], "more than 10 rows")
		require.Equal(t, before, ts.records(ts.Admin.WorkspaceID, conn))
	})
}

func csvCase(mode, text string) uploadCase {
	return uploadCase{fields: form(mode), filename: "kunden.csv", file: []byte(text)}
}

// xlsxBytes is a small valid workbook with the seed's columns.
func xlsxBytes(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	require.NoError(t, f.SetSheetRow("Sheet1", "A1", &[]any{"Kundennr", "Name", "Ort", "Aktiv", "Geändert"}))
	require.NoError(t, f.SetSheetRow("Sheet1", "A2", &[]any{1001, "Søren Ærø", "Århus", "ja", ""}))
	b, err := f.WriteToBuffer()
	require.NoError(t, err)
	return b.Bytes()
}

// zipBomb is a valid workbook whose first sheet is replaced by size bytes
// of white space, which compress to almost nothing.
func zipBomb(t *testing.T, size int) []byte {
	t.Helper()
	plain := xlsxBytes(t)
	src, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	require.NoError(t, err)
	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	require.NoError(t, err)
	crc := crc32.NewIEEE()
	chunk := bytes.Repeat([]byte{' '}, 1<<20)
	for left := size; left > 0; left -= len(chunk) {
		part := chunk[:min(len(chunk), left)]
		_, _ = fw.Write(part)
		_, _ = crc.Write(part)
	}
	require.NoError(t, fw.Close())
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range src.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			require.NoError(t, zw.Copy(f))
			continue
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, CRC32: crc.Sum32(),
			CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(size)})
		require.NoError(t, err)
		_, err = w.Write(comp.Bytes())
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.Less(t, out.Len(), 1<<20, "the bomb itself is small")
	return out.Bytes()
}

// TestUploadStreams shows that the file is read as it arrives, never
// gathered first: a file that is broken from its first bytes is answered
// while the client is still sending the rest.
func TestUploadStreams(t *testing.T) {
	ts, conn := seeded(t)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	answered := make(chan struct{})
	go func() {
		_ = mw.WriteField("object", "customers")
		_ = mw.WriteField("mode", "full")
		fw, _ := mw.CreateFormFile("file", "kunden.csv")
		junk := make([]byte, 256<<10) // random bytes: not text
		rnd := rand.New(rand.NewPCG(3, 4))
		for i := range junk {
			junk[i] = byte(rnd.UintN(256))
		}
		if _, err := fw.Write(junk); err != nil {
			pw.CloseWithError(err)
			return
		}
		select {
		case <-answered:
		case <-time.After(20 * time.Second):
		}
		for range 32 { // the rest: 8 MiB more
			if _, err := fw.Write(junk); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	start := time.Now()
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotFirstResponseByte: func() { close(answered) },
	})
	req, err := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/connections/"+conn+"/uploads", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+ts.Admin.Access)
	p := ts.send(req).problem(422)
	require.Contains(t, p["detail"], "not a text file")
	require.Less(t, time.Since(start), 15*time.Second, "the answer waited for the whole body")
}

// An upload answered before the client's body ends (here: a long epilogue
// after the form's last boundary, which the reader never needs) still
// leaves its connection serving the next request. net/http, with full
// duplex on, reads the rest of such a body only after the answer, and
// panicked reading the next request when it met the body's end there
// (golang/go#68560).
func TestUploadLeavesTheConnectionUsable(t *testing.T) {
	ts, conn := seeded(t)
	ct, body := multipartBody(t, uploadCase{fields: form("partial"), filename: "kunden.csv", file: cp1252(t, seedCSV)})
	body = append(body, "\r\n"+strings.Repeat("epilogue ", 2000)...)
	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	c, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	r := bufio.NewReader(c)
	send := func(method, path, contentType string, body []byte) *http.Response {
		req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+ts.Admin.Access)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		require.NoError(t, req.Write(c))
		res, err := http.ReadResponse(r, req)
		require.NoError(t, err, "the connection was closed")
		_, err = io.Copy(io.Discard, res.Body)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	for range 3 {
		res := send("POST", "/v1/connections/"+conn+"/uploads", ct, body)
		require.Equal(t, 201, res.StatusCode)
		require.False(t, res.Close, "the answer keeps the connection")
		require.Equal(t, 200, send("GET", "/v1/connections/"+conn, "", nil).StatusCode)
	}
	// A refused upload may be answered long before its body ends: its
	// answer closes the connection, which clients then open anew.
	ct, body = multipartBody(t, uploadCase{fields: form("partial"), filename: "kunden.csv", file: []byte("Kundennr;Name\r\n")})
	res := send("POST", "/v1/connections/"+conn+"/uploads", ct, body)
	require.Equal(t, 422, res.StatusCode)
	require.True(t, res.Close, "the answer to a refused upload closes the connection")
}
