package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"syncd/auth"
	"syncd/domain"
)

// apiKeyHandlers serve api key management.
type apiKeyHandlers struct {
	store Store
	keys  *auth.KeyHasher
}

func apiKeyOut(k *domain.APIKey) APIKey {
	return APIKey{Id: k.ID, Name: k.Name, Prefix: k.Prefix, Role: Role(k.Role), CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
}

// ListApiKeys lists the workspace's keys, by prefix only.
func (h *apiKeyHandlers) ListApiKeys(c echo.Context, params ListApiKeysParams) error {
	p, err := pageOf(params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	keys, err := h.store.APIKeys(c.Request().Context(), principal(c).WorkspaceID, p)
	if err != nil {
		return err
	}
	out := APIKeyList{Data: make([]APIKey, len(keys))}
	for i := range keys {
		out.Data[i] = apiKeyOut(&keys[i])
	}
	out.NextCursor = nextCursor(len(keys), p, func() string { return keys[len(keys)-1].ID })
	return c.JSON(http.StatusOK, out)
}

// CreateApiKey makes a key and shows it this once.
func (h *apiKeyHandlers) CreateApiKey(c echo.Context, _ CreateApiKeyParams) error {
	var req APIKeyCreate
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := domain.ValidateAPIKeyName(req.Name); err != nil {
		return err
	}
	p := principal(c)
	secret, prefix, hash := h.keys.New()
	k := &domain.APIKey{WorkspaceID: p.WorkspaceID, Name: req.Name, Prefix: prefix, Hash: hash, Role: domain.Role(req.Role), CreatedBy: p.Subject()}
	if err := h.store.CreateAPIKey(c.Request().Context(), k); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	out := apiKeyOut(k)
	return c.JSON(http.StatusCreated, APIKeyCreated{
		Id: out.Id, Name: out.Name, Prefix: out.Prefix, Role: out.Role, CreatedAt: out.CreatedAt, LastUsedAt: out.LastUsedAt, Key: secret,
	})
}

// DeleteApiKey revokes a key.
func (h *apiKeyHandlers) DeleteApiKey(c echo.Context, id string) error {
	if err := h.store.DeleteAPIKey(c.Request().Context(), principal(c).WorkspaceID, id); err != nil {
		return err
	}
	return noContent(c)
}
