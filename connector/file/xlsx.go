package file

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/xuri/excelize/v2"

	"syncd/domain"
)

// readXLSX reads one worksheet with excelize's streaming row iterator.
// The zip format needs random access, so an upload that is not already a
// whole file on disk is spooled to a temporary file first. Before excelize
// opens it, checkZip refuses zip bombs by the parts' declared sizes and then
// unpacks each part once to check it is whole (archive/zip stops a part at
// its declared size, so a lying header cannot help).
// Cells are read as Excel shows them (number formats applied); the header is
// the first row with a value. One gap remains: excelize's iterator ends
// quietly at XML it cannot parse, so a part that is whole (checksum right)
// but malformed, which only a broken writer produces, reads as shorter.
func readXLSX(ctx context.Context, orig io.Reader, in *limitReader, br *bufio.Reader, opts Options, s *sink) (Detected, error) {
	var det Detected
	path, cleanup, err := workbookPath(orig, in, br, opts.SpoolDir)
	if err != nil {
		return det, err
	}
	defer cleanup()
	if err := ctx.Err(); err != nil {
		s.stop = err
		return det, err
	}
	if err := checkZip(path, s.lim); err != nil {
		return det, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{
		UnzipSizeLimit:    s.lim.MaxUnzipBytes,
		UnzipXMLSizeLimit: s.lim.MaxXMLInMemory,
		TmpDir:            opts.SpoolDir,
	})
	if err != nil {
		return det, domain.Wrap(domain.CodeInvalid, err, "the XLSX workbook cannot be read; it may be damaged")
	}
	defer f.Close()
	if det.Sheet, err = pickSheet(f.GetSheetList(), opts.Sheet); err != nil {
		return det, err
	}
	rows, err := f.Rows(det.Sheet)
	if err != nil {
		return det, domain.Wrap(domain.CodeInvalid, err, fmt.Sprintf("sheet %q cannot be read", det.Sheet))
	}
	defer rows.Close()
	var (
		t    *table
		vals []string
	)
	for row := 1; rows.Next(); row++ {
		cells, err := rows.Columns()
		if err != nil {
			return det, &domain.Error{Code: domain.CodeInvalid, Err: err, Details: map[string]any{"row": row},
				Message: fmt.Sprintf("row %d of sheet %q cannot be read", row, det.Sheet)}
		}
		if t == nil {
			if !slices.ContainsFunc(cells, func(c string) bool { return c != "" }) {
				continue
			}
			if t, err = newTable(cells, row, s.m, s.lim, true); err != nil {
				return det, err
			}
			det.Columns = t.named()
			continue
		}
		if len(cells) > len(t.columns) {
			for i := len(t.columns); i < len(cells); i++ {
				if cells[i] != "" {
					return det, t.unnamedValue(i, row, 0)
				}
			}
			cells = cells[:len(t.columns)]
		}
		vals = append(vals[:0], cells...)
		for len(vals) < len(t.columns) {
			vals = append(vals, "")
		}
		if err := s.stringRow(t, vals, row, 0); err != nil {
			return det, err
		}
	}
	if err := rows.Error(); err != nil {
		return det, domain.Wrap(domain.CodeInvalid, err, fmt.Sprintf("sheet %q cannot be read to the end", det.Sheet))
	}
	if t == nil {
		return det, domain.Errorf(domain.CodeUnprocessable, "sheet %q is empty", det.Sheet)
	}
	return det, nil
}

// pickSheet returns the named sheet, or the first when name is "".
func pickSheet(sheets []string, name string) (string, error) {
	if len(sheets) == 0 {
		return "", domain.Errorf(domain.CodeInvalid, "the workbook has no sheets")
	}
	if name == "" {
		return sheets[0], nil
	}
	for _, s := range sheets {
		if s == name {
			return s, nil
		}
	}
	return "", domain.Invalid("the workbook has no such sheet", map[string]string{
		"sheet": fmt.Sprintf("the workbook has no sheet %q; its sheets are %s", clip(name), listColumns(sheets)),
	})
}

// workbookPath returns a path excelize can open: the caller's own file
// when r is an *os.File still at its start, else a copy in dir. cleanup
// removes the copy.
func workbookPath(r io.Reader, in *limitReader, br *bufio.Reader, dir string) (path string, cleanup func(), err error) {
	if f, ok := r.(*os.File); ok {
		if p, ok := wholeFile(f, in); ok {
			return p, func() {}, nil
		}
	}
	tmp, err := os.CreateTemp(dir, "syncd-upload-*.xlsx")
	if err != nil {
		return "", nil, fmt.Errorf("file: spool upload: %w", err)
	}
	cleanup = func() { _ = os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, br)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return tmp.Name(), cleanup, nil
}

// wholeFile reports whether f was handed over at its start and can be
// opened again by its name, and checks its size against the limit.
func wholeFile(f *os.File, in *limitReader) (string, bool) {
	cur, err := f.Seek(0, io.SeekCurrent)
	if err != nil || cur != in.n {
		return "", false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() > in.max {
		return "", false // too large: the copy fails with the size error
	}
	again, err := os.Stat(f.Name())
	if err != nil || !os.SameFile(st, again) {
		return "", false
	}
	return f.Name(), true
}
