package browser_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/workflows/signing"
)

// signInAs signs the browser in as a demo person through the dev sign-in
// form, in the language asked for.
func (b *browser) signInAs(subject, lang string) {
	b.t.Helper()
	b.open("/lang/" + lang + "?next=/sign-in")
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Click(`#person-`+subject)))
	b.follow(chromedp.Click(`form[action="/sign-in/dev"] button`))
}

// applyForSigning registers a new organisation, represented by rita (see
// withRepresentative), whose application waits for the Region's official:
// it is in the official's work queue.
func applyForSigning(t *testing.T, env *apptest.Env, name, number string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	svc := env.App.Services
	repID, err := env.App.EnsureUser(ctx, "rita", "Rita Representant")
	require.NoError(t, err)
	rep := authz.Principal{UserID: repID, Name: "Rita Representant"}
	officialID, err := env.App.EnsureUser(ctx, "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	official := authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}
	o, claim, err := svc.Registry.RegisterOrganisation(ctx, rep, registry.OrganisationInput{Name: name, OrganisationNumber: number,
		LegalForm: "ideell_forening", Sector: registry.SectorIdeaBased, Municipality: "Filipstad",
		Description: "En förening i Filipstad.", ContactEmail: "kontakt@example.org"})
	require.NoError(t, err)
	_, err = svc.Registry.ConfirmRepresentation(ctx, official, claim.ID, "")
	require.NoError(t, err)
	versions, err := svc.Registry.CurrentVersions(ctx)
	require.NoError(t, err)
	in, err := svc.Signing.Apply(ctx, rep, o.ID, versions[0].ID, signing.Declarations{RegionalPerspective: true, DemocraticValues: true, Independent: true})
	require.NoError(t, err)
	return in.ID
}

// "Att göra": the official's work queue lists the application that waits
// for a review, links to its page, and that page shows its state, its
// history and the actions the engine offers the official; both pages pass
// axe-core in both languages. A visitor is sent to sign in.
func TestTasksPageListsWhatWaitsForTheViewer(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: demoPeople()})
	id := applyForSigning(t, env, "Filipstads Läsecirkel", demo.Number(900))
	env.WaitForJobs()

	// An action's POST without the session's CSRF token is refused.
	resp, err := http.PostForm(env.URL+"/instances/"+id.String()+"/start_review", url.Values{"expectedVersion": {"1"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM workflow_instances WHERE id = $1 AND state = 'applied'`, id))

	b := newBrowser(t, env.URL)
	b.open("/tasks")
	require.Equal(t, "/sign-in", b.eval(`location.pathname`), "a visitor signs in first")
	require.Equal(t, "/tasks", b.eval(`new URLSearchParams(location.search).get('next')`))

	for _, lang := range []string{"sv", "en"} {
		b.signInAs("demo-official", lang)
		b.open("/tasks")
		require.Equal(t, lang, b.eval(`document.documentElement.lang`))
		want := map[string][]string{"sv": {"Att göra", "Signering"}, "en": {"To do", "Signing"}}[lang]
		require.Equal(t, want[0], b.eval(`document.querySelector('h1').innerText`))
		require.Equal(t, "page", b.eval(`document.querySelector('nav a[href="/tasks"]').getAttribute('aria-current')`))
		rows := b.eval(`[...document.querySelectorAll('table.table-tasks tbody tr')].map(r => r.innerText).join('\n')`)
		require.Contains(t, rows, want[1]+": Filipstads Läsecirkel", "the application waits for the official")
		// Soonest deadline first, those without one last.
		deadlines := strings.Split(b.eval(`[...document.querySelectorAll('table.table-tasks tbody tr td:first-child')].map(td =>
			(td.querySelector('time') || {getAttribute: () => '~'}).getAttribute('datetime')).join(' ')`), " ")
		require.Greater(t, len(deadlines), 1, "the official has more than one task")
		require.True(t, sort.StringsAreSorted(deadlines), "%v", deadlines)
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
		if lang == "sv" {
			b.screenshot("tasks-sv")
		}

		b.follow(chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('table.table-tasks tbody tr')].find(r =>
			r.innerText.includes('` + want[1] + `')).querySelector('a').click()`))
		require.True(t, strings.HasPrefix(b.eval(`location.pathname`), "/instances/"))
		require.Equal(t, want[1]+" · Filipstads Läsecirkel", b.eval(`document.querySelector('main .caption').innerText`))
		actions := b.eval(`[...document.querySelectorAll('main ul.list-bullet li')].map(l => l.innerText).join('|')`)
		require.Equal(t, map[string]string{"sv": "börja granska|avslå", "en": "start the review|reject"}[lang], actions,
			"exactly what the engine offers the official")
		require.NotEmpty(t, b.eval(`[...document.querySelectorAll('main table tbody tr')].map(r => r.innerText).join('|')`), "the history")
		res = b.axe()
		require.Empty(t, res.Violations, summary(res))
		if lang == "sv" {
			b.screenshot("instance-sv")
		}
		b.follow(chromedp.Click(`form.sign-out button`))
	}
	require.Empty(t, b.foreignRequests())
}
