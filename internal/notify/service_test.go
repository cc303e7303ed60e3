package notify_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-smtp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/mail/mailtest"
	"github.com/samverkan/samverkan/internal/notify"
	"github.com/samverkan/samverkan/internal/store"
)

// A representative who turns reminders off gets no reminder, but still the
// notice that the report is overdue; the other representative gets both.
func TestRemindersOffNoticesStill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	r := setupReminder(t, e)
	anna, err := store.UserBySubject(ctx, e.db.Pool, "test", "anna-ek")
	require.NoError(t, err)
	p, err := e.notify.SetPreferences(ctx, principal(anna), false, false)
	require.NoError(t, err)
	require.False(t, p.Reminders)
	got, err := e.notify.Preferences(ctx, principal(anna))
	require.NoError(t, err)
	require.False(t, got.Reminders)
	_, err = e.notify.SetPreferences(ctx, authz.Principal{}, false, false)
	require.Equal(t, apperr.Unauthenticated, apperr.CodeOf(err))

	_, err = e.iop.NotifyReports(ctx)
	require.NoError(t, err)
	require.Empty(t, e.runDue(t, e.clock.Now()))
	rec := e.smtp.Received()
	require.Len(t, rec, 1)
	require.Equal(t, r.reps[1], rec[0].To[0], "only Bo is reminded")
	require.Len(t, e.deliveries(t, "state = 'off' AND user_id = $1", anna.ID), 1, "the reminder Anna turned off is on record")

	// On 2044-04-05 the report is overdue: a notice, to both.
	e.clock.AdvanceTo(at(2044, 4, 5, 10))
	_, err = e.iop.NotifyReports(ctx)
	require.NoError(t, err)
	require.Empty(t, e.runDue(t, e.clock.Now()))
	rec = e.smtp.Received()
	require.Len(t, rec, 3)
	var to []string
	for _, m := range rec[1:] {
		to = append(to, m.To[0])
		require.Contains(t, parse(t, m).Subject, "försenad")
		require.Empty(t, parse(t, m).Header.Get("List-Unsubscribe"), "a notice cannot be unsubscribed from")
	}
	require.ElementsMatch(t, r.reps, to)
}

// Admins see a delivery the server refused for good, with its answer, and
// send it again; others may not.
func TestResendFailedDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	r := setupReminder(t, e)
	admin := e.user(t, "Ada Admin", authz.RoleAdmin+"@"+authz.ScopeAll)
	e.smtp.Always(mailtest.Answer(550, smtp.EnhancedCode{5, 1, 1}, "No such user here"))
	_, err := e.iop.NotifyReports(ctx)
	require.NoError(t, err)
	require.Empty(t, e.runDue(t, e.clock.Now()))

	anna, err := store.UserBySubject(ctx, e.db.Pool, "test", "anna-ek")
	require.NoError(t, err)
	_, err = e.notify.FailedDeliveries(ctx, principal(anna), 20)
	require.Equal(t, apperr.Forbidden, apperr.CodeOf(err))
	failed, err := e.notify.FailedDeliveries(ctx, principal(admin), 20)
	require.NoError(t, err)
	require.Len(t, failed, 2)
	require.Contains(t, failed[0].LastError, "550")
	require.Contains(t, failed[0].LastError, "5.1.1 No such user here")

	e.smtp.Always(nil)
	_, err = e.notify.Resend(ctx, principal(anna), failed[0].ID)
	require.Equal(t, apperr.Forbidden, apperr.CodeOf(err))
	d, err := e.notify.Resend(ctx, principal(admin), failed[0].ID)
	require.NoError(t, err)
	require.Equal(t, "pending", d.State)
	_, err = e.notify.Resend(ctx, principal(admin), failed[0].ID)
	require.Equal(t, apperr.InvalidTransition, apperr.CodeOf(err), "only a failed delivery is resent")
	require.Empty(t, e.runDue(t, e.clock.Now().Add(time.Minute)))
	rec := e.smtp.Received()
	require.Len(t, rec, 1)
	require.Equal(t, failed[0].Address, rec[0].To[0])
	require.Contains(t, r.reps, rec[0].To[0])
	require.Equal(t, "<"+failed[0].ID.String()+"@samverkan.example>", parse(t, rec[0]).MessageID)
	still, err := e.notify.FailedDeliveries(ctx, principal(admin), 20)
	require.NoError(t, err)
	require.Len(t, still, 1)
	var events int
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM history_events WHERE stream = 'mail' AND kind = 'delivery_resent'
		AND actor_id = $1`, admin.ID).Scan(&events))
	require.Equal(t, 1, events)
}

// calendar fetches a person's feed through its secret URL and parses it
// with a real iCalendar parser; events by UID.
func calendar(t *testing.T, e *env, u *store.User) map[string]ical.Event {
	t.Helper()
	url, err := e.notify.CalendarURL(context.Background(), principal(u), false)
	require.NoError(t, err)
	path, ok := strings.CutPrefix(url, "http://127.0.0.1:8080")
	require.True(t, ok, url)
	mux := http.NewServeMux()
	mux.Handle("GET /kalender/{file}", e.notify.CalendarHandler(slog.New(slog.DiscardHandler)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/calendar; charset=utf-8", resp.Header.Get("Content-Type"))
	cal, err := ical.NewDecoder(resp.Body).Decode()
	require.NoError(t, err)
	out := map[string]ical.Event{}
	for _, ev := range cal.Events() {
		uid, err := ev.Props.Text(ical.PropUID)
		require.NoError(t, err)
		out[uid] = ev
	}
	// A wrong secret opens nothing.
	resp2, err := http.Get(srv.URL + "/kalender/" + strings.Repeat("0", 48) + ".ics")
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusNotFound, resp2.StatusCode)
	return out
}

func summaryEvent(t *testing.T, events map[string]ical.Event, contains string) (string, time.Time) {
	t.Helper()
	for uid, ev := range events {
		s, err := ev.Props.Text(ical.PropSummary)
		require.NoError(t, err)
		if strings.Contains(s, contains) {
			at, err := ev.DateTimeStart(time.UTC)
			require.NoError(t, err)
			return uid, at
		}
	}
	t.Fatalf("no event %q in %d events", contains, len(events))
	return "", time.Time{}
}

// A representative who chose the weekly digest gets no reminder at once,
// but on Monday morning one e-mail listing it; the next run sends nothing.
func TestWeeklyDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	r := setupReminder(t, e) // Sunday 2044-03-20
	bo, err := store.UserBySubject(ctx, e.db.Pool, "test", "bo-lind")
	require.NoError(t, err)
	_, err = e.notify.SetPreferences(ctx, principal(bo), true, true)
	require.NoError(t, err)
	_, err = e.iop.NotifyReports(ctx)
	require.NoError(t, err)
	require.Empty(t, e.runDue(t, e.clock.Now()))
	rec := e.smtp.Received()
	require.Len(t, rec, 1, "Anna at once; Bo waits for the digest")
	require.Equal(t, r.reps[0], rec[0].To[0])

	digest := &notify.DigestWorker{Worker: e.worker}
	run := func() {
		require.NoError(t, digest.Work(ctx, &river.Job[notify.DigestArgs]{JobRow: &rivertype.JobRow{}}))
	}
	run() // still Sunday: this week's digest went out last Monday
	require.Len(t, e.smtp.Received(), 1)
	e.clock.AdvanceTo(at(2044, 3, 21, 8))
	run()
	run()
	rec = e.smtp.Received()
	require.Len(t, rec, 2, "one digest")
	require.Equal(t, bo.Email, rec[1].To[0])
	m := parse(t, rec[1])
	require.Equal(t, "Veckans påminnelser (1) / This week's reminders (1)", m.Subject)
	require.Contains(t, m.Text, "IOP: påminnelse om uppföljningsrapporten för 2043 (senast 2044-03-31)")
	require.Contains(t, m.Text, "IOP: reminder of the follow-up report for 2043 (due 2044-03-31)")
	require.Contains(t, m.HTML, "http://127.0.0.1:8080/partnerships")
	require.Contains(t, m.HTML, "http://127.0.0.1:8080/settings/notifications")
	d := e.deliveries(t, "user_id = $1 AND state = 'sent'", bo.ID)
	require.Len(t, d, 1)
	require.Equal(t, "<http://127.0.0.1:8080/unsubscribe/"+d[0].ID.String()+"/"+d[0].UnsubscribeSecret.String()+">", m.Header.Get("List-Unsubscribe"))
	require.Equal(t, "List-Unsubscribe=One-Click", m.Header.Get("List-Unsubscribe-Post"))
}

func TestDigestCutoff(t *testing.T) {
	require.Equal(t, at(2044, 3, 14, 7), notify.DigestCutoff(at(2044, 3, 20, 10)), "Sunday: last Monday")
	require.Equal(t, at(2044, 3, 14, 7), notify.DigestCutoff(at(2044, 3, 21, 6)), "Monday before seven")
	require.Equal(t, at(2044, 3, 21, 7), notify.DigestCutoff(at(2044, 3, 21, 7)), "Monday at seven")
	require.Equal(t, at(2044, 3, 21, 7), notify.DigestCutoff(at(2044, 3, 23, 12)), "Wednesday")
}

// The one-click unsubscribe URL of a reminder turns its person's reminders
// off without signing in (the delivery's secret is the authority); a wrong
// secret changes nothing; the choice is in the person's history.
func TestOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	setupReminder(t, e)
	_, err := e.iop.NotifyReports(ctx)
	require.NoError(t, err)
	require.Empty(t, e.runDue(t, e.clock.Now()))
	anna, err := store.UserBySubject(ctx, e.db.Pool, "test", "anna-ek")
	require.NoError(t, err)
	ds := e.deliveries(t, "user_id = $1", anna.ID)
	require.Len(t, ds, 1)

	err = e.notify.Unsubscribe(ctx, ds[0].ID, ds[0].ID)
	require.Equal(t, apperr.NotFound, apperr.CodeOf(err), "a wrong secret")
	p, err := e.notify.Preferences(ctx, principal(anna))
	require.NoError(t, err)
	require.True(t, p.Reminders, "nothing changed")

	require.NoError(t, e.notify.Unsubscribe(ctx, ds[0].ID, ds[0].UnsubscribeSecret))
	p, err = e.notify.Preferences(ctx, principal(anna))
	require.NoError(t, err)
	require.False(t, p.Reminders)
	var n int
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM history_events WHERE stream = $1 AND kind = 'notification_preferences_changed'`,
		"user:"+anna.ID.String()).Scan(&n))
	require.Equal(t, 1, n)
}
