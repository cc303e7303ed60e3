package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/e2e/client"
	"github.com/samverkan/samverkan/internal/clock"
)

func at(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, clock.Stockholm)
}

// council is the story's council and politician.
type council struct {
	region, sector, politician *apptest.User
}

// followUps is the story's version's annual follow-ups, as an official sees them.
func (s *story) followUps(t *testing.T) []client.FollowUp {
	r, err := client.FollowUps(t.Context(), s.as(s.official), s.version)
	require.NoError(t, err)
	return node[*client.FollowUpsNodeAgreementVersion](t, r.Node).FollowUps
}

// waitForFollowUp waits until the periodic job has opened the year's
// follow-up, as it does by itself once the clock has passed 15 January.
func (s *story) waitForFollowUp(t *testing.T, year int) client.FollowUp {
	var found *client.FollowUp
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

func plan(year int) []client.ActivityInput {
	return []client.ActivityInput{
		{Title: fmt.Sprintf("Vårkonferens %d under folkhälsoveckan", year+1), Quarters: []int{2}, Responsible: client.PartyBoth,
			Principles: []client.Principle{client.PrincipleDialog, client.PrincipleOppenhet},
			Indicators: []client.IndicatorInput{{Name: "Deltagare", Unit: "personer", Target: new(150.0)}}},
		{Title: "Nätverksträffar", Quarters: []int{1, 2, 3, 4}, Responsible: client.PartySector,
			Principles: []client.Principle{client.PrincipleMangfald},
			Indicators: []client.IndicatorInput{{Name: "Träffar", Unit: "st", Target: new(4.0)}}},
	}
}

func (s *story) report(t *testing.T, u *apptest.User, f client.FollowUp, activity int, value float64) {
	require.NotNil(t, f.ActionPlan)
	a := f.ActionPlan.Activities[activity]
	_, err := client.SubmitActivityReport(t.Context(), s.as(u), f.Instance.Id, a.Id, "Genomförd enligt plan.",
		[]client.IndicatorValueInput{{IndicatorId: a.Indicators[0].Id, Value: value}})
	require.NoError(t, err)
}

func (s *story) approveAs(t *testing.T, u *apptest.User, instance, transition string) string {
	r, err := client.Approve(t.Context(), s.as(u), instance, transition)
	require.NoError(t, err)
	return r.Approve.Instance.State
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
	env, ctx, official := s.env, t.Context(), s.as(s.official)
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
		s.sign(t, a)
		signers = append(signers, a)
	}
	_, err := client.CreateActionPlan(ctx, official, s.version, 2018, plan(2017))
	require.NoError(t, err)
	env.AdvanceTo(at(2018, 10, 1, 9))
	for n := 36; n <= 50; n++ {
		a := s.apply(t, n)
		s.approve(t, a)
		s.sign(t, a)
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
				s.sign(t, a)
				signers = append(signers, a)
			}
		}
		// Reporting starts by itself a week after opening.
		env.AdvanceTo(at(year+1, 1, 23, 9))
		f = s.waitForFollowUp(t, year)
		require.Equal(t, "collecting_reports", f.Instance.State)
		require.Len(t, f.MissingReports, 3, "region and sector on the shared activity, sector on its own")
		// Each party reports its own participants at the shared conference.
		s.report(t, s.official, f, 0, float64(60+5*(year-2018)))
		s.report(t, c.sector, f, 0, float64(40+5*(year-2018)))

		switch year {
		case 2019:
			// The sector is late: after the deadline the follow-up is overdue.
			require.NotNil(t, f.ReportDeadline)
			env.AdvanceTo(f.ReportDeadline.Add(24 * time.Hour))
			od, err := client.OverdueFollowUps(ctx, official)
			require.NoError(t, err)
			var years []int
			for _, o := range od.OverdueFollowUps {
				years = append(years, o.Year)
			}
			require.Equal(t, []int{2019}, years)
		case 2020:
			// An official extends the deadline before the reminder; the old
			// reminder does not fire, the new one does, once.
			before := s.notifications(t, "reminder")
			_, err := client.ExtendReportDeadline(ctx, official, f.Instance.Id, at(2021, 4, 30, 16), "Pandemin")
			require.NoError(t, err)
			env.AdvanceTo(at(2021, 3, 10, 9))
			require.Equal(t, before, s.notifications(t, "reminder"), "the reminder of the old deadline must not fire")
			env.AdvanceTo(at(2021, 4, 17, 9))
			require.Equal(t, before+1, s.notifications(t, "reminder"), "the reminder of the new deadline fires once")
		}
		s.report(t, c.sector, f, 1, float64(4+year-2018))
		_, err := client.SubmitFollowUpToCouncil(ctx, official, f.Instance.Id, "")
		require.NoError(t, err)
		require.Equal(t, "council_review", s.approveAs(t, c.region, f.Instance.Id, "council_approve"), "one side is not the council")
		require.Equal(t, "approved", s.approveAs(t, c.sector, f.Instance.Id, "council_approve"))
		_, err = client.PublishAnnualReport(ctx, official, f.Instance.Id, fmt.Sprintf("Årsberättelse %d", year), "Året i korthet.")
		require.NoError(t, err)
		_, err = client.AdoptNextActivityPlan(ctx, s.as(c.region), f.Instance.Id, plan(year))
		require.NoError(t, err)
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
	r, err := client.AnnualReports(ctx, s.as(nil), s.version, "Deltagare")
	require.NoError(t, err)
	pub := node[*client.AnnualReportsNodeAgreementVersion](t, r.Node)
	require.Len(t, pub.AnnualReports, 4)
	require.Equal(t, "Årsberättelse 2020", pub.AnnualReports[2].Title)
	require.Equal(t, []client.IndicatorValue{{Year: 2018, Value: 100}, {Year: 2019, Value: 110}, {Year: 2020, Value: 120}, {Year: 2021, Value: 130}},
		pub.IndicatorSeries, "one number a year: the sum of the parties' values")
	// The indicator keeps each party's value.
	var plans struct {
		Node struct {
			ActionPlans []struct {
				Year       int
				Activities []struct {
					Indicators []struct {
						Name   string
						Values []struct {
							Year  int
							Party *string
							Value float64
						}
					}
				}
			}
		}
	}
	env.MustDo(nil, `query($v: ID!) { node(id: $v) { ... on AgreementVersion { actionPlans { year
		activities { indicators { name values { year party value } } } } } } }`, map[string]any{"v": s.version}, &plans)
	require.Equal(t, 2018, plans.Node.ActionPlans[0].Year)
	shared := plans.Node.ActionPlans[0].Activities[0].Indicators[0]
	require.Equal(t, "Deltagare", shared.Name)
	require.Len(t, shared.Values, 2)
	require.Equal(t, "REGION", *shared.Values[0].Party)
	require.Equal(t, 60.0, shared.Values[0].Value)
	require.Equal(t, "SECTOR", *shared.Values[1].Party)
	require.Equal(t, 40.0, shared.Values[1].Value)

	revisionStory(t, s, c, signers)
}

func revisionStory(t *testing.T, s *story, c council, signers []applicant) {
	env, ctx, official := s.env, t.Context(), s.as(s.official)
	// An official opens the revision early, in the autumn of 2021.
	env.AdvanceTo(at(2021, 9, 1, 9))
	open, err := client.OpenRevision(ctx, official, s.version)
	require.NoError(t, err)
	rev := open.OpenRevision.Instance.Id
	for _, want := range []string{"gathering", "dialogue", "drafting"} {
		r, err := client.AdvanceRevision(ctx, official, rev)
		require.NoError(t, err)
		require.Equal(t, want, r.AdvanceRevision.Instance.State)
	}
	for i, body := range []string{"Utkast ett: det sociala området.", "Utkast två: hela den idéburna sektorn."} {
		_, err := client.AddRevisionDraft(ctx, official, rev, fmt.Sprintf("Överenskommelsen, utkast %d", i+1), body)
		require.NoError(t, err)
	}
	env.AdvanceTo(at(2022, 1, 10, 9))
	_, err = client.OpenConsultationRound(ctx, official, rev, at(2022, 3, 31, 23))
	require.NoError(t, err)

	// The job does not open a second revision when five years approach.
	env.AdvanceTo(at(2022, 2, 1, 9))
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM workflow_instances WHERE kind = 'revision'`))

	comment := func(a applicant, section string) (*client.SubmitConsultationCommentResponse, error) {
		return client.SubmitConsultationComment(ctx, s.as(a.rep), rev, a.org, section, "Lyft fram självständigheten tydligare.")
	}
	var comments []string
	for i, sec := range []string{"2", "3.1", "4"} {
		out, err := comment(signers[i], sec)
		require.NoError(t, err)
		require.Equal(t, 2, out.SubmitConsultationComment.Comment.DraftVersion, "comments are on the draft sent out")
		comments = append(comments, out.SubmitConsultationComment.Comment.Id)
	}
	// An organisation that has not signed may comment once invited.
	outsider := s.organisation(t, 99)
	_, err = comment(outsider, "1")
	requireCode(t, err, "FORBIDDEN")
	_, err = client.InviteToConsultation(ctx, s.as(c.sector), rev, outsider.org)
	require.NoError(t, err)
	oc, err := comment(outsider, "1")
	require.NoError(t, err)
	comments = append(comments, oc.SubmitConsultationComment.Comment.Id)

	// The round closes itself at its deadline; a late comment is refused.
	env.AdvanceTo(at(2022, 4, 2, 9))
	st, err := client.Instance(ctx, s.as(nil), rev)
	require.NoError(t, err)
	require.Equal(t, "decision", node[*client.InstanceNodeWorkflowInstance](t, st.Node).State)
	_, err = comment(signers[5], "5")
	e := requireCode(t, err, "INVALID_TRANSITION")
	require.Contains(t, e.Message, "closed on 2022-03-31")

	for _, id := range comments {
		_, err := client.RespondToComment(ctx, s.as(c.region), id, "Tack, vi har förtydligat.")
		require.NoError(t, err)
	}
	_, err = client.SetRevisionDecision(ctx, official, rev, "Regionstyrelsen 2022-05-17 §88",
		"Hela den idéburna sektorn / the whole idea-based sector")
	require.NoError(t, err)

	// Both parties decide: one side alone adopts nothing; withdrawing an
	// approval before the quorum is complete works; approving twice counts once.
	env.AdvanceTo(at(2022, 5, 17, 14))
	require.Equal(t, "decision", s.approveAs(t, c.politician, rev, "adopt"))
	_, err = client.Approve(ctx, s.as(c.politician), rev, "adopt")
	requireCode(t, err, "CONFLICT")
	_, err = client.WithdrawApproval(ctx, s.as(c.politician), rev, "adopt", "")
	require.NoError(t, err)
	require.Equal(t, "decision", s.approveAs(t, c.sector, rev, "adopt"), "the sector alone adopts nothing")
	require.Equal(t, "implementation", s.approveAs(t, c.politician, rev, "adopt"))

	ag, err := client.Agreements(ctx, s.as(nil))
	require.NoError(t, err)
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
		r, err := client.SigningApplications(ctx, s.as(a.rep), a.org)
		require.NoError(t, err)
		var request string
		for _, app := range node[*client.SigningApplicationsNodeOrganisation](t, r.Node).SigningApplications {
			if app.State == "reconfirmation_requested" && app.AgreementVersion != nil && app.AgreementVersion.Number == 2 {
				request = app.Id
			}
		}
		require.NotEmpty(t, request, "signatory %d has a re-confirmation request", i)
		confirmed, err := client.ConfirmAgreementVersion(ctx, s.as(a.rep), request)
		require.NoError(t, err)
		require.Equal(t, "signed", confirmed.ConfirmAgreementVersion.Instance.State)
	}
	env.AdvanceTo(at(2022, 9, 1, 10))
	require.Equal(t, 40, s.signatories(t, v2.Id).Node.Signatories.TotalCount)
	require.Equal(t, 14, env.Count(`SELECT count(*) FROM workflow_instances WHERE kind = 'signing' AND state = 'dropped'`))
	require.Equal(t, 14, env.Count(`SELECT count(*) FROM notifications WHERE kind = 'notice' AND subject LIKE '%removed from the list%'`))
	require.Equal(t, 14, env.Count(`SELECT count(*) FROM history_events WHERE transition = 'drop' AND actor_id IS NULL`))

	// The revision's history shows each step, public.
	h, err := client.InstanceHistory(ctx, s.as(nil), rev, 20)
	require.NoError(t, err)
	require.Greater(t, node[*client.InstanceHistoryNodeWorkflowInstance](t, h.Node).History.TotalCount, 10)
}
