package api_test

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"syncd/domain"
)

// windowFixture is a customers sync between a hosted left and a file right
// connection of the admin's workspace, with records staged on both sides.
type windowFixture struct {
	ts          *testServer
	syncID      string
	path        string // the object's base path, /v1/syncs/{id}/objects/customers
	left, right domain.RecordSet
}

func newWindowFixture(t *testing.T, ts *testServer, autoPair bool) *windowFixture {
	t.Helper()
	l, r := syncConnections(t, ts, ts.Admin)
	res := ts.do("POST", "/v1/syncs", ts.Admin.Access, syncBody(l, r, customersObject(autoPair)))
	require.Equal(t, 201, res.Status, res.Text())
	id := res.JSON()["id"].(string)
	ws := ts.Admin.WorkspaceID
	return &windowFixture{
		ts: ts, syncID: id, path: "/v1/syncs/" + id + "/objects/customers",
		left:  domain.RecordSet{WorkspaceID: ws, ConnectionID: l, Object: "customers"},
		right: domain.RecordSet{WorkspaceID: ws, ConnectionID: r, Object: "kunden"},
	}
}

// stage commits records to one side: a full snapshot (records it lacks
// become deleted) or a partial upsert. The server reconciles the change
// before the commit returns; the writes it plans follow (see settle).
func (f *windowFixture) stage(t *testing.T, set domain.RecordSet, mode domain.ApplyMode, recs ...domain.Record) {
	t.Helper()
	ctx := context.Background()
	a, err := f.ts.Store.StageRecords(ctx, set)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, a.Add(ctx, r))
	}
	_, err = a.Commit(ctx, domain.ApplyOptions{Mode: mode, MaxDeleteRatio: 1, Origin: domain.OriginSource, Now: time.Now()})
	require.NoError(t, err)
}

// settle waits until the server's worker has applied every queued
// operation and reconciled every record change, as a client polling the
// window would: the store must stay idle for a few polls in a row, since
// a completed write is reconciled just after it lands.
func (f *windowFixture) settle(t *testing.T) {
	t.Helper()
	quiet := 0
	require.Eventually(t, func() bool {
		if f.idle() {
			quiet++
		} else {
			quiet = 0
		}
		return quiet >= 3
	}, 10*time.Second, 10*time.Millisecond, "the window did not settle")
}

// idle reports whether no operation is queued or running and, checked after
// that, no record change waits to be reconciled.
func (f *windowFixture) idle() bool {
	ctx := context.Background()
	var queued int
	err := f.ts.Store.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM operations WHERE status IN ('pending', 'running')").Scan(&queued)
	if err != nil || queued > 0 {
		return false
	}
	behind, err := f.ts.Store.BehindObjects(ctx)
	return err == nil && len(behind) == 0
}

func leftRec(id, number, name, email, city string) domain.Record {
	return domain.Record{ExternalID: id, Active: true, Fields: domain.Fields{"number": number, "name": name, "email": email, "city": city}}
}

func rightRec(id, nr, navn, mail, ort string) domain.Record {
	return domain.Record{ExternalID: id, Active: true, Fields: domain.Fields{"nr": nr, "navn": navn, "mail": mail, "ort": ort}}
}

// newStandardWindow fills a window with every category:
//
//	synced   L1/K1 (K1's city changed and was written to L1), L7/K7
//	conflict L2/K2 (name), L8/K8 (name, email, city), L9/K9 (name)
//	deleted  L3/K3, L10/K10 (deleted on the right)
//	new      L4, L11 on the left, K5 on the right
//	inactive K6 on the right
func newStandardWindow(t *testing.T) (*testServer, *windowFixture) {
	t.Helper()
	ts := newServer(t)
	f := newWindowFixture(t, ts, true)
	f.stage(t, f.left, domain.ApplyFull,
		leftRec("L1", "1001", "Ærø ApS", "a@x.dk", "Aarhus"), leftRec("L2", "1002", "Bøg", "b@x.dk", "Bonn"),
		leftRec("L3", "1003", "Cedar", "c@x.dk", "Cork"), leftRec("L4", "1004", "Dora", "d@x.dk", "Delft"),
		leftRec("L7", "1007", "Gul", "g@x.dk", "Gent"), leftRec("L8", "1008", "Hav", "h@x.dk", "Hamm"),
		leftRec("L9", "1009", "Is", "i@x.dk", "Ilm"), leftRec("L10", "1010", "Jord", "j@x.dk", "Jena"),
		leftRec("L11", "1011", "Kilde", "k@x.dk", "Kiel"))
	inactive := rightRec("K6", "2006", "Sleepy", "s@x.dk", "Sylt")
	inactive.Active = false
	right := []domain.Record{
		rightRec("K1", "10-01", "Ærø ApS", "A@X.dk", "Aarhus"), rightRec("K2", "1002", "Bøg A/S", "b@x.dk", "Bonn"),
		rightRec("K3", "1003", "Cedar", "c@x.dk", "Cork"), rightRec("K5", "2005", "Eg", "e@x.dk", "Essen"), inactive,
		rightRec("K7", "1007", "Gul", "g@x.dk", "Gent"), rightRec("K8", "1008", "Havet", "hav@x.dk", "Hamburg"),
		rightRec("K9", "1009", "Isen", "i@x.dk", "Ilm"), rightRec("K10", "1010", "Jord", "j@x.dk", "Jena"),
	}
	f.stage(t, f.right, domain.ApplyFull, right...)
	// K3 and K10 disappear from the next full snapshot, and K1 moves town.
	right[0] = rightRec("K1", "10-01", "Ærø ApS", "A@X.dk", "Aarhus C")
	f.stage(t, f.right, domain.ApplyFull, slices.DeleteFunc(right, func(r domain.Record) bool {
		return r.ExternalID == "K3" || r.ExternalID == "K10"
	})...)
	f.settle(t)
	return ts, f
}

// windowItem is an item as the API shows it; the detail fields are set by
// GET .../items/{id} and the actions.
type windowItem struct {
	ID        string         `json:"id"`
	Category  string         `json:"category"`
	Status    string         `json:"status"`
	Error     string         `json:"error"`
	Side      string         `json:"side"`
	Disabled  bool           `json:"disabled"`
	Conflicts []string       `json:"conflicts"`
	Left      *windowRecord  `json:"left"`
	Right     *windowRecord  `json:"right"`
	Version   int64          `json:"version"`
	Base      map[string]any `json:"base"`
	Diff      []struct {
		Field      string `json:"field"`
		RightField string `json:"right_field"`
		Left       any    `json:"left"`
		Right      any    `json:"right"`
		Base       any    `json:"base"`
		HasBase    bool   `json:"has_base"`
		Outcome    string `json:"outcome"`
		Conflict   bool   `json:"conflict"`
	} `json:"diff"`
	AllowedActions []string `json:"allowed_actions"`
}

type windowRecord struct {
	ExternalID string         `json:"external_id"`
	Fields     map[string]any `json:"fields"`
	Active     bool           `json:"active"`
	Deleted    bool           `json:"deleted"`
}

// externalIDs names an item by its records' external ids, "L2/K2" or "L4".
func (it windowItem) externalIDs() string {
	var ids []string
	for _, r := range []*windowRecord{it.Left, it.Right} {
		if r != nil {
			ids = append(ids, r.ExternalID)
		}
	}
	return strings.Join(ids, "/")
}

// window lists the whole window with a query, following every page.
func (f *windowFixture) window(t *testing.T, token, query string) []windowItem {
	t.Helper()
	var all []windowItem
	cursor := ""
	for {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := f.ts.do("GET", f.path+"/window?"+q, token, nil)
		require.Equal(t, 200, r.Status, r.Text())
		var page struct {
			Data       []windowItem `json:"data"`
			NextCursor *string      `json:"next_cursor"`
		}
		r.decode(&page)
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
}

// names lists items by their external ids, sorted.
func names(items []windowItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.externalIDs()
	}
	slices.Sort(out)
	return out
}

// item finds the item holding a record with the external id.
func (f *windowFixture) item(t *testing.T, externalID string) windowItem {
	t.Helper()
	for _, it := range f.window(t, f.ts.Admin.Access, "limit=500") {
		for _, r := range []*windowRecord{it.Left, it.Right} {
			if r != nil && r.ExternalID == externalID {
				return it
			}
		}
	}
	t.Fatalf("no item holds record %s", externalID)
	return windowItem{}
}

// detail reads an item through GET and checks its ETag.
func (f *windowFixture) detail(t *testing.T, id string) windowItem {
	t.Helper()
	r := f.ts.do("GET", f.path+"/items/"+id, f.ts.Admin.Access, nil)
	require.Equal(t, 200, r.Status, r.Text())
	var it windowItem
	r.decode(&it)
	require.Equal(t, etag(it.Version), r.Header.Get("ETag"))
	return it
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

func (f *windowFixture) summary(t *testing.T, token string) map[string]any {
	t.Helper()
	r := f.ts.do("GET", f.path+"/window/summary", token, nil)
	require.Equal(t, 200, r.Status, r.Text())
	return r.JSON()
}

func TestWindowList(t *testing.T) {
	ts, f := newStandardWindow(t)
	viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")

	t.Run("summary_counts_every_category", func(t *testing.T) {
		require.Equal(t, map[string]any{
			"conflict": 3.0, "new": map[string]any{"left": 2.0, "right": 1.0}, "deleted": 2.0,
			"disabled": 0.0, "synced": 2.0, "inactive": 1.0,
		}, f.summary(t, viewer.Access))
	})

	t.Run("filters", func(t *testing.T) {
		tok := viewer.Access
		require.Equal(t, []string{"L2/K2", "L8/K8", "L9/K9"}, names(f.window(t, tok, "category=conflict")))
		require.Equal(t, []string{"L10/K10", "L3/K3"}, names(f.window(t, tok, "category=deleted")))
		require.Equal(t, []string{"L11", "L4"}, names(f.window(t, tok, "category=new&side=left")))
		require.Equal(t, []string{"K5", "K6"}, names(f.window(t, tok, "side=right")))
		require.Equal(t, []string{"K6"}, names(f.window(t, tok, "category=inactive")))
		require.Equal(t, []string{"L8/K8"}, names(f.window(t, tok, "q=HAMBURG")), "search is case-insensitive over mapped values")
		require.Equal(t, []string{"L11"}, names(f.window(t, tok, "q=1011")), "and over match keys")
		require.Empty(t, f.window(t, tok, "category=disabled"))
		require.Len(t, f.window(t, tok, "status=ok"), 11)
		require.Empty(t, f.window(t, tok, "status=failed"))
	})

	t.Run("keyset_paging_visits_every_item_once", func(t *testing.T) {
		all := f.window(t, viewer.Access, "limit=500")
		require.Len(t, all, 11)
		var ids []string
		cursor := ""
		pages := 0
		for {
			q := "limit=3"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			r := ts.do("GET", f.path+"/window?"+q, viewer.Access, nil)
			require.Equal(t, 200, r.Status, r.Text())
			var page struct {
				Data       []windowItem `json:"data"`
				NextCursor *string      `json:"next_cursor"`
			}
			r.decode(&page)
			require.LessOrEqual(t, len(page.Data), 3)
			pages++
			for _, it := range page.Data {
				ids = append(ids, it.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Equal(t, 4, pages)
		require.True(t, slices.IsSorted(ids), "id order")
		want := make([]string, len(all))
		for i, it := range all {
			want[i] = it.ID
		}
		require.Equal(t, want, ids)
	})

	t.Run("bad_parameters", func(t *testing.T) {
		p := ts.do("GET", f.path+"/window?category=lost", viewer.Access, nil).problem(422)
		require.Contains(t, p["errors"], "query.category")
		p = ts.do("GET", f.path+"/window?cursor=***", viewer.Access, nil).problem(422)
		require.Contains(t, p["errors"], "query.cursor")
		ts.do("GET", "/v1/syncs/"+f.syncID+"/objects/orders/window", viewer.Access, nil).problem(404)
		ts.do("GET", "/v1/syncs/"+f.syncID+"/objects/orders/window/summary", viewer.Access, nil).problem(404)
	})

	t.Run("another_workspace_sees_nothing", func(t *testing.T) {
		other := ts.newWorkspace("other@example.com")
		ts.do("GET", f.path+"/window", other.Access, nil).problem(404)
		ts.do("GET", f.path+"/window/summary", other.Access, nil).problem(404)
		ts.do("GET", f.path+"/items/"+f.item(t, "L1").ID, other.Access, nil).problem(404)
	})
}

func TestItemDetail(t *testing.T) {
	ts, f := newStandardWindow(t)

	t.Run("conflict_shows_the_diff_and_what_can_be_done", func(t *testing.T) {
		it := f.detail(t, f.item(t, "L8").ID)
		require.Equal(t, "conflict", it.Category)
		require.Equal(t, []string{"resolve", "unpair", "disable"}, it.AllowedActions)
		require.Equal(t, "L8", it.Left.ExternalID)
		require.Equal(t, "Havet", it.Right.Fields["navn"])
		require.Nil(t, it.Base, "a fresh pairing has no base")
		require.Len(t, it.Diff, 3)
		for _, d := range it.Diff {
			require.True(t, d.Conflict, d.Field)
			require.Equal(t, "conflict", d.Outcome)
			require.False(t, d.HasBase)
		}
		require.Equal(t, "name", it.Diff[0].Field)
		require.Equal(t, "navn", it.Diff[0].RightField)
		require.Equal(t, "Hav", it.Diff[0].Left)
		require.Equal(t, "Havet", it.Diff[0].Right)
		require.ElementsMatch(t, []string{"name", "email", "city"}, it.Conflicts)
	})

	t.Run("synced_link_has_a_base", func(t *testing.T) {
		it := f.detail(t, f.item(t, "L7").ID)
		require.Equal(t, "synced", it.Category)
		require.Equal(t, []string{"disable", "unpair"}, it.AllowedActions)
		require.Equal(t, map[string]any{"name": "Gul", "email": "g@x.dk", "city": "Gent"}, it.Base)
		for _, d := range it.Diff {
			require.Equal(t, "agreed", d.Outcome)
			require.True(t, d.HasBase)
			require.Equal(t, d.Left, d.Base)
		}
	})

	t.Run("one_sided_change_reached_the_other_side", func(t *testing.T) {
		it := f.detail(t, f.item(t, "L1").ID)
		require.Equal(t, "synced", it.Category)
		require.Equal(t, "ok", it.Status)
		require.Equal(t, "Aarhus C", it.Left.Fields["city"])
		require.Equal(t, "Aarhus C", it.Base["city"])
		for _, d := range it.Diff {
			require.Equal(t, "agreed", d.Outcome, "emails compare without case: %s", d.Field)
		}
	})

	t.Run("unpaired_and_deleted_items", func(t *testing.T) {
		it := f.detail(t, f.item(t, "K6").ID)
		require.Equal(t, "inactive", it.Category)
		require.Equal(t, "right", it.Side)
		require.Nil(t, it.Left)
		require.False(t, it.Right.Active)
		require.Empty(t, it.Diff)
		require.Equal(t, []string{"activate", "disable"}, it.AllowedActions)

		it = f.detail(t, f.item(t, "L3").ID)
		require.Equal(t, "deleted", it.Category)
		require.True(t, it.Right.Deleted)
		require.Equal(t, []string{"delete-remaining", "restore", "unpair", "disable"}, it.AllowedActions)
	})

	t.Run("unknown_item", func(t *testing.T) {
		ts.do("GET", f.path+"/items/nothing-here", ts.Admin.Access, nil).problem(404)
	})
}

// A source that goes back to a value while the hub is still writing its
// change to the other side keeps the value it went back to: the hub's own
// write must not come back as a change of the other side.
func TestSourceGoingBackWhileTheHubWrites(t *testing.T) {
	_, f := newStandardWindow(t)
	f.stage(t, f.left, domain.ApplyPartial, leftRec("L1", "1001", "Ærø Holding", "a@x.dk", "Aarhus C"))
	f.stage(t, f.left, domain.ApplyPartial, leftRec("L1", "1001", "Ærø ApS", "a@x.dk", "Aarhus C"))
	f.settle(t)
	it := f.item(t, "L1")
	require.Equal(t, "Ærø ApS", it.Left.Fields["name"])
	require.Equal(t, "Ærø ApS", it.Right.Fields["navn"])
}
