package file

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in    string
		excel bool
		want  string // RFC 3339, "" when the value must not parse
	}{
		{"2024-03-31T14:05:00Z", false, "2024-03-31T14:05:00Z"},
		{"2024-03-31T14:05:00.123+02:00", false, "2024-03-31T12:05:00.123Z"},
		{"2024-03-31T14:05:00", false, "2024-03-31T14:05:00Z"},
		{"2024-03-31 14:05:09", false, "2024-03-31T14:05:09Z"},
		{"2024-03-31 14:05", false, "2024-03-31T14:05:00Z"},
		{" 2024-03-31 ", false, "2024-03-31T00:00:00Z"},
		{"31.03.2024", false, "2024-03-31T00:00:00Z"},
		{"1.3.2024", false, "2024-03-01T00:00:00Z"},
		{"31.03.2024 14:05", false, "2024-03-31T14:05:00Z"},
		{"31.03.2024 14:05:09", false, "2024-03-31T14:05:09Z"},
		{"03-31-24", true, "2024-03-31T00:00:00Z"},
		{"3/31/24 14:05", true, "2024-03-31T14:05:00Z"},
		{"3/31/2024", true, "2024-03-31T00:00:00Z"},
		{"3/31/24", false, ""}, // month-first only where Excel defines it
		{"2024-02-30", false, ""},
		{"31.13.2024", false, ""},
		{"yesterday", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseTime(tt.in, tt.excel)
			if tt.want == "" {
				require.False(t, ok, "parsed as %v", got)
				return
			}
			require.True(t, ok)
			want, err := time.Parse(time.RFC3339Nano, tt.want)
			require.NoError(t, err)
			require.Equal(t, want.UTC(), got)
		})
	}
}

func TestUnixTime(t *testing.T) {
	sec, ok := unixTime("1711893900")
	require.True(t, ok)
	ms, ok := unixTime("1711893900000")
	require.True(t, ok)
	require.Equal(t, sec, ms, "milliseconds are recognised by size")
	require.Equal(t, time.Date(2024, 3, 31, 14, 5, 0, 0, time.UTC), sec)
	_, ok = unixTime("1e300")
	require.False(t, ok)
}

func TestActiveRule(t *testing.T) {
	def := newActiveRule(Mapping{})
	for _, v := range []string{"true", "1", "YES", "Ja", "x", "Active", " aktiv "} {
		a, ok := def.parse(v)
		require.True(t, ok && a, v)
	}
	for _, v := range []string{"false", "0", "no", "NEIN", "inactive", "Inaktiv", "", "  "} {
		a, ok := def.parse(v)
		require.True(t, ok && !a, v)
	}
	_, ok := def.parse("maybe")
	require.False(t, ok)
}

func TestResolve(t *testing.T) {
	cols := []string{"id", "Name", "name2", "EMAIL", "email"}
	require.Equal(t, 0, resolve(cols, "id"))
	require.Equal(t, 1, resolve(cols, "name"), "a unique case-insensitive match")
	require.Equal(t, 4, resolve(cols, "email"), "an exact match wins")
	require.Equal(t, -1, resolve(cols, "Email"), "two case-insensitive matches are ambiguous")
	require.Equal(t, -1, resolve(cols, "missing"))
}
