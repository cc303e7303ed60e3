package notify_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/jobs"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
)

// BenchmarkReportReminderFanOut measures the yearly IOP report reminders
// to SAMVERKAN_MAIL_BENCH_N partnerships (default 100,000): the time to
// write the notifications, their deliveries and River jobs (enqueue), and
// the time to send them all to the loopback SMTP server (STARTTLS). The
// mail side is as a server runs it by default: SAMVERKAN_MAIL_WORKERS
// deliveries at once over at most SAMVERKAN_SMTP_CONNECTIONS connections,
// the mail queue's fetch cooldown jobs.MailFetchCooldown
// (SAMVERKAN_MAIL_BENCH_FETCH_COOLDOWN, e.g. 100ms, River's default), a
// database pool of SAMVERKAN_DB_MAX_CONNS (set the variables to try
// others). Run it once:
//
//	go test -run '^$' -bench ReportReminderFanOut -benchtime 1x ./internal/notify/
func BenchmarkReportReminderFanOut(b *testing.B) {
	n := 100000
	if v := os.Getenv("SAMVERKAN_MAIL_BENCH_N"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	cfg, err := config.Defaults()
	require.NoError(b, err)
	cooldown := jobs.MailFetchCooldown
	if v := os.Getenv("SAMVERKAN_MAIL_BENCH_FETCH_COOLDOWN"); v != "" {
		cooldown, err = time.ParseDuration(v)
		require.NoError(b, err)
	}
	for range b.N {
		ctx := context.Background()
		e := newEnvWith(b, envOptions{mailWorkers: cfg.MailWorkers, connections: cfg.SMTPConnections, mailFetchCooldown: cooldown,
			dbMaxConns: cfg.DBMaxConns})
		e.smtp.CountOnly()
		region, org := e.org(b, "Region Värmland", "public", ""), e.org(b, "Läxhjälpen Värmland", "idea_based", "")
		e.user(b, "Anna Ek", authz.RoleSectorRepresentative+"@"+authz.OrgScope(org))
		now := e.clock.Now()
		_, err = e.db.Pool.Exec(ctx, `INSERT INTO partnerships (title, purpose, own_initiative, report_due_month, report_due_day,
				start_date, end_date, notice_months, activated_at, created_at, updated_at)
			SELECT 'IOP ' || i, 'Syfte / Purpose', false, 3, 31, '2043-01-01', '2045-12-31', 3, $1, $1, $1
			FROM generate_series(1, $2) AS i`, now, n)
		require.NoError(b, err)
		_, err = e.db.Pool.Exec(ctx, `INSERT INTO partnership_parties (partnership_id, organisation_id, role)
			SELECT id, $1::uuid, 'public' FROM partnerships UNION ALL SELECT id, $2::uuid, 'idea_based' FROM partnerships`, region, org)
		require.NoError(b, err)
		opened, err := e.iop.OpenDueReports(ctx)
		require.NoError(b, err)
		require.Equal(b, n, opened)
		_, err = e.db.Pool.Exec(ctx, `ANALYZE`)
		require.NoError(b, err)
		// Hold the mail queue until everything is enqueued, to time the two
		// apart.
		require.NoError(b, e.river.QueuePause(ctx, "mail", nil))
		e.clock.AdvanceTo(at(2044, 3, 20, 10))

		start := time.Now()
		written, err := e.iop.NotifyReports(ctx)
		enqueue := time.Since(start)
		require.NoError(b, err)
		require.Equal(b, n, written)
		var jobs int
		require.NoError(b, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notification_delivery'`).Scan(&jobs))
		require.Equal(b, n, jobs)

		start = time.Now()
		require.NoError(b, e.river.QueueResume(ctx, "mail", nil))
		require.Empty(b, jobstest.Wait(b, e.db.Pool, e.river, e.clock.Now(), 30*time.Minute))
		deliver := time.Since(start)
		require.Equal(b, n, e.smtp.Accepted())
		b.ReportMetric(enqueue.Seconds(), "s-enqueue")
		b.ReportMetric(deliver.Seconds(), "s-deliver")
		b.ReportMetric(float64(n)/deliver.Seconds(), "msgs/s")
		b.Logf("%d reminders: enqueued (notifications, deliveries, River jobs) in %v; delivered to loopback SMTP in %v (%.0f messages/s; %d mail workers, %d SMTP connections at most, %d opened, mail fetch cooldown %v)",
			n, enqueue.Round(time.Millisecond), deliver.Round(time.Millisecond), float64(n)/deliver.Seconds(),
			cfg.MailWorkers, cfg.SMTPConnections, e.smtp.Connections(), cooldown)
	}
}
