package file

import (
	"bytes"
	"unicode/utf8"
)

// delimiters are the separators sniffDelimiter chooses among, in order of
// preference when the evidence ties.
var delimiters = []byte{';', ',', '\t', '|'}

// sniffLines is how many records of the sample the sniffer looks at.
const sniffLines = 20

// sniffDelimiter picks the CSV delimiter from the first records of decoded
// text. For each candidate it splits the records (respecting quotes) and
// scores how many have as many fields as the header; the header must have
// at least two. The best share wins, then the larger field count, then the
// order of delimiters. A file where no candidate splits the header is read
// as a single column with ','. atEOF says sample is the whole file, so its
// last record is complete even without a line break.
func sniffDelimiter(sample []byte, atEOF bool) rune {
	best, bestShare, bestFields := rune(','), 0.0, 0
	for _, d := range delimiters {
		counts := fieldCounts(sample, d, atEOF)
		if len(counts) == 0 || counts[0] < 2 {
			continue
		}
		same := 0
		for _, c := range counts {
			if c == counts[0] {
				same++
			}
		}
		share := float64(same) / float64(len(counts))
		if share > bestShare || (share == bestShare && counts[0] > bestFields) {
			best, bestShare, bestFields = rune(d), share, counts[0]
		}
	}
	return best
}

// fieldCounts splits up to sniffLines records of sample on delim the way
// encoding/csv does (quotes open only at the start of a field, "" inside
// quotes is a quote) and returns each record's field count. Blank lines are
// skipped; a record cut off by the end of the sample is left out.
func fieldCounts(sample []byte, delim byte, atEOF bool) []int {
	var counts []int
	fields, quoted, fieldStart, blank := 1, false, true, true
	for i := 0; i < len(sample) && len(counts) < sniffLines; i++ {
		c := sample[i]
		switch {
		case quoted:
			if c == '"' {
				if i+1 < len(sample) && sample[i+1] == '"' {
					i++
				} else {
					quoted = false
				}
			}
		case c == '"' && fieldStart:
			quoted, fieldStart, blank = true, false, false
		case c == delim:
			fields++
			fieldStart, blank = true, false
		case c == '\n':
			if !blank {
				counts = append(counts, fields)
			}
			fields, fieldStart, blank = 1, true, true
		case c == '\r':
		default:
			fieldStart, blank = false, false
		}
	}
	if atEOF && !blank && !quoted && len(counts) < sniffLines {
		counts = append(counts, fields)
	}
	return counts
}

// crLineEnds reports whether text uses lone carriage returns as line ends
// (classic Mac, still offered by Excel for Mac as "CSV (Macintosh)").
func crLineEnds(sample []byte) bool {
	return bytes.IndexByte(sample, '\r') >= 0 && bytes.IndexByte(sample, '\n') < 0
}

// validDelimiter reports whether encoding/csv accepts r as a delimiter.
func validDelimiter(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}
