package browser_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
)

// representedOrganisation registers an idea-based organisation that rita
// (see withRepresentative) represents, confirmed by the Region's official.
func representedOrganisation(t *testing.T, env *apptest.Env, name, number string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	svc := env.App.Services
	repID, err := env.App.EnsureUser(ctx, "rita", "Rita Representant")
	require.NoError(t, err)
	officialID, err := env.App.EnsureUser(ctx, "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	o, claim, err := svc.Registry.RegisterOrganisation(ctx, authz.Principal{UserID: repID, Name: "Rita Representant"},
		registry.OrganisationInput{Name: name, OrganisationNumber: number, LegalForm: "ideell_forening", Sector: registry.SectorIdeaBased,
			Municipality: "Filipstad", Description: "En förening i Filipstad.", ContactEmail: "kontakt@example.org"})
	require.NoError(t, err)
	_, err = svc.Registry.ConfirmRepresentation(ctx, authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}, claim.ID, "")
	require.NoError(t, err)
	return o.ID
}

// A partnership through the pages alone: a representative proposes one (a
// bad amount comes back at its field with the input kept and nothing
// saved), the official assesses it with the checklist (a checklist that
// contradicts the chosen conclusion comes back and records nothing) and
// writes a draft, the representative comments on it, the official puts it
// before the parties, the Region's decision-maker and the organisation's
// representative approve it, and the public IOP register shows its public
// facts. Every page passes axe-core; nothing is loaded from elsewhere.
func TestPartnershipThroughThePages(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	b := newBrowser(t, env.URL)
	fill := func(sel, v string) { require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v))) }
	click := func(sel string) { b.follow(chromedp.Click(sel)) }
	clean := func() {
		t.Helper()
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
	}
	text := func(sel string) string {
		return b.eval(`(document.querySelector('` + sel + `') || {innerText: ''}).innerText.replace(/\u00a0/g, ' ')`)
	}
	value := func(sel string) string { return b.eval(`document.querySelector('` + sel + `').value`) }
	actions := func() string {
		return b.eval(`[...document.querySelectorAll('ul.actions li')].map(l => l.innerText).join('|')`)
	}
	const org, title = "Filipstads Mötesplats", "Mötesplats för nyanlända i Filipstad"
	orgID := representedOrganisation(t, env, org, demo.Number(901))
	before := env.Count(`SELECT count(*) FROM partnerships`)

	// The representative proposes; a bad amount comes back at its field.
	b.signInAs("rita", "sv")
	b.open("/my-organisations")
	click(`a[href="/partnerships/new?org=` + orgID.String() + `"]`)
	require.Equal(t, "Föreslå ett partnerskap (IOP)", text("h1"))
	require.Equal(t, orgID.String(), value(`#organisation`), "the organisation the link was for")
	t.Logf("the proposal form: %s ms from request to first byte", b.eval(`(e => String(Math.round(e.responseStart - e.requestStart)))(performance.getEntriesByType('navigation')[0])`))
	require.Equal(t, "Region Värmland", b.eval(`document.querySelector('#publicBody').selectedOptions[0].innerText`))
	clean()
	fill(`#title`, title)
	fill(`#purpose`, "Minska ensamheten bland nyanlända och öka deras delaktighet i föreningslivet.")
	fill(`#startDate`, "2018-03-01")
	fill(`#endDate`, "2020-12-31")
	fill(`#publicContribution`, "1,25 miljoner")
	fill(`#volunteerHours`, "2000")
	click(`form[action="/partnerships"] button`)
	require.Equal(t, "#publicContribution", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Equal(t, "1", b.eval(`String(document.querySelectorAll('.error-summary li').length)`), "one message, for the one field in error")
	require.Contains(t, text(`#publicContribution-error`), "”1,25 miljoner” är inget belopp. Skriv beloppet i kronor med siffror, till exempel 1 250 000 eller 1250000.")
	require.Equal(t, "true", b.eval(`document.getElementById('publicContribution').getAttribute('aria-invalid')`))
	require.Equal(t, title, value(`#title`), "the input is kept")
	require.Equal(t, "1,25 miljoner", value(`#publicContribution`))
	require.Equal(t, "2020-12-31", value(`#endDate`))
	require.Equal(t, before, env.Count(`SELECT count(*) FROM partnerships`), "nothing saved")
	clean()
	b.screenshot("iop-propose-error-sv")
	b.open("/lang/en?next=/partnerships/new?org=" + orgID.String())
	require.Equal(t, "Propose a partnership (IOP)", text("h1"))
	clean()
	b.open("/lang/sv?next=/partnerships/new?org=" + orgID.String())
	fill(`#title`, title)
	fill(`#purpose`, "Minska ensamheten bland nyanlända och öka deras delaktighet i föreningslivet.")
	fill(`#startDate`, "2018-03-01")
	fill(`#endDate`, "2020-12-31")
	fill(`#publicContribution`, "1 250 000")
	fill(`#volunteerHours`, "2000")
	click(`form[action="/partnerships"] button`)
	casePath := b.eval(`location.pathname`)
	require.True(t, strings.HasPrefix(casePath, "/partnerships/") && strings.HasSuffix(casePath, "/case"), casePath)
	require.Equal(t, "Klart: förslaget är skickat. En tjänsteperson på Regionen bedömer det.", text(".notice"))
	require.Equal(t, before+1, env.Count(`SELECT count(*) FROM partnerships`))
	require.Contains(t, text(`table.table-contributions tbody`), "2018\tRegion Värmland\tpengar\t1 250 000 kr")
	require.Contains(t, text(`table.table-contributions tbody`), "2020\t"+org+"\tideella timmar\t2 000 h")
	require.Contains(t, text(`main dl`), "3 750 000 kr", "the public contribution over the three years")
	clean()
	click(`form.sign-out button`)

	// The official assesses: the checklist must agree with the conclusion.
	b.signInAs("demo-official", "sv")
	b.open(casePath)
	require.Equal(t, title, text("h1"))
	click(`a[href^="/instances/"]`)
	instance := b.eval(`location.pathname`)
	require.Equal(t, "börja bedöma|bedöma att IOP passar|bedöma att IOP inte passar|återkalla", actions())
	b.open("/lang/en?next=" + instance)
	require.Equal(t, "start the assessment|assess that an IOP fits|assess that an IOP does not fit|withdraw", actions())
	clean()
	b.open("/lang/sv?next=" + instance)
	for _, q := range []string{"economicActivity", "marketOrCompetition", "possibleStateAid", "ideaBasedOrganisation"} {
		fill(`#`+q+`Justification-assess_suitable`, "Motivering av punkten "+q+".")
	}
	version := env.Count(`SELECT version FROM workflow_instances WHERE id = $1`, strings.TrimPrefix(instance, "/instances/"))
	click(`form[action$="/assess_suitable"] button`)
	require.Equal(t, "#ideaBasedOrganisation-assess_suitable", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Contains(t, text(`#ideaBasedOrganisation-assess_suitable-error`), "Enligt checklistan passar IOP inte.")
	require.Equal(t, "Motivering av punkten possibleStateAid.", value(`#possibleStateAidJustification-assess_suitable`), "the input is kept")
	require.Equal(t, version, env.Count(`SELECT version FROM workflow_instances WHERE id = $1`, strings.TrimPrefix(instance, "/instances/")), "nothing recorded")
	require.Zero(t, env.Count(`SELECT count(*) FROM partnership_assessments`))
	clean()
	b.screenshot("iop-assessment-sv")
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#ideaBasedOrganisation-assess_suitable`)))
	click(`form[action$="/assess_suitable"] button`)
	require.Equal(t, "Klart: bedöma att IOP passar.", text(".notice"))
	require.Equal(t, "förhandling", text("h1"))
	clean()

	// The official drafts the agreement text on the partnership's page.
	b.open(casePath)
	require.Equal(t, "Ja. Motivering av punkten ideaBasedOrganisation.", b.eval(`[...document.querySelectorAll('main dl')][1].querySelectorAll('dd')[3].innerText`))
	click(`form[action$="/case/draft"] button`)
	require.Equal(t, "#draft-body", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`), "an empty draft comes back")
	require.Zero(t, env.Count(`SELECT count(*) FROM partnership_drafts`))
	clean()
	fill(`#draft-body`, "Överenskommelse om idéburet offentligt partnerskap mellan Region Värmland och "+org+".\n\nParterna driver tillsammans en mötesplats.")
	click(`form[action$="/case/draft"] button`)
	require.Equal(t, "Klart: utkastet är tillagt.", text(".notice"))
	require.Equal(t, "Utkast 1", strings.Fields(text(`#draft-latest`))[0]+" "+strings.Fields(text(`#draft-latest`))[1])
	click(`form.sign-out button`)

	// The representative comments on the draft.
	b.signInAs("rita", "sv")
	b.open(casePath)
	fill(`#comment-body`, "Vi vill att mötesplatsen har öppet även på lördagar.")
	click(`form[action$="/case/comment"] button`)
	require.Equal(t, "Klart: kommentaren är skickad.", text(".notice"))
	require.Contains(t, text(`.comment`), "Vi vill att mötesplatsen har öppet även på lördagar.")
	require.Contains(t, text(`.comment`), "Rita Representant ("+org+")")
	clean()
	click(`form.sign-out button`)

	// The official puts the draft before the parties.
	b.signInAs("demo-official", "sv")
	b.open(instance)
	click(`form[action$="/submit_for_decision"] button`)
	require.Equal(t, "beslut", text("h1"))
	click(`form.sign-out button`)

	// Both parties approve: the Region's decision-maker, then the organisation.
	b.signInAs("demo-politician", "sv")
	b.open(instance)
	require.Contains(t, actions(), "godkänna partnerskapet")
	click(`form[action$="/approve"] button`)
	require.Equal(t, "Klart: godkänna partnerskapet.", text(".notice"))
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM partnerships WHERE activated_at IS NOT NULL`))
	click(`form.sign-out button`)
	b.signInAs("rita", "sv")
	b.open(casePath)
	approvals := text(`table.table-approvals tbody`)
	require.Contains(t, approvals, "Petra Förtroendevald")
	require.Contains(t, approvals, org+" (styrelsens företrädare)\tinte ännu")
	clean()
	b.screenshot("iop-case-sv")
	t.Logf("the partnership's page: %s ms from request to first byte", b.eval(`(e => String(Math.round(e.responseStart - e.requestStart)))(performance.getEntriesByType('navigation')[0])`))
	b.open("/lang/en?next=" + casePath)
	require.Equal(t, "Decisions and steps of the case", text("main h2"))
	clean()
	b.open("/lang/sv?next=" + instance)
	click(`form[action$="/approve"] button`)
	require.Equal(t, "aktivt", text("h1"))
	click(`form.sign-out button`)

	// A year on, the report on 2018 opens (the yearly job's work); the
	// representative submits it, and an empty one comes back.
	env.AdvanceTo(time.Date(2019, 1, 2, 10, 0, 0, 0, clock.Stockholm))
	pid := uuid.MustParse(strings.TrimSuffix(strings.TrimPrefix(casePath, "/partnerships/"), "/case"))
	_, err := env.App.Services.IOP.OpenReport(t.Context(), pid, 2018)
	require.NoError(t, err)
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM partnership_reports WHERE partnership_id = $1 AND year = 2018`, pid))
	b.signInAs("rita", "sv")
	b.open(casePath)
	require.Equal(t, "1", b.eval(`String(document.querySelectorAll('form[action$="/case/report"]').length)`), "the open report's form")
	click(`form[action$="/case/report"] button`)
	require.Equal(t, "#report-2018-body", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Zero(t, env.Count(`SELECT count(*) FROM partnership_reports WHERE submitted_at IS NOT NULL`))
	clean()
	fill(`#report-2018-body`, "Mötesplatsen har haft öppet 40 veckor och 212 personer har deltagit.")
	click(`form[action$="/case/report"] button`)
	require.Equal(t, "Klart: rapporten är inlämnad.", text(".notice"))
	require.Contains(t, text(`section.report`), "212 personer har deltagit")
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM partnership_reports WHERE submitted_at IS NOT NULL`))
	click(`form.sign-out button`)

	// The public register shows the partnership's public facts.
	b.open("/partnerships")
	row := text(`table tbody tr`)
	for _, s := range []string{title, "Minska ensamheten", "Region Värmland", org, "1 mars 2018", "31 december 2020", "3 750 000 kr"} {
		require.Contains(t, row, s)
	}
	require.NotContains(t, b.eval(`document.querySelector('main').innerText`), "lördagar", "the negotiation stays private")
	clean()
	b.screenshot("iop-register-sv")
	require.Empty(t, b.foreignRequests())
}

// agreedPartnership is a partnership between the Region and an
// organisation rita represents, taken through the services to active.
func agreedPartnership(t *testing.T, env *apptest.Env, org, title string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	svc := env.App.Services
	orgID := representedOrganisation(t, env, org, demo.Number(902))
	principal := func(subject, name string) authz.Principal {
		id, err := env.App.EnsureUser(ctx, subject, name)
		require.NoError(t, err)
		return authz.Principal{UserID: id, Name: name}
	}
	rita, official := principal("rita", "Rita Representant"), principal("demo-official", "Oskar Tjänsteperson")
	politician := principal("demo-politician", "Petra Förtroendevald")
	agreements, err := svc.Registry.Agreements(ctx)
	require.NoError(t, err)
	var cs []iop.ContributionInput
	for y := 2018; y <= 2020; y++ {
		cs = append(cs, iop.ContributionInput{OrganisationID: agreements[0].PublicBodyID, Year: y, Kind: "money", Amount: "400000"})
	}
	p, _, err := svc.IOP.Propose(ctx, rita, iop.ProposeInput{Record: iop.Record{Title: title, Purpose: "Läxhjälp för barn i Filipstad.",
		StartDate: time.Date(2018, 3, 1, 0, 0, 0, 0, time.UTC), EndDate: time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC), NoticeMonths: 3,
		ReportDueMonth: 3, ReportDueDay: 31, Contributions: cs}, PublicBodyID: agreements[0].PublicBodyID, IdeaBasedIDs: []uuid.UUID{orgID}})
	require.NoError(t, err)
	st := workflows.Step{ID: p.ID}
	_, _, err = svc.IOP.Assess(ctx, official, st, iop.AssessmentInput{EconomicActivityJustification: "Ingen ersättning.",
		MarketOrCompetitionJustification: "Ingen marknad.", PossibleStateAidJustification: "Inget statsstöd.",
		IdeaBasedOrganisation: true, IdeaBasedOrganisationJustification: "Ideell förening."})
	require.NoError(t, err)
	_, err = svc.IOP.AddDraft(ctx, official, st, "Överenskommelse om läxhjälp.")
	require.NoError(t, err)
	_, err = svc.IOP.SubmitForDecision(ctx, official, st)
	require.NoError(t, err)
	for _, pr := range []authz.Principal{politician, rita} {
		_, err = svc.IOP.Approve(ctx, pr, st)
		require.NoError(t, err)
	}
	return p.ID
}

// While a partnership is in force its representative proposes a renewal
// and an amendment and gives notice through the pages: an unreadable date,
// an unreadable amount and a notice without a reason come back at their
// fields with the input kept and change nothing; the notice is given only
// for the party the representative represents.
func TestPartnershipInForceThroughThePages(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	b := newBrowser(t, env.URL)
	fill := func(sel, v string) { require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v))) }
	click := func(sel string) { b.follow(chromedp.Click(sel)) }
	clean := func() {
		t.Helper()
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
	}
	text := func(sel string) string {
		return b.eval(`(document.querySelector('` + sel + `') || {innerText: ''}).innerText.replace(/\u00a0/g, ' ')`)
	}
	value := func(sel string) string { return b.eval(`document.querySelector('` + sel + `').value`) }
	firstError := func() string { return b.eval(`document.querySelector('.error-summary a').getAttribute('href')`) }
	const org = "Filipstads Läxhjälp"
	id := agreedPartnership(t, env, org, "Läxhjälp i Filipstad")
	casePath := "/partnerships/" + id.String() + "/case"
	caseVersion := func() string {
		return fmt.Sprint(env.Count(`SELECT version FROM workflow_instances w JOIN partnerships p ON p.instance_id = w.id WHERE p.id = $1`, id))
	}

	b.signInAs("rita", "sv")
	b.open(casePath)
	require.Equal(t, org, b.eval(`[...document.querySelectorAll('#terminate-partyId option')].map(o => o.innerText).join('|')`),
		"notice only for the party she represents")
	clean()
	version := caseVersion()
	click(`form[action$="/case/terminate"] button`)
	require.Equal(t, "#terminate-reason", firstError())
	require.Equal(t, version, caseVersion(), "nothing changed")
	clean()

	click(`a[href^="/instances/"]`)
	instance := b.eval(`location.pathname`)
	require.Equal(t, "föreslå förnyelse|föreslå en ändring|säga upp – Partnerskapets sida (utkast, rapporter och uppsägning)",
		b.eval(`[...document.querySelectorAll('ul.actions li')].map(l => l.innerText).join('|')`),
		"notice, which has its form on the partnership's page, links there")
	require.Equal(t, casePath, b.eval(`new URL(document.querySelector('ul.actions li:last-child a').href).pathname`))
	fill(`#endDate-propose_renewal`, "31/12/2023")
	click(`form[action$="/propose_renewal"] button`)
	require.Equal(t, "#endDate-propose_renewal", firstError())
	require.Contains(t, text(`#endDate-propose_renewal-error`), "år-månad-dag")
	require.Equal(t, "31/12/2023", value(`#endDate-propose_renewal`), "the input is kept")
	require.Equal(t, version, caseVersion())
	clean()

	fill(`#description-propose_amendment`, "Läxhjälpen utökas till högstadiet.")
	fill(`#budget-propose_amendment`, "en halv miljon")
	click(`form[action$="/propose_amendment"] button`)
	require.Equal(t, "#budget-propose_amendment", firstError())
	require.Equal(t, "Läxhjälpen utökas till högstadiet.", value(`#description-propose_amendment`))
	require.Zero(t, env.Count(`SELECT count(*) FROM partnership_amendments`))
	clean()
	fill(`#budget-propose_amendment`, "1 500 000")
	click(`form[action$="/propose_amendment"] button`)
	require.Equal(t, "ändring föreslagen", text("h1"))
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM partnership_amendments`))
	fill(`#reason-reject_amendment`, "Vi väntar till nästa år.")
	click(`form[action$="/reject_amendment"] button`)
	require.Equal(t, "aktivt", text("h1"))

	b.open(casePath)
	fill(`#terminate-reason`, "Föreningen läggs ned.")
	click(`form[action$="/case/terminate"] button`)
	require.Equal(t, "Klart: partnerskapet är uppsagt.", text(".notice"))
	require.Contains(t, text("h1 + dl"), "uppsagt, uppsägningstid löper")
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM partnerships WHERE id = $1 AND terminated_by IS NOT NULL`, id))
	clean()
	b.open("/lang/en?next=" + instance)
	clean()
	require.Empty(t, b.foreignRequests())
}
