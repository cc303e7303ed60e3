package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// PublicChannel is the NOTIFY channel on which the database announces each
// committed change to data that anonymous answers can read; the payload is
// the new public generation (migration 00020).
const PublicChannel = "samverkan_public"

// PublicGeneration reads the number of committed changes to public data:
// every change it counts is visible to statements that start after it.
func PublicGeneration(ctx context.Context, q Querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT public_generation_now()`).Scan(&n)
	return n, translate(err, "read the public generation")
}

// ListenPublicChanges subscribes conn, a connection of its own, to
// PublicChannel.
func ListenPublicChanges(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{PublicChannel}.Sanitize())
	return translate(err, "listen for public changes")
}

// WaitForPublicChange blocks until a notification arrives on a connection
// prepared by ListenPublicChanges and returns its payload.
func WaitForPublicChange(ctx context.Context, conn *pgx.Conn) (string, error) {
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		return "", translate(err, "wait for a public change")
	}
	return n.Payload, nil
}

// TablesWithoutPublicTrigger lists the tables of the current schema whose
// changes do not bump the public generation, bookkeeping excluded: a
// migration that adds a table must give it the public_data_changed trigger
// (see 00020) or name it here as never read by an answer.
func TablesWithoutPublicTrigger(ctx context.Context, q Querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
		  AND c.relname NOT LIKE 'river%'
		  AND c.relname NOT IN ('goose_db_version', 'idempotency_keys', 'rate_limit_hits', 'web_sessions',
		                        'policy_version', 'public_generation_pending')
		  AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = 'public_data_changed')
		ORDER BY 1`)
	if err != nil {
		return nil, translate(err, "list tables without the public trigger")
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return names, translate(err, "list tables without the public trigger")
}
