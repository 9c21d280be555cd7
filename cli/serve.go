package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"syncd/api"
	"syncd/auth"
	"syncd/connector/outbound"
	"syncd/store"
	"syncd/worker"
)

// serve runs the HTTP server until ctx ends (SIGINT/SIGTERM in main), then
// drains in-flight requests for up to SYNCD_SHUTDOWN_TIMEOUT.
func serve(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer) error {
	k, err := loadKeys(cfg, log)
	if err != nil {
		return err
	}
	keyring, err := store.ParseKeyring(k.Encryption)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg, log, keyring)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.ServeAlone(); err != nil {
		return err
	}
	n, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("database ready", "dialect", s.Dialect(), "migrations_applied", n)
	hasher := newHasher(cfg)
	if err := firstAdmin(ctx, cfg, s, hasher, stdout); err != nil {
		return err
	}
	// The start's large one-off allocations go back to the system before
	// the next: the first admin's password hash here and the dummy one the
	// API makes below each take 64 MiB, and the heap would otherwise hold
	// both at once, a peak of 190 MB that nothing after the start reached.
	debug.FreeOSMemory()
	spool, err := prepareSpool(cfg.DataDir, log)
	if err != nil {
		return err
	}
	w := worker.New(s, worker.Options{
		Logger:   log.With("component", "worker"),
		Outbound: outbound.Options{AllowPrivate: cfg.AllowPrivateTargets, Logger: log},
	})
	s.OnRecordsChanged(w.RecordsChanged)
	s.OnOperationsQueued(w.Wake)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	workDone := make(chan struct{})
	go func() { defer close(workDone); w.Run(workCtx) }()
	defer func() { stopWork(); <-workDone }()

	e, err := api.NewServer(api.Deps{
		Store: s, Tokens: auth.NewTokens(k.JWT, cfg.AccessTokenTTL), Passwords: hasher,
		Keys: auth.NewKeyHasher(k.Pepper), Logger: log,
		Config: api.Config{
			Version: Version, BodyLimit: cfg.BodyLimit, CORSOrigins: cfg.CORSOrigins,
			RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, TrustProxy: cfg.TrustProxy, RefreshTTL: cfg.RefreshTokenTTL,
			UploadLimit: cfg.UploadLimit, MassDeleteRatio: cfg.MassDeleteRatio, SpoolDir: spool,
			WindowCache: cfg.WindowCacheMB << 20,
			Outbound:    outbound.Options{AllowPrivate: cfg.AllowPrivateTargets, Logger: log},
		},
	})
	if err != nil {
		return err
	}
	debug.FreeOSMemory()
	if cfg.DebugAddr != "" {
		go serveDebug(cfg.DebugAddr, log)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("syncd listening", "addr", ln.Addr().String(), "version", Version)
	fmt.Fprintf(stdout, "syncd %s listening on http://%s (API docs at /docs/)\n", Version, displayAddr(ln.Addr()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; draining in-flight requests", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func displayAddr(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// firstAdmin creates the first workspace and admin on an empty database, from
// SYNCD_ADMIN_EMAIL and SYNCD_ADMIN_PASSWORD (a generated password is printed
// once), and tells how to log in.
func firstAdmin(ctx context.Context, cfg Config, s *store.Store, h *auth.Hasher, stdout io.Writer) error {
	n, err := s.CountWorkspaces(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw, generated, err := createWorkspace(ctx, s, h, "default", cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	shown := "(the password from SYNCD_ADMIN_PASSWORD)"
	if generated {
		shown = pw + "   <- generated, shown this once"
	}
	port := "8080"
	if _, p, err := net.SplitHostPort(cfg.Addr); err == nil && p != "" {
		port = p
	}
	fmt.Fprintf(stdout, `
created the first workspace and its admin
  email:    %s
  password: %s
log in:
  curl -s -X POST http://localhost:%s/v1/auth/login -H 'Content-Type: application/json' \
    -d '{"email":"%s","password":"<password>"}'

`, cfg.AdminEmail, shown, port, cfg.AdminEmail)
	return nil
}
