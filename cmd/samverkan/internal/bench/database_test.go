package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/pgembed"
)

// On a fresh data directory the bench migrates as the schema's owner and
// grants the service's role, so the service under test and `serve` on the
// same directory (the cold start) can read the policy and write history;
// the seeding connection stays the superuser. A second open (the dataset
// reused) keeps it so.
func TestFreshDataDirectoryIsOpenToTheServiceRole(t *testing.T) {
	ctx := context.Background()
	// Not t.TempDir: the cluster may run as the postgres user, which needs
	// to reach the directory.
	dir, err := os.MkdirTemp("", "bench-fresh-*")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	o := Options{DataDir: dir}
	require.NoError(t, o.defaults())
	for range 2 {
		db, err := o.openDatabase(ctx)
		require.NoError(t, err)
		require.NoError(t, db.migrateUp(ctx, false))
		conn, err := pgx.Connect(ctx, db.serviceDSN)
		require.NoError(t, err)
		var role string
		var rules int
		require.NoError(t, conn.QueryRow(ctx, `SELECT current_user::text, (SELECT count(*) FROM casbin_rule)`).Scan(&role, &rules))
		require.Equal(t, pgembed.AppRole, role)
		_, err = conn.Exec(ctx, `SELECT count(*) FROM history_events`)
		require.NoError(t, err)
		var superuser bool
		require.NoError(t, db.pool.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&superuser))
		require.True(t, superuser, "the bench seeds as the superuser")
		require.NoError(t, conn.Close(ctx))
		db.close()
	}
	require.DirExists(t, filepath.Join(o.DataDir, "postgres"))
}
