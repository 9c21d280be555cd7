package api

import (
	"context"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/auth"
	"syncd/domain"
)

// authHandlers serve login, refresh and logout.
type authHandlers struct {
	store      Store
	tokens     *auth.Tokens
	passwords  *auth.Hasher
	refreshTTL time.Duration
	now        func() time.Time
	throttle   loginThrottle
	// dummyHash is verified against when the email is unknown, so a login
	// takes as long whether or not the account exists.
	dummyHash string
}

func newAuthHandlers(d Deps) *authHandlers {
	dummy, _ := d.Passwords.Hash(context.Background(), "not a real password, only for timing")
	ttl := d.Config.RefreshTTL
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	return &authHandlers{
		store: d.Store, tokens: d.Tokens, passwords: d.Passwords, refreshTTL: ttl, now: d.Now,
		throttle: loginThrottle{d.Store}, dummyHash: dummy,
	}
}

var errBadLogin = domain.Errorf(domain.CodeUnauthorized, "email or password is wrong")

// Login exchanges email and password for a token pair.
func (h *authHandlers) Login(c echo.Context) error {
	var req LoginRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	now := h.now()
	ctx, address := c.Request().Context(), c.RealIP()
	wait, err := h.throttle.wait(ctx, email, address, now)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &domain.Error{Code: domain.CodeRateLimited, Message: "too many failed logins; try again later", RetryAfter: int(math.Ceil(wait.Seconds()))}
	}
	u, err := h.store.UserByEmail(ctx, email)
	if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
		return err
	}
	hash := h.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := h.passwords.Verify(ctx, hash, req.Password)
	if err != nil {
		return err
	}
	if u == nil || !ok {
		if err := h.throttle.fail(ctx, email, address, now); err != nil {
			return err
		}
		return errBadLogin
	}
	if err := h.throttle.succeed(ctx, email, address); err != nil {
		return err
	}
	_ = h.store.TouchLogin(ctx, u.ID, now)
	return h.issue(c, u)
}

// Refresh rotates a refresh token into a new pair.
func (h *authHandlers) Refresh(c echo.Context) error {
	var req RefreshRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	now := h.now()
	token, hash := auth.NewRefreshToken()
	next := &domain.RefreshToken{Hash: hash, ExpiresAt: now.Add(h.refreshTTL)}
	rt, err := h.store.RotateRefreshToken(ctx, auth.HashRefreshToken(req.RefreshToken), next, now)
	if err != nil {
		return err
	}
	u, err := h.store.User(ctx, rt.WorkspaceID, rt.UserID)
	if err != nil {
		return domain.Errorf(domain.CodeUnauthorized, "refresh token belongs to a removed user")
	}
	return h.pair(c, u, token)
}

// Logout revokes the refresh token's family.
func (h *authHandlers) Logout(c echo.Context) error {
	var req RefreshRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	err := h.store.RevokeFamily(c.Request().Context(), auth.HashRefreshToken(req.RefreshToken), h.now())
	if domain.IsCode(err, domain.CodeNotFound) {
		return domain.Errorf(domain.CodeUnauthorized, "refresh token is invalid")
	}
	if err != nil {
		return err
	}
	return noContent(c)
}

// issue starts a new refresh-token family for u and answers the pair.
func (h *authHandlers) issue(c echo.Context, u *domain.User) error {
	token, hash := auth.NewRefreshToken()
	rt := &domain.RefreshToken{WorkspaceID: u.WorkspaceID, UserID: u.ID, Hash: hash, ExpiresAt: h.now().Add(h.refreshTTL)}
	if err := h.store.CreateRefreshToken(c.Request().Context(), rt); err != nil {
		return err
	}
	return h.pair(c, u, token)
}

func (h *authHandlers) pair(c echo.Context, u *domain.User, refresh string) error {
	access, err := h.tokens.Issue(u, h.now())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, TokenPair{
		AccessToken: access, RefreshToken: refresh, TokenType: Bearer, ExpiresIn: int(h.tokens.TTL().Seconds()),
	})
}
