package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// RecordHash is the content hash of what a record says: its fields, whether
// it is active or deleted, and its source updated-at. Two records with the
// same hash are the same for syncing, so an unchanged record is skipped.
// encoding/json's form of the fields (see AppendJSON) has its map keys
// sorted, which makes it canonical.
func RecordHash(r Record) string {
	b, err := r.Fields.AppendJSON(nil)
	if err != nil {
		// Fields hold JSON-shaped values only; a value json cannot write is
		// hashed by its printed form so that the hash still changes with it.
		b = []byte(fmtFields(r.Fields))
	}
	return RecordHashEncoded(b, r)
}

// RecordHashEncoded is RecordHash for a writer that has already encoded
// r.Fields (as fields, with AppendJSON), so that bulk writers encode each
// record once. r.Fields itself is not read.
func RecordHashEncoded(fields []byte, r Record) string {
	h := sha256.New()
	h.Write(fields)
	flags := []byte{'a', '0', 'd', '0'}
	if r.Active {
		flags[1] = '1'
	}
	if r.Deleted {
		flags[3] = '1'
	}
	h.Write(flags)
	if r.SourceUpdatedAt != nil {
		h.Write([]byte(r.SourceUpdatedAt.UTC().Format(time.RFC3339Nano)))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// fmtFields prints fields in key order, for hashing values json cannot encode.
func fmtFields(f Fields) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%#v;", k, f[k])
	}
	return b.String()
}
