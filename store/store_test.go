package store_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
)

// workspace creates a workspace with an admin and returns both.
func workspace(t testing.TB, s *store.Store, email string) (*domain.Workspace, *domain.User) {
	t.Helper()
	w := &domain.Workspace{Name: "ws " + email}
	u := &domain.User{Email: email, PasswordHash: "x"}
	require.NoError(t, s.CreateWorkspace(context.Background(), w, u))
	return w, u
}

func TestMigrate(t *testing.T) {
	t.Run("second_run_applies_nothing_and_ready", func(t *testing.T) {
		s := storetest.New(t)
		n, err := s.Migrate(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)
		require.NoError(t, s.Ready(context.Background()))
		list, err := s.Migrations(context.Background())
		require.NoError(t, err)
		require.NotEmpty(t, list)
		for _, m := range list {
			require.True(t, m.Applied, m.Name)
		}
	})
	t.Run("not_ready_before_migrating", func(t *testing.T) {
		s, err := store.Open(context.Background(), storetest.NewURL(t), store.Options{})
		require.NoError(t, err)
		defer s.Close()
		require.Error(t, s.Ready(context.Background()))
	})
	t.Run("replicas_migrating_at_once_do_not_race", func(t *testing.T) {
		url := storetest.NewURL(t)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := store.Open(context.Background(), url, store.Options{})
				if err != nil {
					errs[i] = err
					return
				}
				defer s.Close()
				_, errs[i] = s.Migrate(context.Background())
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
	})
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	t.Run("email_is_unique_across_workspaces", func(t *testing.T) {
		s := storetest.New(t)
		workspace(t, s, "a@example.com")
		err := s.CreateWorkspace(ctx, &domain.Workspace{Name: "b"}, &domain.User{Email: "a@example.com", PasswordHash: "x"})
		require.True(t, domain.IsCode(err, domain.CodeInvalid), "%v", err)
		n, err := s.CountWorkspaces(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "the failed workspace must not be stored")
	})
	t.Run("other_workspace_is_not_found", func(t *testing.T) {
		s := storetest.New(t)
		w1, u1 := workspace(t, s, "a@example.com")
		w2, _ := workspace(t, s, "b@example.com")
		_, err := s.User(ctx, w2.ID, u1.ID)
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		require.True(t, domain.IsCode(s.DeleteUser(ctx, w2.ID, u1.ID), domain.CodeNotFound))
		got, err := s.User(ctx, w1.ID, u1.ID)
		require.NoError(t, err)
		require.Equal(t, "a@example.com", got.Email)
	})
	t.Run("last_admin_keeps_role_and_stays", func(t *testing.T) {
		s := storetest.New(t)
		w, u := workspace(t, s, "a@example.com")
		viewer := domain.RoleViewer
		_, err := s.UpdateUser(ctx, w.ID, u.ID, domain.UserPatch{Role: &viewer}, time.Now())
		require.True(t, domain.IsCode(err, domain.CodeConflict), "%v", err)
		require.True(t, domain.IsCode(s.DeleteUser(ctx, w.ID, u.ID), domain.CodeConflict))
		second := &domain.User{WorkspaceID: w.ID, Email: "c@example.com", PasswordHash: "x", Role: domain.RoleAdmin}
		require.NoError(t, s.CreateUser(ctx, second))
		got, err := s.UpdateUser(ctx, w.ID, u.ID, domain.UserPatch{Role: &viewer}, time.Now())
		require.NoError(t, err)
		require.Equal(t, domain.RoleViewer, got.Role)
	})
	t.Run("keyset_pages_cover_every_user_once", func(t *testing.T) {
		s := storetest.New(t)
		w, _ := workspace(t, s, "a@example.com")
		for i := range 7 {
			require.NoError(t, s.CreateUser(ctx, &domain.User{WorkspaceID: w.ID, Email: string(rune('b'+i)) + "@example.com", PasswordHash: "x", Role: domain.RoleViewer}))
		}
		seen := map[string]bool{}
		p := domain.Page{Limit: 3}
		for {
			list, err := s.Users(ctx, w.ID, p)
			require.NoError(t, err)
			for _, u := range list {
				require.False(t, seen[u.ID])
				seen[u.ID] = true
			}
			if len(list) < p.Limit {
				break
			}
			p.After = list[len(list)-1].ID
		}
		require.Len(t, seen, 8)
	})
}

func TestRefreshTokens(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	setup := func(t *testing.T) (*store.Store, *domain.RefreshToken) {
		s := storetest.New(t)
		w, u := workspace(t, s, "a@example.com")
		rt := &domain.RefreshToken{WorkspaceID: w.ID, UserID: u.ID, Hash: "h0", ExpiresAt: now.Add(time.Hour)}
		require.NoError(t, s.CreateRefreshToken(ctx, rt))
		return s, rt
	}
	t.Run("rotation_spends_the_old_token", func(t *testing.T) {
		s, rt := setup(t)
		next, err := s.RotateRefreshToken(ctx, "h0", &domain.RefreshToken{Hash: "h1", ExpiresAt: now.Add(time.Hour)}, now)
		require.NoError(t, err)
		require.Equal(t, rt.FamilyID, next.FamilyID)
		_, err = s.RotateRefreshToken(ctx, "h1", &domain.RefreshToken{Hash: "h2", ExpiresAt: now.Add(time.Hour)}, now)
		require.NoError(t, err)
	})
	t.Run("reuse_revokes_the_family", func(t *testing.T) {
		s, _ := setup(t)
		_, err := s.RotateRefreshToken(ctx, "h0", &domain.RefreshToken{Hash: "h1", ExpiresAt: now.Add(time.Hour)}, now)
		require.NoError(t, err)
		_, err = s.RotateRefreshToken(ctx, "h0", &domain.RefreshToken{Hash: "hx", ExpiresAt: now.Add(time.Hour)}, now)
		require.True(t, domain.IsCode(err, domain.CodeUnauthorized), "%v", err)
		_, err = s.RotateRefreshToken(ctx, "h1", &domain.RefreshToken{Hash: "h2", ExpiresAt: now.Add(time.Hour)}, now)
		require.True(t, domain.IsCode(err, domain.CodeUnauthorized), "the newest token of a reused family must be dead too: %v", err)
	})
	t.Run("expired_token_is_refused", func(t *testing.T) {
		s, _ := setup(t)
		_, err := s.RotateRefreshToken(ctx, "h0", &domain.RefreshToken{Hash: "h1"}, now.Add(2*time.Hour))
		require.True(t, domain.IsCode(err, domain.CodeUnauthorized))
	})
	t.Run("concurrent_rotations_let_one_win", func(t *testing.T) {
		s, _ := setup(t)
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.RotateRefreshToken(ctx, "h0", &domain.RefreshToken{Hash: "n" + string(rune('a'+i)), ExpiresAt: now.Add(time.Hour)}, now)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			}
		}
		require.LessOrEqual(t, ok, 1)
	})
	t.Run("logout_revokes_the_family", func(t *testing.T) {
		s, _ := setup(t)
		_, err := s.RotateRefreshToken(ctx, "h0", &domain.RefreshToken{Hash: "h1", ExpiresAt: now.Add(time.Hour)}, now)
		require.NoError(t, err)
		require.NoError(t, s.RevokeFamily(ctx, "h1", now))
		_, err = s.RotateRefreshToken(ctx, "h1", &domain.RefreshToken{Hash: "h2", ExpiresAt: now.Add(time.Hour)}, now)
		require.True(t, domain.IsCode(err, domain.CodeUnauthorized))
	})
}

func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	w1, _ := workspace(t, s, "a@example.com")
	w2, _ := workspace(t, s, "b@example.com")
	k := &domain.APIKey{WorkspaceID: w1.ID, Name: "zap", Prefix: "sk_abc", Hash: "hash1", Role: domain.RoleOperator, CreatedBy: "user:x"}
	require.NoError(t, s.CreateAPIKey(ctx, k))
	got, err := s.APIKeyByHash(ctx, "hash1")
	require.NoError(t, err)
	require.Equal(t, k.ID, got.ID)
	require.Nil(t, got.LastUsedAt)
	require.NoError(t, s.TouchAPIKey(ctx, k.ID, time.Now()))
	list, err := s.APIKeys(ctx, w2.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, list, "another workspace sees no keys")
	require.True(t, domain.IsCode(s.DeleteAPIKey(ctx, w2.ID, k.ID), domain.CodeNotFound))
	require.NoError(t, s.DeleteAPIKey(ctx, w1.ID, k.ID))
	_, err = s.APIKeyByHash(ctx, "hash1")
	require.True(t, domain.IsCode(err, domain.CodeNotFound))
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	now := time.Now()
	r := &domain.IdempotentResponse{WorkspaceID: "w", Subject: "user:u", Key: "k", Method: "POST", Path: "/v1/x", Status: 201, ContentType: "application/json", Body: []byte(`{}`), CreatedAt: now}
	require.NoError(t, s.SaveIdempotentResponse(ctx, r))
	require.NoError(t, s.SaveIdempotentResponse(ctx, r), "a concurrent save is not an error")
	got, err := s.IdempotentResponse(ctx, "w", "user:u", "k", now)
	require.NoError(t, err)
	require.Equal(t, 201, got.Status)
	_, err = s.IdempotentResponse(ctx, "w", "user:other", "k", now)
	require.True(t, domain.IsCode(err, domain.CodeNotFound))
	_, err = s.IdempotentResponse(ctx, "w", "user:u", "k", now.Add(25*time.Hour))
	require.True(t, domain.IsCode(err, domain.CodeNotFound), "expired after a day")
}

func TestKeyring(t *testing.T) {
	k1, err := store.ParseKeyring("1:" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NoError(t, err)
	sealed := k1.Seal([]byte("secret"), []byte("conn1"))
	require.NotContains(t, sealed, "secret")
	plain, err := k1.Open(sealed, []byte("conn1"))
	require.NoError(t, err)
	require.Equal(t, "secret", string(plain))
	_, err = k1.Open(sealed, []byte("conn2"))
	require.Error(t, err, "bound to its row")
	k2, err := store.ParseKeyring("2:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=,1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NoError(t, err)
	plain, err = k2.Open(sealed, []byte("conn1"))
	require.NoError(t, err, "old versions still open")
	require.Equal(t, "secret", string(plain))
	require.Contains(t, k2.Seal([]byte("x"), nil), "v2:")
	_, err = store.ParseKeyring("1:short")
	require.Error(t, err)
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	now := time.Now()
	old := &domain.IdempotentResponse{WorkspaceID: "w", Subject: "user:u", Key: "old", Method: "POST", Path: "/v1/x", Status: 201, ContentType: "application/json", Body: []byte(`{}`), CreatedAt: now.Add(-25 * time.Hour)}
	fresh := *old
	fresh.Key, fresh.CreatedAt = "fresh", now
	require.NoError(t, s.SaveIdempotentResponse(ctx, old))
	require.NoError(t, s.SaveIdempotentResponse(ctx, &fresh))
	require.NoError(t, s.LoginFailed(ctx, []string{"quiet"}, now.Add(-2*domain.LoginFailuresKept)))
	require.NoError(t, s.LoginFailed(ctx, []string{"recent"}, now))
	n, err := s.Prune(ctx, now)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	_, err = s.IdempotentResponse(ctx, "w", "user:u", "fresh", now)
	require.NoError(t, err, "a fresh key stays")
	got, err := s.LoginFailures(ctx, []string{"quiet", "recent"})
	require.NoError(t, err)
	require.Equal(t, []string{"recent"}, slices.Collect(maps.Keys(got)))
}
