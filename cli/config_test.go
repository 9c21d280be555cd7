package cli

import (
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	t.Run("defaults", func(t *testing.T) {
		c, err := loadConfig(env())
		if err != nil {
			t.Fatal(err)
		}
		if c.DBMaxConns != 20 || c.WindowCacheMB != 32 || c.MassDeleteRatio != 0.5 || !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
			t.Fatalf("defaults: %+v", c)
		}
	})
	t.Run("db_max_conns", func(t *testing.T) {
		c, err := loadConfig(env("SYNCD_DB_MAX_CONNS", "40"))
		if err != nil || c.DBMaxConns != 40 {
			t.Fatalf("got %d, %v", c.DBMaxConns, err)
		}
	})
	for _, c := range []struct{ key, value, says string }{
		{"SYNCD_DB_MAX_CONNS", "4", "SYNCD_DB_MAX_CONNS must be at least 8"},
		{"SYNCD_DB_MAX_CONNS", "many", `SYNCD_DB_MAX_CONNS: strconv.ParseInt: parsing "many"`},
		{"SYNCD_SHUTDOWN_TIMEOUT", "soon", `SYNCD_SHUTDOWN_TIMEOUT: unable to parse duration: time: invalid duration "soon"`},
		{"SYNCD_MASS_DELETE_RATIO", "1.5", "SYNCD_MASS_DELETE_RATIO must be between 0 and 1"},
		{"SYNCD_WINDOW_CACHE_MB", "-1", "SYNCD_WINDOW_CACHE_MB must not be negative"},
		{"SYNCD_BODY_LIMIT", "10", "SYNCD_BODY_LIMIT must be at least 1024 bytes"},
		{"SYNCD_ACCESS_TOKEN_TTL", "10s", "token lifetimes"},
	} {
		t.Run("refuses_"+strings.ToLower(c.key)+"_"+c.value, func(t *testing.T) {
			_, err := loadConfig(env(c.key, c.value))
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("%s=%s: got %v, want an error saying %q", c.key, c.value, err, c.says)
			}
		})
	}
}
