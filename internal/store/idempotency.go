package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
)

// The states of an idempotency key.
const (
	// KeyInProgress: a request holds the key and nothing it did is
	// committed yet.
	KeyInProgress = "in_progress"
	// KeyCommitted: the request's mutation committed; its response is not
	// stored (yet, or ever when its process died).
	KeyCommitted = "committed"
	// KeyDone: the response is stored.
	KeyDone = "done"
)

// IdempotencyRecord is what is remembered of a request with a key.
type IdempotencyRecord struct {
	RequestHash    []byte
	Status         string
	ResponseStatus int
	ResponseBody   []byte
	// LeaseUntil is how long the holder of a key not done may keep it.
	LeaseUntil time.Time
}

// IdempotencyClaim is a request's hold on its key.
type IdempotencyClaim struct {
	Principal, Key string
	// Owner identifies the request that holds the key.
	Owner uuid.UUID
}

type claimKey struct{}

// WithIdempotencyClaim makes every transaction run with ctx (InTx) mark the
// claimed key committed in that same transaction, or fail when another
// request took the key over.
func WithIdempotencyClaim(ctx context.Context, c IdempotencyClaim) context.Context {
	return context.WithValue(ctx, claimKey{}, c)
}

// markClaimCommitted records, inside the mutation's transaction, that the
// request holding ctx's key has an effect.
func markClaimCommitted(ctx context.Context, tx pgx.Tx) error {
	c, ok := ctx.Value(claimKey{}).(IdempotencyClaim)
	if !ok {
		return nil
	}
	tag, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = 'committed'
		WHERE principal = $1 AND key = $2 AND owner = $3 AND status IN ('in_progress', 'committed')`, c.Principal, c.Key, c.Owner)
	if err != nil {
		return translate(err, "mark idempotency key committed")
	}
	if tag.RowsAffected() == 0 {
		return apperr.New(apperr.Conflict, "En senare förfrågan med samma Idempotency-Key tog över nyckeln; den här genomfördes inte. / "+
			"A later request with the same Idempotency-Key took the key over; this one was not carried out.")
	}
	return nil
}

// ClaimIdempotencyKey claims a key for a request (owner) until leaseUntil.
// It returns nil when the key is new (the caller now owns it), or the
// record of the earlier request with the key. An expired record counts as
// absent, and so does one whose holder's lease ran out with nothing
// committed (its process died or gave up): the caller takes it over.
func ClaimIdempotencyKey(ctx context.Context, q Querier, principal, key string, hash []byte, owner uuid.UUID, now, leaseUntil, expires time.Time) (*IdempotencyRecord, error) {
	var claimed bool
	err := q.QueryRow(ctx, `INSERT INTO idempotency_keys (principal, key, request_hash, status, owner, lease_until, created_at, expires_at)
		VALUES ($1, $2, $3, 'in_progress', $4, $5, $6, $7)
		ON CONFLICT (principal, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = 'in_progress',
			owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until,
			response_status = NULL, response_body = NULL, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
			WHERE idempotency_keys.expires_at <= $6
			   OR (idempotency_keys.status = 'in_progress' AND idempotency_keys.lease_until <= $6)
		RETURNING true`, principal, key, hash, owner, leaseUntil, now, expires).Scan(&claimed)
	if err == nil {
		return nil, nil
	}
	if err != pgx.ErrNoRows {
		return nil, translate(err, "claim idempotency key")
	}
	var r IdempotencyRecord
	var status *int
	var lease *time.Time
	err = q.QueryRow(ctx, `SELECT request_hash, status, response_status, response_body, lease_until FROM idempotency_keys
		WHERE principal = $1 AND key = $2`, principal, key).Scan(&r.RequestHash, &r.Status, &status, &r.ResponseBody, &lease)
	if status != nil {
		r.ResponseStatus = *status
	}
	if lease != nil {
		r.LeaseUntil = *lease
	}
	return &r, translate(err, "read idempotency key")
}

// FinishIdempotencyKey stores the response of the request that owns a key.
func FinishIdempotencyKey(ctx context.Context, q Querier, c IdempotencyClaim, status int, body []byte) error {
	_, err := q.Exec(ctx, `UPDATE idempotency_keys SET status = 'done', response_status = $4, response_body = $5
		WHERE principal = $1 AND key = $2 AND owner = $3`, c.Principal, c.Key, c.Owner, status, body)
	return translate(err, "store idempotent response")
}

// ReleaseIdempotencyKey gives up a key whose request failed for a reason a
// retry may not meet again (the database was down, an internal error): a
// key with nothing committed is forgotten, so that a retry runs; a key
// whose mutation committed is kept, its lease ended, so that a retry learns
// that it was done.
func ReleaseIdempotencyKey(ctx context.Context, q Querier, c IdempotencyClaim, now time.Time) error {
	_, err := q.Exec(ctx, `WITH gone AS (
			DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND owner = $3 AND status = 'in_progress')
		UPDATE idempotency_keys SET lease_until = $4
		WHERE principal = $1 AND key = $2 AND owner = $3 AND status = 'committed'`, c.Principal, c.Key, c.Owner, now)
	return translate(err, "release idempotency key")
}

// DeleteExpiredIdempotencyKeys removes keys past their time.
func DeleteExpiredIdempotencyKeys(ctx context.Context, q Querier, now time.Time) (int64, error) {
	tag, err := q.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, now)
	return tag.RowsAffected(), translate(err, "delete expired idempotency keys")
}
