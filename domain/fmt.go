package domain

import (
	"fmt"
	"sort"
	"strings"
)

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
