package browser_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/web"
)

// withNewcomer is the demo people, rita (withRepresentative) and a new
// official who holds no role yet.
func withNewcomer() []web.DevPerson {
	return append(withRepresentative(), web.DevPerson{Subject: "nils", Name: "Nils Nyanställd", Role: "region_official"})
}

// An admin finds a person by name, gives them a role with its scope and
// takes it away again, through the pages alone: a form without the scope
// the role needs comes back with the input kept, the message at the field
// and nothing saved; once given, the person sees the action the role
// brings (reviewing an application); once revoked, no longer. The admin
// link is shown only to those the policy lets use it; the pages pass
// axe-core in both languages.
func TestAdminAssignsAndRevokesARole(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withNewcomer()})
	id := applyForSigning(t, env, "Filipstads Läsecirkel", demo.Number(900))
	ctx := context.Background()
	nilsID, err := env.App.EnsureUser(ctx, "nils", "Nils Nyanställd")
	require.NoError(t, err)
	roles := func() int {
		return env.Count(`SELECT count(*) FROM casbin_rule WHERE ptype = 'g' AND v0 = $1`, "user:"+nilsID.String())
	}
	b := newBrowser(t, env.URL)

	// Nils has no role: the application is not his to review, and there
	// is no admin link for him; the admin page refuses him.
	queue := func() string {
		b.open("/tasks")
		return b.eval(`document.querySelector('main').innerText`)
	}
	b.signInAs("nils", "sv")
	require.NotContains(t, queue(), "Filipstads Läsecirkel")
	require.Equal(t, "false", b.eval(`String(!!document.querySelector('nav a[href^="/admin"]'))`))
	b.open("/admin/people")
	require.Equal(t, "Det gick inte att utföra", b.eval(`document.querySelector('h1').innerText`))
	b.follow(chromedp.Click(`form.sign-out button`))

	for _, lang := range []string{"en", "sv"} {
		b.signInAs("demo-admin", lang)
		b.follow(chromedp.Click(`nav a[href="/admin/people"]`))
		require.Equal(t, map[string]string{"sv": "Personer och roller", "en": "People and roles"}[lang], b.eval(`document.querySelector('h1').innerText`))
		require.Equal(t, "page", b.eval(`document.querySelector('nav.site-nav a[href="/admin/people"]').getAttribute('aria-current')`))
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))

		require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#q`, "nyanst")))
		b.follow(chromedp.Click(`form[action="/admin/people"] button`))
		require.Equal(t, "Nils Nyanställd", b.eval(`[...document.querySelectorAll('table.table-people tbody tr')].map(r => r.cells[0].innerText).join('|')`),
			"the search by part of the name finds him alone")
		res = b.axe()
		require.Empty(t, res.Violations, summary(res))
		if lang == "sv" {
			b.screenshot("admin-people-sv")
		}
		b.follow(chromedp.Click(`table.table-people a`))
		require.Equal(t, "/admin/people/"+nilsID.String(), b.eval(`location.pathname`))
		require.Equal(t, "Nils Nyanställd", b.eval(`document.querySelector('h1').innerText`))
		require.Equal(t, "0", b.eval(`String(document.querySelectorAll('table.table-roles tbody tr').length)`))
		res = b.axe()
		require.Empty(t, res.Violations, summary(res))

		// A representative's role without the organisation it holds in.
		require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#role`, "sector_representative")))
		require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#scope-org`)))
		b.follow(chromedp.Click(`form[action$="/roles"] button`))
		require.Equal(t, "#organisation", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
		require.Contains(t, b.eval(`document.getElementById('organisation-error').innerText`),
			map[string]string{"sv": "Ange organisationens organisationsnummer eller namn.", "en": "Give the organisation's number or name."}[lang])
		require.Equal(t, "true", b.eval(`document.getElementById('organisation').getAttribute('aria-invalid')`))
		require.Equal(t, "sector_representative", b.eval(`document.getElementById('role').value`), "the input is kept")
		require.Equal(t, "true", b.eval(`String(document.getElementById('scope-org').checked)`))
		require.Zero(t, roles(), "nothing is saved")
		res = b.axe()
		require.Empty(t, res.Violations, summary(res))
		if lang == "sv" {
			b.screenshot("admin-person-error-sv")
		}

		// An official's role and no scope at all; then the wrong one.
		require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#role`, "region_official")))
		require.NoError(t, chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('input[name=scope]').forEach(i => i.checked = false)`)))
		b.follow(chromedp.Click(`form[action$="/roles"] button`))
		require.Equal(t, "#scope-region", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
		require.Contains(t, b.eval(`document.getElementById('scope-error').innerText`),
			map[string]string{"sv": "Välj var rollen gäller.", "en": "Choose where the role holds."}[lang])
		require.Equal(t, "region_official", b.eval(`document.getElementById('role').value`))
		require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#scope-sector`)))
		b.follow(chromedp.Click(`form[action$="/roles"] button`))
		require.Equal(t, "#scope-region", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
		require.Contains(t, b.eval(`document.getElementById('scope-error').innerText`),
			map[string]string{"sv": "Rollen region_official kan inte gälla \"sector\"", "en": "The role region_official cannot hold in scope \"sector\""}[lang],
			"the role service's own message, in the page's language")
		require.Equal(t, "true", b.eval(`String(document.getElementById('scope-sector').checked)`))
		require.Zero(t, roles(), "nothing is saved")
		res = b.axe()
		require.Empty(t, res.Violations, summary(res))
		b.follow(chromedp.Click(`form.sign-out button`))
	}

	// The admin gives Nils the official's role in the Region.
	b.signInAs("demo-admin", "sv")
	b.open("/admin/people/" + nilsID.String())
	require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#role`, "region_official")))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#scope-region`)))
	b.follow(chromedp.Click(`form[action$="/roles"] button`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Rollen är given.")
	require.Equal(t, "tjänsteperson i regionen\tRegion Värmland", b.eval(`(r => r.cells[0].innerText + '\t' + r.cells[1].innerText)(document.querySelector('table.table-roles tbody tr'))`))
	require.Equal(t, 1, roles())
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM history_events WHERE kind = 'role_assigned' AND input->>'userId' = $1`, nilsID.String()),
		"recorded in the history")
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.screenshot("admin-person-sv")

	// A role in one organisation, found by its organisation number.
	require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#role`, "sector_representative")))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#scope-org`)))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#organisation`, demo.Number(900))))
	b.follow(chromedp.Click(`form[action$="/roles"] button`))
	require.Contains(t, b.eval(`document.querySelector('table.table-roles').innerText`), "Filipstads Läsecirkel")
	require.Equal(t, 2, roles())
	b.follow(chromedp.Click(`form.sign-out button`))

	// Nils now sees the application and may start its review.
	b.signInAs("nils", "sv")
	require.Contains(t, queue(), "Filipstads Läsecirkel")
	b.open("/instances/" + id.String())
	require.Contains(t, b.eval(`[...document.querySelectorAll('ul.actions li')].map(l => l.innerText).join('|')`), "börja granska")
	b.follow(chromedp.Click(`form.sign-out button`))

	// The admin revokes both roles; Nils no longer sees the application.
	b.signInAs("demo-admin", "sv")
	b.open("/admin/people/" + nilsID.String())
	for range 2 {
		b.follow(chromedp.Click(`table.table-roles form button`))
		require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Rollen är borttagen.")
	}
	require.Zero(t, roles())
	require.Equal(t, "0", b.eval(`String(document.querySelectorAll('table.table-roles tbody tr').length)`))
	b.follow(chromedp.Click(`form.sign-out button`))
	b.signInAs("nils", "sv")
	require.NotContains(t, queue(), "Filipstads Läsecirkel")
	require.Empty(t, b.foreignRequests())
}

// Failed deliveries: the admin sees each e-mail refused for good with the
// server's answer and sends it again (it is pending once more, with a new
// job, and recorded); someone else is refused the page and sees no link.
func TestAdminResendsAFailedDelivery(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: demoPeople()})
	env.WaitForJobs()
	ctx := context.Background()
	var id uuid.UUID
	var address string
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `UPDATE notification_deliveries SET state = 'failed', failed_at = now(),
			last_error = '550 5.1.1 <nobody@example.org>: no such user', attempts = 1
		WHERE id = (SELECT id FROM notification_deliveries ORDER BY created_at, id LIMIT 1) RETURNING id, address`).Scan(&id, &address))

	b := newBrowser(t, env.URL)
	b.signInAs("demo-official", "sv")
	require.Equal(t, "false", b.eval(`String(!!document.querySelector('nav a[href^="/admin"]'))`))
	b.open("/admin/deliveries")
	require.Equal(t, "Det gick inte att utföra", b.eval(`document.querySelector('h1').innerText`))
	b.follow(chromedp.Click(`form.sign-out button`))

	for _, lang := range []string{"en", "sv"} {
		b.signInAs("demo-admin", lang)
		b.open("/admin/people")
		b.follow(chromedp.Click(`nav.admin-tabs a[href="/admin/deliveries"]`))
		require.Equal(t, map[string]string{"sv": "Misslyckade utskick", "en": "Failed deliveries"}[lang], b.eval(`document.querySelector('h1').innerText`))
		rows := b.eval(`[...document.querySelectorAll('table.table-deliveries tbody tr')].map(r => r.innerText).join('\n')`)
		require.Contains(t, rows, address)
		require.Contains(t, rows, "550 5.1.1 <nobody@example.org>: no such user")
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
		if lang == "sv" {
			b.screenshot("admin-deliveries-sv")
		}
		b.follow(chromedp.Click(`form.sign-out button`))
	}
	b.signInAs("demo-admin", "sv")
	b.open("/admin/deliveries")
	b.follow(chromedp.Click(`form[action="/admin/deliveries/` + id.String() + `/resend"] button`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Utskicket till "+address+" skickas igen.")
	require.Zero(t, env.Count(`SELECT count(*) FROM notification_deliveries WHERE id = $1 AND state = 'failed'`, id))
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM history_events WHERE kind = 'delivery_resent' AND input->>'deliveryId' = $1`, id.String()))
	require.Equal(t, "false", b.eval(`String(!!document.querySelector('table.table-deliveries'))`), "no longer listed as failed")
	require.Contains(t, b.eval(`document.querySelector('main').innerText`), "Inga misslyckade utskick.")
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))
	require.Empty(t, b.foreignRequests())
}
