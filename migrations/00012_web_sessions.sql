-- +goose Up
-- Sessions of the web pages, behind an HttpOnly cookie that holds a random
-- token; only the token's SHA-256 is stored. A session without a user is a
-- visitor on the way to signing in: it holds the CSRF token of the sign-in
-- form and, during an OpenID Connect sign-in, its state, PKCE verifier and
-- nonce.
CREATE TABLE web_sessions (
    token_hash     bytea PRIMARY KEY,
    user_id        uuid REFERENCES users (id) ON DELETE CASCADE,
    csrf_token     text NOT NULL,
    login_state    text NOT NULL DEFAULT '',
    login_verifier text NOT NULL DEFAULT '',
    login_nonce    text NOT NULL DEFAULT '',
    login_next     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- +goose Down
DROP TABLE web_sessions;
