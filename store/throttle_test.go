package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store/storetest"
)

func TestLoginFailures(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		require.NoError(t, s.LoginFailed(ctx, []string{"a", "b"}, now.Add(time.Duration(i)*time.Second)))
	}
	require.NoError(t, s.LoginFailed(ctx, []string{"b"}, now.Add(time.Minute)))
	got, err := s.LoginFailures(ctx, []string{"a", "b", "c"})
	require.NoError(t, err)
	require.Equal(t, map[string]domain.LoginFailures{
		"a": {Count: 3, Last: now.Add(2 * time.Second)},
		"b": {Count: 4, Last: now.Add(time.Minute)},
	}, got)

	t.Run("replicas_counting_at_once_lose_nothing", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { require.NoError(t, s.LoginFailed(ctx, []string{"many"}, now)) })
		}
		wg.Wait()
		got, err := s.LoginFailures(ctx, []string{"many"})
		require.NoError(t, err)
		require.Equal(t, 20, got["many"].Count)
	})
	t.Run("a_quiet_key_starts_again", func(t *testing.T) {
		later := now.Add(time.Minute + domain.LoginFailuresKept + time.Second)
		require.NoError(t, s.LoginFailed(ctx, []string{"b"}, later))
		got, err := s.LoginFailures(ctx, []string{"b"})
		require.NoError(t, err)
		require.Equal(t, domain.LoginFailures{Count: 1, Last: later}, got["b"])
	})
	t.Run("success_forgets_the_key", func(t *testing.T) {
		require.NoError(t, s.LoginSucceeded(ctx, "a"))
		got, err := s.LoginFailures(ctx, []string{"a"})
		require.NoError(t, err)
		require.Empty(t, got)
	})
}
