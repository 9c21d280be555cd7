-- +goose Up
CREATE TABLE workspaces (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    created_at datetime NOT NULL
);

CREATE TABLE users (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_at    datetime NOT NULL,
    updated_at    datetime NOT NULL,
    last_login_at datetime
);
CREATE INDEX users_workspace ON users (workspace_id, id);

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         text NOT NULL,
    prefix       text NOT NULL,
    hash         text NOT NULL UNIQUE,
    role         text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_by   text NOT NULL,
    created_at   datetime NOT NULL,
    last_used_at datetime
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, id);

CREATE TABLE refresh_tokens (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id    text NOT NULL,
    hash         text NOT NULL UNIQUE,
    expires_at   datetime NOT NULL,
    used_at      datetime,
    revoked_at   datetime,
    created_at   datetime NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- A retried POST with the same Idempotency-Key answers the stored response.
CREATE TABLE idempotency_keys (
    workspace_id text NOT NULL,
    subject      text NOT NULL,
    key          text NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL,
    status       integer NOT NULL,
    content_type text NOT NULL,
    body         blob NOT NULL,
    created_at   datetime NOT NULL,
    PRIMARY KEY (workspace_id, subject, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE refresh_tokens;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE workspaces;
