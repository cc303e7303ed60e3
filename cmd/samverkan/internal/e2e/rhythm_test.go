package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
)

func at(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, clock.Stockholm)
}

// council is the story's council and politician.
type council struct {
	region, sector, politician *apptest.User
}

type followUpView struct {
	Year           int
	Overdue        bool
	ReportDeadline string
	MissingReports []string
	Instance       struct {
		ID      string
		State   string
		Version int
	}
	ActionPlan *struct {
		Activities []struct {
			ID, Title   string
			Responsible string
			Indicators  []struct{ ID, Name string }
		}
	}
}

func (s *story) followUps(t *testing.T) []followUpView {
	var out struct {
		Node struct{ FollowUps []followUpView }
	}
	s.env.MustDo(s.official, `query($v: ID!) { node(id: $v) { ... on AgreementVersion { followUps { year overdue reportDeadline missingReports
		instance { id state version } actionPlan { activities { id title responsible indicators { id name } } } } } } }`,
		map[string]any{"v": s.version}, &out)
	return out.Node.FollowUps
}

// waitForFollowUp waits until the periodic job has opened the year's
// follow-up, as it does by itself once the clock has passed 15 January.
func (s *story) waitForFollowUp(t *testing.T, year int) followUpView {
	var found *followUpView
	require.Eventually(t, func() bool {
		for _, f := range s.followUps(t) {
			if f.Year == year {
				found = &f
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "the follow-up of %d was not opened by the job", year)
	return *found
}

func plan(year int) []map[string]any {
	return []map[string]any{
		{"title": fmt.Sprintf("Vårkonferens %d under folkhälsoveckan", year+1), "quarters": []int{2}, "responsible": "BOTH",
			"principles": []string{"DIALOG", "OPPENHET"}, "indicators": []map[string]any{{"name": "Deltagare", "unit": "personer", "target": 150}}},
		{"title": "Nätverksträffar", "quarters": []int{1, 2, 3, 4}, "responsible": "SECTOR",
			"principles": []string{"MANGFALD"}, "indicators": []map[string]any{{"name": "Träffar", "unit": "st", "target": 4}}},
	}
}

func (s *story) report(t *testing.T, u *apptest.User, f followUpView, activity int, value float64) {
	a := f.ActionPlan.Activities[activity]
	s.env.MustDo(u, `mutation($id: ID!, $a: ID!, $i: ID!, $v: Float!) { submitActivityReport(input: {instanceId: $id, activityId: $a,
		outcome: "Genomförd enligt plan.", indicatorValues: [{indicatorId: $i, value: $v}]}) { instance { state } } }`,
		map[string]any{"id": f.Instance.ID, "a": a.ID, "i": a.Indicators[0].ID, "v": value}, nil)
}

func (s *story) approveAs(t *testing.T, u *apptest.User, instance, transition string) string {
	var out struct {
		Approve struct{ Instance instanceData }
	}
	s.env.MustDo(u, `mutation($id: ID!, $t: String!) { approve(input: {instanceId: $id, transition: $t}) { instance { id state version } } }`,
		map[string]any{"id": instance, "t": transition}, &out)
	return out.Approve.Instance.State
}

func (s *story) notifications(t *testing.T, kind string) int {
	return s.env.Count(`SELECT count(*) FROM notifications WHERE kind = $1`, kind)
}

// The agreement's yearly and five-year rhythm, 2018–2023, driven by the
// clock: follow-ups opened by the periodic job each 15 January, reports,
// council approvals and public annual reports; a revision with a
// consultation round, adopted by both sides into version 2; re-confirmation.
func TestAgreementRhythm2018To2023(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	env := s.env
	c := council{
		region:     env.NewUser("Rune Rådsledamot", "council_member@region"),
		sector:     env.NewUser("Siv Sektorsledamot", "council_member@sector"),
		politician: env.NewUser("Petra Politiker", "region_politician@region"),
	}

	env.AdvanceTo(at(2018, 3, 1, 9))
	var signers []applicant
	for n := 1; n <= 35; n++ {
		a := s.apply(t, n)
		s.approve(t, a)
		s.act(t, a.rep, "signAgreement", a.instance, "")
		signers = append(signers, a)
	}
	env.MustDo(s.official, `mutation($v: ID!, $a: [ActivityInput!]!) { createActionPlan(input: {agreementVersionId: $v, year: 2018,
		activities: $a}) { actionPlan { year } } }`, map[string]any{"v": s.version, "a": plan(2017)}, nil)
	env.AdvanceTo(at(2018, 10, 1, 9))
	for n := 36; n <= 50; n++ {
		a := s.apply(t, n)
		s.approve(t, a)
		s.act(t, a.rep, "signAgreement", a.instance, "")
		signers = append(signers, a)
	}

	for year := 2018; year <= 2021; year++ {
		env.AdvanceTo(at(year+1, 1, 15, 6).Add(30 * time.Minute))
		f := s.waitForFollowUp(t, year)
		require.Equal(t, "opened", f.Instance.State)
		if year == 2019 {
			for n := 51; n <= 54; n++ {
				a := s.apply(t, n)
				s.approve(t, a)
				s.act(t, a.rep, "signAgreement", a.instance, "")
				signers = append(signers, a)
			}
		}
		// Reporting starts by itself a week after opening.
		env.AdvanceTo(at(year+1, 1, 23, 9))
		f = s.waitForFollowUp(t, year)
		require.Equal(t, "collecting_reports", f.Instance.State)
		require.Len(t, f.MissingReports, 3, "region and sector on the shared activity, sector on its own")
		s.report(t, s.official, f, 0, float64(100+10*(year-2018)))
		s.report(t, c.sector, f, 0, float64(100+10*(year-2018)))

		switch year {
		case 2019:
			// The sector is late: after the deadline the follow-up is overdue.
			deadline, err := time.Parse(time.RFC3339, f.ReportDeadline)
			require.NoError(t, err)
			env.AdvanceTo(deadline.Add(24 * time.Hour))
			var od struct {
				OverdueFollowUps []struct{ Year int }
			}
			env.MustDo(s.official, `{ overdueFollowUps { year } }`, nil, &od)
			require.Equal(t, []struct{ Year int }{{2019}}, od.OverdueFollowUps)
		case 2020:
			// An official extends the deadline before the reminder; the old
			// reminder does not fire, the new one does, once.
			before := s.notifications(t, "reminder")
			env.MustDo(s.official, `mutation($id: ID!, $d: DateTime!) { extendReportDeadline(input: {instanceId: $id, reportDeadline: $d,
				reason: "Pandemin"}) { instance { state } } }`, map[string]any{"id": f.Instance.ID, "d": at(2021, 4, 30, 16).Format(time.RFC3339)}, nil)
			env.AdvanceTo(at(2021, 3, 10, 9))
			require.Equal(t, before, s.notifications(t, "reminder"), "the reminder of the old deadline must not fire")
			env.AdvanceTo(at(2021, 4, 17, 9))
			require.Equal(t, before+1, s.notifications(t, "reminder"), "the reminder of the new deadline fires once")
		}
		s.report(t, c.sector, f, 1, float64(4+year-2018))
		s.act(t, s.official, "submitFollowUpToCouncil", f.Instance.ID, "")
		require.Equal(t, "council_review", s.approveAs(t, c.region, f.Instance.ID, "council_approve"), "one side is not the council")
		require.Equal(t, "approved", s.approveAs(t, c.sector, f.Instance.ID, "council_approve"))
		env.MustDo(s.official, `mutation($id: ID!, $t: String!) { publishAnnualReport(input: {instanceId: $id, title: $t,
			body: "Året i korthet."}) { instance { state } } }`, map[string]any{"id": f.Instance.ID, "t": fmt.Sprintf("Årsberättelse %d", year)}, nil)
		env.MustDo(c.region, `mutation($id: ID!, $a: [ActivityInput!]!) { adoptNextActivityPlan(input: {instanceId: $id, activities: $a}) {
			instance { state } } }`, map[string]any{"id": f.Instance.ID, "a": plan(year)}, nil)
		require.Equal(t, "plan_adopted", s.waitForFollowUp(t, year).Instance.State)
	}

	// Exactly one follow-up per year, however often the job ran.
	time.Sleep(300 * time.Millisecond)
	years := map[int]int{}
	for _, f := range s.followUps(t) {
		years[f.Year]++
	}
	require.Equal(t, map[int]int{2018: 1, 2019: 1, 2020: 1, 2021: 1}, years)

	// The public reads the annual reports and the indicator over the years.
	var pub struct {
		Node struct {
			AnnualReports []struct {
				Year               int
				Title, PublishedOn string
			}
			IndicatorSeries []struct {
				Year  int
				Value float64
			}
		}
	}
	env.MustDo(nil, `query($v: ID!) { node(id: $v) { ... on AgreementVersion { annualReports { year title publishedOn }
		indicatorSeries(name: "Deltagare") { year value } } } }`, map[string]any{"v": s.version}, &pub)
	require.Len(t, pub.Node.AnnualReports, 4)
	require.Equal(t, "Årsberättelse 2020", pub.Node.AnnualReports[2].Title)
	require.Equal(t, []struct {
		Year  int
		Value float64
	}{{2018, 100}, {2019, 110}, {2020, 120}, {2021, 130}}, pub.Node.IndicatorSeries)

	revisionStory(t, s, c, signers)
}

func revisionStory(t *testing.T, s *story, c council, signers []applicant) {
	env := s.env
	// An official opens the revision early, in the autumn of 2021.
	var open struct {
		OpenRevision struct{ Instance instanceData }
	}
	env.AdvanceTo(at(2021, 9, 1, 9))
	env.MustDo(s.official, `mutation($v: ID!) { openRevision(input: {agreementVersionId: $v}) { instance { id state version } } }`,
		map[string]any{"v": s.version}, &open)
	rev := open.OpenRevision.Instance.ID
	for _, want := range []string{"gathering", "dialogue", "drafting"} {
		require.Equal(t, want, s.act(t, s.official, "advanceRevision", rev, "").State)
	}
	for i, body := range []string{"Utkast ett: det sociala området.", "Utkast två: hela den idéburna sektorn."} {
		env.MustDo(s.official, `mutation($id: ID!, $b: String!, $t: String!) { addRevisionDraft(input: {instanceId: $id, title: $t, body: $b}) {
			draft { version } } }`, map[string]any{"id": rev, "b": body, "t": fmt.Sprintf("Överenskommelsen, utkast %d", i+1)}, nil)
	}
	env.AdvanceTo(at(2022, 1, 10, 9))
	env.MustDo(s.official, `mutation($id: ID!, $d: DateTime!) { openConsultationRound(input: {instanceId: $id, deadline: $d}) { instance { state } } }`,
		map[string]any{"id": rev, "d": at(2022, 3, 31, 23).Format(time.RFC3339)}, nil)

	// The job does not open a second revision when five years approach.
	env.AdvanceTo(at(2022, 2, 1, 9))
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM workflow_instances WHERE kind = 'revision'`))

	comment := `mutation($id: ID!, $o: ID!, $s: String!) { submitConsultationComment(input: {instanceId: $id, organisationId: $o,
		section: $s, body: "Lyft fram självständigheten tydligare."}) { comment { id section draftVersion } } }`
	var comments []string
	for i, sec := range []string{"2", "3.1", "4"} {
		var out struct {
			SubmitConsultationComment struct {
				Comment struct {
					ID           string
					DraftVersion int
				}
			}
		}
		env.MustDo(signers[i].rep, comment, map[string]any{"id": rev, "o": signers[i].org, "s": sec}, &out)
		require.Equal(t, 2, out.SubmitConsultationComment.Comment.DraftVersion, "comments are on the draft sent out")
		comments = append(comments, out.SubmitConsultationComment.Comment.ID)
	}
	// An organisation that has not signed may comment once invited.
	outsider := s.fixture(t, 99)
	env.MustFail(outsider.rep, "FORBIDDEN", comment, map[string]any{"id": rev, "o": outsider.org, "s": "1"})
	env.MustDo(c.sector, `mutation($id: ID!, $o: ID!) { inviteToConsultation(input: {instanceId: $id, organisationId: $o}) { instance { state } } }`,
		map[string]any{"id": rev, "o": outsider.org}, nil)
	var oc struct {
		SubmitConsultationComment struct{ Comment struct{ ID string } }
	}
	env.MustDo(outsider.rep, comment, map[string]any{"id": rev, "o": outsider.org, "s": "1"}, &oc)
	comments = append(comments, oc.SubmitConsultationComment.Comment.ID)

	// The round closes itself at its deadline; a late comment is refused.
	env.AdvanceTo(at(2022, 4, 2, 9))
	var state struct {
		Node struct{ State string }
	}
	env.MustDo(nil, `query($id: ID!) { node(id: $id) { ... on WorkflowInstance { state } } }`, map[string]any{"id": rev}, &state)
	require.Equal(t, "decision", state.Node.State)
	e := env.MustFail(signers[5].rep, "INVALID_TRANSITION", comment, map[string]any{"id": rev, "o": signers[5].org, "s": "5"})
	require.Contains(t, e.Message, "closed on 2022-03-31")

	for _, id := range comments {
		env.MustDo(c.region, `mutation($id: ID!) { respondToComment(input: {commentId: $id, response: "Tack, vi har förtydligat."}) { comment { response } } }`,
			map[string]any{"id": id}, nil)
	}
	env.MustDo(s.official, `mutation($id: ID!) { setRevisionDecision(input: {instanceId: $id, decisionReference: "Regionstyrelsen 2022-05-17 §88",
		scopeNote: "Hela den idéburna sektorn / the whole idea-based sector"}) { instance { state } } }`, map[string]any{"id": rev}, nil)

	// Both parties decide: one side alone adopts nothing; withdrawing an
	// approval before the quorum is complete works; approving twice counts once.
	env.AdvanceTo(at(2022, 5, 17, 14))
	require.Equal(t, "decision", s.approveAs(t, c.politician, rev, "adopt"))
	env.MustFail(c.politician, "CONFLICT", `mutation($id: ID!) { approve(input: {instanceId: $id, transition: "adopt"}) { instance { state } } }`,
		map[string]any{"id": rev})
	env.MustDo(c.politician, `mutation($id: ID!) { withdrawApproval(input: {instanceId: $id, transition: "adopt"}) { instance { state } } }`,
		map[string]any{"id": rev}, nil)
	require.Equal(t, "decision", s.approveAs(t, c.sector, rev, "adopt"), "the sector alone adopts nothing")
	require.Equal(t, "implementation", s.approveAs(t, c.politician, rev, "adopt"))

	var ag struct {
		Agreements []struct {
			CurrentVersion struct {
				ID, AdoptedOn, ScopeNote, DecisionReference string
				Number                                      int
			}
		}
	}
	env.MustDo(nil, `{ agreements { currentVersion { id number adoptedOn scopeNote decisionReference } } }`, nil, &ag)
	v2 := ag.Agreements[0].CurrentVersion
	require.Equal(t, 2, v2.Number)
	require.Equal(t, "2022-05-17", v2.AdoptedOn)
	require.Equal(t, "Regionstyrelsen 2022-05-17 §88", v2.DecisionReference)
	require.Contains(t, v2.ScopeNote, "whole idea-based sector")

	// 40 signatories re-confirm; the other 14 drop off at their deadline.
	require.Len(t, signers, 54)
	env.AdvanceTo(at(2022, 6, 1, 10))
	for i, a := range signers {
		if i >= 40 {
			break
		}
		var apps struct {
			Node struct {
				SigningApplications []struct {
					ID, State        string
					AgreementVersion struct{ Number int }
				}
			}
		}
		env.MustDo(a.rep, `query($o: ID!) { node(id: $o) { ... on Organisation { signingApplications { id state agreementVersion { number } } } } }`,
			map[string]any{"o": a.org}, &apps)
		var request string
		for _, app := range apps.Node.SigningApplications {
			if app.State == "reconfirmation_requested" && app.AgreementVersion.Number == 2 {
				request = app.ID
			}
		}
		require.NotEmpty(t, request, "signatory %d has a re-confirmation request", i)
		require.Equal(t, "signed", s.act(t, a.rep, "confirmAgreementVersion", request, "").State)
	}
	env.AdvanceTo(at(2022, 9, 1, 10))
	var list signatoryList
	env.MustDo(nil, `query($v: ID!) { node(id: $v) { ... on AgreementVersion { signatories(first: 100) { totalCount } } } }`,
		map[string]any{"v": v2.ID}, &list)
	require.Equal(t, 40, list.Node.Signatories.TotalCount)
	require.Equal(t, 14, env.Count(`SELECT count(*) FROM workflow_instances WHERE kind = 'signing' AND state = 'dropped'`))
	require.Equal(t, 14, env.Count(`SELECT count(*) FROM notifications WHERE kind = 'notice' AND subject LIKE '%removed from the list%'`))
	require.Equal(t, 14, env.Count(`SELECT count(*) FROM history_events WHERE transition = 'drop' AND actor_id IS NULL`))

	// The revision's history shows each step, public.
	var hist struct {
		Node struct {
			History struct{ TotalCount int }
		}
	}
	env.MustDo(nil, `query($id: ID!) { node(id: $id) { ... on WorkflowInstance { history { totalCount } } } }`, map[string]any{"id": rev}, &hist)
	require.Greater(t, hist.Node.History.TotalCount, 10)
}
