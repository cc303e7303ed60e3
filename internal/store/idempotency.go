package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// IdempotencyRecord is what is remembered of a request with a key.
type IdempotencyRecord struct {
	RequestHash    []byte
	Status         string
	ResponseStatus int
	ResponseBody   []byte
}

// ClaimIdempotencyKey claims a key for a request. It returns nil when the
// key is new (the caller now owns it), or the record of the earlier request
// with the key. An expired record counts as absent.
func ClaimIdempotencyKey(ctx context.Context, q Querier, principal, key string, hash []byte, now, expires time.Time) (*IdempotencyRecord, error) {
	var claimed bool
	err := q.QueryRow(ctx, `INSERT INTO idempotency_keys (principal, key, request_hash, status, created_at, expires_at)
		VALUES ($1, $2, $3, 'in_progress', $4, $5)
		ON CONFLICT (principal, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = 'in_progress',
			response_status = NULL, response_body = NULL, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
			WHERE idempotency_keys.expires_at <= $4
		RETURNING true`, principal, key, hash, now, expires).Scan(&claimed)
	if err == nil {
		return nil, nil
	}
	if err != pgx.ErrNoRows {
		return nil, translate(err, "claim idempotency key")
	}
	var r IdempotencyRecord
	var status *int
	err = q.QueryRow(ctx, `SELECT request_hash, status, response_status, response_body FROM idempotency_keys
		WHERE principal = $1 AND key = $2`, principal, key).Scan(&r.RequestHash, &r.Status, &status, &r.ResponseBody)
	if status != nil {
		r.ResponseStatus = *status
	}
	return &r, translate(err, "read idempotency key")
}

// FinishIdempotencyKey stores the response of the request that owns a key.
func FinishIdempotencyKey(ctx context.Context, q Querier, principal, key string, status int, body []byte) error {
	_, err := q.Exec(ctx, `UPDATE idempotency_keys SET status = 'done', response_status = $3, response_body = $4
		WHERE principal = $1 AND key = $2`, principal, key, status, body)
	return translate(err, "store idempotent response")
}

// ReleaseIdempotencyKey forgets a key whose request failed for a reason a
// retry may not meet again (the database was down, an internal error).
func ReleaseIdempotencyKey(ctx context.Context, q Querier, principal, key string) error {
	_, err := q.Exec(ctx, `DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2`, principal, key)
	return translate(err, "release idempotency key")
}

// DeleteExpiredIdempotencyKeys removes keys past their time.
func DeleteExpiredIdempotencyKeys(ctx context.Context, q Querier, now time.Time) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, now)
	return tag.RowsAffected(), translate(err, "delete expired idempotency keys")
}
