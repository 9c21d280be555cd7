package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
)

// knowsWindow waits until a server's store knows the window version of the
// workspace, so its answers are kept (on PostgreSQL it listens first).
func knowsWindow(t *testing.T, ts *testServer, ws string) {
	t.Helper()
	require.Eventually(t, func() bool { _, ok := ts.Store.WindowVersion(ws); return ok }, 10*time.Second, 10*time.Millisecond)
}

func TestWindowAnswersKeptInMemory(t *testing.T) {
	ts, f := newStandardWindow(t)
	tok := ts.Admin.Access
	knowsWindow(t, ts, ts.Admin.WorkspaceID)

	t.Run("until_the_window_changes", func(t *testing.T) {
		summary := f.path + "/window/summary"
		before := ts.do("GET", summary, tok, nil).Text()
		// A write behind the store's back moves no version: the kept
		// answer is served, which shows it is kept.
		_, err := ts.Store.SQL().Exec("UPDATE window_counts SET n = n + 100 WHERE category = 'synced'")
		require.NoError(t, err)
		require.Equal(t, before, ts.do("GET", summary, tok, nil).Text())
		// A change through the store retires it.
		f.stage(t, f.left, domain.ApplyPartial, leftRec("L1", "1001", "Ærø ApS", "ada@x.dk", "Aarhus C"))
		require.NotEqual(t, before, ts.do("GET", summary, tok, nil).Text())
		_, err = ts.Store.SQL().Exec("UPDATE window_counts SET n = n - 100 WHERE category = 'synced'")
		require.NoError(t, err)
		f.settle(t)
	})

	t.Run("each_change_shows_at_once", func(t *testing.T) {
		require.Equal(t, "Ærø ApS", f.item(t, "L1").Left.Fields["name"])
		f.stage(t, f.left, domain.ApplyPartial, leftRec("L1", "1001", "Ærø Holding", "ada@x.dk", "Aarhus C"))
		require.Equal(t, "Ærø Holding", f.item(t, "L1").Left.Fields["name"], "a record change")
		f.settle(t)

		disabled := f.summary(t, tok)["disabled"].(float64)
		r, _ := f.act(t, tok, f.item(t, "L4").ID, "disable", nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, disabled+1, f.summary(t, tok)["disabled"], "an action")
		require.True(t, f.item(t, "L4").Disabled)
		r, _ = f.act(t, tok, f.item(t, "L4").ID, "enable", nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, disabled, f.summary(t, tok)["disabled"])
	})

	t.Run("a_client_holding_the_answer_gets_304_until_it_changes", func(t *testing.T) {
		for _, path := range []string{f.path + "/window?limit=500", f.path + "/window/summary"} {
			first := ts.do("GET", path, tok, nil)
			require.Equal(t, 200, first.Status, first.Text())
			etag := first.Header.Get("ETag")
			require.Regexp(t, `^"w-[0-9a-f]{16}"$`, etag)
			same := ts.do("GET", path, tok, nil, "If-None-Match", `"older", W/`+etag)
			require.Equal(t, 304, same.Status, path)
			require.Empty(t, same.Text())
			require.Equal(t, etag, same.Header.Get("ETag"))

			r, _ := f.act(t, tok, f.item(t, "L4").ID, "disable", nil)
			require.Equal(t, 200, r.Status, r.Text())
			changed := ts.do("GET", path, tok, nil, "If-None-Match", etag)
			require.Equal(t, 200, changed.Status, "%s changed: a full answer", path)
			require.NotEqual(t, etag, changed.Header.Get("ETag"))
			r, _ = f.act(t, tok, f.item(t, "L4").ID, "enable", nil)
			require.Equal(t, 200, r.Status, r.Text())
			if strings.HasSuffix(path, "/summary") {
				require.Equal(t, 304, ts.do("GET", path, tok, nil, "If-None-Match", etag).Status,
					"the counts are the same again, and so is their tag: it depends on the content alone")
			}
		}
	})

	t.Run("another_replica_hears_of_each_change", func(t *testing.T) {
		if storetest.Dialect() != store.DialectPostgres {
			t.Skip("one server serves a SQLite database (ServeAlone)")
		}
		other := ts.replica()
		knowsWindow(t, other, ts.Admin.WorkspaceID)
		g := *f
		g.ts = other
		disabled := g.summary(t, tok)["disabled"].(float64)
		require.Equal(t, disabled, g.summary(t, tok)["disabled"])
		r, _ := f.act(t, tok, f.item(t, "L4").ID, "disable", nil) // on the first replica
		require.Equal(t, 200, r.Status, r.Text())
		require.Eventually(t, func() bool { return g.summary(t, tok)["disabled"] == disabled+1 }, 5*time.Second, 5*time.Millisecond)
		require.True(t, g.item(t, "L4").Disabled)
	})
}
