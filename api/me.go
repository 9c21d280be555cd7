package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// meHandlers serve the caller's own view.
type meHandlers struct {
	store Store
}

// GetMe describes the caller: user or api key, workspace and role.
func (h *meHandlers) GetMe(c echo.Context) error {
	p := principal(c)
	w, err := h.store.Workspace(c.Request().Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	me := Me{WorkspaceId: w.ID, WorkspaceName: w.Name, Role: Role(p.Role)}
	if p.APIKeyID != "" {
		me.Kind, me.Id, me.Name = MeKindApiKey, p.APIKeyID, &p.Name
	} else {
		me.Kind, me.Id, me.Email = MeKindUser, p.UserID, &p.Email
	}
	return c.JSON(http.StatusOK, me)
}
