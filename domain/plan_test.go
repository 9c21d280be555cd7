package domain

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// linkInput is a link between L-1 and R-1 on the one-field object, holding
// left and right names over a base of "a".
func linkInput(left, right any) ReconcileInput {
	return ReconcileInput{
		Sync:   validSync(),
		Object: oneField(FieldString, DirectionBoth),
		Item:   Item{ID: "i1", WorkspaceID: "w1", SyncID: "s1", Object: "customers", LeftRecordID: "l", RightRecordID: "r", Base: Fields{"name": "a"}, Status: StatusOK},
		Left:   &Record{ID: "l", ExternalID: "L-1", Active: true, Fields: Fields{"name": left}},
		Right:  &Record{ID: "r", ExternalID: "R-1", Active: true, Fields: Fields{"Name": right}},
		Now:    t0,
	}
}

func TestReconcile(t *testing.T) {
	op := func(s Side, kind OpKind, ext string, f Fields) Operation {
		return Operation{WorkspaceID: "w1", SyncID: "s1", Object: "customers", ItemID: "i1", Side: s, Kind: kind,
			ExternalID: ext, Fields: f, Status: OpPending, NextAttemptAt: t0, CreatedAt: t0}
	}
	tests := []struct {
		name     string
		in       ReconcileInput
		change   func(*ReconcileInput)
		category Category
		shown    bool
		status   ItemStatus
		ops      []Operation
	}{
		{name: "one_sided_change_updates_other_side", in: linkInput("b", "a"),
			category: CategorySynced, shown: true, status: StatusPending, ops: []Operation{op(SideRight, OpUpdate, "R-1", Fields{"Name": "b"})}},
		{name: "both_changed_waits_as_conflict", in: linkInput("b", "c"),
			category: CategoryConflict, shown: true, status: StatusOK},
		{name: "disabled_link_plans_nothing", in: linkInput("b", "a"), change: func(in *ReconcileInput) { in.Item.Disabled = true },
			category: CategoryDisabled, shown: true, status: StatusOK},
		{name: "deletion_waits_by_default", in: linkInput("a", "a"), change: func(in *ReconcileInput) { in.Left.Deleted = true },
			category: CategoryDeleted, shown: true, status: StatusOK},
		{name: "deletion_propagates_when_asked", in: linkInput("a", "a"), change: func(in *ReconcileInput) {
			in.Left.Deleted = true
			in.Sync.DeletePolicy = DeletePropagate
		}, category: CategoryDeleted, shown: true, status: StatusPending, ops: []Operation{op(SideRight, OpDelete, "R-1", nil)}},
		{name: "deleted_on_both_sides_leaves", in: linkInput("a", "a"), change: func(in *ReconcileInput) {
			in.Left.Deleted, in.Right.Deleted = true, true
			in.Sync.DeletePolicy = DeletePropagate
		}, status: StatusOK},
		{name: "settled_pending_item_is_ok", in: linkInput("a", "a"), change: func(in *ReconcileInput) { in.Item.Status = StatusPending },
			category: CategorySynced, shown: true, status: StatusOK},
		{name: "failed_item_keeps_its_error", in: linkInput("b", "c"), change: func(in *ReconcileInput) { in.Item.Status, in.Item.Error = StatusFailed, "boom" },
			category: CategoryConflict, shown: true, status: StatusFailed},
		{name: "unpaired_record_is_new", in: linkInput("a", "a"), change: func(in *ReconcileInput) {
			in.Item.RightRecordID, in.Item.Side, in.Right = "", SideLeft, nil
		}, category: CategoryNew, shown: true, status: StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				tt.change(&tt.in)
			}
			got := Reconcile(tt.in)
			if got.Item.Category != tt.category || got.Shown != tt.shown || got.Item.Status != tt.status {
				t.Errorf("category, shown, status = %q, %v, %q; want %q, %v, %q",
					got.Item.Category, got.Shown, got.Item.Status, tt.category, tt.shown, tt.status)
			}
			if !reflect.DeepEqual(got.Ops, tt.ops) {
				t.Errorf("Ops = %+v\nwant %+v", got.Ops, tt.ops)
			}
		})
	}
}

func TestReconcile_failed_item_retries_with_new_writes(t *testing.T) {
	in := linkInput("b", "a")
	in.Item.Status, in.Item.Error = StatusFailed, "timeout"
	got := Reconcile(in).Item
	if got.Status != StatusPending || got.Error != "" {
		t.Errorf("status %q, error %q; want pending without error", got.Status, got.Error)
	}
}

func TestPlanActions(t *testing.T) {
	unpaired := func(c Category) ReconcileInput {
		in := linkInput("b", nil)
		in.Object.ActiveField = FieldPair{Left: "aktiv"}
		in.Item.RightRecordID, in.Item.Side, in.Item.Category, in.Right = "", SideLeft, c, nil
		return in
	}
	deleted := func() ReconcileInput {
		in := linkInput("b", "b")
		in.Item.Category, in.Right.Deleted = CategoryDeleted, true
		return in
	}
	tests := []struct {
		name string
		plan func(ReconcileInput) (Operation, error)
		in   ReconcileInput
		side Side
		kind OpKind
		ext  string
		f    Fields
		code Code
	}{
		{name: "create_counterpart_maps_fields_and_keeps_id", plan: PlanCreateCounterpart, in: unpaired(CategoryNew),
			side: SideRight, kind: OpCreate, ext: "L-1", f: Fields{"Name": "b"}},
		{name: "create_counterpart_needs_new", plan: PlanCreateCounterpart, in: unpaired(CategoryInactive), code: CodeConflict},
		{name: "activate_sets_active_field", plan: PlanActivate, in: unpaired(CategoryInactive),
			side: SideLeft, kind: OpActivate, ext: "L-1", f: Fields{"aktiv": true}},
		{name: "activate_needs_inactive", plan: PlanActivate, in: unpaired(CategoryNew), code: CodeConflict},
		{name: "restore_recreates_under_old_id", plan: PlanRestore, in: deleted(),
			side: SideRight, kind: OpCreate, ext: "R-1", f: Fields{"Name": "b"}},
		{name: "delete_remaining_deletes_live_side", plan: PlanDeleteRemaining, in: deleted(),
			side: SideLeft, kind: OpDelete, ext: "L-1"},
		{name: "delete_remaining_needs_one_live_side", plan: PlanDeleteRemaining, in: func() ReconcileInput {
			in := deleted()
			in.Left.Deleted = true
			return in
		}(), code: CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := tt.plan(tt.in)
			if ErrorCode(err) != tt.code {
				t.Fatalf("error = %v, want code %q", err, tt.code)
			}
			if err != nil {
				return
			}
			if op.Side != tt.side || op.Kind != tt.kind || op.ExternalID != tt.ext || !reflect.DeepEqual(op.Fields, tt.f) {
				t.Errorf("op = %s %s %q %v; want %s %s %q %v", op.Side, op.Kind, op.ExternalID, op.Fields, tt.side, tt.kind, tt.ext, tt.f)
			}
			if op.ItemID != "i1" || op.Status != OpPending || !op.CreatedAt.Equal(t0) {
				t.Errorf("op is not a pending operation of the item: %+v", op)
			}
		})
	}
}

// genReconcile draws an item over a generated link, sometimes disabled,
// fresh or with a side deleted, under random sync policies.
func genReconcile(t *rapid.T) ReconcileInput {
	link, _ := genLink(t)
	in := ReconcileInput{Object: link.Object, Now: t0, Sync: validSync()}
	in.Sync.ConflictPolicy = link.Policy
	in.Sync.DeletePolicy = rapid.SampledFrom([]DeletePolicy{DeleteManual, DeletePropagate}).Draw(t, "delete_policy")
	in.Item = Item{ID: "i", LeftRecordID: "l", RightRecordID: "r", Base: link.Base, Resolutions: link.Resolutions,
		Disabled: rapid.IntRange(0, 9).Draw(t, "disabled") == 0, Status: StatusOK}
	if rapid.Bool().Draw(t, "fresh") {
		in.Item.Base = nil
	}
	in.Left = &Record{ID: "l", ExternalID: "L", Active: true, Fields: link.Left, SourceUpdatedAt: link.LeftUpdatedAt,
		Deleted: rapid.IntRange(0, 9).Draw(t, "left_deleted") == 0}
	in.Right = &Record{ID: "r", ExternalID: "R", Active: true, Fields: link.Right, SourceUpdatedAt: link.RightUpdatedAt,
		Deleted: rapid.IntRange(0, 9).Draw(t, "right_deleted") == 0}
	return in
}

// applyOps returns in with the operations carried out on its records, as
// the worker would, and the reconciled item stored.
func applyOps(in ReconcileInput, out Reconciliation) ReconcileInput {
	in.Item = out.Item
	left, right := *in.Left, *in.Right
	for _, op := range out.Ops {
		rec := bySide(op.Side, &left, &right)
		switch op.Kind {
		case OpUpdate:
			rec.Fields = apply(rec.Fields, op.Fields)
		case OpDelete:
			rec.Deleted = true
		}
	}
	in.Left, in.Right = &left, &right
	return in
}

// TestReconcile_idempotent: the same input plans the same writes, and so does
// the reconciled item before its writes land, so replacing pending
// operations with a new plan never doubles them.
func TestReconcile_idempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genReconcile(t)
		first := Reconcile(in)
		if again := Reconcile(in); !reflect.DeepEqual(again, first) {
			t.Fatalf("reconciling twice differs:\n%+v\n%+v", first, again)
		}
		in.Item = first.Item
		if again := Reconcile(in); !reflect.DeepEqual(again.Ops, first.Ops) || !reflect.DeepEqual(again.Item, first.Item) {
			t.Fatalf("reconciling the reconciled item differs:\n%+v\n%+v", first, again)
		}
	})
}

// TestReconcile_no_echo: once the planned writes land, reconciling again
// plans nothing, so the hub's own writes never come back as changes.
func TestReconcile_no_echo(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genReconcile(t)
		first := Reconcile(in)
		after := Reconcile(applyOps(in, first))
		if len(after.Ops) > 0 {
			t.Fatalf("writes %+v planned again after %+v landed", after.Ops, first.Ops)
		}
		if after.Item.Status != StatusOK {
			t.Fatalf("status %q after the writes landed", after.Item.Status)
		}
	})
}
