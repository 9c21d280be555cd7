package store_test

import (
	"testing"

	"syncd/store"
	"syncd/store/storetest"
)

// COPY's binary format carries each value in its column's exact type, so
// the types the bulk paths name must be the tables' own.
func TestCopyColumnsAreTheTablesTypes(t *testing.T) {
	if storetest.URL() == "" {
		t.Skip("COPY is PostgreSQL's; set TEST_DATABASE_URL")
	}
	s := storetest.New(t)
	names := map[string]string{"text": "text", "boolean": "boolean", "integer": "integer", "bigint": "bigint", "timestamptz": "timestamp with time zone"}
	for table, columns := range store.CopyColumnTypes() {
		for name, pgType := range columns {
			var got string
			err := s.SQL().QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`,
				table, name).Scan(&got)
			if err != nil {
				t.Fatalf("%s.%s: %v", table, name, err)
			}
			if got != names[pgType] {
				t.Errorf("%s.%s is %q; the bulk paths write it as %s", table, name, got, pgType)
			}
		}
	}
}
