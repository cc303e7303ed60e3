package pgembed_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/pgembed"
)

var fast = map[string]string{"fsync": "off"}

func newDir(t *testing.T) string {
	t.Helper()
	// Not t.TempDir: the cluster may run as the postgres user, which needs
	// to create files in it; a fresh directory under /tmp is reachable.
	dir, err := os.MkdirTemp("", "pgembed-test-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "data")
}

func query(t *testing.T, dsn, sql string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var s string
	require.NoError(t, conn.QueryRow(ctx, sql, args...).Scan(&s))
	return s
}

func TestStartStopRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := newDir(t)

	c, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "PG_VERSION"))
	require.NoError(t, err, "initdb ran")
	conn, err := pgx.Connect(ctx, c.DSN("app"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)
	conn.Close(ctx)
	require.NoError(t, c.Stop())
	<-c.Exited()

	_, err = pgx.Connect(ctx, c.DSN("app"))
	require.Error(t, err, "the server is down after Stop")

	c2, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
	require.NoError(t, err)
	defer c2.Stop()
	require.Equal(t, "still here", query(t, c2.DSN("app"), "SELECT v FROM kept"))
}

func TestRunsAsUnprivilegedUserWhenRoot(t *testing.T) {
	ctx := context.Background()
	c, err := pgembed.Start(ctx, pgembed.Config{DataDir: newDir(t), Settings: fast})
	require.NoError(t, err)
	defer c.Stop()

	// The connection stays open while its backend is looked at: a closed
	// one's backend may be gone already.
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var pid string
	require.NoError(t, conn.QueryRow(ctx, "SELECT pg_backend_pid()::text").Scan(&pid))
	st, err := os.Stat("/proc/" + pid)
	require.NoError(t, err)
	uid := st.Sys().(*syscall.Stat_t).Uid
	if os.Geteuid() == 0 {
		require.NotZero(t, uid, "the server must not run as root")
	} else {
		require.Equal(t, uint32(os.Geteuid()), uid)
	}
}

func TestRecoversFromStalePidFile(t *testing.T) {
	ctx := context.Background()
	dir := newDir(t)
	c, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
	require.NoError(t, err)
	require.NoError(t, c.Stop())

	// A pid file naming a live process that is not PostgreSQL (this test) and
	// one naming a pid that does not exist: both are what a crash leaves.
	for _, pid := range []int{os.Getpid(), 4194300} {
		pidFile := filepath.Join(dir, "postmaster.pid")
		require.NoError(t, os.WriteFile(pidFile, []byte(strconv.Itoa(pid)+"\n"+dir+"\n"), 0o600))
		c, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
		require.NoError(t, err, "stale pid %d", pid)
		require.Equal(t, "1", query(t, c.DSN("app"), "SELECT 1::text"))
		require.NoError(t, c.Stop())
	}
}

func TestStopsAnOrphanOnItsDataDirectory(t *testing.T) {
	ctx := context.Background()
	dir := newDir(t)
	c, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Settings: fast})
	require.NoError(t, err)
	require.NoError(t, c.Stop())

	// Start a server on the directory that is not our child, as one left
	// behind by a killed parent would be.
	bin, err := pgembed.FindBinDir()
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{filepath.Join(bin, "pg_ctl"), "start", "-w", "-D", dir, "-l", filepath.Join(dir, "orphan.log"), "-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=", port)}
	if os.Geteuid() == 0 {
		args = append([]string{"runuser", "-u", "postgres", "--"}, args...)
	}
	orphan := exec.Command(args[0], args[1:]...)
	out, err := orphan.CombinedOutput()
	require.NoError(t, err, string(out))
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	require.NoError(t, err)
	orphanPid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)

	c2, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
	require.NoError(t, err)
	defer c2.Stop()
	require.Equal(t, "1", query(t, c2.DSN("app"), "SELECT 1::text"))
	require.True(t, gone(orphanPid), "the orphan is gone")
}

// A command line tool run next to the service (`samverkan admin grant`
// beside `make run`) uses the service's server; it neither takes it for an
// orphan nor stops it when it is done.
func TestASecondUserConnectsToTheRunningServer(t *testing.T) {
	ctx := context.Background()
	dir := newDir(t)
	owner, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
	require.NoError(t, err)
	defer owner.Stop()

	tool, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
	require.NoError(t, err)
	require.Equal(t, owner.Port(), tool.Port(), "the same server")
	require.Equal(t, "1", query(t, tool.DSN("app"), "SELECT 1::text"))
	require.NoError(t, tool.Stop())
	require.Equal(t, "2", query(t, owner.DSN("app"), "SELECT 2::text"), "the tool's Stop leaves the server running")

	require.NoError(t, owner.Stop())
	_, err = pgx.Connect(ctx, owner.DSN("app"))
	require.Error(t, err, "the owner's Stop stops it")

	again, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
	require.NoError(t, err)
	defer again.Stop()
	require.Equal(t, "3", query(t, again.DSN("app"), "SELECT 3::text"), "whoever comes next owns it")
}

func TestServerDiesWithItsParent(t *testing.T) {
	if os.Getenv("PGEMBED_CHILD_DIR") != "" {
		// The child: start a cluster, report its pid, and wait to be killed.
		c, err := pgembed.Start(context.Background(), pgembed.Config{DataDir: os.Getenv("PGEMBED_CHILD_DIR"), Settings: fast})
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("ready\n")
		<-c.Exited()
		os.Exit(0)
	}
	dir := newDir(t)
	child := exec.Command(os.Args[0], "-test.run=^TestServerDiesWithItsParent$")
	child.Env = append(os.Environ(), "PGEMBED_CHILD_DIR="+dir)
	stdout, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	buf := make([]byte, 4096)
	n, _ := stdout.Read(buf)
	require.Contains(t, string(buf[:n]), "ready")
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	require.NoError(t, err)
	pgPid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)

	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	require.Eventually(t, func() bool { return gone(pgPid) },
		20*time.Second, 50*time.Millisecond, "postgres %d outlived its killed parent", pgPid)

	// And the next start on the same directory works.
	c, err := pgembed.Start(context.Background(), pgembed.Config{DataDir: dir, Settings: fast})
	require.NoError(t, err)
	require.NoError(t, c.Stop())
}

func TestMissingBinariesSayWhatToInstall(t *testing.T) {
	_, err := pgembed.Start(context.Background(), pgembed.Config{DataDir: newDir(t), BinDir: "/nonexistent"})
	require.ErrorIs(t, err, pgembed.ErrBinariesNotFound)
	require.Contains(t, err.Error(), "apt-get install -y postgresql")
}

func TestUnreachableDataDirectoryIsExplained(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Log("only root must hand the cluster to another user; nothing to check as non-root")
		return
	}
	parent, err := os.MkdirTemp("", "pgembed-private-*")
	require.NoError(t, err)
	defer os.RemoveAll(parent)
	require.NoError(t, os.Chmod(parent, 0o700))
	_, err = pgembed.Start(context.Background(), pgembed.Config{DataDir: filepath.Join(parent, "data")})
	require.Error(t, err)
	require.Contains(t, err.Error(), "cannot reach")
	require.Contains(t, err.Error(), "SAMVERKAN_DATA_DIR")
}

// gone tells whether pid has ended: no such process, or a zombie that its
// (adoptive) parent has not reaped yet.
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z")
}

// kill -9 of the postmaster: KeepRunning starts it again on the same port,
// with its data, and says so.
func TestKilledServerIsRestartedOnTheSamePort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := newDir(t)
	c, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Database: "app", Settings: fast})
	require.NoError(t, err)
	defer c.Stop()
	conn, err := pgx.Connect(ctx, c.DSN("app"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)
	conn.Close(ctx)

	restarts := make(chan struct{}, 10)
	go c.KeepRunning(ctx, pgembed.Backoff{First: 50 * time.Millisecond, Max: time.Second}, func() { restarts <- struct{}{} })
	port := c.Port()
	for round := range 2 {
		pid := postmasterPID(t, dir)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		select {
		case <-restarts:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: the killed server was not restarted", round)
		}
		require.NotEqual(t, pid, postmasterPID(t, dir), "a new postmaster")
		require.Equal(t, port, c.Port())
		require.Equal(t, "still here", query(t, c.DSN("app"), "SELECT v FROM kept"))
	}

	// Stop is final: the watcher does not bring the server back.
	require.NoError(t, c.Stop())
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, restarts)
	_, err = pgx.Connect(ctx, c.DSN("app"))
	require.Error(t, err)
}

func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)
	return pid
}

// A database made before the roles existed (its objects owned by the
// superuser) is handed to the owner role; the service's role may connect to
// it and to no other database, and is no superuser.
func TestProvisionHandsAnExistingDatabaseToTheOwnerRole(t *testing.T) {
	ctx := context.Background()
	dir := newDir(t)
	c, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir, Settings: fast})
	require.NoError(t, err)
	defer c.Stop()
	require.NoError(t, c.CreateDatabase(ctx, "old", ""))
	conn, err := pgx.Connect(ctx, c.DSN("old"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE TYPE mood AS ENUM ('ok');
		CREATE TABLE things (id bigserial PRIMARY KEY, m mood);
		CREATE SEQUENCE counter;
		CREATE VIEW thing_ids AS SELECT id FROM things;
		CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'`)
	require.NoError(t, err)
	conn.Close(ctx)

	require.NoError(t, c.Provision(ctx, "old"))
	require.NoError(t, c.Provision(ctx, "old"), "idempotent")
	require.Equal(t, "samverkan_owner", query(t, c.DSN("old"), `SELECT string_agg(DISTINCT o, ',') FROM (
		SELECT relowner::regrole::text o FROM pg_class WHERE relnamespace = 'public'::regnamespace
		UNION ALL SELECT proowner::regrole::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace
		UNION ALL SELECT typowner::regrole::text FROM pg_type WHERE typnamespace = 'public'::regnamespace
		UNION ALL SELECT datdba::regrole::text FROM pg_database WHERE datname = 'old') x`))
	require.Equal(t, "samverkan_owner", query(t, c.DSNAs(pgembed.OwnerRole, "old"), "SELECT current_user::text"))
	require.Equal(t, "false", query(t, c.DSNAs(pgembed.AppRole, "old"), "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"))
	for _, db := range []string{"postgres", "template1"} {
		_, err := pgx.Connect(ctx, c.DSNAs(pgembed.AppRole, db))
		require.ErrorContains(t, err, "permission denied for database", db)
	}
}
