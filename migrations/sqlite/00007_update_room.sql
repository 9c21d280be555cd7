-- +goose Up
-- A worker claims the oldest due operations: the index holds them in the
-- claim's order, so a claim reads its batch and stops instead of sorting the
-- whole queue behind it.
DROP INDEX operations_due;
CREATE INDEX operations_due ON operations (status, next_attempt_at, id);

-- +goose Down
DROP INDEX operations_due;
CREATE INDEX operations_due ON operations (status, next_attempt_at);
