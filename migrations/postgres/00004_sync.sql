-- +goose Up
CREATE TABLE syncs (
    id                  text PRIMARY KEY,
    workspace_id        text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name                text NOT NULL,
    left_connection_id  text NOT NULL REFERENCES connections(id),
    right_connection_id text NOT NULL REFERENCES connections(id),
    conflict_mode       text NOT NULL,
    conflict_winner     text NOT NULL,
    delete_policy       text NOT NULL,
    on_error            text NOT NULL,
    schedule            text NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             bigint NOT NULL
);
CREATE INDEX syncs_workspace ON syncs (workspace_id, id);

-- One object of a sync, with how far the reconciler has read each side's
-- changes: the (seq, id) of the last record it reconciled.
CREATE TABLE sync_objects (
    sync_id        text NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
    name           text NOT NULL,
    workspace_id   text NOT NULL,
    position       integer NOT NULL,
    left_object    text NOT NULL,
    right_object   text NOT NULL,
    left_id_field  text NOT NULL,
    right_id_field text NOT NULL,
    fields         text NOT NULL,
    match_keys     text NOT NULL,
    auto_pair      boolean NOT NULL,
    active_left    text NOT NULL,
    active_right   text NOT NULL,
    left_seq       bigint NOT NULL DEFAULT 0,
    left_after     text NOT NULL DEFAULT '',
    right_seq      bigint NOT NULL DEFAULT 0,
    right_after    text NOT NULL DEFAULT '',
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (sync_id, name)
);

-- The sync window: one row per link or unpaired record.
CREATE TABLE items (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL,
    sync_id         text NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
    object          text NOT NULL,
    left_record_id  text,
    right_record_id text,
    side            text NOT NULL,
    base            text,
    resolutions     text NOT NULL,
    disabled        boolean NOT NULL,
    no_auto_pair    boolean NOT NULL,
    category        text NOT NULL,
    shown           boolean NOT NULL,
    status          text NOT NULL,
    error           text NOT NULL,
    conflicts       text NOT NULL,
    search          text NOT NULL,
    version         bigint NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX items_left ON items (sync_id, object, left_record_id);
CREATE UNIQUE INDEX items_right ON items (sync_id, object, right_record_id);
CREATE INDEX items_window ON items (sync_id, object, shown, category, id);
CREATE INDEX items_page ON items (sync_id, object, shown, id);

-- How many shown items each category (and, for new, each side) holds, kept
-- by the same transactions that change items, so the summary reads a few
-- rows instead of counting a million.
CREATE TABLE window_counts (
    sync_id  text NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
    object   text NOT NULL,
    category text NOT NULL,
    side     text NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (sync_id, object, category, side)
);

-- Normalised match-key values of unpaired items, for suggestions and auto-pairing.
CREATE TABLE item_keys (
    item_id   text NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    sync_id   text NOT NULL,
    object    text NOT NULL,
    side      text NOT NULL,
    key_index integer NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (item_id, key_index)
);
CREATE INDEX item_keys_lookup ON item_keys (sync_id, object, key_index, value);

-- The outbox: planned writes, applied by workers that lease rows.
CREATE TABLE operations (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL,
    sync_id         text NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
    object          text NOT NULL,
    item_id         text NOT NULL,
    side            text NOT NULL,
    kind            text NOT NULL,
    planned_by      text NOT NULL, -- 'reconcile' (replaced on every reconcile) or 'action'
    external_id     text NOT NULL,
    fields          text NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL,
    error           text NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX operations_due ON operations (status, next_attempt_at);
CREATE INDEX operations_item ON operations (item_id, status);

CREATE TABLE audit_log (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL,
    sync_id      text NOT NULL,
    object       text NOT NULL,
    item_id      text NOT NULL,
    action       text NOT NULL,
    subject      text NOT NULL,
    before       text NOT NULL,
    after        text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE operations;
DROP TABLE item_keys;
DROP TABLE window_counts;
DROP TABLE items;
DROP TABLE sync_objects;
DROP TABLE syncs;
