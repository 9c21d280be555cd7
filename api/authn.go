package api

import (
	"context"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/auth"
	"syncd/domain"
)

const principalKey = "syncd.principal"

// principal is the authenticated caller; the validator set it before any
// secured handler runs.
func principal(c echo.Context) domain.Principal {
	p, _ := c.Get(principalKey).(domain.Principal)
	return p
}

// authenticator turns a bearer credential into a Principal.
type authenticator struct {
	store  Store
	tokens *auth.Tokens
	keys   *auth.KeyHasher
	now    func() time.Time
	users  *userCache
}

var errNoCredentials = domain.Errorf(domain.CodeUnauthorized, "authentication required: send Authorization: Bearer <access token or api key>")

// authenticate checks an Authorization header value. Errors: CodeUnauthorized.
func (a *authenticator) authenticate(ctx context.Context, header string) (domain.Principal, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return domain.Principal{}, errNoCredentials
	}
	now := a.now()
	if domain.IsAPIKey(token) {
		k, err := a.store.APIKeyByHash(ctx, a.keys.Hash(token))
		if err != nil {
			if domain.IsCode(err, domain.CodeNotFound) {
				return domain.Principal{}, domain.Errorf(domain.CodeUnauthorized, "api key is invalid or revoked")
			}
			return domain.Principal{}, err
		}
		// Recording every use would turn each read into a write; a minute's
		// resolution is enough for "last used".
		if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
			_ = a.store.TouchAPIKey(ctx, k.ID, now)
		}
		return domain.Principal{WorkspaceID: k.WorkspaceID, Role: k.Role, APIKeyID: k.ID, Name: k.Name}, nil
	}
	p, err := a.tokens.Verify(token, now)
	if err != nil {
		return domain.Principal{}, err
	}
	// The token's role may be outdated; the user's current role counts, and a
	// removed user's tokens stop working (see userCache for how soon).
	if u, ok := a.users.get(p.UserID, now); ok {
		p.Role, p.Email = u.role, u.email
		return p, nil
	}
	u, err := a.store.User(ctx, p.WorkspaceID, p.UserID)
	if err != nil {
		if domain.IsCode(err, domain.CodeNotFound) {
			return domain.Principal{}, domain.Errorf(domain.CodeUnauthorized, "access token belongs to a removed user")
		}
		return domain.Principal{}, err
	}
	a.users.put(u, now)
	p.Role, p.Email = u.Role, u.Email
	return p, nil
}
