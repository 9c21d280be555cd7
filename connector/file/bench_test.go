package file

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"syncd/domain"
)

// rowSource generates a semicolon-separated Windows-1252 customer file of
// n rows on the fly, so tests can read big files without holding them.
type rowSource struct {
	n, next int
	buf     bytes.Buffer
}

const benchHeader = "Kundennr;Name;Straße;PLZ;Ort;E-Mail;Telefon;Aktiv;Geändert;Notiz\n"

func newRowSource(n int) *rowSource {
	s := &rowSource{n: n}
	h, err := charmap.Windows1252.NewEncoder().String(benchHeader)
	if err != nil {
		panic(err)
	}
	s.buf.WriteString(h)
	return s
}

func (s *rowSource) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && s.next < s.n {
		i := s.next
		s.next++
		// 0xFC is ü and 0xDF is ß in Windows-1252.
		fmt.Fprintf(&s.buf, "K%07d;M\xfcller & S\xf6hne %d GmbH;Hauptstra\xdfe %d;%05d;K\xf6ln;kunde%d@example.com;+49 221 %07d;%s;%02d.%02d.2024 %02d:%02d;\"Hinweis; mit Semikolon\"\n",
			i, i, i%300, i%100000, i, i, []string{"ja", "nein"}[i%2], 1+i%28, 1+i%12, i%24, i%60)
	}
	if s.buf.Len() == 0 {
		return 0, io.EOF
	}
	return s.buf.Read(p)
}

var benchMapping = Mapping{IDColumn: "Kundennr", ActiveColumn: "Aktiv", UpdatedAtColumn: "Geändert"}

func BenchmarkReadCSV(b *testing.B) {
	data, err := io.ReadAll(newRowSource(100_000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		det, errs, err := Read(context.Background(), bytes.NewReader(data), Options{}, benchMapping,
			func(int, domain.Record) error { return nil })
		if err != nil || len(errs) > 0 || det.Rows != 100_000 || det.Encoding != "windows-1252" || det.Delimiter != ";" {
			b.Fatalf("rows %d, encoding %s, delimiter %q, row errors %v, err %v", det.Rows, det.Encoding, det.Delimiter, errs, err)
		}
		rows += det.Rows
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// TestReadLargeFileInSmallMemory streams a million rows (about 150 MB) and
// checks the heap stays far below the file's size: only the id set grows.
func TestReadLargeFileInSmallMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a million rows")
	}
	const rows = 1_000_000
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	src := newRowSource(rows)
	det, errs, err := Read(context.Background(), src, Options{}, benchMapping, func(row int, _ domain.Record) error {
		if row%100_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
		}
		return nil
	})
	if err != nil || len(errs) > 0 || det.Rows != rows {
		t.Fatalf("rows %d, row errors %d, err %v", det.Rows, len(errs), err)
	}
	t.Logf("peak heap above start: %d MiB", peak>>20)
	if peak > 96<<20 {
		t.Fatalf("heap grew by %d MiB while reading; the file must not be held in memory", peak>>20)
	}
}
