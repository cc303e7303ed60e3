package browser_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/signing"
)

// An official plans a signing ceremony through the pages, reached from
// "Att göra": a date not written ÅÅÅÅ-MM-DD comes back at its field with
// the input kept and nothing saved; then the ceremony is planned and
// listed. On an approved application's page the official attaches it to
// the ceremony (no choice comes back at the radio buttons), and the page
// shows the ceremony it waits for. Every page passes axe-core.
func TestOfficialPlansACeremonyAndAttachesAnApplication(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	id := applyForSigning(t, env, "Filipstads Läsecirkel", demo.Number(900))
	ctx := context.Background()
	officialID, err := env.App.EnsureUser(ctx, "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	official := authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}
	_, err = env.App.Services.Signing.StartReview(ctx, official, workflows.Step{ID: id})
	require.NoError(t, err)
	_, err = env.App.Services.Signing.Approve(ctx, official, workflows.Step{ID: id},
		signing.Eligibility{RegionalPerspective: true, DemocraticValues: true, Independent: true})
	require.NoError(t, err)
	env.WaitForJobs()

	b := newBrowser(t, env.URL)
	fill := func(sel, v string) { require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v))) }
	click := func(sel string) { b.follow(chromedp.Click(sel)) }
	clean := func() {
		t.Helper()
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
	}
	text := func(sel string) string {
		return b.eval(`(document.querySelector('` + sel + `') || {innerText: ''}).innerText`)
	}
	planned := `SELECT count(*) FROM ceremonies WHERE status = 'planned'`
	before := env.Count(planned)

	b.signInAs("demo-official", "sv")
	b.open("/tasks")
	click(`a[href="/ceremonies"]`)
	require.Equal(t, "Signeringsceremonier", text(`h1`))
	clean()

	// A date not written ÅÅÅÅ-MM-DD: kept, a message at the field, nothing saved.
	day := env.Clock.Now().AddDate(0, 2, 0).Format(time.DateOnly)
	fill(`#title`, "Vårens signeringsceremoni")
	fill(`#heldOn`, "15 mars")
	fill(`#place`, "Filipstad")
	click(`form[action="/ceremonies"] button`)
	require.Equal(t, "Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2027-03-15.", b.eval(`document.querySelector('#heldOn-error').innerText.replace(/^Fel:\s*/, '').trim()`))
	require.Equal(t, "15 mars", b.eval(`document.querySelector('#heldOn').value`))
	require.Equal(t, "Vårens signeringsceremoni", b.eval(`document.querySelector('#title').value`))
	require.Equal(t, "#heldOn", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Equal(t, before, env.Count(planned), "nothing saved")
	clean()

	fill(`#heldOn`, day)
	click(`form[action="/ceremonies"] button`)
	require.Equal(t, "Ceremonin är planerad.", text(`.notice`))
	require.Equal(t, before+1, env.Count(planned))
	require.Contains(t, b.eval(`[...document.querySelectorAll('.table-ceremonies td')].map(td => td.innerText).join('|')`), "Vårens signeringsceremoni|Filipstad")
	clean()
	b.screenshot("ceremony-sv")

	// The approved application's page: attaching without a choice comes back.
	b.open("/instances/" + id.String())
	require.Equal(t, "1", b.eval(`String(document.querySelectorAll('form[action$="/attach_to_ceremony"]').length)`))
	clean()
	click(`form[action$="/attach_to_ceremony"] button`)
	require.NotEmpty(t, text(`#ceremonyId-attach_to_ceremony-error`))
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM workflow_instances WHERE id = $1 AND state = 'approved'`, id), "nothing changed")
	clean()

	// Choose the new ceremony by its label and attach.
	require.Equal(t, "checked", b.eval(`(() => {
		const l = [...document.querySelectorAll('form[action$="/attach_to_ceremony"] label')].find(l => l.innerText.startsWith('Vårens signeringsceremoni'));
		document.getElementById(l.htmlFor).checked = true; return 'checked'; })()`))
	click(`form[action$="/attach_to_ceremony"] button`)
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM workflow_instances WHERE id = $1 AND state = 'awaiting_ceremony'`, id))
	require.Contains(t, text(`dd.ceremony`), "Vårens signeringsceremoni")
	require.Contains(t, text(`dd.ceremony`), "Filipstad")
	clean()

	// The same pages in English pass axe-core too.
	b.open("/lang/en?next=/ceremonies")
	require.Equal(t, "Signing ceremonies", text(`h1`))
	clean()
}
