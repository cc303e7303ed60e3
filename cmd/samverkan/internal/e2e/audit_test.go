package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/audit"
	"github.com/samverkan/samverkan/internal/pgembed"
	"github.com/samverkan/samverkan/internal/testdb"
)

// signedStory: three organisations apply, are approved and sign; a fourth
// applies and is under review.
func signedStory(t *testing.T) *story {
	t.Helper()
	s := newStory(t)
	for n := 1; n <= 3; n++ {
		a := s.apply(t, n)
		s.approve(t, a)
		require.Equal(t, "signed", s.act(t, a.rep, "signAgreement", a.instance, "").State)
	}
	s.act(t, s.official, "startSigningReview", s.apply(t, 4).instance, "")
	s.env.WaitForJobs()
	require.Equal(t, 3, s.publicList(t).Node.Signatories.TotalCount)
	return s
}

func auditVerify(t *testing.T, pool *pgxpool.Pool) audit.Result {
	t.Helper()
	res, err := audit.Verify(context.Background(), pool, nil)
	require.NoError(t, err)
	return res
}

type historyRef struct {
	ID     int64
	Stream string
	Seq    int
}

func historyEvent(t *testing.T, pool *pgxpool.Pool, where string, args ...any) historyRef {
	t.Helper()
	var r historyRef
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT id, stream, seq FROM history_events WHERE `+where+
		` ORDER BY id LIMIT 1`, args...).Scan(&r.ID, &r.Stream, &r.Seq))
	return r
}

// tamperHistory does what someone with the database superuser's rights
// could: switch the append-only trigger off for a moment and rewrite.
func tamperHistory(t *testing.T, pool *pgxpool.Pool, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	stmts = append(append([]string{`ALTER TABLE history_events DISABLE TRIGGER history_events_no_update`}, stmts...),
		`ALTER TABLE history_events ENABLE TRIGGER history_events_no_update`)
	for _, s := range stmts {
		_, err := tx.Exec(ctx, s)
		require.NoError(t, err, s)
	}
	require.NoError(t, tx.Commit(ctx))
}

func TestAuditVerifyAfterSigningStory(t *testing.T) {
	t.Parallel()
	s := signedStory(t)
	pool := s.env.DB.Pool
	ctx := context.Background()

	res := auditVerify(t, pool)
	require.True(t, res.OK, "%+v", res.Broken)
	require.Equal(t, s.env.Count(`SELECT count(*) FROM history_events`), res.Events)
	require.Equal(t, s.env.Count(`SELECT count(DISTINCT stream) FROM history_events`), res.Streams)
	require.GreaterOrEqual(t, res.Streams, 4+5+1) // instances, organisations, roles at least
	digest, count, err := audit.Digest(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, res.Digest, digest)
	require.Equal(t, res.Events, count)

	// The official's approval of the first application is rewritten.
	approval := historyEvent(t, pool, `transition = 'approve'`)
	var reason string
	require.NoError(t, pool.QueryRow(ctx, `SELECT reason FROM history_events WHERE id = $1`, approval.ID).Scan(&reason))
	tamperHistory(t, pool, fmt.Sprintf(`UPDATE history_events SET reason = 'Avslogs egentligen.' WHERE id = %d`, approval.ID))
	res = auditVerify(t, pool)
	require.False(t, res.OK)
	require.Equal(t, approval.ID, res.Broken.EventID)
	require.Equal(t, approval.Stream, res.Broken.Stream)
	require.Equal(t, approval.Seq, res.Broken.Seq)
	require.Equal(t, audit.ContentChanged, res.Broken.Problem)
	require.Equal(t, 1, res.BrokenEvents)
	require.Equal(t, digest, res.Digest, "the heads are untouched")
	var out bytes.Buffer
	require.NoError(t, res.WriteText(&out))
	require.Contains(t, out.String(), fmt.Sprintf("event %d (stream %s, seq %d): content changed", approval.ID, approval.Stream, approval.Seq))

	// Put back as it was, the history verifies again.
	tamperHistory(t, pool, fmt.Sprintf(`UPDATE history_events SET reason = '%s' WHERE id = %d`,
		strings.ReplaceAll(reason, "'", "''"), approval.ID))
	require.True(t, auditVerify(t, pool).OK)

	// Rewritten with its hash recomputed, the approval itself is
	// consistent; the chain breaks at the event after it.
	next := historyEvent(t, pool, `stream = $1 AND seq = $2`, approval.Stream, approval.Seq+1)
	tamperHistory(t, pool,
		fmt.Sprintf(`UPDATE history_events SET occurred_at = occurred_at - interval '1 day' WHERE id = %d`, approval.ID),
		fmt.Sprintf(`UPDATE history_events e SET hash = history_event_hash(e) WHERE id = %d`, approval.ID))
	res = auditVerify(t, pool)
	require.False(t, res.OK)
	require.Equal(t, next.ID, res.Broken.EventID)
	require.Equal(t, approval.Seq+1, res.Broken.Seq)
	require.Equal(t, audit.ChainBroken, res.Broken.Problem)
	require.Equal(t, 1, res.BrokenEvents)
}

// pgTool runs a PostgreSQL client program from the server's bin directory
// (the version that matches the test server), or from PATH.
func pgTool(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(toolPath(t, name), args...).CombinedOutput()
	require.NoError(t, err, "%s failed:\n%s", name, out)
}

func toolPath(t *testing.T, name string) string {
	t.Helper()
	if dir, err := pgembed.FindBinDir(); err == nil {
		return filepath.Join(dir, name)
	}
	path, err := exec.LookPath(name)
	require.NoError(t, err, "%s not found", name)
	return path
}

// backup dumps a database the way the README says.
func backup(t *testing.T, db *testdb.Database) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "samverkan.pgdump")
	pgTool(t, "pg_dump", "--format=custom", "--file="+file, "--dbname="+db.URL)
	return file
}

// restore loads a backup into a new, empty database the way the README
// says. It is a full restore (schema and data): pg_restore creates the
// tables, COPYs the rows, and only then, in the post-data section, creates
// the indexes, foreign keys and triggers. So no trigger fires while the
// history is loaded, and the stored seq, prev_hash and hash are kept
// byte for byte; --disable-triggers would change nothing here (pg_restore
// honours it only with --data-only, see TestBackupDataOnlyRestore).
// --no-owner lets any role that may create the tables restore;
// --single-transaction with --exit-on-error makes it all or nothing.
func restore(t *testing.T, file string) *testdb.Database {
	t.Helper()
	db := testdb.NewEmpty(t)
	pgTool(t, "pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", "--dbname="+db.URL, file)
	return db
}

func TestBackupRestoreKeepsHistoryAndAnswers(t *testing.T) {
	t.Parallel()
	s := signedStory(t)
	ctx := context.Background()
	before := auditVerify(t, s.env.DB.Pool)
	require.True(t, before.OK)

	restored := restore(t, backup(t, s.env.DB))
	after := auditVerify(t, restored.Pool)
	require.True(t, after.OK, "%+v", after.Broken)
	require.Equal(t, before.Digest, after.Digest)
	require.Equal(t, before.Events, after.Events)
	require.Equal(t, before.Streams, after.Streams)
	digest, _, err := audit.Digest(ctx, restored.Pool)
	require.NoError(t, err)
	require.Equal(t, before.Digest, digest)
	require.Equal(t, tableSum(t, s.env.DB.Pool, "history_events"), tableSum(t, restored.Pool, "history_events"),
		"every history row, ids and hashes included, is restored as it was")

	// The restored history is still append-only and chained.
	var triggers []string
	rows, err := restored.Pool.Query(ctx, `SELECT tgname || ':' || tgenabled::text FROM pg_trigger
		WHERE tgrelid = 'history_events'::regclass AND NOT tgisinternal ORDER BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		triggers = append(triggers, n)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"history_events_chain:O", "history_events_no_truncate:O", "history_events_no_update:O", "public_data_changed:O"}, triggers)
	_, err = restored.Pool.Exec(ctx, `UPDATE history_events SET reason = 'x' WHERE seq = 1`)
	require.ErrorContains(t, err, "append-only")

	// A second service on the restored database answers the public
	// signatory list as the first does, and carries on the history.
	env2 := apptest.Start(t, apptest.Options{DB: restored})
	s2 := &story{env: env2, version: s.version, official: env2.NewUser("Olga Official", "region_official@region")}
	require.Equal(t, s.publicList(t), s2.publicList(t))
	s2.act(t, s2.official, "startSigningReview", s2.apply(t, 5).instance, "")
	require.Equal(t, s.publicList(t), s2.publicList(t))
	carried := auditVerify(t, restored.Pool)
	require.True(t, carried.OK, "%+v", carried.Broken)
	require.Greater(t, carried.Events, after.Events)
}

// A backup of a tampered history restores tampered: the restore must not
// recompute hashes (which would launder the change), so verify still names
// the event.
func TestBackupRestoreKeepsTampering(t *testing.T) {
	t.Parallel()
	s := signedStory(t)
	approval := historyEvent(t, s.env.DB.Pool, `transition = 'approve'`)
	tamperHistory(t, s.env.DB.Pool, fmt.Sprintf(`UPDATE history_events SET input = '{"forged": true}' WHERE id = %d`, approval.ID))
	before := auditVerify(t, s.env.DB.Pool)
	require.Equal(t, approval.ID, before.Broken.EventID)

	restored := restore(t, backup(t, s.env.DB))
	after := auditVerify(t, restored.Pool)
	require.False(t, after.OK)
	require.Equal(t, before.Broken, after.Broken)
	require.Equal(t, before.Digest, after.Digest)
}

// A data-only restore into an already migrated schema is where the history
// triggers exist while COPY runs: pg_restore --disable-triggers (superuser
// only) switches them off for the load, so the stored hashes are kept and
// not recomputed by history_events_chain. Migration bookkeeping already in
// the target is left out of the list.
func TestBackupDataOnlyRestore(t *testing.T) {
	t.Parallel()
	s := signedStory(t)
	before := auditVerify(t, s.env.DB.Pool)
	file := backup(t, s.env.DB)

	target := testdb.New(t) // migrated, no data
	list := filepath.Join(t.TempDir(), "list")
	out, err := exec.Command(toolPath(t, "pg_restore"), "--list", file).Output()
	require.NoError(t, err)
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.Contains(l, "goose_db_version") && !strings.Contains(l, "river_migration") {
			keep = append(keep, l)
		}
	}
	require.NoError(t, os.WriteFile(list, []byte(strings.Join(keep, "\n")), 0o600))
	pgTool(t, "pg_restore", "--data-only", "--disable-triggers", "--no-owner", "--exit-on-error", "--single-transaction",
		"--use-list="+list, "--dbname="+target.URL, file)

	after := auditVerify(t, target.Pool)
	require.True(t, after.OK, "%+v", after.Broken)
	require.Equal(t, before.Digest, after.Digest)
	require.Equal(t, tableSum(t, s.env.DB.Pool, "history_events"), tableSum(t, target.Pool, "history_events"))
}

func tableSum(t *testing.T, pool *pgxpool.Pool, table string) string {
	t.Helper()
	var sum string
	require.NoError(t, pool.QueryRow(context.Background(),
		fmt.Sprintf(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM %q t`, table)).Scan(&sum))
	return sum
}

// The public digest is the one audit verify computes.
func TestHistoryDigestIsPublic(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	a := s.apply(t, 1)
	s.approve(t, a)
	var out struct {
		HistoryDigest struct {
			Digest string
			Events int
		}
	}
	s.env.MustDo(nil, `{ historyDigest { digest events } }`, nil, &out)
	res, err := audit.Verify(context.Background(), s.env.DB.Pool, nil)
	require.NoError(t, err)
	require.True(t, res.OK)
	require.Equal(t, res.Digest, out.HistoryDigest.Digest)
	require.Equal(t, res.Events, out.HistoryDigest.Events)
}
