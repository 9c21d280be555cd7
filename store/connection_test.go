package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
)

const (
	connOldKeys = storetest.KeyringSpec
	connNewKey  = storetest.NewerKeySpec
	connSecret  = "crm-secret-Zq81x"
)

// openWithKeys opens the database at url with a keyring, migrating it.
func openWithKeys(t *testing.T, url, keys string) *store.Store {
	t.Helper()
	s := storetest.Open(t, url, keys)
	_, err := s.Migrate(context.Background())
	require.NoError(t, err)
	return s
}

func sealedConnection(t *testing.T, s *store.Store, workspaceID string) *domain.Connection {
	t.Helper()
	c := &domain.Connection{
		WorkspaceID: workspaceID, Name: "CRM", Kind: domain.KindREST,
		Config:      []byte(`{"base_url":"https://crm.example.com","objects":{"customers":{"list_path":"/c"}}}`),
		Credentials: []byte(`{"api_key":"` + connSecret + `","username":"syncd"}`),
	}
	require.NoError(t, s.CreateConnection(context.Background(), c))
	return c
}

// rawCredentials reads the credentials column as stored.
func rawCredentials(t *testing.T, s *store.Store, id string) string {
	t.Helper()
	var raw string
	require.NoError(t, s.SQL().QueryRow(`SELECT credentials FROM connections WHERE id = $1`, id).Scan(&raw))
	return raw
}

func TestConnections(t *testing.T) {
	ctx := context.Background()
	t.Run("credentials_are_sealed_and_never_listed", func(t *testing.T) {
		s := storetest.New(t)
		w, _ := workspace(t, s, "a@example.com")
		c := sealedConnection(t, s, w.ID)
		require.EqualValues(t, 1, c.Version)
		require.Equal(t, []string{"api_key", "username"}, c.CredentialFields)

		raw := rawCredentials(t, s, c.ID)
		require.NotContains(t, raw, connSecret)
		require.NotContains(t, raw, "syncd")
		require.Regexp(t, `^v1:`, raw)

		got, err := s.Connection(ctx, w.ID, c.ID)
		require.NoError(t, err)
		require.JSONEq(t, `{"api_key":"`+connSecret+`","username":"syncd"}`, string(got.Credentials))
		require.JSONEq(t, string(c.Config), string(got.Config))

		list, err := s.Connections(ctx, w.ID, domain.Page{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Nil(t, list[0].Credentials, "lists carry no credential values")
		require.Equal(t, []string{"api_key", "username"}, list[0].CredentialFields)
	})
	t.Run("ciphertext_is_bound_to_its_connection", func(t *testing.T) {
		s := storetest.New(t)
		w, _ := workspace(t, s, "a@example.com")
		a, b := sealedConnection(t, s, w.ID), sealedConnection(t, s, w.ID)
		_, err := s.SQL().Exec(`UPDATE connections SET credentials = $1 WHERE id = $2`, rawCredentials(t, s, a.ID), b.ID)
		require.NoError(t, err)
		_, err = s.Connection(ctx, w.ID, b.ID)
		require.True(t, domain.IsCode(err, domain.CodeInternal), "a copied ciphertext must not open: %v", err)
	})
	t.Run("update_replaces_and_clears_credentials", func(t *testing.T) {
		s := storetest.New(t)
		w, _ := workspace(t, s, "a@example.com")
		c := sealedConnection(t, s, w.ID)
		name := "CRM (live)"
		got, err := s.UpdateConnection(ctx, w.ID, c.ID, domain.ConnectionPatch{Name: &name, Credentials: []byte(`{"token":"t-1"}`)}, 1, time.Now())
		require.NoError(t, err)
		require.Equal(t, name, got.Name)
		require.EqualValues(t, 2, got.Version)
		require.Equal(t, []string{"token"}, got.CredentialFields)
		require.JSONEq(t, `{"token":"t-1"}`, string(got.Credentials))

		got, err = s.UpdateConnection(ctx, w.ID, c.ID, domain.ConnectionPatch{Credentials: []byte{}}, 0, time.Now())
		require.NoError(t, err)
		require.Empty(t, got.CredentialFields)
		require.Nil(t, got.Credentials)
	})
	t.Run("stale_version_changes_nothing", func(t *testing.T) {
		s := storetest.New(t)
		w, _ := workspace(t, s, "a@example.com")
		c := sealedConnection(t, s, w.ID)
		name := "first"
		_, err := s.UpdateConnection(ctx, w.ID, c.ID, domain.ConnectionPatch{Name: &name}, 1, time.Now())
		require.NoError(t, err)
		other := "second"
		_, err = s.UpdateConnection(ctx, w.ID, c.ID, domain.ConnectionPatch{Name: &other}, 1, time.Now())
		require.True(t, domain.IsCode(err, domain.CodeStale), "%v", err)
		got, err := s.Connection(ctx, w.ID, c.ID)
		require.NoError(t, err)
		require.Equal(t, "first", got.Name)
	})
	t.Run("other_workspace_is_not_found", func(t *testing.T) {
		s := storetest.New(t)
		w, _ := workspace(t, s, "a@example.com")
		other, _ := workspace(t, s, "b@example.com")
		c := sealedConnection(t, s, w.ID)
		_, err := s.Connection(ctx, other.ID, c.ID)
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		name := "taken over"
		_, err = s.UpdateConnection(ctx, other.ID, c.ID, domain.ConnectionPatch{Name: &name}, 0, time.Now())
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		require.True(t, domain.IsCode(s.DeleteConnection(ctx, other.ID, c.ID), domain.CodeNotFound))
		list, err := s.Connections(ctx, other.ID, domain.Page{})
		require.NoError(t, err)
		require.Empty(t, list)

		set := domain.RecordSet{WorkspaceID: w.ID, ConnectionID: c.ID, Object: "customers"}
		_, err = apply(t, s, set, domain.ApplyOptions{Mode: domain.ApplyPartial}, domain.Record{ExternalID: "1", Active: true, Fields: domain.Fields{"a": "b"}})
		require.NoError(t, err)
		require.NoError(t, s.DeleteConnection(ctx, w.ID, c.ID))
		_, err = s.Connection(ctx, w.ID, c.ID)
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		var left int
		require.NoError(t, s.SQL().QueryRow(`SELECT COUNT(*) FROM records WHERE connection_id = $1`, c.ID).Scan(&left))
		require.Zero(t, left, "the hub's copy goes with its connection")
	})
	t.Run("rotate_keys_reseals_under_the_new_version", func(t *testing.T) {
		url := storetest.NewURL(t)
		s := openWithKeys(t, url, connOldKeys)
		w, _ := workspace(t, s, "a@example.com")
		a, b := sealedConnection(t, s, w.ID), sealedConnection(t, s, w.ID)
		plain := &domain.Connection{WorkspaceID: w.ID, Name: "upload", Kind: domain.KindFile, Config: []byte(`{}`)}
		require.NoError(t, s.CreateConnection(ctx, plain))

		rotated := openWithKeys(t, url, connNewKey+","+connOldKeys)
		n, err := rotated.RotateKeys(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n, "only connections with credentials are re-encrypted")
		for _, id := range []string{a.ID, b.ID} {
			raw := rawCredentials(t, rotated, id)
			require.Regexp(t, `^v2:`, raw)
			require.NotContains(t, raw, connSecret)
		}

		onlyNew := openWithKeys(t, url, connNewKey)
		got, err := onlyNew.Connection(ctx, w.ID, a.ID)
		require.NoError(t, err, "readable with the new key alone")
		require.JSONEq(t, `{"api_key":"`+connSecret+`","username":"syncd"}`, string(got.Credentials))

		onlyOld := openWithKeys(t, url, connOldKeys)
		_, err = onlyOld.Connection(ctx, w.ID, a.ID)
		require.True(t, domain.IsCode(err, domain.CodeInternal), "the old key no longer opens it: %v", err)
	})
	t.Run("rotate_keys_without_the_sealing_key_changes_nothing", func(t *testing.T) {
		url := storetest.NewURL(t)
		s := openWithKeys(t, url, connOldKeys)
		w, _ := workspace(t, s, "a@example.com")
		c := sealedConnection(t, s, w.ID)
		before := rawCredentials(t, s, c.ID)

		_, err := openWithKeys(t, url, connNewKey).RotateKeys(ctx)
		require.Error(t, err)
		require.Equal(t, before, rawCredentials(t, s, c.ID))
	})
}
