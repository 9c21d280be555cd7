package file

import (
	"errors"
	"unicode/utf8"

	"syncd/domain"
)

// Config is a file connection's configuration, exactly as clients send it
// in the connection's "config" member: for each object, how its uploads
// are read. An upload may still override these settings per request.
type Config struct {
	Objects map[string]ObjectConfig `json:"objects"`
}

// ObjectConfig says how the uploads of one object are read.
type ObjectConfig struct {
	// IDColumn is the column (or JSON key) holding the external id; required.
	IDColumn string `json:"id_column"`
	// ActiveColumn, ActiveValues and UpdatedAtColumn are as in Mapping.
	ActiveColumn    string   `json:"active_column,omitempty"`
	ActiveValues    []string `json:"active_values,omitempty"`
	UpdatedAtColumn string   `json:"updated_at_column,omitempty"`
	// Delimiter is one character; "" sniffs it.
	Delimiter string `json:"delimiter,omitempty"`
	// Encoding is the fallback character set of CSV and JSON files (see
	// Options.Encoding); "" means windows-1252.
	Encoding string `json:"encoding,omitempty"`
	// Sheet names the XLSX worksheet; "" reads the first.
	Sheet string `json:"sheet,omitempty"`
}

// Validate checks the configuration without reading any file. It returns a
// domain.Invalid error whose Fields are keyed by JSON path, such as
// "objects.customers.id_column".
func (c Config) Validate() error {
	return domain.ValidateObjects(domain.KindFile, c.Objects, ObjectConfig.problems)
}

// problems lists what is wrong with one object, keyed by its own fields.
func (o ObjectConfig) problems() map[string]string {
	out := map[string]string{}
	collect := func(err error) {
		var de *domain.Error
		if errors.As(err, &de) {
			for k, v := range de.Fields {
				out[k] = v
			}
		}
	}
	collect(o.Mapping().validate())
	if o.Delimiter != "" && utf8.RuneCountInString(o.Delimiter) != 1 {
		out["delimiter"] = "must be a single character other than a quote or line break"
	} else {
		collect(o.Options().validate())
	}
	return out
}

// Mapping is the column mapping the object's uploads are read with.
func (o ObjectConfig) Mapping() Mapping {
	return Mapping{
		IDColumn:        o.IDColumn,
		ActiveColumn:    o.ActiveColumn,
		ActiveValues:    o.ActiveValues,
		UpdatedAtColumn: o.UpdatedAtColumn,
	}
}

// Options are the reading options the object's uploads start from; the
// caller adds the format, filename, spool folder and limits.
func (o ObjectConfig) Options() Options {
	opts := Options{Encoding: o.Encoding, Sheet: o.Sheet}
	if r, size := utf8.DecodeRuneInString(o.Delimiter); size == len(o.Delimiter) && size > 0 {
		opts.Delimiter = r
	}
	return opts
}
