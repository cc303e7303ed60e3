package browser_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/workflows/followup"
)

// The annual follow-up of 2019 through the pages alone: the official finds
// it in "Att göra" and starts the reporting with a deadline (a date not in
// the Swedish form comes back at its field with the input kept, nothing
// saved); the sector's council member, who reports for the idea-based
// sector, finds the report duty in "Att göra", and a negative value comes
// back the same way before the report goes in; a representative finds the
// follow-up from "Mina organisationer" (reading, as the sector reports
// through its council members); the official submits to the
// council, which sees what it approves and who has approved on each side;
// both sides approve; the official publishes the annual report (an empty
// text comes back) and adopts next year's plan; the public annual reports
// page shows the report and the reported value. Every new form passes
// axe-core, in Swedish and in English.
func TestAnnualFollowUpThroughThePages(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	ctx := t.Context()
	svc := env.App.Services
	// Before the opening moment of 2020, the 2019 follow-up is opened by
	// hand on the year's plan: one activity the sector answers for.
	env.AdvanceTo(time.Date(2020, 1, 10, 9, 0, 0, 0, clock.Stockholm))
	officialID, err := env.App.EnsureUser(ctx, "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	official := authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}
	versions, err := svc.Registry.CurrentVersions(ctx)
	require.NoError(t, err)
	target := 40.0
	plan, err := svc.FollowUp.CreateActionPlan(ctx, official, versions[0].ID, 2019, []followup.ActivityInput{{
		Title: "Dialogträffar i länets kommuner", Description: "Träffar mellan föreningar och Regionen.", Quarters: []int{2, 4},
		Responsible: "sector", Principles: []string{"Dialog"},
		Indicators: []followup.IndicatorInput{{Name: "Deltagare i dialogträffar", Unit: "personer", Target: &target}}}})
	require.NoError(t, err)
	acts, err := svc.FollowUp.Activities(ctx, plan.ID)
	require.NoError(t, err)
	act := acts[0].ID.String()
	in, err := svc.FollowUp.Open(ctx, official, versions[0].ID, 2019)
	require.NoError(t, err)
	casePage, page := "/instances/"+in.ID.String(), "/followups/"+in.ID.String()
	state := func() string {
		var s string
		require.NoError(t, env.DB.Pool.QueryRow(ctx, `SELECT state FROM workflow_instances WHERE id = $1`, in.ID).Scan(&s))
		return s
	}

	b := newBrowser(t, env.URL)
	fill := func(sel, v string) { require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v))) }
	click := func(sel string) { b.follow(chromedp.Click(sel)) }
	clean := func() {
		t.Helper()
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
	}
	text := func(sel string) string {
		return b.eval(`(document.querySelector(` + "`" + sel + "`" + `) || {innerText: ''}).innerText`)
	}
	value := func(sel string) string { return b.eval(`document.querySelector(` + "`" + sel + "`" + `).value`) }
	summaryLink := func() string { return b.eval(`document.querySelector('.error-summary a').getAttribute('href')`) }
	inBoth := func(path string, check func(lang string)) {
		t.Helper()
		for _, lang := range []string{"en", "sv"} {
			b.open("/lang/" + lang + "?next=" + path)
			check(lang)
			clean()
		}
	}

	// The official finds the follow-up in "Att göra" and starts collecting.
	b.signInAs("demo-official", "sv")
	b.open("/tasks")
	require.Contains(t, text(`a[href="`+casePage+`"]`), "Årlig uppföljning")
	click(`a[href="` + casePage + `"]`)
	require.Contains(t, text(`label[for="reportDeadline-start_collecting"]`), "Tidsfrist för rapporterna")
	require.Contains(t, text(`#reportDeadline-start_collecting-hint`), "år-månad-dag, till exempel 2027-03-31")
	inBoth(casePage, func(lang string) {
		require.Equal(t, map[string]string{"sv": "starta rapporteringen", "en": "start collecting reports"}[lang], text(`form[action$="/start_collecting"] h3`))
	})
	before := env.Checksums()
	fill(`#reportDeadline-start_collecting`, "31/3 2020")
	click(`form[action$="/start_collecting"] button`)
	require.Equal(t, "#reportDeadline-start_collecting", summaryLink())
	require.Contains(t, text(`#reportDeadline-start_collecting-error`), "Skriv datumet som år-månad-dag")
	require.Equal(t, "31/3 2020", value(`#reportDeadline-start_collecting`), "the input is kept")
	require.Equal(t, before, env.Checksums(), "nothing saved")
	clean()
	b.screenshot("followup-start-sv")
	fill(`#reportDeadline-start_collecting`, "2020-03-31")
	click(`form[action$="/start_collecting"] button`)
	require.Equal(t, "Klart: starta rapporteringen.", text(`.notice`))
	require.Equal(t, string(followup.CollectingReports), state())
	now, err := svc.Engine.Instance(ctx, in.ID)
	require.NoError(t, err)
	deadline, ok := followup.ReportDeadline(now)
	require.True(t, ok)
	require.Equal(t, time.Date(2020, 3, 31, 23, 59, 0, 0, clock.Stockholm), deadline.In(clock.Stockholm))

	// The follow-up's page: the plan, nothing reported yet, the deadline
	// that may move (in the English page too).
	click(`a[href="` + page + `"]`)
	require.Equal(t, "Uppföljning av 2019", text(`h1`))
	require.Contains(t, text(`.summary-list`), "31 mars 2020 kl. 23.59")
	require.Equal(t, "Dialogträffar i länets kommuner", text(`#act-`+act))
	require.Contains(t, text(`section.report .summary-list`), "Den idéburna sektorn")
	inBoth(page, func(lang string) {
		require.Equal(t, map[string]string{"sv": "Ny tidsfrist", "en": "New deadline"}[lang], text(`label[for="reportDeadline-extend_deadline"]`))
	})
	// A deadline in the past comes back at its field; then it moves.
	before = env.Checksums()
	fill(`#reportDeadline-extend_deadline`, "2019-12-01")
	fill(`#reason-extend_deadline`, "Föreningarna behöver mer tid.")
	click(`form[action$="/extend_deadline"] button`)
	require.Equal(t, "#reportDeadline-extend_deadline", summaryLink())
	require.Contains(t, text(`#reportDeadline-extend_deadline-error`), "Den nya tidsfristen måste ligga i framtiden")
	require.Equal(t, "2019-12-01", value(`#reportDeadline-extend_deadline`))
	require.Equal(t, "Föreningarna behöver mer tid.", value(`#reason-extend_deadline`), "the reason is kept")
	require.Equal(t, before, env.Checksums(), "nothing saved")
	clean()
	fill(`#reportDeadline-extend_deadline`, "2020-04-15")
	click(`form[action$="/extend_deadline"] button`)
	require.Equal(t, "Klart: tidsfristen är ändrad.", text(`.notice`))
	require.Contains(t, text(`.summary-list`), "15 april 2020 kl. 23.59")
	click(`form.sign-out button`)

	// The sector's council member reports for the sector: the duty is in
	// "Att göra" and leads to the report form.
	b.signInAs("demo-council-sector", "sv")
	b.open("/tasks")
	require.Contains(t, text(`table.table-tasks`), "rapportera om era aktiviteter")
	click(`a[href="` + casePage + `"]`)
	click(`a[href="` + page + `"]`)
	require.Contains(t, text(`form[action$="/report"] h4`), "Er rapport för Den idéburna sektorn")
	before = env.Checksums()
	fill(`#outcome-`+act, "Sex dialogträffar hölls, i Arvika, Torsby, Filipstad, Säffle, Kil och Karlstad.")
	fill(`#indicatorValues-`+act, "-5")
	click(`form[action$="/report"] button`)
	require.Equal(t, "#indicatorValues-"+act, summaryLink())
	require.Contains(t, text(`#indicatorValues-`+act+`-error`), "Ett mätvärde måste vara ett tal mellan 0 och 10^12")
	require.Equal(t, "-5", value(`#indicatorValues-`+act), "the value is kept")
	require.True(t, strings.HasPrefix(value(`#outcome-`+act), "Sex dialogträffar"), "the outcome is kept")
	require.Equal(t, before, env.Checksums(), "nothing saved")
	clean()
	b.screenshot("followup-report-sv")
	b.open("/lang/en?next=" + page)
	fill(`#outcome-`+act, "Six dialogue meetings.")
	fill(`#indicatorValues-`+act, "many")
	click(`form[action$="/report"] button`)
	require.Contains(t, text(`#indicatorValues-`+act+`-error`), "Write the values as numbers")
	require.Equal(t, "many", value(`#indicatorValues-`+act))
	clean()
	b.open("/lang/sv?next=" + page)
	fill(`#outcome-`+act, "Sex dialogträffar hölls, i Arvika, Torsby, Filipstad, Säffle, Kil och Karlstad.")
	fill(`#indicatorValues-`+act, "1 250")
	click(`form[action$="/report"] button`)
	require.Equal(t, "Klart: rapporten är sparad.", text(`.notice`))
	require.Contains(t, text(`li.activity-report`), "Den idéburna sektorn: Sex dialogträffar hölls")
	require.Contains(t, text(`main table`), "Den idéburna sektorn: 1\u00a0250")
	require.Equal(t, "Alla rapporter är inne.", text(`h3 + p`))
	require.Equal(t, "1250", value(`#indicatorValues-`+act), "the saved value is in the form")
	click(`form.sign-out button`)

	// A representative finds the follow-up from "Mina organisationer": the
	// plan and the public values, who reports for the sector, no form.
	b.signInAs("rita", "sv")
	b.open("/my-organisations")
	require.Contains(t, text(`a[href="`+page+`"]`), "Uppföljning av 2019")
	clean()
	click(`a[href="` + page + `"]`)
	require.Contains(t, text(`main`), "Företräder du en organisation lämnar du ert underlag till sektorns ledamöter i rådet.")
	require.Contains(t, text(`main table`), "Den idéburna sektorn: 1\u00a0250")
	require.NotContains(t, text(`main`), "Sex dialogträffar", "the reports are not public")
	require.Equal(t, "0", b.eval(`String(document.querySelectorAll('form[action^="/followups/"]').length)`))
	clean()
	click(`form.sign-out button`)

	// The official submits the reports to the council.
	b.signInAs("demo-official", "sv")
	b.open(page)
	click(`form[action$="/submit_to_council"] button`)
	require.Equal(t, "Klart: lämna till rådet.", text(`.notice`))
	require.Equal(t, string(followup.CouncilReview), state())
	click(`form.sign-out button`)

	// The council: what it approves, who has approved on each side.
	b.signInAs("demo-council-region", "sv")
	b.open("/tasks")
	require.Contains(t, text(`table.table-tasks`), "rådet godkänner")
	b.open(casePage)
	require.Contains(t, text(`form[action$="/council_approve"]`), "Du godkänner årets rapporter och mätvärden")
	b.open(page)
	require.Contains(t, text(`main`), "Sex dialogträffar hölls")
	require.Equal(t, "Rådet, Regionens sida Ingen ännu 1|Rådet, sektorns sida Ingen ännu 1",
		b.eval(`[...document.querySelectorAll('table.table-council tbody tr')].map(r => r.innerText.replace(/\s+/g, ' ').trim()).join('|')`))
	inBoth(page, func(lang string) {
		require.Equal(t, map[string]string{"sv": "rådet godkänner", "en": "the council approves"}[lang], text(`form[action$="/council_approve"] h3`))
	})
	// Sending back needs a reason: without one it comes back at the field.
	before = env.Checksums()
	click(`form[action$="/send_back"] button`)
	require.Equal(t, "#reason-send_back", summaryLink())
	require.Equal(t, "true", b.eval(`document.getElementById('reason-send_back').getAttribute('aria-invalid')`))
	require.Equal(t, before, env.Checksums(), "nothing saved")
	clean()
	fill(`#reason-council_approve`, "Bra arbete i hela länet.")
	click(`form[action$="/council_approve"] button`)
	require.Equal(t, "Klart: rådet godkänner.", text(`.notice`))
	require.True(t, strings.HasPrefix(text(`p.approved`), "Du har godkänt uppföljningen."))
	require.Equal(t, "0", b.eval(`String(document.querySelectorAll('form[action$="/council_approve"]').length)`), "an approval is given once")
	require.Contains(t, b.eval(`[...document.querySelectorAll('table.table-council tbody tr')].map(r => r.innerText).join('|')`), "Rune Rådsledamot")
	require.Equal(t, string(followup.CouncilReview), state(), "one side is not the council")
	click(`form.sign-out button`)
	b.signInAs("demo-council-sector", "sv")
	b.open(page)
	require.Contains(t, text(`table.table-council`), "Rune Rådsledamot")
	clean()
	b.screenshot("followup-council-sv")
	click(`form[action$="/council_approve"] button`)
	require.Equal(t, string(followup.Approved), state())
	click(`form.sign-out button`)

	// The official publishes the annual report; an empty text comes back.
	b.signInAs("demo-official", "sv")
	b.open(page)
	inBoth(page, func(lang string) {
		require.Equal(t, map[string]string{"sv": "Årsberättelsens text", "en": "The annual report's text"}[lang], text(`label[for="body-publish_annual_report"]`))
	})
	before = env.Checksums()
	fill(`#title-publish_annual_report`, "Ett år av dialog")
	click(`form[action$="/publish_annual_report"] button`)
	require.Equal(t, "#body-publish_annual_report", summaryLink())
	require.Equal(t, "Ett år av dialog", value(`#title-publish_annual_report`), "the title is kept")
	require.Equal(t, before, env.Checksums(), "nothing saved")
	clean()
	fill(`#body-publish_annual_report`, "Under 2019 möttes föreningar och Regionen i sex kommuner.\n\nRådet godkände uppföljningen.")
	click(`form[action$="/publish_annual_report"] button`)
	require.Equal(t, string(followup.ReportPublished), state())
	require.Contains(t, text(`.panel`), "2019: Ett år av dialog")

	// Next year's plan: an activity without a responsible party comes
	// back at that field.
	require.Contains(t, text(`form[action$="/adopt_next_plan"]`), "Aktivitet 1")
	clean()
	fill(`#plan1-title-adopt_next_plan`, "Gemensam utbildning om IOP")
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#plan1-q2-adopt_next_plan`)))
	fill(`#plan1-indicator-adopt_next_plan`, "Utbildade")
	fill(`#plan1-target-adopt_next_plan`, "30")
	click(`form[action$="/adopt_next_plan"] button`)
	require.Equal(t, "#plan1-responsible-adopt_next_plan", summaryLink())
	require.Equal(t, "Gemensam utbildning om IOP", value(`#plan1-title-adopt_next_plan`))
	require.Equal(t, "true", b.eval(`String(document.getElementById('plan1-q2-adopt_next_plan').checked)`), "the quarter is kept")
	clean()
	b.screenshot("followup-plan-sv")
	fill(`#plan1-responsible-adopt_next_plan`, "both")
	click(`form[action$="/adopt_next_plan"] button`)
	require.Equal(t, string(followup.PlanAdopted), state())
	next, err := svc.FollowUp.PlanFor(ctx, versions[0].ID, 2020)
	require.NoError(t, err)
	require.NotNil(t, next, "the 2020 plan is adopted")
	click(`form.sign-out button`)

	// The public page shows the report and the value.
	b.open("/lang/sv?next=/annual-reports")
	require.Equal(t, "2019: Ett år av dialog", text(`#report-2019-title`))
	require.Contains(t, text(`#report-2019`), "Under 2019 möttes föreningar och Regionen i sex kommuner.")
	require.Contains(t, text(`main`), "Deltagare i dialogträffar")
	require.Contains(t, text(`main`), "1\u00a0250")
	b.screenshot("followup-published-sv")
	require.Empty(t, b.foreignRequests())
}
