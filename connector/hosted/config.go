// Package hosted describes hosted connections, where the hub itself is the
// system of record: clients write records through the API and read the
// hub's changes back from a change feed. Nothing here reaches another
// system; the hub's record store holds the data.
package hosted

import (
	"sort"
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
	fields := map[string]string{}
	if len(c.Objects) == 0 {
		fields["objects"] = "at least one object is required"
	}
	names := make([]string, 0, len(c.Objects))
	for name := range c.Objects {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		at := "objects." + name
		if strings.TrimSpace(name) == "" {
			fields[at] = "object names must not be empty"
			continue
		}
		o := c.Objects[name]
		if o.IDField != "" && strings.TrimSpace(o.IDField) == "" {
			fields[at+".id_field"] = "must not be blank"
		}
		seen := map[string]bool{}
		for _, f := range o.Fields {
			switch {
			case strings.TrimSpace(f) == "":
				fields[at+".fields"] = "field names must not be empty"
			case seen[f]:
				fields[at+".fields"] = "names " + f + " twice"
			}
			seen[f] = true
		}
	}
	if len(fields) > 0 {
		return domain.Invalid("the hosted connection's config is invalid", fields)
	}
	return nil
}
