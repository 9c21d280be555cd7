-- +goose Up
-- Items and operations are written by the hundred thousand, and a foreign
-- key checks each new row by locking its sync's row: more than half the cost
-- of inserting an item, and concurrent writers of one sync contend for that
-- row lock. The store deletes a sync's items and operations itself, after
-- the sync, in the same transaction.
ALTER TABLE items DROP CONSTRAINT items_sync_id_fkey;
ALTER TABLE operations DROP CONSTRAINT operations_sync_id_fkey;

-- +goose Down
DELETE FROM operations o WHERE NOT EXISTS (SELECT 1 FROM syncs s WHERE s.id = o.sync_id);
DELETE FROM items i WHERE NOT EXISTS (SELECT 1 FROM syncs s WHERE s.id = i.sync_id);
ALTER TABLE operations ADD CONSTRAINT operations_sync_id_fkey FOREIGN KEY (sync_id) REFERENCES syncs(id) ON DELETE CASCADE;
ALTER TABLE items ADD CONSTRAINT items_sync_id_fkey FOREIGN KEY (sync_id) REFERENCES syncs(id) ON DELETE CASCADE;
