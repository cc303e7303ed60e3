package browser_test

import (
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
	"github.com/samverkan/samverkan/internal/web"
	"github.com/samverkan/samverkan/workflows"
)

// withSignatoryRepresentative adds to the demo people the representative
// of Föreningen Solrosen, which signed at the demo's ceremony.
func withSignatoryRepresentative() []web.DevPerson {
	return append(demoPeople(), web.DevPerson{Subject: "demo-rep-01", Name: "Företrädare för Föreningen Solrosen", Role: "sector_representative"})
}

// The five-year revision through the pages alone: the official moves the
// revision to drafting on its case page and adds a draft of numbered
// sections on its workspace; a deadline in the past comes back at its
// field with the date kept and nothing changed; the round opens. The
// signatory's representative comments on one section beside it (an empty
// comment comes back at that section's field, nothing saved); a council
// member responds; the public revision page shows the comment with the
// response. After the round closes by itself, the council's page shows
// what is approved and who has approved on each side: the Region's
// politician and the sector's council member approve the revision, and the
// council members of both sides approve the follow-up the official
// submitted. Every page passes axe-core in Swedish and English.
func TestRevisionAndCouncilThroughThePages(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withSignatoryRepresentative()})
	// The story's spring of 2019, after the demo's follow-up collected reports.
	env.AdvanceTo(time.Date(2019, 3, 1, 9, 0, 0, 0, clock.Stockholm))
	b := newBrowser(t, env.URL)
	ctx := t.Context()
	svc := env.App.Services
	fill := func(sel, v string) { require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v))) }
	click := func(sel string) { b.follow(chromedp.Click(sel)) }
	clean := func() {
		t.Helper()
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
	}
	// bothLanguages checks the page in English too and comes back to Swedish.
	bothLanguages := func(en string) {
		t.Helper()
		clean()
		path := b.eval(`location.pathname`)
		b.open("/lang/en?next=" + path)
		require.Equal(t, en, b.eval(`document.querySelector('h1').innerText`))
		clean()
		b.open("/lang/sv?next=" + path)
	}
	h1 := func() string { return b.eval(`document.querySelector('h1').innerText`) }
	notice := func() string { return b.eval(`(document.querySelector('.notice') || {innerText: ''}).innerText`) }
	signOut := func() { click(`form.sign-out button`) }

	officialID, err := env.App.EnsureUser(ctx, "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	official := authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}
	versions, err := svc.Registry.CurrentVersions(ctx)
	require.NoError(t, err)
	rev, err := svc.Revision.Open(ctx, official, versions[0].ID)
	require.NoError(t, err)
	casePage, workspace := "/instances/"+rev.ID.String(), "/revisions/"+rev.ID.String()
	state := func() string {
		in, err := svc.Engine.Instance(ctx, rev.ID)
		require.NoError(t, err)
		return in.State
	}

	// The official moves the revision through the first phases.
	b.signInAs("demo-official", "sv")
	b.open(casePage)
	require.Equal(t, "förfas", h1())
	clean()
	for _, step := range []struct{ transition, state string }{
		{"start_gathering", "samlingsfas"}, {"start_dialogue", "dialogprocess"}, {"start_drafting", "formuleringsfas"}} {
		click(`form[action$="/` + step.transition + `"] button`)
		require.Equal(t, step.state, h1())
	}
	require.Equal(t, "drafting", state())

	// The official adds a draft of numbered sections on the workspace.
	click(`form[action$="/open_consultation"] a[href="` + workspace + `"]`)
	require.Equal(t, "Revideringens arbetsyta: Formuleringsfas", h1())
	click(`form[action$="/add_draft"] button`)
	require.Equal(t, "#title-add_draft", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`), "a draft needs a title")
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM revision_drafts WHERE instance_id = $1`, rev.ID))
	fill(`#title-add_draft`, "Överenskommelsen Värmland 2023")
	fill(`#body-add_draft`, "1 Syfte\nÖverenskommelsen är en avsiktsförklaring för samverkan.\n\n"+
		"2 Principer\nDialog, kvalitet, mångfald, självständighet och öppenhet.\n\n3.1 Dialog\nParterna möts minst två gånger om året.")
	click(`form[action$="/add_draft"] button`)
	require.Equal(t, "Klart: utkastet är tillagt.", notice())
	require.Equal(t, "1 Syfte|2 Principer|3.1 Dialog", b.eval(`[...document.querySelectorAll('.draft-section h3')].map(h => h.innerText).join('|')`))
	bothLanguages("Revision workspace: Drafting")

	// A deadline in the past comes back at its field, kept; nothing changes.
	b.open(casePage)
	version := env.Count(`SELECT version FROM workflow_instances WHERE id = $1`, rev.ID)
	fill(`#deadline-open_consultation`, "2019-02-01")
	click(`form[action$="/open_consultation"] button`)
	require.Equal(t, "#deadline-open_consultation", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Contains(t, b.eval(`document.getElementById('deadline-open_consultation-error').innerText`), "slutdatum i framtiden")
	require.Equal(t, "2019-02-01", b.eval(`document.getElementById('deadline-open_consultation').value`), "the input is kept")
	require.Equal(t, version, env.Count(`SELECT version FROM workflow_instances WHERE id = $1`, rev.ID), "nothing changed")
	clean()
	b.screenshot("revision-consultation-error-sv")
	fill(`#deadline-open_consultation`, "2019-03-15")
	click(`form[action$="/open_consultation"] button`)
	require.Equal(t, "synpunktsrunda", h1())
	require.Equal(t, "consultation", state())
	signOut()

	// The signatory's representative comments on section 3.1, beside it.
	b.signInAs("demo-rep-01", "sv")
	b.open("/revision")
	click(`a[href="` + workspace + `"]`)
	require.Equal(t, "3", b.eval(`String(document.querySelectorAll('form[action$="/comment"]').length)`), "a comment form beside each section")
	require.Equal(t, "0", b.eval(`String(document.querySelectorAll('form[action$="/add_draft"], form[action$="/respond"], form[action$="/set_decision"], form[action$="/invite"]').length)`),
		"a representative is offered no official's or council's forms")
	click(`#section-3-1 ~ form button`)
	require.Equal(t, "#body-comment-3-1", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Equal(t, "true", b.eval(`document.getElementById('body-comment-3-1').getAttribute('aria-invalid')`))
	require.Equal(t, "Fältet ”Din synpunkt på avsnittet” får inte vara tomt.", b.eval(`document.querySelector('.error-summary a').innerText`))
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM consultation_comments WHERE instance_id = $1`, rev.ID), "nothing saved")
	clean()
	b.screenshot("revision-comment-error-sv")
	fill(`#body-comment-3-1`, "Lägg till att dialogen också sker i kommunerna.")
	click(`#section-3-1 ~ form button`)
	require.Equal(t, "Klart: din synpunkt är lämnad. Den blir offentlig med rådets svar.", notice())
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM consultation_comments WHERE instance_id = $1 AND section = '3.1'`, rev.ID))
	t.Logf("%s: %s ms from request to the last byte", workspace, b.eval(`String(Math.round(performance.getEntriesByType('navigation')[0].responseEnd - performance.getEntriesByType('navigation')[0].requestStart))`))
	bothLanguages("Revision workspace: Consultation round")
	b.screenshot("revision-workspace-sv")
	signOut()

	// A council member responds; the public page shows both.
	b.signInAs("demo-council-region", "sv")
	b.open(workspace)
	require.Contains(t, b.eval(`document.querySelector('article.comment').innerText`), "Avsnitt 3.1 · Föreningen Solrosen")
	click(`form[action$="/respond"] button`)
	require.Contains(t, b.eval(`document.querySelector('.error-summary a').getAttribute('href')`), "#response-respond-")
	fill(`form[action$="/respond"] textarea`, "Tillagt i avsnitt 3.1.")
	click(`form[action$="/respond"] button`)
	require.Equal(t, "Klart: svaret är sparat och publicerat.", notice())
	// The council invites the organisation that withdrew; an unknown
	// number comes back at its field, kept.
	fill(`#organisationNumber-invite`, "802999-9999")
	click(`form[action$="/invite"] button`)
	require.Equal(t, "#organisationNumber-invite", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Equal(t, "802999-9999", b.eval(`document.getElementById('organisationNumber-invite').value`))
	clean()
	fill(`#organisationNumber-invite`, demo.Number(8))
	click(`form[action$="/invite"] button`)
	require.Equal(t, "Klart: organisationen är inbjuden.", notice())
	signOut()
	b.open("/revision")
	public := b.eval(`document.querySelector('article.comment').innerText`)
	require.Contains(t, public, "Lägg till att dialogen också sker i kommunerna.")
	require.Contains(t, public, "Tillagt i avsnitt 3.1.")
	require.Contains(t, public, "Avsnitt 3.1")
	require.Equal(t, "1 Syfte|2 Principer|3.1 Dialog", b.eval(`[...document.querySelectorAll('.draft-part h4')].map(h => h.innerText).join('|')`),
		"the public draft in its sections")
	clean()
	b.screenshot("revision-public-sv")

	// The round closes by itself; the official records the decision's
	// details and submits the year's follow-up to the council.
	env.AdvanceTo(time.Date(2019, 3, 16, 1, 0, 0, 0, clock.Stockholm))
	require.Equal(t, "decision", state())
	b.signInAs("demo-official", "sv")
	b.open(workspace)
	fill(`#decisionReference-set_decision`, "RS 2019/42")
	click(`form[action$="/set_decision"] button`)
	require.Equal(t, "Klart: beslutets uppgifter är sparade.", notice())
	signOut()
	fus, err := svc.FollowUp.FollowUps(ctx, versions[0].ID)
	require.NoError(t, err)
	require.Len(t, fus, 1)
	fu, err := svc.FollowUp.SubmitToCouncil(ctx, official, workflows.Step{ID: fus[0].ID, Reason: "Alla rapporter är inte inne. (test)"})
	require.NoError(t, err)
	require.Equal(t, "council_review", fu.State)

	sides := func(item uuid.UUID) string {
		return b.eval(`[...document.querySelectorAll('#item-` + item.String() + ` ~ .table-wrap tbody tr')].map(r => r.innerText.replace(/\s+/g, ' ').trim()).join('|')`)
	}
	// The Region's politician approves the revision.
	b.signInAs("demo-politician", "sv")
	click(`a[href="/council"]`)
	require.Equal(t, "Rådet", h1())
	require.Equal(t, "1", b.eval(`String(document.querySelectorAll('section.council-item').length)`), "the politician decides the revision, not the follow-up")
	require.Equal(t, "anta den reviderade överenskommelsen", b.eval(`document.querySelector('section.council-item h2').innerText`))
	require.Contains(t, b.eval(`document.querySelector('section.council-item dl').innerText`), "RS 2019/42")
	require.Equal(t, "Regionen (förtroendevald) 1 ingen ännu|Sektorn (rådets ledamot för sektorn) 1 ingen ännu", sides(rev.ID))
	bothLanguages("The council")
	// Sending back needs a reason: it comes back at the field.
	click(`form[action$="/send_back"] button`)
	require.Equal(t, "#reason-send_back-"+rev.ID.String(), b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Equal(t, "decision", state())
	clean()
	click(`form[action$="/approve"] button`)
	require.Equal(t, "Klart: ditt godkännande är registrerat.", notice())
	require.Equal(t, "Regionen (förtroendevald) 1 Petra Förtroendevald|Sektorn (rådets ledamot för sektorn) 1 ingen ännu", sides(rev.ID))
	require.Contains(t, b.eval(`document.querySelector('section.council-item').innerText`), "Du har godkänt.")
	require.Equal(t, "decision", state(), "one side's approval does not adopt")
	clean()
	signOut()

	// The council member for the Region approves the follow-up.
	b.signInAs("demo-council-region", "sv")
	b.open("/council")
	require.Equal(t, "1", b.eval(`String(document.querySelectorAll('section.council-item').length)`))
	require.Equal(t, "Rådet, Regionens sida 1 ingen ännu|Rådet, sektorns sida 1 ingen ännu", sides(fu.ID))
	click(`#item-` + fu.ID.String() + ` ~ form[action$="/approve"] button`)
	require.Equal(t, "Rådet, Regionens sida 1 Rune Rådsledamot|Rådet, sektorns sida 1 ingen ännu", sides(fu.ID))
	signOut()

	// The sector's council member sees both, with the other side's
	// approvals, and approves both: the revision is adopted.
	b.signInAs("demo-council-sector", "sv")
	b.open("/council")
	require.Equal(t, "2", b.eval(`String(document.querySelectorAll('section.council-item').length)`))
	require.Equal(t, "Regionen (förtroendevald) 1 Petra Förtroendevald|Sektorn (rådets ledamot för sektorn) 1 ingen ännu", sides(rev.ID))
	clean()
	b.screenshot("council-sv")
	// How long the page takes, from the request to its last byte (logged:
	// the machine the tests run on is shared, so it is not asserted).
	var took []string
	for range 5 {
		b.open("/council")
		took = append(took, b.eval(`String(Math.round(performance.getEntriesByType('navigation')[0].responseEnd - performance.getEntriesByType('navigation')[0].requestStart))`))
	}
	t.Logf("/council, five loads: %s ms", strings.Join(took, ", "))
	click(`#item-` + fu.ID.String() + ` ~ form[action$="/approve"] button`)
	require.Equal(t, "Klart: ditt godkännande är registrerat.", notice())
	click(`#item-` + rev.ID.String() + ` ~ form[action$="/approve"] button`)
	require.Equal(t, "Inget väntar på ditt godkännande just nu.", b.eval(`document.querySelector('main p.lead + p').innerText`))
	require.Equal(t, "implementation", state())
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM workflow_instances WHERE id = $1 AND state = 'approved'`, fu.ID))
	require.True(t, strings.Contains(b.eval(`document.querySelector('nav').innerText`), "Rådet"))
	clean()
	require.Empty(t, b.foreignRequests())
}
