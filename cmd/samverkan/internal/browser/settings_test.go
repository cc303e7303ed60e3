package browser_test

import (
	"context"
	"net/http"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-ical"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/notify"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/web"
)

// status is what the service answers the signed-in browser for a path.
func (b *browser) status(path string) int {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`fetch(`+jsString(path)+`, {redirect: 'manual'}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err, path)
	return v
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// The settings page every e-mail links to: a person turns reminders off
// and chooses the weekly digest (read back through the service; the next
// reminder to them is kept off, not sent), and is told that legal notices
// cannot be turned off; they make a secret calendar address, which serves
// their feed, and get a new one, after which the old one is gone. The page
// passes axe-core in both languages.
func TestNotificationSettings(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	id := applyForSigning(t, env, "Filipstads Läsecirkel", demo.Number(900))
	env.WaitForJobs()
	ctx := context.Background()
	officialID, err := env.App.EnsureUser(ctx, "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	official := authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}

	b := newBrowser(t, env.URL)
	b.open(notify.SettingsPath)
	require.Equal(t, "/sign-in", b.eval(`location.pathname`), "a visitor signs in first")
	b.signInAs("demo-official", "sv")
	b.follow(chromedp.Click(`nav a[href="/settings/notifications"]`))
	require.Equal(t, "Inställningar för meddelanden", b.eval(`document.querySelector('h1').innerText`))
	require.Contains(t, b.eval(`document.getElementById('legal-hint').innerText`), "går inte att stänga av")
	require.Equal(t, "true", b.eval(`String(document.getElementById('reminders').checked)`), "reminders are on by default")
	require.Equal(t, "false", b.eval(`String(document.getElementById('weeklyDigest').checked)`))
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))

	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#reminders`)))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#weeklyDigest`)))
	b.follow(chromedp.Click(`form[action="/settings/notifications"] button`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Dina inställningar är sparade.")
	require.Equal(t, "false", b.eval(`String(document.getElementById('reminders').checked)`))
	require.Equal(t, "true", b.eval(`String(document.getElementById('weeklyDigest').checked)`))
	prefs, err := env.App.Services.Notify.Preferences(ctx, official)
	require.NoError(t, err)
	require.False(t, prefs.Reminders)
	require.True(t, prefs.WeeklyDigest)

	// The next reminder to the officials is not sent to him; a notice is.
	write := func(key, kind string) {
		require.NoError(t, store.InsertNotification(ctx, env.App.DB.Pool, &store.Notification{DedupeKey: key, InstanceID: &id,
			RecipientRole: authz.RoleRegionOfficial, Kind: kind, Subject: "Granska ansökan / Review the application",
			Body: "Ansökan väntar. / The application waits.", CreatedAt: env.Clock.Now()}))
	}
	write("test-reminder", "reminder")
	write("test-notice", "notice")
	env.WaitForJobs()
	states := func(key string) string {
		var s string
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT string_agg(d.state, ',') FROM notification_deliveries d
			JOIN notifications n ON n.id = d.notification_id WHERE n.dedupe_key = $1 AND d.user_id = $2`, key, officialID).Scan(&s))
		return s
	}
	require.Equal(t, "off", states("test-reminder"), "the reminder is not delivered")
	require.Equal(t, "sent", states("test-notice"), "a notice still is")

	// The calendar address: made on asking, it serves the feed; a new one
	// replaces it.
	require.Equal(t, "false", b.eval(`String(!!document.getElementById('calendar-url'))`))
	b.follow(chromedp.Click(`section form[action="/settings/notifications/calendar"] button`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Din kalenderadress är skapad.")
	feed := b.eval(`document.getElementById('calendar-url').value`)
	require.Regexp(t, `^`+regexp.QuoteMeta(env.App.Services.Notify.PublicURL+notify.CalendarPath)+`[0-9a-f]{48}\.ics$`, feed)
	feed = onTestPort(t, env, feed)
	code, body, header := fetch(t, feed)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, header.Get("Content-Type"), "text/calendar")
	cal, err := ical.NewDecoder(strings.NewReader(body)).Decode()
	require.NoError(t, err)
	require.NotEmpty(t, cal.Events(), "the official's deadlines")
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.screenshot("settings-sv")

	b.follow(chromedp.Click(`section form[action="/settings/notifications/calendar"] button`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Den gamla fungerar inte längre.")
	renewed := onTestPort(t, env, b.eval(`document.getElementById('calendar-url').value`))
	require.NotEqual(t, feed, renewed)
	code, _, _ = fetch(t, feed)
	require.Equal(t, http.StatusNotFound, code, "the old address is gone")
	code, _, _ = fetch(t, renewed)
	require.Equal(t, http.StatusOK, code)

	b.open("/lang/en?next=" + notify.SettingsPath)
	require.Equal(t, "Notification settings", b.eval(`document.querySelector('h1').innerText`))
	require.Contains(t, b.eval(`document.getElementById('legal-hint').innerText`), "cannot be turned off")
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	require.Empty(t, b.foreignRequests())
}

// List-Unsubscribe works: a reminder e-mail (as `make run` writes it to
// the mail folder) carries one-click unsubscribe (RFC 8058); a mail
// program's POST to its URL, without any sign-in, turns that person's
// reminders off; a wrong secret is not found and changes nothing; opening
// the URL only shows a button that does the same.
func TestOneClickUnsubscribeFromAReminder(t *testing.T) {
	dir := t.TempDir()
	env := startDemo(t, apptest.Options{DevPeople: demoPeople(), DataDir: dir})
	// The demo's follow-up reminds its reporters in February and March 2019.
	env.AdvanceTo(time.Date(2019, 3, 13, 10, 0, 0, 0, clock.Stockholm))
	env.WaitForJobs()
	ctx := context.Background()

	// A reminder the demo story sent, as written to the mail folder.
	files, err := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
	require.NoError(t, err)
	var link string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		m, err := netmail.ReadMessage(strings.NewReader(string(raw)))
		require.NoError(t, err)
		if m.Header.Get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click" {
			link = strings.Trim(m.Header.Get("List-Unsubscribe"), "<>")
			break
		}
	}
	require.NotEmpty(t, link, "the demo sends reminders, with one-click unsubscribe")
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(u.Path, notify.UnsubscribePrefix), u.Path)
	// The message names SAMVERKAN_PUBLIC_URL; the test's service listens
	// on a port of its own.
	link = env.URL + u.Path
	parts := strings.Split(strings.TrimPrefix(u.Path, notify.UnsubscribePrefix), "/")
	require.Len(t, parts, 2)
	deliveryID := uuid.MustParse(parts[0])
	var userID uuid.UUID
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT user_id FROM notification_deliveries WHERE id = $1`, deliveryID).Scan(&userID))
	reminders := func() bool {
		p, err := store.GetNotificationPreferences(ctx, env.App.DB.Pool, userID)
		require.NoError(t, err)
		return p.Reminders
	}
	require.True(t, reminders())
	oneClick := func(u string) int {
		resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	require.Equal(t, http.StatusNotFound, oneClick(env.URL+notify.UnsubscribePrefix+parts[0]+"/"+uuid.NewString()), "a wrong secret")
	require.True(t, reminders(), "nothing changed")

	// Opening the link shows the button, and changes nothing by itself.
	b := newBrowser(t, env.URL)
	b.open("/lang/sv?next=" + u.Path)
	require.Equal(t, "Sluta få påminnelser", b.eval(`document.querySelector('h1').innerText`))
	require.True(t, reminders(), "a GET does not unsubscribe")
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.screenshot("settings-unsubscribe-sv")

	// The mail program's POST, with no cookie and no CSRF token.
	require.Equal(t, http.StatusOK, oneClick(link))
	require.False(t, reminders(), "reminders are off")
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM history_events WHERE stream = $1 AND kind = 'notification_preferences_changed'`,
		"user:"+userID.String()).Scan(&n))
	require.Equal(t, 1, n, "recorded in the person's history")

	// The page's button does the same (again: it stays off).
	b.follow(chromedp.Click(`main form button`))
	require.Equal(t, "Påminnelserna är avstängda", b.eval(`document.querySelector('h1').innerText`))
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.open("/lang/en?next=" + u.Path)
	require.Equal(t, "Stop getting reminders", b.eval(`document.querySelector('h1').innerText`))
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	require.Empty(t, b.foreignRequests())
}

// Every link an e-mail or the calendar feed carries goes to a page the web
// serves: for each kind of case the demo story and an application notify
// people of, its recipient signs in and opens the message's link (not
// 404, not refused), and the same for the calendar feed's links, the
// settings page, the work queue and the register of partnerships.
func TestEveryMailLinkIsServed(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	id := applyForSigning(t, env, "Filipstads Läsecirkel", demo.Number(900))
	ctx := context.Background()
	// A reminder about the application to the Region's officials, and one
	// to its representative.
	for _, role := range []string{authz.RoleRegionOfficial, authz.RoleSectorRepresentative} {
		require.NoError(t, store.InsertNotification(ctx, env.App.DB.Pool, &store.Notification{DedupeKey: "test-" + role, InstanceID: &id,
			RecipientRole: role, Kind: "reminder", Subject: "Ansökan / The application", Body: "Ansökan väntar. / The application waits.",
			CreatedAt: env.Clock.Now()}))
	}
	env.WaitForJobs()

	// One delivery per kind of case and recipient, to a person who can sign
	// in here.
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT DISTINCT ON (coalesce(i.kind, ''), u.subject) d.id, u.subject
		FROM notification_deliveries d JOIN users u ON u.id = d.user_id
		JOIN notifications n ON n.id = d.notification_id LEFT JOIN workflow_instances i ON i.id = n.instance_id
		WHERE u.subject = ANY($1)
		ORDER BY coalesce(i.kind, ''), u.subject, d.created_at`, subjects(withRepresentative()))
	require.NoError(t, err)
	type link struct{ subject, path, kind string }
	var links []link
	pairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (link, error) {
		var id uuid.UUID
		var l link
		if err := r.Scan(&id, &l.subject); err != nil {
			return l, err
		}
		l.path = id.String()
		return l, nil
	})
	require.NoError(t, err)
	kinds := map[string]bool{}
	for _, p := range pairs {
		d, err := store.GetDelivery(ctx, env.App.DB.Pool, uuid.MustParse(p.path))
		require.NoError(t, err)
		links = append(links, link{subject: p.subject, path: notify.ActionPath(d), kind: d.InstanceKind})
		kinds[d.InstanceKind] = true
	}
	require.True(t, kinds["signing"] && kinds["annual_follow_up"], "the demo notifies of signing and follow-up cases: %v", kinds)

	b := newBrowser(t, env.URL)
	signedIn := ""
	for _, l := range links {
		if l.subject != signedIn {
			if signedIn != "" {
				b.follow(chromedp.Click(`form.sign-out button`))
			}
			b.signInAs(l.subject, "sv")
			signedIn = l.subject
		}
		require.Equal(t, http.StatusOK, b.status(l.path), "%s opens %s (%s)", l.subject, l.path, l.kind)
		for _, p := range []string{notify.SettingsPath, notify.TasksPath, notify.PartnershipsPath} {
			require.Equal(t, http.StatusOK, b.status(p), p)
		}
		// The calendar feed's links.
		feed, err := env.App.Services.Notify.CalendarURL(ctx, authz.Principal{UserID: userBySubject(t, env, l.subject)}, false)
		require.NoError(t, err)
		code, body, _ := fetch(t, onTestPort(t, env, feed))
		require.Equal(t, http.StatusOK, code)
		cal, err := ical.NewDecoder(strings.NewReader(body)).Decode()
		require.NoError(t, err)
		for _, ev := range cal.Events() {
			u, err := url.Parse(ev.Props.Get(ical.PropURL).Value)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, b.status(u.Path), "%s's calendar links to %s", l.subject, u.Path)
		}
	}
	require.Empty(t, b.foreignRequests())
}

// onTestPort is an address of SAMVERKAN_PUBLIC_URL on the test's service.
func onTestPort(t *testing.T, env *apptest.Env, public string) string {
	t.Helper()
	u, err := url.Parse(public)
	require.NoError(t, err)
	return env.URL + u.Path
}

func subjects(people []web.DevPerson) []string {
	var out []string
	for _, p := range people {
		out = append(out, p.Subject)
	}
	return out
}

func userBySubject(t *testing.T, env *apptest.Env, subject string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, env.App.DB.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE subject = $1`, subject).Scan(&id))
	return id
}
