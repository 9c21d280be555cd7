package api_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"syncd/domain"
)

// bulkResults is the answer of a bulk action.
type bulkResults struct {
	Results []struct {
		ItemID   string `json:"item_id"`
		Status   int    `json:"status"`
		Category string `json:"category"`
		ETag     string `json:"etag"`
		Error    string `json:"error"`
	} `json:"results"`
	Counts struct {
		Succeeded int            `json:"succeeded"`
		Failed    int            `json:"failed"`
		ByStatus  map[string]int `json:"by_status"`
	} `json:"counts"`
	Truncated bool `json:"truncated"`
}

func (f *windowFixture) bulk(t *testing.T, token string, body map[string]any) bulkResults {
	t.Helper()
	r := f.ts.do("POST", f.path+"/actions", token, body)
	require.Equal(t, 200, r.Status, r.Text())
	var out bulkResults
	r.decode(&out)
	return out
}

func TestBulkActions(t *testing.T) {
	ts, f := newStandardWindow(t)
	tok := ts.Admin.Access

	t.Run("by_ids_each_item_gets_its_own_result", func(t *testing.T) {
		r, _ := f.act(t, tok, f.item(t, "L4").ID, "disable", nil)
		require.Equal(t, 200, r.Status, r.Text())
		ids := []string{f.item(t, "L1").ID, f.item(t, "L2").ID, f.item(t, "L4").ID, "no-such-item"}
		out := f.bulk(t, tok, map[string]any{"action": "disable", "item_ids": ids})
		require.Len(t, out.Results, 4)
		for i, want := range []int{200, 200, 409, 404} {
			require.Equal(t, ids[i], out.Results[i].ItemID, "request order")
			require.Equal(t, want, out.Results[i].Status, out.Results[i].Error)
		}
		require.Equal(t, "disabled", out.Results[0].Category)
		require.Equal(t, etag(f.detail(t, ids[0]).Version), out.Results[0].ETag)
		require.Contains(t, out.Results[2].Error, "this one is disabled")
		require.Equal(t, 2, out.Counts.Succeeded)
		require.Equal(t, 2, out.Counts.Failed)
		require.Equal(t, map[string]int{"200": 2, "409": 1, "404": 1}, out.Counts.ByStatus)
		require.False(t, out.Truncated)
		require.Equal(t, "disabled", f.detail(t, ids[1]).Category)
	})

	t.Run("by_filter_resolves_every_conflict", func(t *testing.T) {
		require.Equal(t, []string{"L8/K8", "L9/K9"}, names(f.window(t, tok, "category=conflict")))
		out := f.bulk(t, tok, map[string]any{"action": "resolve", "winner": "left", "filter": map[string]any{"category": "conflict"}})
		require.Len(t, out.Results, 2)
		require.Equal(t, 2, out.Counts.Succeeded)
		for _, res := range out.Results {
			require.Equal(t, "synced", res.Category)
		}
		f.settle(t)
		require.Empty(t, f.window(t, tok, "category=conflict"))
		k8 := f.detail(t, f.item(t, "K8").ID)
		require.Equal(t, "Hav", k8.Right.Fields["navn"])
		require.Equal(t, "Hamm", k8.Right.Fields["ort"])
	})

	t.Run("set_up_all_new_records_of_a_side", func(t *testing.T) {
		out := f.bulk(t, tok, map[string]any{"action": "create-counterpart", "filter": map[string]any{"category": "new", "side": "left"}})
		require.Len(t, out.Results, 1, "L4 is disabled; only L11 is new on the left")
		require.Equal(t, 200, out.Results[0].Status)
		f.settle(t)
		require.Equal(t, "synced", f.item(t, "L11").Category)
		require.Empty(t, f.window(t, tok, "category=new&side=left"))
	})

	t.Run("a_filter_that_matches_nothing", func(t *testing.T) {
		out := f.bulk(t, tok, map[string]any{"action": "enable", "filter": map[string]any{"q": "nobody-has-this"}})
		require.Empty(t, out.Results)
		require.Equal(t, map[string]int{}, out.Counts.ByStatus)
	})

	t.Run("invalid_requests", func(t *testing.T) {
		one := []string{f.item(t, "L1").ID}
		cases := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"action": "disable", "item_ids": one, "filter": map[string]any{}}, "item_ids"},
			{map[string]any{"action": "disable"}, "item_ids"},
			{map[string]any{"action": "resolve", "item_ids": one}, "winner"},
			{map[string]any{"action": "enable", "item_ids": one, "winner": "left"}, "winner"},
			{map[string]any{"action": "pair", "item_ids": one}, "action"},
			{map[string]any{"action": "disable", "item_ids": []string{one[0], one[0]}}, "item_ids"},
			{map[string]any{"action": "disable", "item_ids": []string{}}, "item_ids"},
			{map[string]any{"action": "disable", "filter": map[string]any{"category": "lost"}}, "filter.category"},
		}
		for _, c := range cases {
			p := ts.do("POST", f.path+"/actions", tok, c.body).problem(422)
			require.Contains(t, p["errors"], c.field, "%v", c.body)
		}
		many := make([]string, 1001)
		for i := range many {
			many[i] = fmt.Sprint("id-", i)
		}
		p := ts.do("POST", f.path+"/actions", tok, map[string]any{"action": "disable", "item_ids": many}).problem(422)
		require.Contains(t, p["errors"], "item_ids")
		require.Equal(t, "synced", f.detail(t, f.item(t, "L7").ID).Category, "nothing was acted on")
	})

	t.Run("access", func(t *testing.T) {
		viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
		ts.do("POST", f.path+"/actions", viewer.Access, map[string]any{"action": "disable", "filter": map[string]any{}}).problem(403)
		other := ts.newWorkspace("other@example.com")
		ts.do("POST", f.path+"/actions", other.Access, map[string]any{"action": "disable", "filter": map[string]any{}}).problem(404)
		ts.do("POST", f.path+"/auto-pair", other.Access, nil).problem(404)
		require.Equal(t, "synced", f.item(t, "L7").Category)
	})
}

func TestAutoPair(t *testing.T) {
	ts := newServer(t)
	f := newWindowFixture(t, ts, false)
	f.stage(t, f.left, domain.ApplyFull,
		leftRec("L1", "1001", "A", "a@x", "Aa"), leftRec("L2", "1002", "B", "b@x", "Bb"), leftRec("L3", "1003", "C", "c@x", "Cc"))
	f.stage(t, f.right, domain.ApplyFull,
		rightRec("K1", "1001", "A", "a@x", "Aa"), rightRec("K2", "10 02", "B2", "b@x", "Bb"),
		rightRec("K3a", "1003", "C", "c@x", "Cc"), rightRec("K3b", "1003", "C", "c@x", "Cc"))
	f.settle(t)
	require.Equal(t, map[string]any{"left": 3.0, "right": 4.0}, f.summary(t, ts.Admin.Access)["new"], "auto_pair is off")

	operator := ts.login(createUser(t, ts, "operator@example.com", "operator"), "password-operator@example.com")
	viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
	ts.do("POST", f.path+"/auto-pair", viewer.Access, nil).problem(403)

	r := ts.do("POST", f.path+"/auto-pair", operator.Access, nil)
	require.Equal(t, 200, r.Status, r.Text())
	require.Equal(t, map[string]any{"paired": 2.0}, r.JSON())
	sum := f.summary(t, viewer.Access)
	require.Equal(t, 1.0, sum["synced"])
	require.Equal(t, 1.0, sum["conflict"], "L2/K2 differ on the name")
	require.Equal(t, map[string]any{"left": 1.0, "right": 2.0}, sum["new"], "1003 is ambiguous")
	require.Equal(t, "L2/K2", f.item(t, "K2").externalIDs())

	r = ts.do("POST", f.path+"/auto-pair", operator.Access, nil)
	require.Equal(t, 200, r.Status, r.Text())
	require.Equal(t, map[string]any{"paired": 0.0}, r.JSON(), "nothing unambiguous is left")
	ts.do("POST", "/v1/syncs/"+f.syncID+"/objects/orders/auto-pair", operator.Access, nil).problem(404)
}
