package domain

import "time"

// OpKind says what an operation does to its side's record.
type OpKind string

// Operation kinds.
const (
	OpCreate   OpKind = "create"
	OpUpdate   OpKind = "update"
	OpDelete   OpKind = "delete"
	OpActivate OpKind = "activate"
)

// OpStatus is where an operation is in the worker's queue.
type OpStatus string

// Operation statuses.
const (
	OpPending OpStatus = "pending"
	OpRunning OpStatus = "running"
	OpDone    OpStatus = "done"
	OpFailed  OpStatus = "failed"
)

// Operation is a planned write to one side of an item, executed by the
// worker through that side's connector.
type Operation struct {
	ID          string
	WorkspaceID string
	SyncID      string
	Object      string
	ItemID      string
	Side        Side
	Kind        OpKind
	// ExternalID is the target record's id; for OpCreate it is a hint the
	// target may honour, so a counterpart keeps the same id or number.
	ExternalID    string
	Fields        Fields // in the target side's field names
	Attempts      int
	Status        OpStatus
	Error         string
	NextAttemptAt time.Time
	CreatedAt     time.Time
}

// Completion is an operation whose write succeeded: Target is the record
// set it wrote to, ExternalID the id the target gave a created record.
type Completion struct {
	Op         Operation
	Target     RecordSet
	ExternalID string
}

// ReconcileInput is one item with everything needed to reconcile it or plan
// an action on it. Left and Right are the item's records, nil where absent.
type ReconcileInput struct {
	Sync        Sync
	Object      Object
	Item        Item
	Left, Right *Record
	Now         time.Time
}

// record returns the input's record on side s.
func (in ReconcileInput) record(s Side) *Record { return bySide(s, in.Left, in.Right) }

// Reconciliation is the outcome of reconciling one item.
type Reconciliation struct {
	// Item is the input item with its new Category, Base, Conflicts,
	// Resolutions and Status; the caller stores it.
	Item Item
	// Shown is false when the item should leave the window (see Categorize).
	Shown bool
	// Merge compares a link whose records both exist; zero otherwise. It is
	// computed for a disabled link too, for display, but nothing is planned.
	Merge MergeResult
	// Ops are the writes to make. They depend only on the input, so the
	// caller replaces the item's pending operations with them.
	Ops []Operation
}

// Reconcile is the sync engine's one step for one item: merge a live link,
// propagate deletions when the sync says so, and categorise the item.
// Status becomes pending when writes are planned and ok when none are left;
// a failed status stays until writes are planned again, so its error stays
// visible.
func Reconcile(in ReconcileInput) Reconciliation {
	item := in.Item
	var out Reconciliation
	switch {
	case !item.Linked():
	case !gone(in.Left) && !gone(in.Right):
		out.Merge = Merge(MergeInput{
			Object:         in.Object,
			Policy:         in.Sync.ConflictPolicy,
			Left:           in.Left.Fields,
			Right:          in.Right.Fields,
			LeftUpdatedAt:  in.Left.SourceUpdatedAt,
			RightUpdatedAt: in.Right.SourceUpdatedAt,
			Base:           item.Base,
			Resolutions:    item.Resolutions,
		})
		if item.Disabled {
			break
		}
		item.Base, item.Conflicts, item.Resolutions = out.Merge.Base, out.Merge.Conflicts, out.Merge.Resolutions
		for _, s := range []Side{SideLeft, SideRight} {
			if f := bySide(s, out.Merge.LeftUpdate, out.Merge.RightUpdate); f != nil {
				op := newOp(in, s, OpUpdate)
				op.Fields = f
				out.Ops = append(out.Ops, op)
			}
		}
	case !item.Disabled && in.Sync.DeletePolicy == DeletePropagate:
		// One side is gone: take the remaining one with it.
		for _, s := range []Side{SideLeft, SideRight} {
			if !gone(in.record(s)) {
				out.Ops = append(out.Ops, newOp(in, s, OpDelete))
			}
		}
	}
	item.Category, out.Shown = Categorize(item, in.Left, in.Right, out.Merge)
	switch {
	case len(out.Ops) > 0:
		item.Status, item.Error = StatusPending, ""
	case item.Status != StatusFailed:
		item.Status = StatusOK
	}
	out.Item = item
	return out
}

// newOp plans a pending operation on the record of side s, or for a create
// on the other side's record id as a hint.
func newOp(in ReconcileInput, s Side, kind OpKind) Operation {
	op := Operation{
		WorkspaceID:   in.Item.WorkspaceID,
		SyncID:        in.Item.SyncID,
		Object:        in.Item.Object,
		ItemID:        in.Item.ID,
		Side:          s,
		Kind:          kind,
		Status:        OpPending,
		NextAttemptAt: in.Now,
		CreatedAt:     in.Now,
	}
	if r := in.record(s); r != nil {
		op.ExternalID = r.ExternalID
	}
	return op
}

// PlanCreateCounterpart plans the create-counterpart action: create the
// unpaired record's partner on the other side with its mapped fields (all of
// them, one-way or not, so the first merge finds the pair agreed instead of
// wiping a value) and its external id as the id hint.
// Errors: CodeConflict when the item is not new.
func PlanCreateCounterpart(in ReconcileInput) (Operation, error) {
	return planCopy(in, ActionCreateCounterpart, in.Item.Side)
}

// PlanRestore plans the restore action: create the deleted side's record
// again from the remaining side, under its old external id where the target
// allows. Errors: CodeConflict when the item is not deleted on one side.
func PlanRestore(in ReconcileInput) (Operation, error) {
	from, err := remaining(in, ActionRestore)
	if err != nil {
		return Operation{}, err
	}
	return planCopy(in, ActionRestore, from)
}

// planCopy plans a create on the side opposite from, copying from's record.
func planCopy(in ReconcileInput, action Action, from Side) (Operation, error) {
	rec := in.record(from)
	if err := CheckAction(in.Item, action); err != nil {
		return Operation{}, err
	}
	if gone(rec) {
		return Operation{}, Errorf(CodeConflict, "%s needs a %s record, and it is gone", action, from)
	}
	op := newOp(in, from.Other(), OpCreate)
	if op.ExternalID == "" {
		op.ExternalID = rec.ExternalID
	}
	for _, m := range in.Object.Fields {
		if v, ok := rec.Fields[m.On(from)]; ok {
			op.Fields = put(op.Fields, m.On(from.Other()), v)
		}
	}
	return op, nil
}

// PlanDeleteRemaining plans the delete-remaining action: delete the record
// on the side that still has one. Errors: CodeConflict when the item is not
// deleted on exactly one side.
func PlanDeleteRemaining(in ReconcileInput) (Operation, error) {
	s, err := remaining(in, ActionDeleteRemaining)
	if err != nil {
		return Operation{}, err
	}
	return newOp(in, s, OpDelete), nil
}

// remaining returns the side of a deleted link whose record is still there.
func remaining(in ReconcileInput, action Action) (Side, error) {
	if err := CheckAction(in.Item, action); err != nil {
		return "", err
	}
	switch {
	case gone(in.Left) && !gone(in.Right):
		return SideRight, nil
	case gone(in.Right) && !gone(in.Left):
		return SideLeft, nil
	}
	return "", Errorf(CodeConflict, "%s needs a link deleted on exactly one side", action)
}

// PlanActivate plans the activate action on an inactive record, setting the
// object's active field on that side when it has one.
// Errors: CodeConflict when the item is not inactive.
func PlanActivate(in ReconcileInput) (Operation, error) {
	if err := CheckAction(in.Item, ActionActivate); err != nil {
		return Operation{}, err
	}
	s := in.Item.Side
	if gone(in.record(s)) {
		return Operation{}, Errorf(CodeConflict, "activate needs a %s record, and it is gone", s)
	}
	op := newOp(in, s, OpActivate)
	if f := in.Object.ActiveField.On(s); f != "" {
		op.Fields = Fields{f: true}
	}
	return op, nil
}
