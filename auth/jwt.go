package auth

import (
	"errors"
	"sync"
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
	key      []byte
	ttl      time.Duration
	verified verifiedTokens
}

// NewTokens returns Tokens signing with key; tokens live for ttl.
func NewTokens(key []byte, ttl time.Duration) *Tokens {
	return &Tokens{key: key, ttl: ttl, verified: verifiedTokens{m: map[string]verifiedToken{}}}
}

// leeway is the clock skew tolerated on a token's times.
const leeway = 5 * time.Second

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
// A token verified before is recognised by its exact text until it
// expires: a busy client's every request would otherwise pay for the
// signature and a JSON decoding of the claims.
func (t *Tokens) Verify(token string, now time.Time) (domain.Principal, error) {
	if p, ok := t.verified.get(token, now); ok {
		return p, nil
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer), jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithLeeway(leeway),
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
	p := domain.Principal{WorkspaceID: c.Workspace, UserID: c.Subject, Role: role, Email: c.Email}
	v := verifiedToken{p: p, until: c.ExpiresAt.Add(leeway)}
	if c.NotBefore != nil {
		v.from = c.NotBefore.Add(-leeway)
	}
	t.verified.put(token, v)
	return p, nil
}

// verifiedTokens remembers tokens whose signature and claims were checked,
// with the times between which they are valid.
type verifiedTokens struct {
	mu sync.RWMutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	p           domain.Principal
	from, until time.Time
}

// verifiedMax bounds the tokens remembered; past it, the map starts over.
const verifiedMax = 10_000

func (v *verifiedTokens) get(token string, now time.Time) (domain.Principal, bool) {
	v.mu.RLock()
	e, ok := v.m[token]
	v.mu.RUnlock()
	// Past its end, a token fails the full check with the right message.
	return e.p, ok && !now.Before(e.from) && now.Before(e.until)
}

func (v *verifiedTokens) put(token string, e verifiedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= verifiedMax {
		clear(v.m)
	}
	v.m[token] = e
}
