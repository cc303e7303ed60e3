package iop_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/workflows/iop"
)

// seed stores n agreed partnerships from the start of a year to 2043-12-31
// between one public body and one organisation (every tenth terminated from
// 2042-07-01), and ten that were never agreed, the way a bulk import would.
func seed(t testing.TB, e *env, n, from int) {
	t.Helper()
	ctx := context.Background()
	region, org := e.org(t, "Region", "public"), e.org(t, "Förening", "idea_based")
	now := e.clock.Now()
	_, err := e.db.Pool.Exec(ctx, `INSERT INTO partnerships (title, purpose, own_initiative, report_due_month, report_due_day,
			start_date, end_date, notice_months, activated_at, terminated_on, created_at, updated_at)
		SELECT 'IOP ' || i, 'Syfte / Purpose', false, 3, 31, make_date($3, 1, 1), '2043-12-31', 3,
			CASE WHEN i <= $2 THEN $1::timestamptz END, CASE WHEN i % 10 = 0 AND $3 < 2042 THEN date '2042-07-01' END, $1, $1
		FROM generate_series(1, $2 + 10) AS i`, now, n, from)
	require.NoError(t, err)
	_, err = e.db.Pool.Exec(ctx, `INSERT INTO partnership_parties (partnership_id, organisation_id, role)
		SELECT id, $1::uuid, 'public' FROM partnerships UNION ALL SELECT id, $2::uuid, 'idea_based' FROM partnerships`, region, org)
	require.NoError(t, err)
	_, err = e.db.Pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)
}

// The annual fan-out opens every due report across all partnerships in
// set-based batches; run again, it opens nothing.
func TestOpenDueReportsFanOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, at(2044, 2, 1, 10), func(c *config.Config) { c.IOPFanOutBatch = 300 })
	const n = 2000
	seed(t, e, n, 2040)
	want := n/10*9*4 + n/10*3 // 2040–2043, or 2040–2042 when terminated in 2042

	start := time.Now()
	opened, err := e.svc.OpenDueReports(ctx)
	took := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, want, opened)
	require.Less(t, took, 10*time.Second)
	t.Logf("opened %d reports of %d partnerships in %v", opened, n, took)
	require.Equal(t, want, e.count(t, `SELECT count(*) FROM partnership_reports`))
	require.Equal(t, 1, e.count(t, `SELECT count(DISTINCT due_on) FROM partnership_reports WHERE year = 2042`))
	require.Zero(t, e.count(t, `SELECT count(*) FROM partnership_reports r JOIN partnerships p ON p.id = r.partnership_id
		WHERE p.activated_at IS NULL OR r.year > extract(year FROM coalesce(p.terminated_on - 1, p.end_date))`))

	again, err := e.svc.OpenDueReports(ctx)
	require.NoError(t, err)
	require.Zero(t, again, "a rerun adds zero")
	require.Equal(t, want, e.count(t, `SELECT count(*) FROM partnership_reports`))

	// Reports on 2040–2042 fell overdue long ago (a bulk import); notices
	// go out for reports due within a fortnight or overdue within 30 days.
	notices, err := e.svc.NotifyReports(ctx)
	require.NoError(t, err)
	require.Zero(t, notices)
	e.clock.AdvanceTo(at(2044, 3, 20, 10))
	notices, err = e.svc.NotifyReports(ctx)
	require.NoError(t, err)
	require.Equal(t, n/10*9, notices, "reminders of the reports on 2043")
	e.clock.AdvanceTo(at(2044, 4, 5, 10))
	notices, err = e.svc.NotifyReports(ctx)
	require.NoError(t, err)
	require.Equal(t, n/10*9, notices, "overdue notices of the reports on 2043")
	notices, err = e.svc.NotifyReports(ctx)
	require.NoError(t, err)
	require.Zero(t, notices)

	// The periodic job does the same.
	_, err = e.river.Insert(ctx, iop.OpenDueReportsArgs{}, nil)
	require.NoError(t, err)
	e.runDue(t, e.clock.Now())
	require.Equal(t, want, e.count(t, `SELECT count(*) FROM partnership_reports`))
}

// BenchmarkOpenDueReports times the fan-out over IOP_FANOUT_N partnerships
// (default 100,000) on 2044-02-01: "annual" opens the report on 2043 of
// each, "backlog" four years of reports (2040–2043) at once. Each
// iteration opens every report afresh, then reruns (rerun-s).
func BenchmarkOpenDueReports(b *testing.B) {
	n := 100_000
	if s := os.Getenv("IOP_FANOUT_N"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(b, err)
	}
	for name, from := range map[string]int{"annual": 2043, "backlog": 2040} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			e := newEnv(b, at(2044, 2, 1, 10), nil)
			seed(b, e, n, from)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				_, err := e.db.Pool.Exec(ctx, `DELETE FROM partnership_reports`)
				require.NoError(b, err)
				_, err = e.db.Pool.Exec(ctx, `VACUUM ANALYZE partnership_reports`)
				require.NoError(b, err)
				b.StartTimer()
				opened, err := e.svc.OpenDueReports(ctx)
				require.NoError(b, err)
				b.ReportMetric(float64(opened), "reports/op")
				start := time.Now()
				again, err := e.svc.OpenDueReports(ctx)
				require.NoError(b, err)
				require.Zero(b, again)
				b.ReportMetric(time.Since(start).Seconds(), "rerun-s")
			}
		})
	}
}
