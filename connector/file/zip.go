package file

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"

	"syncd/domain"
)

// verifyParts unpacks every part once, discarding the output, so that
// archive/zip checks each part's size and checksum. excelize ignores those
// errors and would read a damaged or lying part as a shorter sheet: fewer
// rows, silently, which a full upload would turn into deletions.
func verifyParts(files []*zip.File) error {
	for _, f := range files {
		rc, err := f.Open()
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return domain.Wrap(domain.CodeInvalid, err, fmt.Sprintf("the workbook part %q is damaged; save the workbook again", clip(f.Name)))
		}
	}
	return nil
}

// checkZip refuses archives that are not XLSX workbooks or that unpack to
// more than the limits allow, before excelize unpacks anything.
func checkZip(path string, lim Limits) error {
	if err := countParts(path); err != nil {
		return err
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return domain.Wrap(domain.CodeInvalid, err, "the file is not a valid XLSX workbook: the zip archive is damaged or incomplete")
	}
	defer zr.Close()
	var (
		total                      uint64
		contentTypes, xl, ods, doc bool
	)
	for _, f := range zr.File {
		size := f.UncompressedSize64
		if size > uint64(lim.MaxUnzipBytes)-total {
			return domain.Errorf(domain.CodeTooLarge, "the workbook unpacks to more than %s; it was refused as a possible zip bomb", byteSize(lim.MaxUnzipBytes))
		}
		total += size
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		switch {
		case name == "[content_types].xml":
			contentTypes = true
		case strings.HasPrefix(name, "xl/"):
			xl = true
		case name == "content.xml":
			ods = true
		case strings.HasPrefix(name, "word/"), strings.HasPrefix(name, "ppt/"):
			doc = true
		}
		// excelize unpacks these to temporary files when large; it reads
		// every other part into memory.
		streamed := strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
		if !streamed && size > uint64(lim.MaxXMLInMemory) {
			return domain.Errorf(domain.CodeTooLarge, "the workbook part %q unpacks to %s, more than the %s allowed", clip(f.Name), byteSize(int64(size)), byteSize(lim.MaxXMLInMemory))
		}
	}
	switch {
	case contentTypes && xl:
		return verifyParts(zr.File)
	case ods:
		return domain.Errorf(domain.CodeInvalid, "OpenDocument spreadsheets are not supported; save the file as .xlsx or CSV")
	case doc:
		return domain.Errorf(domain.CodeInvalid, "this is a Word or PowerPoint file, not a spreadsheet")
	}
	return domain.Errorf(domain.CodeInvalid, "the zip file is not an XLSX workbook")
}

// maxZipParts bounds the parts of an XLSX archive. archive/zip and excelize
// keep a header in memory for every part, so a small file listing millions
// of empty parts would cost gigabytes; real workbooks have dozens.
const maxZipParts = 10_000

// Zip record signatures and sizes (APPNOTE.TXT 4.3).
const (
	sigCentralHeader = 0x02014b50
	sigEnd           = 0x06054b50
	sigEnd64Locator  = 0x07064b50
	sigEnd64         = 0x06064b50
	lenEnd           = 22
	lenCentralHeader = 46
)

// countParts walks the archive's central directory the way archive/zip
// will, counting entries without keeping them, and refuses more than
// maxZipParts. An archive whose directory cannot be found is left to
// archive/zip to reject.
func countParts(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("file: open spooled upload: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("file: stat spooled upload: %w", err)
	}
	offset, ok := directoryOffset(f, st.Size())
	if !ok {
		return nil
	}
	r := bufio.NewReader(io.NewSectionReader(f, offset, st.Size()-offset))
	var h [lenCentralHeader]byte
	for n := 0; ; n++ {
		if _, err := io.ReadFull(r, h[:]); err != nil || binary.LittleEndian.Uint32(h[:]) != sigCentralHeader {
			return nil
		}
		if n >= maxZipParts {
			return domain.Errorf(domain.CodeTooLarge, "the workbook has more than %d parts; it was refused as a possible zip bomb", maxZipParts)
		}
		skip := int(binary.LittleEndian.Uint16(h[28:])) + int(binary.LittleEndian.Uint16(h[30:])) + int(binary.LittleEndian.Uint16(h[32:]))
		if _, err := r.Discard(skip); err != nil {
			return nil
		}
	}
}

// directoryOffset finds where the central directory starts, from the end
// record (or its zip64 version) at the end of the file.
func directoryOffset(f *os.File, size int64) (int64, bool) {
	n := min(size, 0xFFFF+lenEnd) // the end record plus the longest comment
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return 0, false
	}
	for i := len(buf) - lenEnd; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) != sigEnd {
			continue
		}
		if off := binary.LittleEndian.Uint32(buf[i+16:]); off != 0xFFFFFFFF {
			return int64(off), int64(off) < size
		}
		if i < 20 || binary.LittleEndian.Uint32(buf[i-20:]) != sigEnd64Locator {
			return 0, false
		}
		var rec [56]byte
		if _, err := f.ReadAt(rec[:], int64(binary.LittleEndian.Uint64(buf[i-20+8:]))); err != nil ||
			binary.LittleEndian.Uint32(rec[:]) != sigEnd64 {
			return 0, false
		}
		off := int64(binary.LittleEndian.Uint64(rec[48:]))
		return off, off >= 0 && off < size
	}
	return 0, false
}
