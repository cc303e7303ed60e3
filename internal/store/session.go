package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// WebSession is a web page session; the cookie's token is never stored,
// only its hash.
type WebSession struct {
	TokenHash []byte
	UserID    *uuid.UUID
	// UserName is the signed-in person's name (empty for a visitor).
	UserName  string
	CSRFToken string
	// The pending OpenID Connect sign-in, if any.
	LoginState, LoginVerifier, LoginNonce, LoginNext string
	CreatedAt, ExpiresAt                             time.Time
}

// InsertWebSession stores a session and clears the expired ones.
func InsertWebSession(ctx context.Context, q Querier, s *WebSession) error {
	if _, err := q.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at < $1`, s.CreatedAt); err != nil {
		return translate(err, "clear expired sessions")
	}
	_, err := q.Exec(ctx, `INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, s.TokenHash, s.UserID, s.CSRFToken, s.CreatedAt, s.ExpiresAt)
	return translate(err, "store session")
}

// WebSessionByHash reads a session that has not expired at now.
func WebSessionByHash(ctx context.Context, q Querier, hash []byte, now time.Time) (*WebSession, error) {
	var s WebSession
	err := q.QueryRow(ctx, `SELECT s.token_hash, s.user_id, coalesce(u.name, ''), s.csrf_token, s.login_state, s.login_verifier,
			s.login_nonce, s.login_next, s.created_at, s.expires_at
		FROM web_sessions s LEFT JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2`, hash, now).Scan(&s.TokenHash, &s.UserID, &s.UserName, &s.CSRFToken,
		&s.LoginState, &s.LoginVerifier, &s.LoginNonce, &s.LoginNext, &s.CreatedAt, &s.ExpiresAt)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	return &s, translate(err, "read session")
}

// SetWebSessionLogin records a pending OpenID Connect sign-in.
func SetWebSessionLogin(ctx context.Context, q Querier, hash []byte, state, verifier, nonce, next string) error {
	_, err := q.Exec(ctx, `UPDATE web_sessions SET login_state = $2, login_verifier = $3, login_nonce = $4, login_next = $5
		WHERE token_hash = $1`, hash, state, verifier, nonce, next)
	return translate(err, "store sign-in state")
}

// DeleteWebSession ends a session.
func DeleteWebSession(ctx context.Context, q Querier, hash []byte) error {
	_, err := q.Exec(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, hash)
	return translate(err, "end session")
}
