package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
)

func TestHostedWrites(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	setup := func(t *testing.T) (*store.Store, domain.RecordSet) {
		s := storetest.New(t)
		w, _ := workspace(t, s, "a@example.com")
		return s, domain.RecordSet{WorkspaceID: w.ID, ConnectionID: connection(t, s, w.ID), Object: "contacts"}
	}
	put := func(t *testing.T, s *store.Store, set domain.RecordSet, r domain.Record, ifVersion int64, origin domain.Origin) (*domain.Record, domain.WriteOutcome) {
		t.Helper()
		out, outcome, err := s.PutRecord(ctx, set, r, ifVersion, origin, now)
		require.NoError(t, err)
		return out, outcome
	}
	changes := func(t *testing.T, s *store.Store, set domain.RecordSet, after domain.ChangeCursor, limit int) []domain.RecordChange {
		t.Helper()
		list, err := s.Changes(ctx, set, after, limit)
		require.NoError(t, err)
		return list
	}

	t.Run("put_creates_updates_and_skips_unchanged_without_a_change_number", func(t *testing.T) {
		s, set := setup(t)
		r, outcome := put(t, s, set, rec("1", "Ada"), 0, domain.OriginHub)
		require.Equal(t, domain.OutcomeCreated, outcome)
		require.EqualValues(t, 1, r.Version)
		require.Equal(t, now, r.FirstSeenAt)
		first := changes(t, s, set, domain.ChangeCursor{}, 10)
		require.Len(t, first, 1)

		later := now.Add(time.Hour)
		same, outcome, err := s.PutRecord(ctx, set, rec("1", "Ada"), 1, domain.OriginHub, later)
		require.NoError(t, err)
		require.Equal(t, domain.OutcomeUnchanged, outcome)
		require.EqualValues(t, 1, same.Version)
		require.Empty(t, changes(t, s, set, first[0].Cursor(), 10), "an unchanged write is no change")

		r, outcome = put(t, s, set, rec("1", "Ada Lovelace"), 1, domain.OriginHub)
		require.Equal(t, domain.OutcomeUpdated, outcome)
		require.EqualValues(t, 2, r.Version)
		require.Equal(t, "Ada Lovelace", r.Fields["name"])
		next := changes(t, s, set, first[0].Cursor(), 10)
		require.Len(t, next, 1)
		require.Equal(t, first[0].Seq+1, next[0].Seq, "the unchanged write took no change number")
		stored, err := s.Record(ctx, set, "1")
		require.NoError(t, err)
		require.Equal(t, r.Version, stored.Version)
		require.Equal(t, now, stored.FirstSeenAt)
	})

	t.Run("stale_version_changes_nothing", func(t *testing.T) {
		s, set := setup(t)
		put(t, s, set, rec("1", "Ada"), 0, domain.OriginSource)
		_, _, err := s.PutRecord(ctx, set, rec("1", "Grace"), 7, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeStale), "%v", err)
		_, _, err = s.DeleteRecord(ctx, set, "1", 7, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeStale), "%v", err)
		r, err := s.Record(ctx, set, "1")
		require.NoError(t, err)
		require.Equal(t, "Ada", r.Fields["name"])
		require.False(t, r.Deleted)
		require.EqualValues(t, 1, r.Version)

		_, _, err = s.PutRecord(ctx, set, rec("2", "new"), 1, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeStale), "If-Match on a record never stored: %v", err)
		_, _, err = s.PutRecord(ctx, set, rec("2", "new"), domain.IfExists, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeStale), "If-Match: * on a record never stored: %v", err)
		_, err = s.Record(ctx, set, "2")
		require.True(t, domain.IsCode(err, domain.CodeNotFound))
		_, outcome := put(t, s, set, rec("1", "Grace"), domain.IfExists, domain.OriginSource)
		require.Equal(t, domain.OutcomeUpdated, outcome)
	})

	t.Run("delete_tombstones_and_put_restores", func(t *testing.T) {
		s, set := setup(t)
		created, _ := put(t, s, set, rec("1", "Ada"), 0, domain.OriginSource)
		gone, outcome, err := s.DeleteRecord(ctx, set, "1", 1, domain.OriginSource, now.Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, domain.OutcomeDeleted, outcome)
		require.True(t, gone.Deleted)
		require.Equal(t, now.Add(time.Minute), *gone.DeletedAt)
		require.Empty(t, gone.Hash)
		require.EqualValues(t, 2, gone.Version)
		require.Empty(t, liveIDs(t, s, set))
		all, err := s.Records(ctx, set, domain.RecordFilter{IncludeDeleted: true}, domain.Page{})
		require.NoError(t, err)
		require.Len(t, all, 1)
		require.True(t, all[0].Deleted)

		again, outcome, err := s.DeleteRecord(ctx, set, "1", 0, domain.OriginSource, now)
		require.NoError(t, err)
		require.Equal(t, domain.OutcomeUnchanged, outcome, "deleting a tombstone changes nothing")
		require.EqualValues(t, 2, again.Version)
		_, _, err = s.DeleteRecord(ctx, set, "nope", 0, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		_, _, err = s.PutRecord(ctx, set, rec("1", "Ada"), domain.IfExists, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeStale), "a tombstone is not a live record: %v", err)

		back, outcome := put(t, s, set, rec("1", "Ada"), 2, domain.OriginSource)
		require.Equal(t, domain.OutcomeCreated, outcome)
		require.Equal(t, created.ID, back.ID)
		require.Equal(t, created.FirstSeenAt, back.FirstSeenAt)
		require.EqualValues(t, 3, back.Version)
		require.False(t, back.Deleted)
		require.Nil(t, back.DeletedAt)
		require.Equal(t, []string{"1"}, liveIDs(t, s, set))
	})

	t.Run("writes_are_invalid_past_the_limits", func(t *testing.T) {
		s, set := setup(t)
		long := make([]byte, 256)
		for i := range long {
			long[i] = 'x'
		}
		_, _, err := s.PutRecord(ctx, set, rec(string(long), "a"), 0, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeInvalid), "%v", err)
		nested := domain.Record{ExternalID: "1", Fields: domain.Fields{"tags": []any{[]any{"deep"}}}}
		_, _, err = s.PutRecord(ctx, set, nested, 0, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeInvalid), "%v", err)
		_, _, err = s.PutRecord(ctx, set, domain.Record{ExternalID: "1"}, 0, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeInvalid), "fields are required: %v", err)
		require.Empty(t, liveIDs(t, s, set))
	})

	t.Run("batch_items_succeed_and_fail_independently", func(t *testing.T) {
		s, set := setup(t)
		put(t, s, set, rec("keep", "k"), 0, domain.OriginSource)
		put(t, s, set, rec("stale", "s"), 0, domain.OriginSource)
		put(t, s, set, rec("drop", "d"), 0, domain.OriginSource)
		results, err := s.ApplyRecordBatch(ctx, set, []domain.RecordWrite{
			{Op: domain.WriteUpsert, Record: rec("new", "n")},
			{Op: domain.WriteUpsert, Record: rec("keep", "k2"), IfVersion: 1},
			{Op: domain.WriteUpsert, Record: rec("stale", "s2"), IfVersion: 9},
			{Op: domain.WriteUpsert, Record: domain.Record{ExternalID: "nofields"}},
			{Op: domain.WriteDelete, Record: domain.Record{ExternalID: "ghost"}},
			{Op: domain.WriteDelete, Record: domain.Record{ExternalID: "drop"}},
			{Op: "merge", Record: rec("odd", "o")},
		}, domain.OriginHub, now)
		require.NoError(t, err)
		require.Len(t, results, 7)
		outcomes := []domain.WriteOutcome{domain.OutcomeCreated, domain.OutcomeUpdated, "", "", "", domain.OutcomeDeleted, ""}
		codes := []domain.Code{"", "", domain.CodeStale, domain.CodeInvalid, domain.CodeNotFound, "", domain.CodeInvalid}
		for i, r := range results {
			require.Equal(t, outcomes[i], r.Outcome, "item %d", i)
			require.Equal(t, codes[i], domain.ErrorCode(r.Err), "item %d: %v", i, r.Err)
		}
		require.ElementsMatch(t, []string{"keep", "new", "stale"}, liveIDs(t, s, set))
		r, _ := s.Record(ctx, set, "stale")
		require.Equal(t, "s", r.Fields["name"], "the stale item changed nothing")
		feed := changes(t, s, set, domain.ChangeCursor{}, 10)
		require.Len(t, feed, 3, "the three stored items, all by the hub")
		for _, c := range feed {
			require.Equal(t, feed[0].Seq, c.Seq, "one batch, one change number")
		}
	})

	t.Run("batch_over_the_limit_applies_nothing", func(t *testing.T) {
		s, set := setup(t)
		writes := make([]domain.RecordWrite, domain.MaxBatchWrites+1)
		for i := range writes {
			writes[i] = domain.RecordWrite{Op: domain.WriteUpsert, Record: rec(fmt.Sprint(i), "x")}
		}
		_, err := s.ApplyRecordBatch(ctx, set, writes, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeInvalid), "%v", err)
		require.Empty(t, liveIDs(t, s, set))
		results, err := s.ApplyRecordBatch(ctx, set, writes[:domain.MaxBatchWrites], domain.OriginSource, now)
		require.NoError(t, err)
		require.Len(t, results, domain.MaxBatchWrites)
		all, err := s.Records(ctx, set, domain.RecordFilter{}, domain.Page{Limit: 500})
		require.NoError(t, err)
		require.Len(t, all, 500)
	})

	t.Run("change_feed_shows_hub_changes_and_pages_through_equal_numbers", func(t *testing.T) {
		s, set := setup(t)
		var batch []domain.RecordWrite
		for i := range 5 {
			batch = append(batch, domain.RecordWrite{Op: domain.WriteUpsert, Record: rec(fmt.Sprint("h", i), "x")})
		}
		_, err := s.ApplyRecordBatch(ctx, set, batch, domain.OriginHub, now)
		require.NoError(t, err)
		put(t, s, set, rec("client", "c"), 0, domain.OriginSource)

		var seen []string
		cur := domain.ChangeCursor{}
		for range 10 {
			page := changes(t, s, set, cur, 2)
			if len(page) == 0 {
				break
			}
			for _, c := range page {
				seen = append(seen, c.ExternalID)
			}
			cur = page[len(page)-1].Cursor()
		}
		require.ElementsMatch(t, []string{"h0", "h1", "h2", "h3", "h4"}, seen, "each hub change once, the client's own write not at all")
		require.Empty(t, changes(t, s, set, cur, 10))

		// The client overwrites h0 (its own change leaves the feed), the hub
		// deletes h1: only the deletion is new after the cursor.
		put(t, s, set, rec("h0", "mine"), 0, domain.OriginSource)
		_, _, err = s.DeleteRecord(ctx, set, "h1", 0, domain.OriginHub, now)
		require.NoError(t, err)
		page := changes(t, s, set, cur, 10)
		require.Len(t, page, 1)
		require.Equal(t, "h1", page[0].ExternalID)
		require.True(t, page[0].Deleted)
		require.Greater(t, page[0].Seq, cur.Seq)
		require.Len(t, changes(t, s, set, domain.ChangeCursor{}, 10), 4, "from the start: h1..h4")
	})

	t.Run("hub_apply_and_single_writes_agree_on_hashes_and_numbers", func(t *testing.T) {
		s, set := setup(t)
		r, _ := put(t, s, set, rec("1", "Ada"), 0, domain.OriginSource)
		st, err := apply(t, s, set, domain.ApplyOptions{Mode: domain.ApplyPartial}, rec("1", "Ada"))
		require.NoError(t, err)
		require.Equal(t, 1, st.Unchanged, "a bulk apply of the same content sees no change")
		st, err = apply(t, s, set, domain.ApplyOptions{Mode: domain.ApplyPartial, Origin: domain.OriginHub}, rec("1", "Ada 2"))
		require.NoError(t, err)
		after, _ := put(t, s, set, rec("1", "Ada 3"), r.Version+1, domain.OriginHub)
		require.EqualValues(t, 3, after.Version)
		feed := changes(t, s, set, domain.ChangeCursor{Seq: st.Seq}, 10)
		require.Len(t, feed, 1)
		require.Greater(t, feed[0].Seq, st.Seq, "a single write after an apply takes a later number")
	})

	t.Run("concurrent_writers_with_the_same_version_one_wins", func(t *testing.T) {
		s, set := setup(t)
		put(t, s, set, rec("1", "start"), 0, domain.OriginSource)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = s.PutRecord(ctx, set, rec("1", fmt.Sprint("writer ", i)), 1, domain.OriginSource, now)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.True(t, domain.IsCode(err, domain.CodeStale), "%v", err)
		}
		require.Equal(t, 1, won)
		r, err := s.Record(ctx, set, "1")
		require.NoError(t, err)
		require.EqualValues(t, 2, r.Version)
	})

	t.Run("another_workspace_cannot_write_or_read_changes", func(t *testing.T) {
		s, set := setup(t)
		put(t, s, set, rec("1", "Ada"), 0, domain.OriginHub)
		w2, _ := workspace(t, s, "b@example.com")
		other := set
		other.WorkspaceID = w2.ID
		_, _, err := s.PutRecord(ctx, other, rec("2", "x"), 0, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		_, _, err = s.DeleteRecord(ctx, other, "1", 0, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		_, err = s.ApplyRecordBatch(ctx, other, []domain.RecordWrite{{Op: domain.WriteDelete, Record: domain.Record{ExternalID: "1"}}}, domain.OriginSource, now)
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		_, err = s.Changes(ctx, other, domain.ChangeCursor{}, 10)
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		require.Equal(t, []string{"1"}, liveIDs(t, s, set))
	})
}
