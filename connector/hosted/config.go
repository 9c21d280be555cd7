// Package hosted describes hosted connections, where the hub itself is the
// system of record: clients write records through the API and read the
// hub's changes back from a change feed. Nothing here reaches another
// system; the hub's record store holds the data.
package hosted

import (
	"strings"

	"syncd/domain"
)

// Config is a hosted connection's configuration, exactly as clients send
// it in the connection's "config" member: the objects clients may write.
type Config struct {
	Objects map[string]ObjectConfig `json:"objects"`
}

// ObjectConfig describes one object of a hosted connection.
type ObjectConfig struct {
	// IDField names the field that carries the record's id in the
	// client's own data (informational, default "id").
	IDField string `json:"id_field,omitempty"`
	// Fields, when set, are the only fields a write may carry; empty
	// accepts any field.
	Fields []string `json:"fields,omitempty"`
}

// Validate checks the configuration. It returns a domain.Invalid error
// whose Fields are keyed by JSON path, such as "objects.customers.fields".
func (c Config) Validate() error {
	return domain.ValidateObjects(domain.KindHosted, c.Objects, ObjectConfig.problems)
}

// problems lists what is wrong with one object, keyed by its own fields.
func (o ObjectConfig) problems() map[string]string {
	out := map[string]string{}
	if o.IDField != "" && strings.TrimSpace(o.IDField) == "" {
		out["id_field"] = "must not be blank"
	}
	seen := map[string]bool{}
	for _, f := range o.Fields {
		switch {
		case strings.TrimSpace(f) == "":
			out["fields"] = "field names must not be empty"
		case seen[f]:
			out["fields"] = "names " + f + " twice"
		}
		seen[f] = true
	}
	return out
}
