package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
)

// A signed-in person who represents nobody finds an organisation already
// registered by part of its name and asks to represent it: an empty search
// explains itself at the field, a second request and a request from an
// official (public side) come back with the domain's message in the page's
// language and nothing saved. An official confirms at
// /representation-requests, and the person then has the organisation under
// "Mina organisationer" with its actions. axe-core passes on every page in
// both languages.
func TestAskToRepresentAnOrganisationAlreadyRegistered(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	b := newBrowser(t, env.URL)
	claims := func() int { return env.Count(`SELECT count(*) FROM representation_claims`) }
	before := claims()
	axe := func() {
		t.Helper()
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
	}
	rowText := `[...document.querySelectorAll('table.table-find tbody tr')].map(r => r.cells[0].innerText).join('|')`

	// English: the links, the empty search, the results.
	b.signInAs("rita", "en")
	b.open("/organisations/new")
	require.Contains(t, b.eval(`document.querySelector('main a[href="/organisations/find"]').innerText`), "Ask to represent it")
	b.open("/my-organisations")
	b.follow(chromedp.Click(`main a[href="/organisations/find"]`))
	require.Equal(t, "Ask to represent an organisation", b.eval(`document.querySelector('h1').innerText`))
	axe()
	b.follow(chromedp.Click(`form[action="/organisations/find"] button`))
	require.Equal(t, "#q", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Contains(t, b.eval(`document.getElementById('q-error').innerText`), "Type part of the organisation's name")
	axe()
	require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#q`, "solros")))
	b.follow(chromedp.Click(`form[action="/organisations/find"] button`))
	require.Equal(t, "Föreningen Solrosen", b.eval(rowText))
	axe()
	b.open("/organisations/find?q=8029000018")
	require.Equal(t, "Föreningen Solrosen", b.eval(rowText), "found by its organisation number")
	b.follow(chromedp.Click(`form.sign-out button`))

	// Swedish: ask, see the pending request.
	b.signInAs("rita", "sv")
	b.open("/my-organisations")
	b.follow(chromedp.Click(`main a[href="/organisations/find"]`))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#q`, "Solros")))
	b.follow(chromedp.Click(`form[action="/organisations/find"] button`))
	require.Equal(t, "Föreningen Solrosen", b.eval(rowText))
	require.Equal(t, "Be att få företräda – Föreningen Solrosen", b.eval(`document.querySelector('table.table-find tbody button').textContent`))
	axe()
	b.screenshot("claim-sv")
	b.follow(chromedp.Click(`table.table-find tbody button`))
	require.Equal(t, "/my-organisations", b.eval(`location.pathname`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Du har bett att få företräda Föreningen Solrosen.")
	require.Equal(t, "Föreningen Solrosen\tVäntar på bekräftelse", b.eval(`(r => r.cells[0].innerText + '\t' + r.cells[2].innerText)(document.querySelector('table.table-claims tbody tr'))`))
	axe()
	require.Equal(t, before+1, claims())

	// A second request for the same organisation: the domain's message at
	// the organisation's row, nothing saved.
	b.open("/organisations/find?q=Solrosen")
	b.follow(chromedp.Click(`table.table-find tbody button`))
	require.Equal(t, "Be att få företräda en organisation", b.eval(`document.querySelector('h1').innerText`))
	require.Contains(t, b.eval(`document.querySelector('.error-summary').innerText`), "Du har redan bett om att få företräda organisationen")
	require.Contains(t, b.eval(`document.querySelector('table.table-find .error-message').innerText`), "Du har redan bett om")
	require.Equal(t, "Föreningen Solrosen", b.eval(rowText), "the search is kept")
	axe()
	require.Equal(t, before+1, claims(), "nothing is saved")
	b.follow(chromedp.Click(`form.sign-out button`))

	// An official (public side) is refused, in English, nothing saved.
	b.signInAs("demo-official", "en")
	b.open("/organisations/find?q=Solrosen")
	b.follow(chromedp.Click(`table.table-find tbody button`))
	require.Contains(t, b.eval(`document.querySelector('.error-summary').innerText`), "Someone with a role on the public side does not represent an idea-based organisation")
	axe()
	require.Equal(t, before+1, claims(), "nothing is saved")

	// The official confirms rita's request.
	b.open("/lang/sv?next=/representation-requests")
	var claimID string
	require.NoError(t, env.DB.Pool.QueryRow(t.Context(), `SELECT c.id::text FROM representation_claims c JOIN organisations o ON o.id = c.organisation_id
		JOIN users u ON u.id = c.user_id WHERE o.name = 'Föreningen Solrosen' AND u.name = 'Rita Representant' AND c.status = 'requested'`).Scan(&claimID))
	b.follow(chromedp.Click(`form[action="/representation-requests/` + claimID + `/confirm"] button`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Begäran är bekräftad.")
	b.follow(chromedp.Click(`form.sign-out button`))

	// Rita now represents it: confirmed, with its actions.
	b.signInAs("rita", "sv")
	b.open("/my-organisations")
	require.Equal(t, "Föreningen Solrosen\tBekräftad", b.eval(`(r => r.cells[0].innerText + '\t' + r.cells[2].innerText)(document.querySelector('table.table-claims tbody tr'))`))
	require.Equal(t, "1", b.eval(`String(document.querySelectorAll('table.table-claims a[href$="/apply"]').length)`))
	axe()
	b.follow(chromedp.Click(`table.table-claims a[href$="/apply"]`))
	require.Contains(t, b.eval(`location.pathname`), "/apply")
	require.Contains(t, b.eval(`document.querySelector('main').innerText`), "Föreningen Solrosen")
	require.Empty(t, b.foreignRequests())
}
