package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"syncd/auth"
	"syncd/domain"
	"syncd/store"
)

// Version is set at build time with -ldflags "-X syncd/cli.Version=...".
var Version = "dev"

const usage = `usage: syncd [command]

commands:
  serve       run the HTTP server and workers (default)
  migrate     apply pending migrations; "migrate status" lists them
  bootstrap   create a workspace and its first admin:
              syncd bootstrap --workspace NAME --email EMAIL [--password PASSWORD]
  rotate-key  re-encrypt stored credentials under the newest key of
              SYNCD_ENCRYPTION_KEY ("2:NEWKEY,1:OLDKEY")
  healthcheck exit 0 when the local server answers /healthz (for containers)
  version     print the version

configuration comes from SYNCD_* environment variables and DATABASE_URL (see README).
`

// Run is the whole syncd command: main only supplies the process's context,
// arguments, environment and output streams, so tests can run it in-process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "version" || cmd == "--version" {
		_, err := fmt.Fprintln(stdout, "syncd", Version)
		return err
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		_, err := fmt.Fprint(stdout, usage)
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "migrate":
		return migrate(ctx, cfg, args, stdout)
	case "bootstrap":
		return bootstrap(ctx, cfg, args, stdout)
	case "rotate-key":
		return rotateKey(ctx, cfg, stdout)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

// openStore connects to the configured database.
func openStore(ctx context.Context, cfg Config, log *slog.Logger, keyring *store.Keyring) (*store.Store, error) {
	return store.Open(ctx, cfg.DatabaseURL, store.Options{Logger: log, Keyring: keyring, MaxOpenConns: cfg.DBMaxConns})
}

func newHasher(cfg Config) *auth.Hasher {
	return auth.NewHasher(auth.DefaultArgon2, cfg.PasswordHashWorkers)
}

// migrate applies pending migrations, or lists them with "status".
func migrate(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	s, err := openStore(ctx, cfg, nil, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(args) > 0 && args[0] == "status" {
		list, err := s.Migrations(ctx)
		if err != nil {
			return err
		}
		for _, m := range list {
			state := "pending"
			if m.Applied {
				state = "applied " + m.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
			}
			fmt.Fprintf(stdout, "%05d  %-40s %s\n", m.Version, m.Name, state)
		}
		return nil
	}
	if len(args) > 0 && args[0] != "apply" && args[0] != "up" {
		return fmt.Errorf("usage: syncd migrate [apply|status]")
	}
	n, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "applied %d migration(s) on %s\n", n, s.Dialect())
	return err
}

// bootstrap creates a workspace with its first admin.
func bootstrap(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(stdout)
	name := fs.String("workspace", "", "workspace name")
	email := fs.String("email", "", "the admin's email")
	password := fs.String("password", "", "the admin's password (generated and printed when empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *email == "" {
		return errors.New("usage: syncd bootstrap --workspace NAME --email EMAIL [--password PASSWORD]")
	}
	s, err := openStore(ctx, cfg, nil, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}
	pw, generated, err := createWorkspace(ctx, s, newHasher(cfg), *name, *email, *password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created workspace %q with admin %s\n", *name, *email)
	if generated {
		fmt.Fprintf(stdout, "generated password (shown once): %s\n", pw)
	}
	return nil
}

// createWorkspace validates and stores a workspace and its admin; an empty
// password is generated.
func createWorkspace(ctx context.Context, s *store.Store, h *auth.Hasher, name, email, password string) (string, bool, error) {
	if name == "" || len(name) > 200 {
		return "", false, domain.Invalid("invalid workspace name", map[string]string{"workspace": "must be 1 to 200 characters"})
	}
	email, err := domain.NormalizeEmail(email)
	if err != nil {
		return "", false, err
	}
	generated := password == ""
	if generated {
		b := make([]byte, 18)
		rand.Read(b)
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	if err := domain.ValidatePassword(password); err != nil {
		return "", false, err
	}
	hash, err := h.Hash(ctx, password)
	if err != nil {
		return "", false, err
	}
	err = s.CreateWorkspace(ctx, &domain.Workspace{Name: name}, &domain.User{Email: email, PasswordHash: hash})
	return password, generated, err
}
