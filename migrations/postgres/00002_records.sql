-- +goose Up
CREATE TABLE connections (
    id                text PRIMARY KEY,
    workspace_id      text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name              text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('file', 'rest', 'hosted')),
    config            text NOT NULL,
    credentials       text,
    credential_fields text NOT NULL DEFAULT '[]',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           bigint NOT NULL DEFAULT 1
);
CREATE INDEX connections_workspace ON connections (workspace_id, id);

-- One change counter per workspace. Taking a number locks the row until the
-- transaction ends, so changes become visible in the order of their numbers
-- and a reader that has seen number N has seen everything before it.
CREATE TABLE change_seq (
    workspace_id text PRIMARY KEY,
    value        bigint NOT NULL
);

-- The hub's copy of each side.
CREATE TABLE records (
    id                text PRIMARY KEY,
    workspace_id      text NOT NULL,
    connection_id     text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    object            text NOT NULL,
    external_id       text NOT NULL,
    fields            text NOT NULL,
    hash              text NOT NULL,
    active            boolean NOT NULL,
    deleted           boolean NOT NULL,
    deleted_at        timestamptz,
    source_updated_at timestamptz,
    first_seen_at     timestamptz NOT NULL,
    last_seen_at      timestamptz NOT NULL,
    changed_at        timestamptz NOT NULL,
    seq               bigint NOT NULL,
    origin            text NOT NULL,
    version           bigint NOT NULL,
    UNIQUE (connection_id, object, external_id)
);
CREATE INDEX records_page ON records (connection_id, object, id);
CREATE INDEX records_seq ON records (connection_id, object, seq, id);


-- The last full listing of each set: every live record was seen then.
CREATE TABLE record_sets (
    connection_id text NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    object        text NOT NULL,
    workspace_id  text NOT NULL,
    last_full_at  timestamptz,
    PRIMARY KEY (connection_id, object)
);

-- +goose Down
DROP TABLE record_sets;
DROP TABLE records;
DROP TABLE change_seq;
DROP TABLE connections;
