package store_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
	"syncd/store"
	"syncd/store/storetest"
)

// connection inserts a bare connection row for record tests.
func connection(t testing.TB, s *store.Store, workspaceID string) string {
	t.Helper()
	id := fmt.Sprintf("conn-%d", time.Now().UnixNano())
	_, err := s.SQL().Exec(`INSERT INTO connections (id, workspace_id, name, kind, config, created_at, updated_at) VALUES ($1, $2, 'c', 'file', '{}', $3, $3)`,
		id, workspaceID, time.Now().UTC())
	require.NoError(t, err)
	return id
}

func apply(t *testing.T, s *store.Store, set domain.RecordSet, o domain.ApplyOptions, recs ...domain.Record) (domain.ApplyStats, error) {
	t.Helper()
	ctx := context.Background()
	a, err := s.StageRecords(ctx, set)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, a.Add(ctx, r))
	}
	return a.Commit(ctx, o)
}

func rec(id, name string) domain.Record {
	return domain.Record{ExternalID: id, Active: true, Fields: domain.Fields{"name": name}}
}

func liveIDs(t *testing.T, s *store.Store, set domain.RecordSet) []string {
	t.Helper()
	list, err := s.Records(context.Background(), set, domain.RecordFilter{}, domain.Page{Limit: 500})
	require.NoError(t, err)
	var ids []string
	for _, r := range list {
		ids = append(ids, r.ExternalID)
	}
	return ids
}

func TestRecordApply(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*store.Store, domain.RecordSet) {
		s := storetest.New(t)
		w, _ := workspace(t, s, "a@example.com")
		return s, domain.RecordSet{WorkspaceID: w.ID, ConnectionID: connection(t, s, w.ID), Object: "customers"}
	}
	full := domain.ApplyOptions{Mode: domain.ApplyFull, MaxDeleteRatio: 0.5}
	partial := domain.ApplyOptions{Mode: domain.ApplyPartial}

	t.Run("first_apply_inserts_then_unchanged_is_skipped", func(t *testing.T) {
		s, set := setup(t)
		st, err := apply(t, s, set, full, rec("1", "Ærø"), rec("2", "Über"))
		require.NoError(t, err)
		require.Equal(t, domain.ApplyStats{Rows: 2, Inserted: 2, Seq: st.Seq}, st)
		st, err = apply(t, s, set, full, rec("1", "Ærø"), rec("2", "Über changed"))
		require.NoError(t, err)
		require.Equal(t, 1, st.Updated)
		require.Equal(t, 1, st.Unchanged)
		r, err := s.Record(ctx, set, "2")
		require.NoError(t, err)
		require.Equal(t, "Über changed", r.Fields["name"])
		require.EqualValues(t, 2, r.Version)
		st, err = apply(t, s, set, full, rec("1", "Ærø"), rec("2", "Über changed"))
		require.NoError(t, err)
		require.Equal(t, 2, st.Unchanged)
		require.Zero(t, st.Seq, "nothing changed, no change number taken")
	})
	t.Run("full_apply_tombstones_missing_and_partial_does_not", func(t *testing.T) {
		s, set := setup(t)
		_, err := apply(t, s, set, full, rec("1", "a"), rec("2", "b"), rec("3", "c"))
		require.NoError(t, err)
		_, err = apply(t, s, set, partial, rec("4", "d"))
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"1", "2", "3", "4"}, liveIDs(t, s, set))
		st, err := apply(t, s, set, full, rec("1", "a"), rec("2", "b"), rec("4", "d"))
		require.NoError(t, err)
		require.Equal(t, 1, st.Deleted)
		require.ElementsMatch(t, []string{"1", "2", "4"}, liveIDs(t, s, set))
		r, err := s.Record(ctx, set, "3")
		require.NoError(t, err)
		require.True(t, r.Deleted)
		require.NotNil(t, r.DeletedAt)
		st, err = apply(t, s, set, partial, rec("3", "c"))
		require.NoError(t, err)
		require.Equal(t, 1, st.Updated, "a tombstoned record that comes back is restored")
		require.Len(t, liveIDs(t, s, set), 4)
	})
	t.Run("mass_delete_is_refused_unless_confirmed_and_changes_nothing", func(t *testing.T) {
		s, set := setup(t)
		_, err := apply(t, s, set, full, rec("1", "a"), rec("2", "b"), rec("3", "c"), rec("4", "d"))
		require.NoError(t, err)
		_, err = apply(t, s, set, full, rec("1", "a changed"))
		require.True(t, domain.IsCode(err, domain.CodeConflict), "%v", err)
		require.Len(t, liveIDs(t, s, set), 4)
		r, _ := s.Record(ctx, set, "1")
		require.Equal(t, "a", r.Fields["name"], "the refused apply changed nothing")
		o := full
		o.ConfirmMassDelete = true
		st, err := apply(t, s, set, o, rec("1", "a changed"))
		require.NoError(t, err)
		require.Equal(t, 3, st.Deleted)
	})
	t.Run("kept_records_stay_as_they_are_and_are_not_tombstoned", func(t *testing.T) {
		s, set := setup(t)
		_, err := apply(t, s, set, full, rec("1", "a"), rec("2", "b"), rec("3", "c"))
		require.NoError(t, err)
		before, err := s.Record(ctx, set, "2")
		require.NoError(t, err)
		a, err := s.StageRecords(ctx, set)
		require.NoError(t, err)
		require.NoError(t, a.Add(ctx, rec("1", "a changed")))
		require.NoError(t, a.Add(ctx, rec("4", "d")))
		require.NoError(t, a.Keep(ctx, "2"))
		require.NoError(t, a.Keep(ctx, "9")) // not stored: nothing is created
		st, err := a.Commit(ctx, full)
		require.NoError(t, err)
		require.Equal(t, domain.ApplyStats{Rows: 2, Inserted: 1, Updated: 1, Deleted: 1, Seq: st.Seq}, st)
		require.ElementsMatch(t, []string{"1", "2", "4"}, liveIDs(t, s, set))
		after, err := s.Record(ctx, set, "2")
		require.NoError(t, err)
		// It was in the listing, so it was seen; nothing else about it changed.
		require.True(t, after.LastSeenAt.After(before.LastSeenAt))
		after.LastSeenAt = before.LastSeenAt
		require.Equal(t, before, after, "the kept record is not written")
		_, err = s.Record(ctx, set, "9")
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)

		// Kept records alone change nothing and take no change number.
		a, err = s.StageRecords(ctx, set)
		require.NoError(t, err)
		for _, id := range []string{"1", "2", "4"} {
			require.NoError(t, a.Keep(ctx, id))
		}
		st, err = a.Commit(ctx, full)
		require.NoError(t, err)
		require.Equal(t, domain.ApplyStats{}, st)
		require.ElementsMatch(t, []string{"1", "2", "4"}, liveIDs(t, s, set))
	})
	t.Run("discard_leaves_the_copy_as_it_was", func(t *testing.T) {
		s, set := setup(t)
		a, err := s.StageRecords(ctx, set)
		require.NoError(t, err)
		require.NoError(t, a.Add(ctx, rec("1", "a")))
		a.Discard(ctx)
		require.Empty(t, liveIDs(t, s, set))
	})
	t.Run("an_open_first_apply_shows_nothing_and_a_discarded_one_leaves_nothing", func(t *testing.T) {
		s, set := setup(t)
		a, err := s.StageRecords(ctx, set)
		require.NoError(t, err)
		for i := range 12001 { // more than one batch reaches the database
			require.NoError(t, a.Add(ctx, rec(fmt.Sprint(i), "x")))
		}
		require.Empty(t, liveIDs(t, s, set))
		_, err = s.Record(ctx, set, "1")
		require.True(t, domain.IsCode(err, domain.CodeNotFound), "%v", err)
		a.Discard(ctx)
		var n int
		require.NoError(t, s.SQL().QueryRow(`SELECT COUNT(*) FROM records WHERE connection_id = $1`, set.ConnectionID).Scan(&n))
		require.Zero(t, n, "no record of the discarded apply is left anywhere")
		st, err := apply(t, s, set, full, rec("1", "a"))
		require.NoError(t, err)
		require.Equal(t, 1, st.Inserted)
	})
	t.Run("a_first_apply_another_apply_overtakes_is_merged_with_it", func(t *testing.T) {
		for _, mode := range []domain.ApplyOptions{partial, full} {
			s, set := setup(t)
			a, err := s.StageRecords(ctx, set) // the set is empty now
			require.NoError(t, err)
			for i := range 6000 {
				require.NoError(t, a.Add(ctx, rec(fmt.Sprint(i), "mine")))
			}
			require.NoError(t, a.Keep(ctx, "kept"))
			_, err = apply(t, s, set, partial, rec("0", "mine"), rec("1", "theirs"), rec("kept", "theirs"), rec("other", "theirs"))
			require.NoError(t, err)
			st, err := a.Commit(ctx, mode)
			require.NoError(t, err)
			want := domain.ApplyStats{Rows: 6000, Inserted: 5998, Updated: 1, Unchanged: 1, Seq: st.Seq}
			if mode.Mode == domain.ApplyFull {
				want.Deleted = 1 // "other"; "kept" stays
			}
			require.Equal(t, want, st, "%s", mode.Mode)
			r, err := s.Record(ctx, set, "1")
			require.NoError(t, err)
			require.Equal(t, "mine", r.Fields["name"])
			r, err = s.Record(ctx, set, "kept")
			require.NoError(t, err)
			require.Equal(t, "theirs", r.Fields["name"])
			r, err = s.Record(ctx, set, "other")
			require.NoError(t, err)
			require.Equal(t, mode.Mode == domain.ApplyFull, r.Deleted)
			var n int
			require.NoError(t, s.SQL().QueryRow(`SELECT COUNT(*) FROM records WHERE connection_id = $1`, set.ConnectionID).Scan(&n))
			require.Equal(t, 6002, n, "every record once, in the set")
		}
	})
	t.Run("a_re_apply_is_matched_as_it_is_staged_and_merged_when_another_apply_overtakes_it", func(t *testing.T) {
		for _, overtaken := range []bool{false, true} {
			for _, o := range []domain.ApplyOptions{partial, full, {Mode: domain.ApplyFull, MaxDeleteRatio: 0.5, UniqueIDs: true}} {
				name := fmt.Sprintf("overtaken=%v mode=%s unique=%v", overtaken, o.Mode, o.UniqueIDs)
				s, set := setup(t)
				old := []domain.Record{rec("gone", "old"), rec("kept", "old"), rec("back", "old")}
				for i := range 6000 {
					old = append(old, rec(fmt.Sprint(i), "old"))
				}
				_, err := apply(t, s, set, partial, old...)
				require.NoError(t, err)
				back := rec("back", "old")
				back.Deleted = true
				_, err = apply(t, s, set, partial, back) // a tombstone the re-apply brings back
				require.NoError(t, err)

				a, err := s.StageRecords(ctx, set)
				require.NoError(t, err)
				for i := range 6000 { // three batches' worth with the others
					name := "old"
					if i < 3 {
						name = "mine"
					}
					require.NoError(t, a.Add(ctx, rec(fmt.Sprint(i), name)))
				}
				require.NoError(t, a.Add(ctx, rec("back", "old")))
				require.NoError(t, a.Add(ctx, rec("new", "mine")))
				require.NoError(t, a.Keep(ctx, "kept"))
				want := domain.ApplyStats{Rows: 6002, Inserted: 1, Updated: 4, Unchanged: 5997}
				if o.Mode == domain.ApplyFull {
					want.Deleted = 1 // "gone"
				}
				values := map[string]string{"0": "mine", "1": "mine", "3": "old", "5999": "old", "back": "old", "new": "mine", "kept": "old"}
				if overtaken {
					// Another apply changes a record the re-apply holds as it
					// was, one it changes, and adds one it lacks.
					_, err = apply(t, s, set, partial, rec("3", "theirs"), rec("1", "theirs"), rec("theirs", "theirs"))
					require.NoError(t, err)
					if s.Dialect() == store.DialectPostgres {
						// The re-apply found "3" as it was, so the other
						// apply's change to it stands.
						values["3"] = "theirs"
					} else {
						// SQLite's re-apply matches at Commit: "3" goes
						// back to its value.
						want.Updated, want.Unchanged = 5, 5996
					}
					if o.Mode == domain.ApplyFull {
						want.Deleted = 2 // and "theirs" is missing from it
					}
				}
				st, err := a.Commit(ctx, o)
				require.NoError(t, err, name)
				want.Seq = st.Seq
				require.Equal(t, want, st, name)
				for id, value := range values {
					r, err := s.Record(ctx, set, id)
					require.NoError(t, err, name)
					require.Equal(t, value, r.Fields["name"], "%s: record %s", name, id)
					require.False(t, r.Deleted, "%s: record %s", name, id)
				}
				for _, id := range []string{"gone", "theirs"} {
					r, err := s.Record(ctx, set, id)
					if id == "theirs" && !overtaken {
						require.True(t, domain.IsCode(err, domain.CodeNotFound), name)
						continue
					}
					require.NoError(t, err, name)
					require.Equal(t, o.Mode == domain.ApplyFull, r.Deleted, "%s: record %s", name, id)
				}
				var n int
				require.NoError(t, s.SQL().QueryRow(`SELECT COUNT(*) FROM records WHERE connection_id = $1`, set.ConnectionID).Scan(&n))
				require.Equal(t, len(old)+map[bool]int{false: 1, true: 2}[overtaken], n, "%s: every record once", name)
			}
		}
	})
	t.Run("a_re_apply_with_an_id_twice_is_invalid_and_changes_nothing", func(t *testing.T) {
		s, set := setup(t)
		_, err := apply(t, s, set, partial, rec("1", "a"), rec("2", "a"))
		require.NoError(t, err)
		for _, recs := range [][]domain.Record{
			{rec("1", "b"), rec("1", "c")}, // both change one record
			{rec("3", "b"), rec("3", "c")}, // both new
			{rec("1", "a"), rec("1", "b")}, // as it is, then changed
		} {
			_, err := apply(t, s, set, full, recs...)
			require.True(t, domain.IsCode(err, domain.CodeInvalid), "%v", err)
			r, err := s.Record(ctx, set, "1")
			require.NoError(t, err)
			require.Equal(t, "a", r.Fields["name"])
			require.Equal(t, []string{"1", "2"}, liveIDs(t, s, set))
		}
	})
	t.Run("an_id_again_batches_later_fails_the_apply_and_changes_nothing", func(t *testing.T) {
		for _, before := range [][]domain.Record{nil, {rec("1", "a"), rec("7", "a")}} {
			s, set := setup(t)
			_, err := apply(t, s, set, partial, before...)
			require.NoError(t, err)
			a, err := s.StageRecords(ctx, set)
			require.NoError(t, err)
			// The error surfaces at a later Add or at Commit, whichever
			// comes first after the batch holding the repeat is written.
			for i := 0; i < 25000 && err == nil; i++ {
				id := fmt.Sprint(i)
				if i == 16000 {
					id = "7"
				}
				err = a.Add(ctx, rec(id, "b"))
			}
			if err == nil {
				_, err = a.Commit(ctx, full)
			}
			a.Discard(ctx)
			require.True(t, domain.IsCode(err, domain.CodeInvalid), "%v", err)
			want := []string(nil)
			if before != nil {
				want = []string{"1", "7"}
				r, err := s.Record(ctx, set, "7")
				require.NoError(t, err)
				require.Equal(t, "a", r.Fields["name"])
			}
			require.Equal(t, want, liveIDs(t, s, set))
		}
	})
	t.Run("a_value_json_cannot_hold_is_invalid_and_changes_nothing", func(t *testing.T) {
		s, set := setup(t)
		bad := rec("2", "b")
		bad.Fields["score"] = math.NaN()
		_, err := apply(t, s, set, full, rec("1", "a"), bad)
		require.True(t, domain.IsCode(err, domain.CodeInvalid), "%v", err)
		require.Empty(t, liveIDs(t, s, set))
	})
	t.Run("duplicate_external_id_is_invalid", func(t *testing.T) {
		s, set := setup(t)
		_, err := apply(t, s, set, full, rec("1", "a"), rec("1", "b"))
		require.True(t, domain.IsCode(err, domain.CodeInvalid), "%v", err)
		require.Empty(t, liveIDs(t, s, set))
	})
	t.Run("another_workspace_cannot_stage_or_read", func(t *testing.T) {
		s, set := setup(t)
		w2, _ := workspace(t, s, "b@example.com")
		_, err := apply(t, s, set, full, rec("1", "a"))
		require.NoError(t, err)
		other := set
		other.WorkspaceID = w2.ID
		_, err = s.StageRecords(ctx, other)
		require.True(t, domain.IsCode(err, domain.CodeNotFound))
		_, err = s.Record(ctx, other, "1")
		require.True(t, domain.IsCode(err, domain.CodeNotFound))
	})
	t.Run("changed_since_and_paging", func(t *testing.T) {
		s, set := setup(t)
		var recs []domain.Record
		for i := range 12 {
			recs = append(recs, rec(fmt.Sprint(i), "x"))
		}
		_, err := apply(t, s, set, full, recs...)
		require.NoError(t, err)
		mark := time.Now()
		time.Sleep(5 * time.Millisecond)
		_, err = apply(t, s, set, partial, rec("3", "y"))
		require.NoError(t, err)
		changed, err := s.Records(ctx, set, domain.RecordFilter{ChangedSince: &mark}, domain.Page{})
		require.NoError(t, err)
		require.Len(t, changed, 1)
		seen := 0
		p := domain.Page{Limit: 5}
		for {
			list, err := s.Records(ctx, set, domain.RecordFilter{}, p)
			require.NoError(t, err)
			seen += len(list)
			if len(list) < p.Limit {
				break
			}
			p.After = list[len(list)-1].ExternalID
		}
		require.Equal(t, 12, seen)
	})
	t.Run("large_apply_spans_batches", func(t *testing.T) {
		s, set := setup(t)
		var recs []domain.Record
		for i := range 12001 {
			recs = append(recs, rec(fmt.Sprint(i), "x"))
		}
		st, err := apply(t, s, set, full, recs...)
		require.NoError(t, err)
		require.Equal(t, 12001, st.Inserted)
	})
}
