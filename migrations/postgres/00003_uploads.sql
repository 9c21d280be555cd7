-- +goose Up
-- Every upload attempt, applied or rejected, with what it found and changed.
CREATE TABLE uploads (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL,
    connection_id text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    object        text NOT NULL,
    filename      text NOT NULL,
    mode          text NOT NULL CHECK (mode IN ('full', 'partial')),
    status        text NOT NULL CHECK (status IN ('applied', 'rejected')),
    row_count     bigint NOT NULL,
    inserted      bigint NOT NULL,
    updated       bigint NOT NULL,
    unchanged     bigint NOT NULL,
    deleted       bigint NOT NULL,
    skipped       bigint NOT NULL,
    format        text NOT NULL,
    encoding      text NOT NULL,
    delimiter     text NOT NULL,
    sheet         text NOT NULL,
    detail        text NOT NULL,
    -- JSON array of the first row errors; error_count has the total.
    errors        text NOT NULL,
    error_count   bigint NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    duration_ms   bigint NOT NULL
);
-- Ids are time-ordered, so this index serves the newest-first history.
CREATE INDEX uploads_connection ON uploads (connection_id, id);

-- +goose Down
DROP TABLE uploads;
