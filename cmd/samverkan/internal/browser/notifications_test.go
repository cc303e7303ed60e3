package browser_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
)

// My notifications: the list marks the unread ones; opening one shows it
// and marks it read in the database; another person's notification is not
// found; both pages pass axe-core in both languages.
func TestNotificationsAreMarkedReadWhenOpened(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: demoPeople()})
	applyForSigning(t, env, "Filipstads Läsecirkel", demo.Number(900))
	env.WaitForJobs()
	const official = `FROM notification_deliveries d JOIN users u ON u.id = d.user_id WHERE u.subject = 'demo-official'`
	unread := env.Count(`SELECT count(*) ` + official + ` AND d.read_at IS NULL`)
	require.Positive(t, unread, "the demo has delivered the official a notification")

	b := newBrowser(t, env.URL)
	b.open("/notifications")
	require.Equal(t, "/sign-in", b.eval(`location.pathname`), "a visitor signs in first")

	b.signInAs("demo-official", "sv")
	b.open("/notifications")
	require.Equal(t, "Mina meddelanden", b.eval(`document.querySelector('h1').innerText`))
	require.Equal(t, "Olästa: "+itoa(unread), b.eval(`document.querySelector('p.lead').innerText`))
	require.Equal(t, itoa(unread), b.eval(`String(document.querySelectorAll('.notification-list li.unread').length)`))
	require.True(t, strings.HasPrefix(b.eval(`document.querySelector('.notification-list li.unread a').innerText`), "Oläst"),
		"unread is said in words, not only by colour")
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.screenshot("notifications-sv")

	subject := b.eval(`document.querySelector('.notification-list li.unread a').innerText.replace(/^Oläst\s*/, '')`)
	b.follow(chromedp.Click(`.notification-list li.unread a`))
	path := b.eval(`location.pathname`)
	require.True(t, strings.HasPrefix(path, "/notifications/"), path)
	require.Equal(t, subject, b.eval(`document.querySelector('h1').innerText`))
	require.Equal(t, unread-1, env.Count(`SELECT count(*) `+official+` AND d.read_at IS NULL`), "opening it marked it read")
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.screenshot("notification-sv")

	b.open("/lang/en?next=/notifications")
	require.Equal(t, "My notifications", b.eval(`document.querySelector('h1').innerText`))
	require.Equal(t, "Unread: "+itoa(unread-1), b.eval(`document.querySelector('p.lead').innerText`))
	require.Equal(t, itoa(unread-1), b.eval(`String(document.querySelectorAll('.notification-list li.unread').length)`))
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.open(path)
	require.Equal(t, subject, b.eval(`document.querySelector('h1').innerText`))
	require.Equal(t, unread-1, env.Count(`SELECT count(*) `+official+` AND d.read_at IS NULL`), "a second opening changes nothing")
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.follow(chromedp.Click(`form.sign-out button`))

	// Somebody else's notification is not found, as one that does not exist.
	b.signInAs("demo-admin", "sv")
	b.open(path)
	require.Equal(t, "Sidan finns inte", b.eval(`document.querySelector('h1').innerText`))
	require.Empty(t, b.foreignRequests())
}

func itoa(n int) string { return strconv.Itoa(n) }
