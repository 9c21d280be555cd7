package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"syncd/auth"
	"syncd/domain"
)

// userHandlers serve the admin's user management.
type userHandlers struct {
	store     Store
	passwords *auth.Hasher
	now       func() time.Time
	users     *userCache // forgets a user as soon as it changes
}

func userOut(u *domain.User) User {
	return User{Id: u.ID, Email: u.Email, Role: Role(u.Role), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastLoginAt: u.LastLoginAt}
}

// ListUsers lists the workspace's users.
func (h *userHandlers) ListUsers(c echo.Context, params ListUsersParams) error {
	p, err := pageOf(params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	users, err := h.store.Users(c.Request().Context(), principal(c).WorkspaceID, p)
	if err != nil {
		return err
	}
	out := UserList{Data: make([]User, len(users))}
	for i := range users {
		out.Data[i] = userOut(&users[i])
	}
	out.NextCursor = nextCursor(len(users), p, func() string { return users[len(users)-1].ID })
	return c.JSON(http.StatusOK, out)
}

// CreateUser adds a user to the caller's workspace.
func (h *userHandlers) CreateUser(c echo.Context, _ CreateUserParams) error {
	var req UserCreate
	if err := bind(c, &req); err != nil {
		return err
	}
	email, err := domain.NormalizeEmail(req.Email)
	if err != nil {
		return err
	}
	if err := domain.ValidatePassword(req.Password); err != nil {
		return err
	}
	hash, err := h.passwords.Hash(c.Request().Context(), req.Password)
	if err != nil {
		return err
	}
	u := &domain.User{WorkspaceID: principal(c).WorkspaceID, Email: email, PasswordHash: hash, Role: domain.Role(req.Role)}
	if err := h.store.CreateUser(c.Request().Context(), u); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, userOut(u))
}

// GetUser shows one user.
func (h *userHandlers) GetUser(c echo.Context, id string) error {
	u, err := h.store.User(c.Request().Context(), principal(c).WorkspaceID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userOut(u))
}

// UpdateUser changes a user's role or password.
func (h *userHandlers) UpdateUser(c echo.Context, id string) error {
	var req UserPatch
	if err := bind(c, &req); err != nil {
		return err
	}
	var patch domain.UserPatch
	if req.Role != nil {
		r := domain.Role(*req.Role)
		patch.Role = &r
	}
	if req.Password != nil {
		if err := domain.ValidatePassword(*req.Password); err != nil {
			return err
		}
		hash, err := h.passwords.Hash(c.Request().Context(), *req.Password)
		if err != nil {
			return err
		}
		patch.PasswordHash = &hash
	}
	u, err := h.store.UpdateUser(c.Request().Context(), principal(c).WorkspaceID, id, patch, h.now())
	h.users.forget(id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userOut(u))
}

// DeleteUser removes a user.
func (h *userHandlers) DeleteUser(c echo.Context, id string) error {
	err := h.store.DeleteUser(c.Request().Context(), principal(c).WorkspaceID, id)
	h.users.forget(id)
	if err != nil {
		return err
	}
	return noContent(c)
}
