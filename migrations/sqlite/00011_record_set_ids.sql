-- +goose Up
-- Records name their set (a connection's object) by a number instead of the
-- connection's id and the object's name: each entry of their unique and
-- change indexes began with both (about 45 bytes) and now begins with one
-- integer, which makes storing a million new records cheaper. Every set
-- that holds records now has its row in record_sets; a new set takes the
-- next number (the trigger). SQLite cannot drop the unique constraint or
-- the foreign key (the store deletes a connection's records itself), so
-- the table is rebuilt without them.
ALTER TABLE record_sets ADD COLUMN id integer;
UPDATE record_sets SET id = rowid;
CREATE UNIQUE INDEX record_sets_id ON record_sets (id);
INSERT INTO record_sets (connection_id, object, workspace_id, id)
    SELECT r.connection_id, r.object, MIN(r.workspace_id), (SELECT COALESCE(MAX(id), 0) FROM record_sets) + ROW_NUMBER() OVER (ORDER BY r.connection_id, r.object)
    FROM records r
    WHERE EXISTS (SELECT 1 FROM connections c WHERE c.id = r.connection_id)
      AND NOT EXISTS (SELECT 1 FROM record_sets s WHERE s.connection_id = r.connection_id AND s.object = r.object)
    GROUP BY r.connection_id, r.object;
-- +goose StatementBegin
CREATE TRIGGER record_sets_number AFTER INSERT ON record_sets FOR EACH ROW WHEN NEW.id IS NULL
BEGIN
    UPDATE record_sets SET id = (SELECT COALESCE(MAX(id), 0) + 1 FROM record_sets) WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

CREATE TABLE records_new (
    id                text PRIMARY KEY,
    workspace_id      text NOT NULL,
    connection_id     text NOT NULL,
    object            text NOT NULL,
    set_id            integer NOT NULL,
    external_id       text NOT NULL,
    fields            text NOT NULL,
    hash              text NOT NULL,
    active            boolean NOT NULL,
    deleted           boolean NOT NULL,
    deleted_at        datetime,
    source_updated_at datetime,
    first_seen_at     datetime NOT NULL,
    last_seen_at      datetime NOT NULL,
    changed_at        datetime NOT NULL,
    seq               bigint NOT NULL,
    origin            text NOT NULL,
    version           bigint NOT NULL
);
INSERT INTO records_new SELECT r.id, r.workspace_id, r.connection_id, r.object, s.id, r.external_id, r.fields, r.hash, r.active, r.deleted,
    r.deleted_at, r.source_updated_at, r.first_seen_at, r.last_seen_at, r.changed_at, r.seq, r.origin, r.version
    FROM records r JOIN record_sets s ON s.connection_id = r.connection_id AND s.object = r.object;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
CREATE UNIQUE INDEX records_external_id ON records (set_id, external_id);
CREATE INDEX records_seq ON records (set_id, seq, id);

-- +goose Down
CREATE TABLE records_old (
    id                text PRIMARY KEY,
    workspace_id      text NOT NULL,
    connection_id     text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    object            text NOT NULL,
    external_id       text NOT NULL,
    fields            text NOT NULL,
    hash              text NOT NULL,
    active            boolean NOT NULL,
    deleted           boolean NOT NULL,
    deleted_at        datetime,
    source_updated_at datetime,
    first_seen_at     datetime NOT NULL,
    last_seen_at      datetime NOT NULL,
    changed_at        datetime NOT NULL,
    seq               bigint NOT NULL,
    origin            text NOT NULL,
    version           bigint NOT NULL,
    UNIQUE (connection_id, object, external_id)
);
INSERT INTO records_old SELECT id, workspace_id, connection_id, object, external_id, fields, hash, active, deleted,
    deleted_at, source_updated_at, first_seen_at, last_seen_at, changed_at, seq, origin, version FROM records;
DROP TABLE records;
ALTER TABLE records_old RENAME TO records;
CREATE INDEX records_seq ON records (connection_id, object, seq, id);
DROP TRIGGER record_sets_number;
DROP INDEX record_sets_id;
ALTER TABLE record_sets DROP COLUMN id;
