package e2e_test

import (
	"io"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
)

// Without an SMTP server (make run), the demo story's notices are written
// as .eml files under the data directory's mail folder: the council's two
// members are reminded of the 2018 follow-up's report deadline, and the
// official told that it passed.
func TestDemoNoticesWrittenAsEml(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	loaded, err := seed(env)
	require.NoError(t, err)
	require.True(t, loaded)
	env.Clock.AdvanceTo(time.Date(2019, 3, 13, 9, 0, 0, 0, clock.Stockholm))
	require.Empty(t, jobstest.RunDue(t, env.DB.Pool, env.App.River, env.Clock.Now(), 30*time.Second))

	files, err := filepath.Glob(filepath.Join(env.App.DataDir(), "mail", "*.eml"))
	require.NoError(t, err)
	require.Len(t, files, 3)
	var to []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		m, err := mail.ReadMessage(strings.NewReader(string(b)))
		require.NoError(t, err)
		addr, err := mail.ParseAddress(m.Header.Get("To"))
		require.NoError(t, err)
		to = append(to, addr.Address)
		require.Equal(t, "<"+strings.TrimSuffix(filepath.Base(f), ".eml")+"@samverkan.invalid>", m.Header.Get("Message-Id"))
		require.True(t, strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative"))
	}
	require.ElementsMatch(t, []string{"demo-council-region@example.org", "demo-council-sector@example.org", "demo-official@example.org"}, to)
}

// Preferences, the calendar feed and failed deliveries through GraphQL and
// HTTP, each through the policy point.
func TestNotificationAPI(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.PublicURL = "http://samverkan.test" }})
	admin := env.NewUser("Ada Admin", "admin@*")
	anna := env.NewUser("Anna Andersson")

	const prefs = `{ notificationPreferences { reminders weeklyDigest } }`
	var p struct {
		NotificationPreferences struct{ Reminders, WeeklyDigest bool }
	}
	env.MustDo(anna, prefs, nil, &p)
	require.True(t, p.NotificationPreferences.Reminders, "reminders are on by default")
	env.MustFail(nil, "UNAUTHENTICATED", prefs, nil)
	env.MustDo(anna, `mutation { setNotificationPreferences(input: {reminders: false, weeklyDigest: false}) { preferences { reminders } } }`, nil, nil)
	env.MustDo(anna, prefs, nil, &p)
	require.False(t, p.NotificationPreferences.Reminders)
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM history_events WHERE kind = 'notification_preferences_changed'`))

	var c struct{ CalendarURL struct{ URL string } }
	env.MustDo(anna, `mutation { calendarUrl(input: {}) { url } }`, nil, &c)
	path, ok := strings.CutPrefix(c.CalendarURL.URL, "http://samverkan.test/kalender/")
	require.True(t, ok, c.CalendarURL.URL)
	resp, err := http.Get(env.URL + "/kalender/" + path)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cal, err := ical.NewDecoder(strings.NewReader(string(body))).Decode()
	require.NoError(t, err)
	require.Empty(t, cal.Events(), "no roles, no deadlines")
	resp, err = http.Get(env.URL + "/kalender/" + strings.Repeat("a", 48) + ".ics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	const failed = `{ failedDeliveries { id address answer } }`
	env.MustFail(anna, "FORBIDDEN", failed, nil)
	var f struct{ FailedDeliveries []struct{ ID string } }
	env.MustDo(admin, failed, nil, &f)
	require.Empty(t, f.FailedDeliveries)
	env.MustFail(admin, "BAD_INPUT", `mutation { resendDelivery(input: {deliveryId: "nonsense"}) { deliveryId } }`, nil)
}
