package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"syncd/domain"
)

// The issuer and audience every access token carries and must carry.
const (
	Issuer   = "syncd"
	Audience = "syncd-api"
)

// Tokens issues and verifies access tokens: HS256 JWTs with iss, aud, sub, exp.
type Tokens struct {
	key []byte
	ttl time.Duration
}

// NewTokens returns Tokens signing with key; tokens live for ttl.
func NewTokens(key []byte, ttl time.Duration) *Tokens { return &Tokens{key: key, ttl: ttl} }

// TTL is how long an access token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

type claims struct {
	Workspace string `json:"wid"`
	Role      string `json:"role"`
	Email     string `json:"email,omitempty"`
	jwt.RegisteredClaims
}

// Issue returns a signed access token for the user.
func (t *Tokens) Issue(u *domain.User, now time.Time) (string, error) {
	c := claims{
		Workspace: u.WorkspaceID, Role: string(u.Role), Email: u.Email,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Audience: jwt.ClaimStrings{Audience}, Subject: u.ID,
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)), ID: randomToken(9),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
}

// Verify checks an access token: HS256 only (alg none and every other
// algorithm are refused), signature, iss, aud and exp. Errors: CodeUnauthorized.
func (t *Tokens) Verify(token string, now time.Time) (domain.Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer), jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		msg := "access token is invalid"
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "access token has expired"
		}
		return domain.Principal{}, domain.Wrap(domain.CodeUnauthorized, err, msg)
	}
	role := domain.Role(c.Role)
	if c.Subject == "" || c.Workspace == "" || !role.Valid() {
		return domain.Principal{}, domain.Errorf(domain.CodeUnauthorized, "access token is invalid")
	}
	return domain.Principal{WorkspaceID: c.Workspace, UserID: c.Subject, Role: role, Email: c.Email}, nil
}
