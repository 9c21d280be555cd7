-- +goose Up
-- Whether each side's record counts as active for the sync: its stored flag,
-- or the object's active field when the side names one. The reconciler
-- writes it, so the window shows what decided the category.
ALTER TABLE items ADD COLUMN left_active boolean NOT NULL DEFAULT true;
ALTER TABLE items ADD COLUMN right_active boolean NOT NULL DEFAULT true;
-- Objects whose sides name an active field reconcile again from the start,
-- which fills the columns in.
UPDATE sync_objects SET left_seq = 0, left_after = '', right_seq = 0, right_after = ''
WHERE active_left <> '' OR active_right <> '';

-- +goose Down
ALTER TABLE items DROP COLUMN right_active;
ALTER TABLE items DROP COLUMN left_active;
