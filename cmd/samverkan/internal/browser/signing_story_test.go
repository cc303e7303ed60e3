package browser_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/workflows"
)

// The whole signing story through the pages alone: a representative
// registers an organisation and asks to represent it, an official confirms
// that, the representative applies with the three criteria, the official
// starts the review (a stale form gets the CONFLICT message and changes
// nothing), approves with the criteria as a checklist (an unchecked one
// comes back at its box), the representative signs, and the organisation
// is on the public list and in the CSV. Every page passes axe-core.
// (A stale form: another official starts the review while the page is open.)
func TestSigningStoryThroughThePages(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	b := newBrowser(t, env.URL)
	fill := func(sel, v string) { require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v))) }
	click := func(sel string) { b.follow(chromedp.Click(sel)) }
	clean := func() {
		t.Helper()
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
	}
	h1 := func() string { return b.eval(`document.querySelector('h1').innerText`) }
	notice := func() string { return b.eval(`(document.querySelector('.notice') || {innerText: ''}).innerText`) }
	const name = "Filipstads Läsecirkel"

	// The representative registers the organisation.
	b.signInAs("rita", "sv")
	b.open("/organisations/new")
	fill(`#name`, name)
	fill(`#organisationNumber`, demo.Number(900))
	fill(`#legalForm`, "ideell_forening")
	fill(`#municipality`, "Filipstad")
	fill(`#contactEmail`, "kontakt@example.org")
	click(`form[action="/organisations"] button`)
	require.Equal(t, "/my-organisations", b.eval(`location.pathname`))
	require.Equal(t, "0", b.eval(`String(document.querySelectorAll('a[href$="/apply"]').length)`), "no application before the official confirms")
	click(`form.sign-out button`)

	// The official sees the request from "Att göra" and confirms it.
	b.signInAs("demo-official", "sv")
	b.open("/tasks")
	require.Equal(t, "1 begäranden om att företräda en organisation väntar på dig.", b.eval(`document.querySelector('a[href="/representation-requests"]').innerText`))
	click(`a[href="/representation-requests"]`)
	require.Equal(t, name, b.eval(`document.querySelector('section.request h2').innerText`))
	require.True(t, strings.HasPrefix(b.eval(`document.querySelector('section.request p').innerText`), "Rita Representant ber att få företräda organisationen"))
	clean()
	b.screenshot("representation-requests-sv")
	b.open("/lang/en?next=/representation-requests")
	require.Equal(t, "Requests to represent", h1())
	clean()
	b.open("/lang/sv?next=/representation-requests")
	click(`section.request form[action$="/confirm"] button`)
	require.Equal(t, "Begäran är bekräftad.", notice())
	require.Equal(t, "Inga begäranden väntar.", b.eval(`document.querySelector('main p.lead + p').innerText`))
	click(`form.sign-out button`)

	// The representative applies; the criteria are explained and required.
	b.signInAs("rita", "sv")
	b.open("/my-organisations")
	require.Contains(t, b.eval(`document.querySelector('table.table-claims tbody tr').innerText`), "Bekräftad")
	click(`a[href$="/apply"]`)
	require.Equal(t, "Ansök om att underteckna", h1())
	require.Contains(t, b.eval(`document.getElementById('independent-hint').innerText`), "Ingen kommun, region eller statlig myndighet styr organisationen")
	clean()
	b.screenshot("apply-sv")
	applyPath := b.eval(`location.pathname`)
	b.open("/lang/en?next=" + applyPath)
	require.Equal(t, "Apply to sign", h1())
	clean()
	b.open("/lang/sv?next=" + applyPath)
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#regionalPerspective`)))
	click(`form[action$="/apply"] button`)
	require.Equal(t, "#regionalPerspective", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Contains(t, b.eval(`document.getElementById('regionalPerspective-error').innerText`), "bekräfta alla tre")
	require.Equal(t, "true", b.eval(`String(document.getElementById('regionalPerspective').checked)`), "the input is kept")
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM workflow_instances w JOIN organisations o ON o.id = w.subject_id WHERE o.name = $1`, name))
	clean()
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#democraticValues`)))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#independent`)))
	click(`form[action$="/apply"] button`)
	require.True(t, strings.HasPrefix(b.eval(`location.pathname`), "/instances/"))
	application := b.eval(`location.pathname`)
	require.Equal(t, "Klart: ansökan är skickad.", notice())
	require.Equal(t, "träda ut", b.eval(`[...document.querySelectorAll('ul.actions li')].map(l => l.innerText).join('|')`),
		"the representative may only withdraw while it waits")
	clean()
	click(`form.sign-out button`)

	// The official reviews: a stale form is refused and changes nothing.
	b.signInAs("demo-official", "sv")
	b.open(application)
	require.Equal(t, "börja granska|avslå", b.eval(`[...document.querySelectorAll('ul.actions li')].map(l => l.innerText).join('|')`))
	// Meanwhile another official starts the review.
	other := env.NewUser("Olle Official", "region_official@region")
	instanceID := uuid.MustParse(strings.TrimPrefix(application, "/instances/"))
	_, err := env.App.Services.Signing.StartReview(t.Context(), authz.Principal{UserID: other.ID, Name: other.Name}, workflows.Step{ID: instanceID})
	require.NoError(t, err)
	version := env.Count(`SELECT version FROM workflow_instances WHERE id = $1`, instanceID)
	click(`form[action$="/start_review"] button`)
	require.Equal(t, "Någon annan har ändrat ärendet", h1())
	require.Contains(t, b.eval(`document.querySelector('main').innerText`), "Tillbaka till sidan du var på")
	clean()
	require.Equal(t, version, env.Count(`SELECT version FROM workflow_instances WHERE id = $1`, instanceID), "nothing changed")
	b.open(application)
	require.Equal(t, "under granskning", h1())
	// Rejecting needs a reason: without one it comes back at the field.
	b.open("/lang/en?next=" + application)
	require.Equal(t, "request more information|approve|reject", b.eval(`[...document.querySelectorAll('ul.actions li')].map(l => l.innerText).join('|')`))
	clean()
	click(`form[action$="/reject"] button`)
	require.Equal(t, "#reason-reject", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Equal(t, "true", b.eval(`document.getElementById('reason-reject').getAttribute('aria-invalid')`))
	require.Equal(t, version, env.Count(`SELECT version FROM workflow_instances WHERE id = $1`, instanceID), "nothing changed")
	clean()
	b.open("/lang/sv?next=" + application)
	// Approving with a criterion unchecked comes back at its box.
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#regionalPerspective-approve`)))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#democraticValues-approve`)))
	click(`form[action$="/approve"] button`)
	require.Equal(t, "#independent-approve", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Equal(t, "true", b.eval(`String(document.getElementById('democraticValues-approve').checked)`), "the input is kept")
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM workflow_instances WHERE id = $1 AND state = 'under_review'`, strings.TrimPrefix(application, "/instances/")))
	clean()
	b.screenshot("review-sv")
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#independent-approve`)))
	click(`form[action$="/approve"] button`)
	require.Equal(t, "Klart: godkänna.", notice())
	click(`form.sign-out button`)

	// The representative signs.
	b.signInAs("rita", "en")
	b.open(application)
	click(`form[action$="/sign"] button`)
	require.Contains(t, notice(), "Done:")
	clean()
	click(`form.sign-out button`)

	b.open("/signatories?q=Läsecirkel")
	require.Contains(t, b.eval(`document.querySelector('table tbody').innerText`), name)
	_, csv, _ := fetch(t, env.URL+"/signatories.csv")
	require.Contains(t, csv, name)
	require.Empty(t, b.foreignRequests())
}
