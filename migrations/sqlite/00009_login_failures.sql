-- +goose Up
-- Failed logins per key (a hash of email and address, or of the address
-- alone), so that every replica slows down the same guessing.
CREATE TABLE login_failures (
    login_key text PRIMARY KEY,
    failures  integer NOT NULL,
    last_at   datetime NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_at);

-- +goose Down
DROP TABLE login_failures;
