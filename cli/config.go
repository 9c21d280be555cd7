// Package cli is the syncd command: its subcommands, configuration and the
// wiring of store, api and workers into a running server.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is read from SYNCD_-prefixed environment variables (and
// DATABASE_URL). The README's configuration table mirrors it.
type Config struct {
	Env                 string        `env:"SYNCD_ENV" envDefault:"development"`
	Addr                string        `env:"SYNCD_ADDR" envDefault:":8080"`
	DatabaseURL         string        `env:"DATABASE_URL"`
	DBMaxConns          int           `env:"SYNCD_DB_MAX_CONNS" envDefault:"20"`
	DataDir             string        `env:"SYNCD_DATA_DIR" envDefault:"./data"`
	EncryptionKey       string        `env:"SYNCD_ENCRYPTION_KEY"`
	JWTKey              string        `env:"SYNCD_JWT_KEY"`
	APIKeyPepper        string        `env:"SYNCD_API_KEY_PEPPER"`
	AccessTokenTTL      time.Duration `env:"SYNCD_ACCESS_TOKEN_TTL" envDefault:"15m"`
	RefreshTokenTTL     time.Duration `env:"SYNCD_REFRESH_TOKEN_TTL" envDefault:"720h"`
	CORSOrigins         []string      `env:"SYNCD_CORS_ORIGINS" envSeparator:","`
	BodyLimit           int64         `env:"SYNCD_BODY_LIMIT" envDefault:"1048576"`
	UploadLimit         int64         `env:"SYNCD_UPLOAD_LIMIT" envDefault:"536870912"`
	RateLimit           float64       `env:"SYNCD_RATE_LIMIT" envDefault:"50"`
	RateBurst           int           `env:"SYNCD_RATE_BURST" envDefault:"100"`
	TrustProxy          bool          `env:"SYNCD_TRUST_PROXY" envDefault:"false"`
	LogLevel            string        `env:"SYNCD_LOG_LEVEL" envDefault:"info"`
	LogFormat           string        `env:"SYNCD_LOG_FORMAT" envDefault:"text"`
	AllowPrivateTargets bool          `env:"SYNCD_ALLOW_PRIVATE_TARGETS" envDefault:"false"`
	MassDeleteRatio     float64       `env:"SYNCD_MASS_DELETE_RATIO" envDefault:"0.5"`
	WindowCacheMB       int64         `env:"SYNCD_WINDOW_CACHE_MB" envDefault:"32"`
	AdminEmail          string        `env:"SYNCD_ADMIN_EMAIL" envDefault:"admin@localhost"`
	AdminPassword       string        `env:"SYNCD_ADMIN_PASSWORD"`
	PasswordHashWorkers int           `env:"SYNCD_PASSWORD_HASH_CONCURRENCY" envDefault:"4"`
	ShutdownTimeout     time.Duration `env:"SYNCD_SHUTDOWN_TIMEOUT" envDefault:"30s"`
	DebugAddr           string        `env:"SYNCD_DEBUG_ADDR"`
}

// Production reports whether SYNCD_ENV=production, where missing keys are errors.
func (c Config) Production() bool { return c.Env == "production" }

// minDBConns is the smallest main pool that serves a bulk action's chunks
// side by side, the worker and requests at once.
const minDBConns = 8

// loadConfig reads the configuration through getenv.
func loadConfig(getenv func(string) string) (Config, error) {
	var c Config
	params, err := env.GetFieldParams(&c)
	if err != nil {
		return c, err
	}
	vars := map[string]string{}
	for _, p := range params {
		if v := getenv(p.Key); v != "" {
			vars[p.Key] = v
		}
	}
	if err := env.ParseWithOptions(&c, env.Options{Environment: vars}); err != nil {
		// The library names the struct field; a person set the variable.
		var pe env.ParseError
		if errors.As(err, &pe) {
			if f, ok := reflect.TypeFor[Config]().FieldByName(pe.Name); ok {
				return c, fmt.Errorf("configuration: %s: %w", f.Tag.Get("env"), pe.Err)
			}
		}
		return c, fmt.Errorf("configuration: %w", err)
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "syncd.db")
	}
	switch {
	case c.MassDeleteRatio < 0 || c.MassDeleteRatio > 1:
		return c, fmt.Errorf("configuration: SYNCD_MASS_DELETE_RATIO must be between 0 and 1")
	case c.DBMaxConns < minDBConns:
		return c, fmt.Errorf("configuration: SYNCD_DB_MAX_CONNS must be at least %d", minDBConns)
	case c.WindowCacheMB < 0:
		return c, fmt.Errorf("configuration: SYNCD_WINDOW_CACHE_MB must not be negative")
	case c.BodyLimit < 1024:
		return c, fmt.Errorf("configuration: SYNCD_BODY_LIMIT must be at least 1024 bytes")
	case c.AccessTokenTTL < time.Minute || c.RefreshTokenTTL < c.AccessTokenTTL:
		return c, fmt.Errorf("configuration: token lifetimes must be at least a minute, the refresh token's at least the access token's")
	}
	return c, nil
}

// newLogger builds the slog logger from SYNCD_LOG_LEVEL and SYNCD_LOG_FORMAT.
func newLogger(c Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("configuration: SYNCD_LOG_LEVEL: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.LogFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("configuration: SYNCD_LOG_FORMAT must be json or text")
}
