// Package migrations holds syncd's versioned SQL schema, one folder per
// dialect with the same version numbers, embedded into the binary.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migrations of one dialect ("postgres" or "sqlite").
func FS(dialect string) fs.FS {
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		panic(err) // the folders are embedded at build time
	}
	return sub
}
