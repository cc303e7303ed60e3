package browser_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/web"
	"github.com/samverkan/samverkan/workflows"
)

// withRepresentative is the demo people and a person who represents no
// organisation yet.
func withRepresentative() []web.DevPerson {
	return append(demoPeople(), web.DevPerson{Subject: "rita", Name: "Rita Representant", Role: "sector_representative"})
}

// A representative registers an organisation through the form: bad input
// comes back with the error summary linking to the field, the message at
// the field in the page's language, the input kept and nothing saved; good
// input registers it and the request to represent it waits for an
// official. Every page passes axe-core in both languages.
func TestRepresentativeRegistersAnOrganisation(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	b := newBrowser(t, env.URL)
	orgs := env.Count(`SELECT count(*) FROM organisations`)

	for _, lang := range []string{"en", "sv"} {
		b.signInAs("rita", lang)
		b.open("/my-organisations")
		require.Equal(t, map[string]string{"sv": "Mina organisationer", "en": "My organisations"}[lang], b.eval(`document.querySelector('h1').innerText`))
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
		b.follow(chromedp.Click(`a[href="/organisations/new"]`))
		res = b.axe()
		require.Empty(t, res.Violations, summary(res))

		fill := func(sel, v string) {
			require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v)))
		}
		fill(`#name`, "Filipstads Läsecirkel")
		fill(`#organisationNumber`, "802900-9006")
		fill(`#legalForm`, "ideell_forening")
		fill(`#municipality`, "Filipstad")
		fill(`#contactEmail`, "kontakt@example.org")
		fill(`#description`, "Vi läser tillsammans.")
		b.follow(chromedp.Click(`form[action="/organisations"] button`))
		require.Equal(t, "#organisationNumber", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
		want := map[string]string{"sv": "Kontrollsiffran i 802900-9006 stämmer inte", "en": "The check digit of 802900-9006 is wrong"}[lang]
		require.Contains(t, b.eval(`document.getElementById('organisationNumber-error').innerText`), want)
		require.Equal(t, "true", b.eval(`document.getElementById('organisationNumber').getAttribute('aria-invalid')`))
		require.Equal(t, "Filipstads Läsecirkel", b.eval(`document.getElementById('name').value`), "the input is kept")
		require.Equal(t, "ideell_forening", b.eval(`document.getElementById('legalForm').value`))
		require.Equal(t, "Vi läser tillsammans.", b.eval(`document.getElementById('description').value`))
		require.Equal(t, orgs, env.Count(`SELECT count(*) FROM organisations`), "nothing is saved")
		res = b.axe()
		require.Empty(t, res.Violations, summary(res))
		if lang == "sv" {
			b.screenshot("register-organisation-error-sv")
		}

		fill(`#organisationNumber`, demo.Number(900))
		fill(`#contactEmail`, "inte en adress")
		b.follow(chromedp.Click(`form[action="/organisations"] button`))
		require.Equal(t, "#contactEmail", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
		require.Equal(t, orgs, env.Count(`SELECT count(*) FROM organisations`), "nothing is saved")
		b.follow(chromedp.Click(`form.sign-out button`))
	}

	// Swedish, good input: registered, and the request waits.
	fill := func(sel, v string) { require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v))) }
	b.signInAs("rita", "sv")
	b.open("/organisations/new")
	fill(`#name`, "Filipstads Läsecirkel")
	fill(`#organisationNumber`, demo.Number(900))
	fill(`#legalForm`, "ideell_forening")
	fill(`#municipality`, "Filipstad")
	fill(`#contactEmail`, "kontakt@example.org")
	b.follow(chromedp.Click(`form[action="/organisations"] button`))
	require.Equal(t, "/my-organisations", b.eval(`location.pathname`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Filipstads Läsecirkel är registrerad.")
	require.Equal(t, "Filipstads Läsecirkel\tVäntar på bekräftelse", b.eval(`(r => r.cells[0].innerText + '\t' + r.cells[2].innerText)(document.querySelector('table.table-claims tbody tr'))`))
	require.Equal(t, orgs+1, env.Count(`SELECT count(*) FROM organisations`))
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.screenshot("my-organisations-sv")
	require.Empty(t, b.foreignRequests())
}

// Following an application: the representative sees the official's request
// for information in the history, answers it with a comment, and withdraws
// the application, which needs a reason (without one it comes back at the
// field, the comment kept out of it and nothing changed).
func TestRepresentativeAnswersAndWithdrawsAnApplication(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	id := applyForSigning(t, env, "Filipstads Läsecirkel", demo.Number(900))
	ctx := t.Context()
	officialID, err := env.App.EnsureUser(ctx, "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	official := authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}
	_, err = env.App.Services.Signing.StartReview(ctx, official, workflows.Step{ID: id})
	require.NoError(t, err)
	_, err = env.App.Services.Signing.RequestInformation(ctx, official, workflows.Step{ID: id, Reason: "Skicka er senaste verksamhetsberättelse."})
	require.NoError(t, err)
	state := func() string {
		var s string
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT state FROM workflow_instances WHERE id = $1`, id).Scan(&s))
		return s
	}

	b := newBrowser(t, env.URL)
	b.signInAs("rita", "sv")
	b.open("/my-organisations")
	b.follow(chromedp.Click(`a[href="/instances/` + id.String() + `"]`))
	actions := b.eval(`[...document.querySelectorAll('ul.actions li')].map(l => l.innerText).join('|')`)
	require.Contains(t, actions, "komplettera")
	require.Contains(t, b.eval(`document.querySelector('main table').innerText`), "Skicka er senaste verksamhetsberättelse.")
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))

	require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#reason-provide_information`, "Den finns på vår webbplats.")))
	b.follow(chromedp.Click(`form[action$="/provide_information"] button`))
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), "Klart:")
	require.Equal(t, "under_review", state())

	b.follow(chromedp.Click(`form[action$="/withdraw"] button`))
	require.Equal(t, "#reason-withdraw", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Equal(t, "under_review", state(), "nothing changed")
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(`#reason-withdraw`, "Styrelsen vill vänta ett år.")))
	b.follow(chromedp.Click(`form[action$="/withdraw"] button`))
	require.Equal(t, "withdrawn", state())
	require.Contains(t, b.eval(`document.querySelector('main table').innerText`), "Styrelsen vill vänta ett år.")
	require.Empty(t, b.foreignRequests())
}
