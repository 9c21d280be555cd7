-- +goose Up
-- A worker claims the oldest due operations: the index holds them in the
-- claim's order, so a claim reads its batch and stops instead of sorting the
-- whole queue behind it.
DROP INDEX operations_due;
CREATE INDEX operations_due ON operations (status, next_attempt_at, id);
-- Most writes to an item change only unindexed columns (its status while a
-- write is applied, its base once the write landed). Room left free on each
-- page lets PostgreSQL keep such a new row version on the same page without
-- touching the item's five indexes (new pages get it; old ones as they are
-- rewritten).
ALTER TABLE items SET (fillfactor = 80);

-- +goose Down
ALTER TABLE items RESET (fillfactor);
DROP INDEX operations_due;
CREATE INDEX operations_due ON operations (status, next_attempt_at);
