package api_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"syncd/domain"
)

// act posts an item action and decodes the item it answers.
func (f *windowFixture) act(t *testing.T, token, itemID, action string, body any, headers ...string) (*response, windowItem) {
	t.Helper()
	r := f.ts.do("POST", f.path+"/items/"+itemID+"/"+action, token, body, headers...)
	var it windowItem
	if r.Status == 200 {
		r.decode(&it)
		require.Equal(t, etag(it.Version), r.Header.Get("ETag"))
	}
	return r, it
}

func TestItemActions(t *testing.T) {
	ts, f := newStandardWindow(t)
	tok := ts.Admin.Access

	t.Run("resolve_with_a_whole_side", func(t *testing.T) {
		it := f.item(t, "L2")
		r, after := f.act(t, tok, it.ID, "resolve", map[string]any{"winner": "right"}, "If-Match", etag(it.Version))
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "synced", after.Category)
		require.Equal(t, "pending", after.Status, "the write to the left is queued")
		require.Equal(t, "resolved", after.Diff[0].Outcome)
		require.Greater(t, after.Version, it.Version)
		f.settle(t)
		done := f.detail(t, it.ID)
		require.Equal(t, "Bøg A/S", done.Left.Fields["name"])
		require.Equal(t, "ok", done.Status)
		require.Equal(t, "Bøg A/S", done.Base["name"])
	})

	t.Run("resolve_per_field_with_left_right_and_a_custom_value", func(t *testing.T) {
		it := f.item(t, "L8")
		r, after := f.act(t, tok, it.ID, "resolve", map[string]any{"fields": map[string]any{
			"name": "left", "email": "right", "city": map[string]any{"value": "Bremen"},
		}})
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "synced", after.Category)
		require.Empty(t, after.Conflicts)
		f.settle(t)
		done := f.detail(t, it.ID)
		require.Equal(t, map[string]any{"name": "Hav", "email": "hav@x.dk", "city": "Bremen"}, done.Base)
		require.Equal(t, "Hav", done.Right.Fields["navn"])
		require.Equal(t, "hav@x.dk", done.Left.Fields["email"])
		require.Equal(t, "Bremen", done.Left.Fields["city"])
		require.Equal(t, "Bremen", done.Right.Fields["ort"])
	})

	t.Run("invalid_resolutions_change_nothing", func(t *testing.T) {
		it := f.detail(t, f.item(t, "L9").ID)
		p := f.ts.do("POST", f.path+"/items/"+it.ID+"/resolve", tok, map[string]any{"fields": map[string]any{"number": "left"}}).problem(422)
		require.Contains(t, p["errors"], "fields.number", "not a mapped field")
		p = f.ts.do("POST", f.path+"/items/"+it.ID+"/resolve", tok, map[string]any{"fields": map[string]any{"city": "left"}}).problem(422)
		require.Contains(t, p["errors"].(map[string]any)["fields.city"], "not in conflict")
		p = f.ts.do("POST", f.path+"/items/"+it.ID+"/resolve", tok, map[string]any{"winner": "left", "fields": map[string]any{"name": "left"}}).problem(422)
		require.Contains(t, p["errors"], "winner")
		f.ts.do("POST", f.path+"/items/"+it.ID+"/resolve", tok, map[string]any{"fields": map[string]any{"name": "middle"}}).problem(422)
		f.ts.do("POST", f.path+"/items/"+it.ID+"/resolve", tok, map[string]any{}).problem(422)
		f.ts.do("POST", f.path+"/items/"+it.ID+"/resolve", tok, map[string]any{"winner": "newest"}).problem(422)
		now := f.detail(t, it.ID)
		require.Equal(t, it.Version, now.Version)
		require.Equal(t, "conflict", now.Category)
	})

	t.Run("stale_if_match_is_412_and_changes_nothing", func(t *testing.T) {
		it := f.detail(t, f.item(t, "L9").ID)
		p := f.ts.do("POST", f.path+"/items/"+it.ID+"/resolve", tok, map[string]any{"winner": "left"}, "If-Match", etag(it.Version+5)).problem(412)
		require.Contains(t, p["detail"], "If-Match")
		f.ts.do("POST", f.path+"/items/"+it.ID+"/disable", tok, nil, "If-Match", etag(it.Version-1)).problem(412)
		p = f.ts.do("POST", f.path+"/items/"+it.ID+"/disable", tok, nil, "If-Match", "W/1").problem(422)
		require.Contains(t, p["errors"], "header.If-Match")
		now := f.detail(t, it.ID)
		require.Equal(t, it.Version, now.Version)
		require.Equal(t, "conflict", now.Category)
		require.Equal(t, "Is", now.Left.Fields["name"])
	})

	t.Run("two_resolves_with_one_etag_only_one_wins", func(t *testing.T) {
		it := f.detail(t, f.item(t, "L9").ID)
		statuses := make([]int, 2)
		winners := []string{"left", "right"}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range winners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := f.ts.do("POST", f.path+"/items/"+it.ID+"/resolve", tok, map[string]any{"winner": winners[i]}, "If-Match", etag(it.Version))
				statuses[i] = r.Status
			}()
		}
		close(start)
		wg.Wait()
		require.ElementsMatch(t, []int{200, 412}, statuses)
		won := "Is"
		if statuses[1] == 200 {
			won = "Isen"
		}
		f.settle(t)
		done := f.detail(t, it.ID)
		require.Equal(t, "synced", done.Category)
		require.Equal(t, won, done.Left.Fields["name"])
		require.Equal(t, won, done.Right.Fields["navn"])
	})

	t.Run("actions_that_do_not_fit_the_category_are_409", func(t *testing.T) {
		synced := f.detail(t, f.item(t, "L7").ID)
		partner := f.item(t, "K5").ID
		for action, body := range map[string]any{
			"activate": nil, "enable": nil, "resolve": map[string]any{"winner": "left"}, "delete-remaining": nil,
			"restore": nil, "create-counterpart": nil, "pair": map[string]any{"partner_item_id": partner},
		} {
			p := f.ts.do("POST", f.path+"/items/"+synced.ID+"/"+action, tok, body).problem(409)
			require.Contains(t, p["detail"], "this one is synced", action)
		}
		p := f.ts.do("POST", f.path+"/items/"+f.item(t, "K6").ID+"/unpair", tok, nil).problem(409)
		require.Contains(t, p["detail"], "inactive")
		require.Equal(t, synced.Version, f.detail(t, synced.ID).Version)
	})

	t.Run("unpair_then_pair_by_hand", func(t *testing.T) {
		link := f.item(t, "L7")
		r, left := f.act(t, tok, link.ID, "unpair", nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "new", left.Category)
		require.Equal(t, "left", left.Side)
		require.Nil(t, left.Right)
		require.Equal(t, []string{"pair", "create-counterpart", "disable"}, left.AllowedActions)
		right := f.item(t, "K7")
		require.Equal(t, "new", right.Category)

		r = f.ts.do("GET", f.path+"/items/"+left.ID+"/suggestions", tok, nil)
		require.Equal(t, 200, r.Status, r.Text())
		var sugg struct {
			Data []struct {
				Item windowItem        `json:"item"`
				Key  map[string]string `json:"key"`
			} `json:"data"`
		}
		r.decode(&sugg)
		require.Len(t, sugg.Data, 1)
		require.Equal(t, right.ID, sugg.Data[0].Item.ID)
		require.Equal(t, map[string]string{"left": "number", "right": "nr", "normalize": "digits"}, sugg.Data[0].Key)
		f.ts.do("GET", f.path+"/items/"+f.item(t, "L1").ID+"/suggestions", tok, nil).problem(409)

		p := f.ts.do("POST", f.path+"/items/"+left.ID+"/pair", tok, map[string]any{"partner_item_id": f.item(t, "L4").ID}).problem(409)
		require.Contains(t, p["detail"], "right side")
		p = f.ts.do("POST", f.path+"/items/"+left.ID+"/pair", tok, map[string]any{"partner_item_id": "nobody"}).problem(422)
		require.Contains(t, p["errors"], "partner_item_id")
		p = f.ts.do("POST", f.path+"/items/"+left.ID+"/pair", tok, map[string]any{}).problem(422)
		require.Contains(t, p["errors"], "partner_item_id")

		r, paired := f.act(t, tok, left.ID, "pair", map[string]any{"partner_item_id": right.ID})
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, right.ID, paired.ID, "the link keeps the partner's id")
		require.Equal(t, "synced", paired.Category, "their fields agree")
		require.Equal(t, "L7/K7", paired.externalIDs())
		f.ts.do("GET", f.path+"/items/"+left.ID, tok, nil).problem(404)
	})

	t.Run("disable_and_enable", func(t *testing.T) {
		it := f.item(t, "L1")
		r, off := f.act(t, tok, it.ID, "disable", nil, "If-Match", "*")
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "disabled", off.Category)
		require.True(t, off.Disabled)
		require.Equal(t, []string{"enable"}, off.AllowedActions)
		r, on := f.act(t, tok, it.ID, "enable", nil, "If-Match", etag(off.Version))
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "synced", on.Category)
	})

	t.Run("create_counterpart_sets_up_the_partner", func(t *testing.T) {
		it := f.item(t, "L4")
		r, after := f.act(t, tok, it.ID, "create-counterpart", nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "pending", after.Status)
		ops, err := ts.Store.Operations(context.Background(), ts.Admin.WorkspaceID, it.ID)
		require.NoError(t, err)
		require.Equal(t, domain.OpCreate, ops[0].Kind)
		require.Equal(t, domain.SideRight, ops[0].Side)
		f.settle(t)
		done := f.detail(t, it.ID)
		require.Equal(t, "synced", done.Category)
		require.Equal(t, "L4", done.Right.ExternalID, "the counterpart keeps the id")
		require.Equal(t, "Dora", done.Right.Fields["navn"])
	})

	t.Run("restore_recreates_the_deleted_side", func(t *testing.T) {
		it := f.item(t, "L3")
		r, after := f.act(t, tok, it.ID, "restore", nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "pending", after.Status)
		f.settle(t)
		done := f.detail(t, it.ID)
		require.Equal(t, "synced", done.Category)
		require.False(t, done.Right.Deleted)
		require.Equal(t, "K3", done.Right.ExternalID)
	})

	t.Run("delete_remaining_takes_the_item_out_of_the_window", func(t *testing.T) {
		it := f.item(t, "L10")
		r, _ := f.act(t, tok, it.ID, "delete-remaining", nil)
		require.Equal(t, 200, r.Status, r.Text())
		f.settle(t)
		f.ts.do("GET", f.path+"/items/"+it.ID, tok, nil).problem(404)
		require.Empty(t, f.window(t, tok, "category=deleted"))
	})

	t.Run("activate_makes_an_inactive_record_new", func(t *testing.T) {
		it := f.item(t, "K6")
		r, after := f.act(t, tok, it.ID, "activate", nil)
		require.Equal(t, 200, r.Status, r.Text())
		require.Equal(t, "pending", after.Status)
		f.settle(t)
		done := f.detail(t, it.ID)
		require.Equal(t, "new", done.Category)
		require.True(t, done.Right.Active)
	})

	t.Run("actions_need_the_operator_role", func(t *testing.T) {
		viewer := ts.login(createUser(t, ts, "viewer@example.com", "viewer"), "password-viewer@example.com")
		operator := ts.login(createUser(t, ts, "operator@example.com", "operator"), "password-operator@example.com")
		it := f.item(t, "K5")
		p := f.ts.do("POST", f.path+"/items/"+it.ID+"/disable", viewer.Access, nil).problem(403)
		require.Contains(t, p["detail"], "operator")
		require.Equal(t, 200, f.ts.do("GET", f.path+"/items/"+it.ID, viewer.Access, nil).Status, "viewers read the window")
		r, _ := f.act(t, operator.Access, it.ID, "disable", nil)
		require.Equal(t, 200, r.Status, r.Text())
	})

	t.Run("another_workspace_cannot_act", func(t *testing.T) {
		other := ts.newWorkspace("other@example.com")
		it := f.item(t, "L11")
		f.ts.do("POST", f.path+"/items/"+it.ID+"/disable", other.Access, nil).problem(404)
		f.ts.do("GET", f.path+"/items/"+it.ID+"/suggestions", other.Access, nil).problem(404)
		require.Equal(t, "new", f.item(t, "L11").Category)
	})

	t.Run("summary_after_all", func(t *testing.T) {
		f.settle(t)
		require.Equal(t, map[string]any{
			"conflict": 0.0, "new": map[string]any{"left": 1.0, "right": 1.0}, "deleted": 0.0,
			"disabled": 1.0, "synced": 7.0, "inactive": 0.0,
		}, f.summary(t, tok))
	})
}
