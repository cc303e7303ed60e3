package migrate_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/migrate"
	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func tables(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)
	require.NoError(t, err)
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	return names
}

func TestUpDownUp(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewEmpty(t)
	log := slog.New(slog.DiscardHandler)
	require.Empty(t, tables(t, db.Pool))

	require.NoError(t, migrate.Up(ctx, db.Pool, log))
	up := tables(t, db.Pool)
	require.Contains(t, up, "users")
	require.Contains(t, up, "river_job", "River's tables come with the migration")
	require.Contains(t, up, "river_leader")

	status, err := migrate.List(ctx, db.Pool, log)
	require.NoError(t, err)
	for _, s := range status {
		require.True(t, s.Applied, "%s %d %s applied", s.Source, s.Version, s.Name)
	}

	require.NoError(t, migrate.Up(ctx, db.Pool, log), "a second up is a no-op")

	require.NoError(t, migrate.Down(ctx, db.Pool, log))
	// goose keeps its own bookkeeping table; nothing else may remain.
	require.Equal(t, []string{"goose_db_version"}, tables(t, db.Pool))
	status, err = migrate.List(ctx, db.Pool, log)
	require.NoError(t, err)
	for _, s := range status {
		require.False(t, s.Applied, "%s %d %s not applied after down", s.Source, s.Version, s.Name)
	}

	require.NoError(t, migrate.Up(ctx, db.Pool, log))
	require.Equal(t, up, tables(t, db.Pool))
}

func TestConcurrentUpIsSerialised(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewEmpty(t)
	log := slog.New(slog.DiscardHandler)
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- migrate.Up(ctx, db.Pool, log) }()
	}
	for range 3 {
		require.NoError(t, <-errs)
	}
	require.Contains(t, tables(t, db.Pool), "river_job")
}
