package file

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"syncd/domain"
)

// sheet is one worksheet for workbook: cells by reference.
type sheet struct {
	name  string
	cells map[string]any
}

// workbook builds an XLSX file in memory.
func workbook(t testing.TB, sheets ...sheet) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			require.NoError(t, f.SetSheetName("Sheet1", s.name))
		} else {
			_, err := f.NewSheet(s.name)
			require.NoError(t, err)
		}
		for ref, v := range s.cells {
			require.NoError(t, f.SetCellValue(s.name, ref, v))
		}
	}
	var b bytes.Buffer
	require.NoError(t, f.Write(&b))
	return b.Bytes()
}

func TestReadXLSX(t *testing.T) {
	when := time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC)
	data := workbook(t,
		sheet{"Kunden", map[string]any{
			"A1": "Nr", "B1": "Name", "C1": "Aktiv", "D1": "Geändert", "E1": "Betrag",
			"A2": 1001, "B2": "Ærø Ltd", "C2": "ja", "D2": when, "E2": 12.5,
			// row 3 left empty
			"A4": "1002", "B4": "Über GmbH", "C4": "nein", "D4": "31.03.2024",
			"A5": "", "B5": "no id",
		}},
		sheet{"Other", map[string]any{"A3": "id", "B3": "x", "A4": "o1", "B4": "y"}},
	)
	m := Mapping{IDColumn: "Nr", ActiveColumn: "Aktiv", UpdatedAtColumn: "Geändert"}

	check := func(t *testing.T, g got) {
		t.Helper()
		require.NoError(t, g.err)
		require.Equal(t, Detected{Format: FormatXLSX, Sheet: "Kunden", Columns: []string{"Nr", "Name", "Aktiv", "Geändert", "Betrag"}, Rows: 2}, g.det)
		require.Equal(t, []int{2, 4}, g.rowNumbers())
		require.Equal(t, domain.Record{ExternalID: "1001", Active: true, SourceUpdatedAt: &when,
			Fields: domain.Fields{"Name": "Ærø Ltd", "Betrag": "12.5"}}, g.rows[0].rec)
		mar31 := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
		require.Equal(t, domain.Record{ExternalID: "1002", Active: false, SourceUpdatedAt: &mar31,
			Fields: domain.Fields{"Name": "Über GmbH", "Betrag": ""}}, g.rows[1].rec)
		require.Equal(t, []RowError{{Row: 5, Column: "Nr", Message: "the id is empty"}}, g.errs)
	}
	t.Run("spooled_from_a_stream", func(t *testing.T) {
		check(t, read(t, data, Options{SpoolDir: t.TempDir()}, m))
	})
	t.Run("opened_in_place_from_a_file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "upload.bin")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		spool := t.TempDir()
		var g got
		g.det, g.errs, g.err = Read(context.Background(), f, Options{SpoolDir: spool}, m, func(row int, rec domain.Record) error {
			g.rows = append(g.rows, gotRow{row, rec})
			return nil
		})
		check(t, g)
		left, err := os.ReadDir(spool)
		require.NoError(t, err)
		require.Empty(t, left, "nothing was spooled and nothing is left behind")
	})
	t.Run("named_sheet_with_header_below_row_1", func(t *testing.T) {
		g := read(t, data, Options{Sheet: "Other"}, Mapping{IDColumn: "id"})
		require.NoError(t, g.err)
		require.Equal(t, []gotRow{{4, rec("o1", domain.Fields{"x": "y"})}}, g.rows)
	})
	t.Run("missing_sheet_lists_the_sheets", func(t *testing.T) {
		g := read(t, data, Options{Sheet: "Nope"}, m)
		de := requireCode(t, g.err, domain.CodeInvalid)
		require.Contains(t, de.Fields["sheet"], `"Kunden", "Other"`)
	})
	t.Run("spool_files_are_removed", func(t *testing.T) {
		spool := t.TempDir()
		read(t, data, Options{SpoolDir: spool}, m)
		left, err := os.ReadDir(spool)
		require.NoError(t, err)
		require.Empty(t, left)
	})
}

func TestReadXLSXStructuralErrors(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		code  domain.Code
		match string
	}{
		{"value_outside_the_header", workbook(t, sheet{"S", map[string]any{"A1": "id", "A2": "1", "C2": "stray"}}),
			domain.CodeInvalid, "row 2 has a value in column C, which has no name in the header"},
		{"empty_sheet", workbook(t, sheet{"S", map[string]any{}}), domain.CodeUnprocessable, `sheet "S" is empty`},
		{"value_under_a_gap_in_the_header", workbook(t, sheet{"S", map[string]any{"A1": "id", "C1": "x", "A2": "1", "B3": "y"}}),
			domain.CodeInvalid, "row 3 has a value in column B, which has no name in the header"},
		{"not_a_zip", []byte("PK\x03\x04 but nothing else"), domain.CodeInvalid, "damaged"},
		{"zip_without_workbook", zipOf(t, map[string]string{"readme.txt": "hi"}), domain.CodeInvalid, "not an XLSX workbook"},
		{"opendocument", zipOf(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}),
			domain.CodeInvalid, "OpenDocument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := read(t, tt.data, Options{}, Mapping{IDColumn: "id"})
			de := requireCode(t, g.err, tt.code)
			require.Contains(t, de.Message, tt.match)
		})
	}
}

// zipOf builds a zip archive of small text files.
func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = io.WriteString(w, body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// bomb returns a valid small workbook whose sheet1.xml is replaced by size
// bytes of XML white space, compressed to a few kilobytes. declared is the
// uncompressed size written in the zip headers (size when honest).
func bomb(t testing.TB, size, declared int64) []byte {
	t.Helper()
	plain := workbook(t, sheet{"Sheet1", map[string]any{"A1": "id"}})
	src, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	require.NoError(t, err)

	var comp bytes.Buffer
	fw, err := flate.NewWriter(&comp, flate.BestCompression)
	require.NoError(t, err)
	crc := crc32.NewIEEE()
	chunk := bytes.Repeat([]byte{' '}, 1<<20)
	for left := size; left > 0; left -= int64(len(chunk)) {
		part := chunk[:min(int64(len(chunk)), left)]
		_, _ = fw.Write(part)
		_, _ = crc.Write(part)
	}
	require.NoError(t, fw.Close())

	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range src.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, CRC32: crc.Sum32(),
				CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(declared)})
			require.NoError(t, err)
			_, err = w.Write(comp.Bytes())
			require.NoError(t, err)
			continue
		}
		require.NoError(t, zw.Copy(f))
	}
	require.NoError(t, zw.Close())
	return out.Bytes()
}

func TestReadXLSXZipBomb(t *testing.T) {
	const size = 64 << 20 // unpacks to 64 MiB, stored in well under 1 MiB
	lim := Limits{MaxUnzipBytes: 16 << 20, MaxXMLInMemory: 4 << 20}

	t.Run("refused_by_declared_size", func(t *testing.T) {
		data := bomb(t, size, size)
		require.Less(t, len(data), 1<<20)
		g := read(t, data, Options{Limits: lim}, Mapping{IDColumn: "id"})
		de := requireCode(t, g.err, domain.CodeTooLarge)
		require.Contains(t, de.Message, "zip bomb")
	})
	t.Run("lying_header_stops_at_declared_size", func(t *testing.T) {
		data := bomb(t, size, 1<<10)
		g := read(t, data, Options{Limits: lim}, Mapping{IDColumn: "id"})
		de := requireCode(t, g.err, domain.CodeInvalid)
		require.Contains(t, de.Message, `"xl/worksheets/sheet1.xml" is damaged`)
	})
	t.Run("large_non_sheet_part_is_refused", func(t *testing.T) {
		plain := workbook(t, sheet{"Sheet1", map[string]any{"A1": "id"}})
		src, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
		require.NoError(t, err)
		var out bytes.Buffer
		zw := zip.NewWriter(&out)
		for _, f := range src.File {
			require.NoError(t, zw.Copy(f))
		}
		w, err := zw.Create("xl/media/image1.png")
		require.NoError(t, err)
		_, err = w.Write(bytes.Repeat([]byte{0}, 5<<20))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		g := read(t, out.Bytes(), Options{Limits: lim}, Mapping{IDColumn: "id"})
		de := requireCode(t, g.err, domain.CodeTooLarge)
		require.Contains(t, de.Message, "xl/media/image1.png")
	})
}

func TestReadXLSXTooManyParts(t *testing.T) {
	files := map[string]string{"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}
	for i := range maxZipParts {
		files[fmt.Sprintf("xl/empty/%d", i)] = ""
	}
	g := read(t, zipOf(t, files), Options{}, Mapping{IDColumn: "id"})
	de := requireCode(t, g.err, domain.CodeTooLarge)
	require.Contains(t, de.Message, "more than 10000 parts")
}

func TestReadXLSXDamagedPart(t *testing.T) {
	data := workbook(t, sheet{"S", map[string]any{"A1": "id", "A2": "1"}})
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			off, err := f.DataOffset()
			require.NoError(t, err)
			data[off+int64(f.CompressedSize64)/2] ^= 0xFF
		}
	}
	g := read(t, data, Options{}, Mapping{IDColumn: "id"})
	de := requireCode(t, g.err, domain.CodeInvalid)
	require.Contains(t, de.Message, `"xl/worksheets/sheet1.xml" is damaged`)
	require.Empty(t, g.rows)
}
