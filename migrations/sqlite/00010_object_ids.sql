-- +goose Up
-- Items and match keys name their sync object by a number instead of the
-- sync's id and the object's name: each entry of their indexes began with
-- both (about 45 bytes) and now begins with one integer, which makes
-- writing a million new items and their keys cheaper and every index
-- smaller. A new object takes the next number (the trigger); its items and
-- keys are deleted with it, so a number freed by the last object's
-- deletion names nothing when it is taken again.
ALTER TABLE sync_objects ADD COLUMN id integer;
UPDATE sync_objects SET id = rowid;
CREATE UNIQUE INDEX sync_objects_id ON sync_objects (id);
-- +goose StatementBegin
CREATE TRIGGER sync_objects_number AFTER INSERT ON sync_objects FOR EACH ROW WHEN NEW.id IS NULL
BEGIN
    UPDATE sync_objects SET id = (SELECT COALESCE(MAX(id), 0) + 1 FROM sync_objects) WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

ALTER TABLE items ADD COLUMN object_id integer NOT NULL DEFAULT 0;
UPDATE items SET object_id = COALESCE((SELECT o.id FROM sync_objects o WHERE o.sync_id = items.sync_id AND o.name = items.object), 0);
DELETE FROM items WHERE object_id = 0; -- an item of no object was unreachable
DROP INDEX items_left;
DROP INDEX items_right;
DROP INDEX items_window;
DROP INDEX items_page;
CREATE UNIQUE INDEX items_left ON items (object_id, left_record_id) WHERE left_record_id IS NOT NULL;
CREATE UNIQUE INDEX items_right ON items (object_id, right_record_id) WHERE right_record_id IS NOT NULL;
CREATE INDEX items_window ON items (object_id, shown, category, id);
CREATE INDEX items_page ON items (object_id, shown, id);

CREATE TABLE item_keys_new (
    item_id   text NOT NULL,
    object_id integer NOT NULL,
    side      text NOT NULL,
    key_index integer NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (item_id, key_index)
);
INSERT INTO item_keys_new SELECT k.item_id, o.id, k.side, k.key_index, k.value
    FROM item_keys k JOIN sync_objects o ON o.sync_id = k.sync_id AND o.name = k.object;
DROP TABLE item_keys;
ALTER TABLE item_keys_new RENAME TO item_keys;
CREATE INDEX item_keys_lookup ON item_keys (object_id, key_index, value);

-- +goose Down
CREATE TABLE item_keys_old (
    item_id   text NOT NULL,
    sync_id   text NOT NULL,
    object    text NOT NULL,
    side      text NOT NULL,
    key_index integer NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (item_id, key_index)
);
INSERT INTO item_keys_old SELECT k.item_id, o.sync_id, o.name, k.side, k.key_index, k.value
    FROM item_keys k JOIN sync_objects o ON o.id = k.object_id;
DROP TABLE item_keys;
ALTER TABLE item_keys_old RENAME TO item_keys;
CREATE INDEX item_keys_lookup ON item_keys (sync_id, object, key_index, value);

DROP INDEX items_left;
DROP INDEX items_right;
DROP INDEX items_window;
DROP INDEX items_page;
ALTER TABLE items DROP COLUMN object_id;
CREATE UNIQUE INDEX items_left ON items (sync_id, object, left_record_id) WHERE left_record_id IS NOT NULL;
CREATE UNIQUE INDEX items_right ON items (sync_id, object, right_record_id) WHERE right_record_id IS NOT NULL;
CREATE INDEX items_window ON items (sync_id, object, shown, category, id);
CREATE INDEX items_page ON items (sync_id, object, shown, id);

DROP TRIGGER sync_objects_number;
DROP INDEX sync_objects_id;
ALTER TABLE sync_objects DROP COLUMN id;
