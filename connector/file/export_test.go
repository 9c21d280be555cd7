package file

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"syncd/domain"
)

func TestExportReadsBack(t *testing.T) {
	cfg := ObjectConfig{IDColumn: "Kundennr", ActiveColumn: "aktiv", ActiveValues: []string{"ja"}, Delimiter: ";"}
	var buf bytes.Buffer
	e, err := NewExporter(&buf, cfg, []string{"Name", "Ort", "tags"})
	require.NoError(t, err)
	recs := []domain.Record{
		{ExternalID: "1001", Active: true, Fields: domain.Fields{"Name": "Søren; \"Ærø\"", "Ort": "Köln", "tags": []any{"a", "b"}}},
		{ExternalID: "1002", Active: false, Fields: domain.Fields{"Name": "Line\nbreak", "Ort": json.Number("12")}},
		{ExternalID: "1003", Deleted: true},
	}
	for _, r := range recs {
		require.NoError(t, e.Write(r))
	}
	require.NoError(t, e.Close())
	var got []domain.Record
	_, rowErrs, err := Read(context.Background(), &buf, Options{}, Mapping{IDColumn: "Kundennr", ActiveColumn: "aktiv", ActiveValues: []string{"ja"}},
		func(_ int, r domain.Record) error { got = append(got, r); return nil })
	require.NoError(t, err)
	require.Empty(t, rowErrs)
	require.Len(t, got, 2, "tombstones are not exported")
	require.Equal(t, "Søren; \"Ærø\"", got[0].Fields["Name"])
	require.Equal(t, `["a","b"]`, got[0].Fields["tags"])
	require.True(t, got[0].Active)
	require.False(t, got[1].Active)
	require.Equal(t, "Line\nbreak", got[1].Fields["Name"])
}
