package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"syncd/cli"
	"syncd/domain"
	"syncd/store/storetest"
)

const (
	rotateOldKey = storetest.KeyringSpec
	rotateNewKey = storetest.NewerKeySpec
	rotateSecret = "crm-api-key-rotate-me"
)

// rotate runs `syncd rotate-key` with the given environment.
func rotate(t *testing.T, env map[string]string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := cli.Run(context.Background(), []string{"rotate-key"}, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), err
}

func TestRotateKey(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (url string, ws string, id string) {
		url = storetest.NewURL(t)
		s := storetest.Open(t, url, rotateOldKey)
		_, err := s.Migrate(ctx)
		require.NoError(t, err)
		w := &domain.Workspace{Name: "w"}
		require.NoError(t, s.CreateWorkspace(ctx, w, &domain.User{Email: "a@example.com", PasswordHash: "x"}))
		c := &domain.Connection{WorkspaceID: w.ID, Name: "CRM", Kind: domain.KindREST, Config: []byte(`{}`),
			Credentials: []byte(`{"api_key":"` + rotateSecret + `"}`)}
		require.NoError(t, s.CreateConnection(ctx, c))
		return url, w.ID, c.ID
	}
	t.Run("reseals_under_the_newest_key", func(t *testing.T) {
		url, ws, id := setup(t)
		out, err := rotate(t, map[string]string{"DATABASE_URL": url, "SYNCD_DATA_DIR": t.TempDir(),
			"SYNCD_ENCRYPTION_KEY": rotateNewKey + "," + rotateOldKey})
		require.NoError(t, err)
		require.Equal(t, "re-encrypted 1 connection credential(s) under key version 2\n", out)

		got, err := storetest.Open(t, url, rotateNewKey).Connection(ctx, ws, id)
		require.NoError(t, err, "the new key alone opens it now")
		require.JSONEq(t, `{"api_key":"`+rotateSecret+`"}`, string(got.Credentials))
		_, err = storetest.Open(t, url, rotateOldKey).Connection(ctx, ws, id)
		require.Error(t, err, "the old key no longer does")
	})
	t.Run("a_keyring_without_the_old_key_changes_nothing", func(t *testing.T) {
		url, ws, id := setup(t)
		_, err := rotate(t, map[string]string{"DATABASE_URL": url, "SYNCD_DATA_DIR": t.TempDir(), "SYNCD_ENCRYPTION_KEY": rotateNewKey})
		require.ErrorContains(t, err, "nothing was changed")
		_, err = storetest.Open(t, url, rotateOldKey).Connection(ctx, ws, id)
		require.NoError(t, err, "still sealed under the old key")
	})
	t.Run("no_key_is_an_error_not_a_new_key", func(t *testing.T) {
		url, _, _ := setup(t)
		dir := t.TempDir()
		_, err := rotate(t, map[string]string{"DATABASE_URL": url, "SYNCD_DATA_DIR": dir})
		require.ErrorContains(t, err, "SYNCD_ENCRYPTION_KEY")
		_, err = rotate(t, map[string]string{"DATABASE_URL": url, "SYNCD_DATA_DIR": dir, "SYNCD_ENCRYPTION_KEY": "2:short"})
		require.Error(t, err)
		require.False(t, strings.Contains(err.Error(), "short"), "the key is not repeated: %v", err)
	})
}
