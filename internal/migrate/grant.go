package migrate

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Grant gives role what the service needs in the schema that the
// migrations made: pool connects as the schema's owner (its current_user),
// and the schema is its current schema. role may read and write the rows
// of every table, present and future (default privileges, River's tables
// included), and use the sequences; of the append-only history it may only
// read and insert, and the migration records it may only read. It never
// owns anything, so it cannot alter a table or disable its triggers. A
// no-op when role is the owner. Serialised with migrations.
func Grant(ctx context.Context, pool *pgxpool.Pool, role string) error {
	return withLock(ctx, pool, func(*sql.DB) error {
		var owner, schema string
		if err := pool.QueryRow(ctx, "SELECT current_user, current_schema()").Scan(&owner, &schema); err != nil {
			return fmt.Errorf("read the schema's owner: %w", err)
		}
		if role == owner {
			return nil
		}
		r, s := pgx.Identifier{role}.Sanitize(), pgx.Identifier{schema}.Sanitize()
		stmts := []string{
			"GRANT USAGE ON SCHEMA " + s + " TO " + r,
			"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + s + " TO " + r,
			"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + s + " TO " + r,
			"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON " + s + ".history_events FROM " + r,
			"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON " + s + ".goose_db_version, " + s + ".river_migration FROM " + r,
			"ALTER DEFAULT PRIVILEGES IN SCHEMA " + s + " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + r,
			"ALTER DEFAULT PRIVILEGES IN SCHEMA " + s + " GRANT USAGE, SELECT ON SEQUENCES TO " + r,
		}
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for _, st := range stmts {
				if _, err := tx.Exec(ctx, st); err != nil {
					return fmt.Errorf("grant the service's role %s: %s: %w", role, st, err)
				}
			}
			return nil
		})
	})
}
