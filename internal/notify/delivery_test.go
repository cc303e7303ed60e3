package notify_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/mail/mailtest"
)

// remindedOrg is an idea-based organisation with two representatives, and a
// third whose role was revoked yesterday, in a partnership whose 2043
// report is due on 2044-03-31; the clock stands where its reminder is due.
type remindedOrg struct {
	org, partnership uuid.UUID
	reps             []string
}

func setupReminder(t *testing.T, e *env) remindedOrg {
	t.Helper()
	ctx := context.Background()
	region, org := e.org(t, "Region Värmland", "public", ""), e.org(t, "Läxhjälpen Värmland", "idea_based", "")
	p := e.partnership(t, region, org)
	scope := authz.OrgScope(org)
	anna := e.user(t, "Anna Ek", authz.RoleSectorRepresentative+"@"+scope)
	bo := e.user(t, "Bo Lind", authz.RoleSectorRepresentative+"@"+scope)
	cilla := e.user(t, "Cilla Berg", authz.RoleSectorRepresentative+"@"+scope)
	e.user(t, "Dan Holm", authz.RoleRegionOfficial+"@"+authz.ScopeRegion)
	opened, err := e.iop.OpenDueReports(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, opened, "the report on 2043")
	e.clock.AdvanceTo(at(2044, 3, 19, 10))
	e.revoke(t, authz.Assignment{UserID: cilla.ID, Role: authz.RoleSectorRepresentative, Scope: scope})
	e.clock.AdvanceTo(at(2044, 3, 20, 10))
	return remindedOrg{org: org, partnership: p, reps: []string{anna.Email, bo.Email}}
}

// A report-deadline reminder reaches exactly the organisation's two
// representatives, not the one revoked yesterday: once each, in Swedish
// then English, as plain text and HTML, with the link to the partnership.
func TestReportReminderReachesRepresentatives(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := setupReminder(t, e)
	n, err := e.iop.NotifyReports(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Empty(t, e.runDue(t, e.clock.Now()))

	got := e.smtp.Received()
	require.Len(t, got, 2)
	var to []string
	for _, rec := range got {
		require.Len(t, rec.To, 1)
		to = append(to, rec.To[0])
	}
	require.ElementsMatch(t, r.reps, to, "exactly the two representatives")

	ds := e.deliveries(t, "true")
	require.Len(t, ds, 2)
	for _, d := range ds {
		require.Equal(t, "sent", d.State)
		require.NotNil(t, d.SentAt)
	}
	// The test's partnership is imported (no case of its own): the link
	// is the register of partnerships.
	link := "http://127.0.0.1:8080/partnerships"
	for _, rec := range got {
		m := parse(t, rec)
		require.Equal(t, "IOP: påminnelse om uppföljningsrapporten för 2043 – senast 2044-03-31 / IOP: reminder of the follow-up report for 2043 – due 2044-03-31", m.Subject)
		for _, body := range []string{m.Text, m.HTML} {
			sv := strings.Index(body, "Rapporten skulle lämnas senast 2044-03-31.")
			en := strings.Index(body, "The report is due on 2044-03-31.")
			require.GreaterOrEqual(t, sv, 0, "Swedish text in %q", body)
			require.Greater(t, en, sv, "English after Swedish")
			require.Contains(t, body, link)
		}
		require.Contains(t, m.HTML, `<a href="`+link+`">`)
		var d = ds[0]
		if !strings.Contains(m.To, d.Address) {
			d = ds[1]
		}
		// One-click unsubscribe (RFC 8058): the delivery's own secret URL;
		// the text links to the settings page.
		require.Equal(t, "<http://127.0.0.1:8080/unsubscribe/"+d.ID.String()+"/"+d.UnsubscribeSecret.String()+">", m.Header.Get("List-Unsubscribe"))
		require.Equal(t, "List-Unsubscribe=One-Click", m.Header.Get("List-Unsubscribe-Post"))
		require.Contains(t, m.Text, "http://127.0.0.1:8080/settings/notifications")
		require.Equal(t, "<"+d.ID.String()+"@samverkan.example>", m.MessageID)
	}
	require.Equal(t, 2, e.counts.get("sent"))

	// Run again: no new reminder, nothing sent again.
	n, err = e.iop.NotifyReports(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Empty(t, e.runDue(t, e.clock.Now().Add(time.Hour)))
	require.Len(t, e.smtp.Received(), 2)
}

// The server answers 451 twice, then accepts: the message arrives once,
// after River's backoff.
func TestTemporaryFailureIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setupReminder(t, e)
	busy := mailtest.Answer(451, smtp.EnhancedCode{4, 3, 0}, "Try again later")
	// Two recipients: each of their first attempts fails once, then one
	// more failure for whichever comes next.
	e.smtp.Reply(busy, busy, busy, busy)
	_, err := e.iop.NotifyReports(context.Background())
	require.NoError(t, err)
	failures := e.runDue(t, e.clock.Now())
	require.Contains(t, failures, "451")
	for i := 0; i < 10 && len(e.smtp.Received()) < 2; i++ {
		e.runDue(t, e.clock.Now().Add(time.Minute))
	}
	got := e.smtp.Received()
	require.Len(t, got, 2, "each representative gets the message once")
	require.NotEqual(t, got[0].To, got[1].To)
	for _, d := range e.deliveries(t, "true") {
		require.Equal(t, "sent", d.State)
		require.Equal(t, 3, d.Attempts, "two refusals, then accepted")
		require.Contains(t, d.LastError, "451")
	}
	require.Equal(t, 4, e.counts.get("retried"))
	require.Equal(t, 2, e.counts.get("sent"))
}

// The server answers 550: the delivery is failed with the answer kept, and
// nothing is retried.
func TestPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setupReminder(t, e)
	attempts := 0
	e.smtp.Always(mailtest.Answer(550, smtp.EnhancedCode{5, 1, 1}, "No such user here"))
	e.smtp.OnAccept(func(mailtest.Received) { attempts++ })
	_, err := e.iop.NotifyReports(context.Background())
	require.NoError(t, err)
	require.Empty(t, e.runDue(t, e.clock.Now()), "a refused delivery is no failed job")
	ds := e.deliveries(t, "true")
	require.Len(t, ds, 2)
	for _, d := range ds {
		require.Equal(t, "failed", d.State)
		require.Equal(t, 1, d.Attempts)
		require.Contains(t, d.LastError, "550")
		require.Contains(t, d.LastError, "No such user here")
	}
	e.smtp.Always(nil)
	require.Empty(t, e.runDue(t, e.clock.Now().Add(24*time.Hour)))
	require.Empty(t, e.smtp.Received(), "nothing retried")
	require.Equal(t, 2, e.counts.get("failed"))
	var jobs int
	require.NoError(t, e.db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM river_job WHERE kind = 'notification_delivery' AND state = 'completed' AND attempt = 1`).Scan(&jobs))
	require.Equal(t, 2, jobs)
}

// A worker that dies after the server accepted a message and its
// acceptance was recorded, before River marked the job completed: River
// runs the job again, which finds the delivery sent; the person has the
// message once.
func TestWorkerDiesAfterAcceptanceRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setupReminder(t, e)
	var died atomic.Int32
	e.worker.SetHooks(nil, func(uuid.UUID) {
		if died.Add(1) <= 2 {
			panic("worker dies before the job completes")
		}
	})
	_, err := e.iop.NotifyReports(context.Background())
	require.NoError(t, err)
	e.runDue(t, e.clock.Now())
	for i := 0; i < 5; i++ {
		e.runDue(t, e.clock.Now().Add(time.Minute))
	}
	require.EqualValues(t, 4, died.Load(), "each job ran twice")
	require.Len(t, e.smtp.Received(), 2, "each representative got the message once")
	for _, d := range e.deliveries(t, "true") {
		require.Equal(t, "sent", d.State)
		require.Equal(t, 1, d.Attempts)
	}
}

// The one moment that stays at-least-once: the worker dies after the
// server accepted the message and before its acceptance is committed. The
// transaction is rolled back, the job runs again and sends it again; the
// copy carries the same Message-ID, by which mail programs show it once.
func TestWorkerDiesBeforeAcceptanceRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setupReminder(t, e)
	var died atomic.Int32
	e.worker.SetHooks(func(uuid.UUID) {
		if died.Add(1) == 1 {
			panic("worker dies between the server's acceptance and the commit")
		}
	}, nil)
	_, err := e.iop.NotifyReports(context.Background())
	require.NoError(t, err)
	e.runDue(t, e.clock.Now())
	for i := 0; i < 5; i++ {
		e.runDue(t, e.clock.Now().Add(time.Minute))
	}
	got := e.smtp.Received()
	require.Len(t, got, 3, "one representative got a second copy")
	ids := map[string][]string{}
	for _, rec := range got {
		ids[rec.To[0]] = append(ids[rec.To[0]], parse(t, rec).MessageID)
	}
	copies := 0
	for _, list := range ids {
		if len(list) == 2 {
			copies++
			require.Equal(t, list[0], list[1], "the copy has the same Message-ID")
		}
	}
	require.Equal(t, 1, copies)
	for _, d := range e.deliveries(t, "true") {
		require.Equal(t, "sent", d.State)
	}
}
