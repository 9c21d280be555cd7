-- +goose Up
-- The window lists items in id order from one index that leads with the
-- category; a page over every category merges the first items of each.
-- The second index, in id order alone, cost every item write an entry.
DROP INDEX items_page;

-- +goose Down
CREATE INDEX items_page ON items (sync_id, object, shown, id);
