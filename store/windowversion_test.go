package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
)

// knownVersion waits until the store, serving, knows the workspace's
// window version (on PostgreSQL it first has to listen) and returns it.
func knownVersion(t *testing.T, s *store.Store, ws string) uint64 {
	t.Helper()
	require.NoError(t, s.ServeAlone())
	var v uint64
	require.Eventually(t, func() bool {
		var ok bool
		v, ok = s.WindowVersion(ws)
		return ok
	}, 10*time.Second, 10*time.Millisecond, "the window version never became known")
	return v
}

func TestWindowVersion(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("moves_with_a_committed_write_of_its_workspace_only", func(t *testing.T) {
		s := storetest.New(t)
		a, _ := workspace(t, s, "a@example.com")
		b, _ := workspace(t, s, "b@example.com")
		set := domain.RecordSet{WorkspaceID: a.ID, ConnectionID: connection(t, s, a.ID), Object: "contacts"}
		va, vb := knownVersion(t, s, a.ID), knownVersion(t, s, b.ID)

		_, _, err := s.PutRecord(ctx, set, rec("1", "Ada"), 0, domain.OriginSource, now)
		require.NoError(t, err)
		va2, _ := s.WindowVersion(a.ID)
		require.Greater(t, va2, va, "a write to the workspace's records moves its number before the writer returns")
		vb2, _ := s.WindowVersion(b.ID)
		require.Equal(t, vb, vb2, "another workspace's number stays")
	})

	t.Run("a_transaction_moves_it_when_it_ends_not_before", func(t *testing.T) {
		s := storetest.New(t)
		a, _ := workspace(t, s, "a@example.com")
		conn := connection(t, s, a.ID)
		v := knownVersion(t, s, a.ID)
		failed := errors.New("roll back")
		err := s.InTx(ctx, func(tx *store.Store) error {
			require.NoError(t, tx.DeleteConnection(ctx, a.ID, conn))
			inside, _ := s.WindowVersion(a.ID)
			require.Equal(t, v, inside, "a reader must not take the number of a change not yet committed")
			return failed
		})
		require.ErrorIs(t, err, failed)
		after, _ := s.WindowVersion(a.ID)
		require.Greater(t, after, v, "moving it for a rolled-back change costs a re-read, never a stale one")
	})

	t.Run("one_server_per_sqlite_file", func(t *testing.T) {
		url := storetest.NewURL(t)
		one := storetest.Open(t, url, storetest.KeyringSpec)
		_, err := one.Migrate(ctx)
		require.NoError(t, err)
		_, ok := one.WindowVersion("w")
		if storetest.Dialect() == store.DialectPostgres {
			require.NoError(t, one.ServeAlone())
			require.NoError(t, storetest.Open(t, url, storetest.KeyringSpec).ServeAlone(), "replicas share PostgreSQL")
			return
		}
		require.False(t, ok, "a SQLite store that does not serve alone cannot know its windows")
		require.NoError(t, one.ServeAlone())
		_, ok = one.WindowVersion("w")
		require.True(t, ok)
		two := storetest.Open(t, url, storetest.KeyringSpec)
		require.ErrorIs(t, two.ServeAlone(), store.ErrAnotherServer)
		_, ok = two.WindowVersion("w")
		require.False(t, ok)
		require.NoError(t, one.Close())
		require.NoError(t, two.ServeAlone(), "the file is free once the first server stops")
	})

	t.Run("replicas_hear_each_others_commits", func(t *testing.T) {
		if storetest.Dialect() != store.DialectPostgres {
			t.Skip("one process writes a SQLite database")
		}
		url := storetest.NewURL(t)
		one := storetest.Open(t, url, storetest.KeyringSpec)
		_, err := one.Migrate(ctx)
		require.NoError(t, err)
		two := storetest.Open(t, url, storetest.KeyringSpec)
		a, _ := workspace(t, one, "a@example.com")
		b, _ := workspace(t, one, "b@example.com")
		set := domain.RecordSet{WorkspaceID: a.ID, ConnectionID: connection(t, one, a.ID), Object: "contacts"}
		va, vb := knownVersion(t, two, a.ID), knownVersion(t, two, b.ID)

		_, _, err = one.PutRecord(ctx, set, rec("1", "Ada"), 0, domain.OriginSource, now)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			v, ok := two.WindowVersion(a.ID)
			return ok && v > va
		}, 10*time.Second, 5*time.Millisecond, "the other replica never heard of the change")
		v, _ := two.WindowVersion(b.ID)
		require.Equal(t, vb, v, "another workspace's number stays on the other replica too")

		err = one.InTx(ctx, func(tx *store.Store) error {
			require.NoError(t, tx.DeleteConnection(ctx, a.ID, set.ConnectionID))
			return errors.New("roll back")
		})
		require.Error(t, err)
		before, _ := two.WindowVersion(a.ID)
		_, _, err = one.PutRecord(ctx, domain.RecordSet{WorkspaceID: b.ID, ConnectionID: connection(t, one, b.ID), Object: "contacts"},
			rec("1", "Bo"), 0, domain.OriginSource, now)
		require.NoError(t, err)
		require.Eventually(t, func() bool { v, _ := two.WindowVersion(b.ID); return v > vb }, 10*time.Second, 5*time.Millisecond)
		after, _ := two.WindowVersion(a.ID)
		require.Equal(t, before, after, "a rolled-back transaction announces nothing")
	})
}
