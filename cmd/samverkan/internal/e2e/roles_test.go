package e2e_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/pgembed"
	"github.com/samverkan/samverkan/internal/testdb"
)

// The service on its embedded database runs as a role that can read and
// write rows and nothing else: it cannot switch the history's triggers off,
// rewrite or empty the history, run programs on the server, read its files,
// change the schema or reach another database. And the service works.
func TestServiceRoleCannotTamperWithTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "samverkan-roles-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg, err := config.Defaults()
	require.NoError(t, err)
	cfg.DatabaseURL, cfg.DataDir, cfg.Migrate, cfg.Workers = "", dir, true, 2
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a, err := app.Open(ctx, app.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler), Listener: ln})
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Close() })
	env := &apptest.Env{T: t, App: a, URL: "http://" + a.Addr()}
	env.Keys, err = a.DevKeys()
	require.NoError(t, err)

	// The service works as its role: a registration with its history event.
	r := env.Do(loadUser(t, a, env), registerOrg, registerVars(orgNumber(11)))
	require.Empty(t, r.Errors)

	var role string
	var super, createRole, createDB bool
	require.NoError(t, a.Pool.QueryRow(ctx, `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user`).
		Scan(&role, &super, &createRole, &createDB))
	require.Equal(t, "samverkan_app", role)
	require.False(t, super || createRole || createDB)
	var events int
	require.NoError(t, a.Pool.QueryRow(ctx, `SELECT count(*) FROM history_events`).Scan(&events))
	require.Positive(t, events)

	for _, sql := range []string{
		`ALTER TABLE history_events DISABLE TRIGGER ALL`,
		`ALTER TABLE history_events DISABLE TRIGGER history_events_no_update`,
		`SET session_replication_role = replica`,
		`COPY (SELECT 1) TO PROGRAM 'touch /tmp/samverkan-pwned'`,
		`COPY organisations FROM PROGRAM 'cat /etc/passwd'`,
		`SELECT pg_read_file('/etc/passwd')`,
		`COPY organisations TO '/tmp/samverkan-organisations'`,
		`UPDATE history_events SET kind = kind`,
		`DELETE FROM history_events`,
		`TRUNCATE history_events`,
		`DROP TRIGGER history_events_chain ON history_events`,
		`CREATE OR REPLACE FUNCTION history_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$`,
		`DROP TABLE organisations`,
		`CREATE TABLE intruder (x int)`,
		`DELETE FROM goose_db_version`,
		`ALTER ROLE samverkan_app SUPERUSER`,
		`CREATE DATABASE other`,
	} {
		_, err := a.Pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "%s: refused by PostgreSQL, got %v", sql, err)
		t.Logf("%s: %s %s", sql, pgErr.Code, pgErr.Message)
		require.Equal(t, "42501", pgErr.Code, "%s: insufficient privilege, got %s %s", sql, pgErr.Code, pgErr.Message)
	}
	require.NoError(t, a.Pool.QueryRow(ctx, `SELECT count(*) FROM history_events`).Scan(&events))
	require.Positive(t, events, "the history is intact")
	_, err = os.Stat("/tmp/samverkan-pwned")
	require.True(t, os.IsNotExist(err), "no program ran")

	// No other database of the cluster is open to it.
	for _, db := range []string{"postgres", "template1"} {
		cc := a.Pool.Config().ConnConfig.Copy()
		cc.Database = db
		conn, err := pgx.ConnectConfig(ctx, cc)
		if err == nil {
			conn.Close(ctx)
		}
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "connecting to %s is refused, got %v", db, err)
		require.Equal(t, "42501", pgErr.Code, "%s: %s", db, pgErr.Message)
	}
}

// An external database with two URLs: migrations run as the schema's owner
// (SAMVERKAN_MIGRATION_DATABASE_URL), the service as DATABASE_URL's role,
// which is granted row access only.
func TestExternalDatabaseWithAMigrationURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "samverkan-external-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	// A server of its own whose database is set up as the README says
	// (pgembed provisions it that way).
	cluster, err := pgembed.Start(ctx, pgembed.Config{DataDir: filepath.Join(dir, "pg"), Database: "samverkan", Settings: testdb.TestSettings})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cluster.Stop() })
	env := apptest.Start(t, apptest.Options{DataDir: dir, Configure: func(c *config.Config) {
		c.DatabaseURL = cluster.DSNAs(pgembed.AppRole, "samverkan")
		c.MigrationDatabaseURL, c.Migrate = cluster.DSNAs(pgembed.OwnerRole, "samverkan"), true
	}})
	u := env.NewUser("Olga Ägare")
	r := env.Do(u, registerOrg, registerVars(orgNumber(12)))
	require.Empty(t, r.Errors)

	var role, owners string
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT current_user::text, (SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public')`).
		Scan(&role, &owners))
	require.Equal(t, "samverkan_app", role)
	require.Equal(t, "samverkan_owner", owners, "River's tables included")
	_, err = env.App.Pool.Exec(ctx, `ALTER TABLE history_events DISABLE TRIGGER ALL`)
	require.ErrorContains(t, err, "must be owner")
	_, err = env.App.Pool.Exec(ctx, `UPDATE river_job SET attempt = attempt`)
	require.NoError(t, err, "River's tables are the service's to work")
}
