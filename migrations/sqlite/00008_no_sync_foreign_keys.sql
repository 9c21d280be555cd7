-- +goose Up
-- Items and operations are written by the hundred thousand; the store
-- deletes a sync's items and operations itself, after the sync, in the same
-- transaction, instead of a foreign key checking every new row. SQLite
-- cannot drop a constraint, so both tables are rebuilt without it.
CREATE TABLE items_new (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL,
    sync_id         text NOT NULL,
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
    updated_at      datetime NOT NULL,
    left_active     boolean NOT NULL DEFAULT true,
    right_active    boolean NOT NULL DEFAULT true
);
INSERT INTO items_new SELECT id, workspace_id, sync_id, object, left_record_id, right_record_id, side, base, resolutions,
    disabled, no_auto_pair, category, shown, status, error, conflicts, search, version, updated_at, left_active, right_active FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;
CREATE UNIQUE INDEX items_left ON items (sync_id, object, left_record_id) WHERE left_record_id IS NOT NULL;
CREATE UNIQUE INDEX items_right ON items (sync_id, object, right_record_id) WHERE right_record_id IS NOT NULL;
CREATE INDEX items_window ON items (sync_id, object, shown, category, id);
CREATE INDEX items_page ON items (sync_id, object, shown, id);

CREATE TABLE operations_new (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL,
    sync_id         text NOT NULL,
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
    next_attempt_at datetime NOT NULL,
    lease_until     datetime,
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL
);
INSERT INTO operations_new SELECT id, workspace_id, sync_id, object, item_id, side, kind, planned_by, external_id, fields,
    status, attempts, error, next_attempt_at, lease_until, created_at, updated_at FROM operations;
DROP TABLE operations;
ALTER TABLE operations_new RENAME TO operations;
CREATE INDEX operations_due ON operations (status, next_attempt_at, id);
CREATE INDEX operations_item ON operations (item_id, status);

-- +goose Down
DELETE FROM operations WHERE sync_id NOT IN (SELECT id FROM syncs);
DELETE FROM items WHERE sync_id NOT IN (SELECT id FROM syncs);
CREATE TABLE items_old (
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
    updated_at      datetime NOT NULL,
    left_active     boolean NOT NULL DEFAULT true,
    right_active    boolean NOT NULL DEFAULT true
);
INSERT INTO items_old SELECT * FROM items;
DROP TABLE items;
ALTER TABLE items_old RENAME TO items;
CREATE UNIQUE INDEX items_left ON items (sync_id, object, left_record_id) WHERE left_record_id IS NOT NULL;
CREATE UNIQUE INDEX items_right ON items (sync_id, object, right_record_id) WHERE right_record_id IS NOT NULL;
CREATE INDEX items_window ON items (sync_id, object, shown, category, id);
CREATE INDEX items_page ON items (sync_id, object, shown, id);
CREATE TABLE operations_old (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL,
    sync_id         text NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
    object          text NOT NULL,
    item_id         text NOT NULL,
    side            text NOT NULL,
    kind            text NOT NULL,
    planned_by      text NOT NULL,
    external_id     text NOT NULL,
    fields          text NOT NULL,
    status          text NOT NULL,
    attempts        integer NOT NULL,
    error           text NOT NULL,
    next_attempt_at datetime NOT NULL,
    lease_until     datetime,
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL
);
INSERT INTO operations_old SELECT * FROM operations;
DROP TABLE operations;
ALTER TABLE operations_old RENAME TO operations;
CREATE INDEX operations_due ON operations (status, next_attempt_at, id);
CREATE INDEX operations_item ON operations (item_id, status);
