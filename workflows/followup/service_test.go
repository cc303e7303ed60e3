package followup_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/workflowstest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var ctx = context.Background()

// fixture is a version in force since 2038 with the 2040 plan: one
// activity the Region answers for, one both parties do.
type fixture struct {
	*workflowstest.Env
	official, councilRegion, councilSector authz.Principal
	version                                uuid.UUID
	regionAct, sharedAct                   *store.Activity
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e := workflowstest.New(t, workflowstest.Options{})
	f := &fixture{Env: e,
		official:      e.User(t, "Olle Officiell", "region_official@region"),
		councilRegion: e.User(t, "Rolf Rådsledamot", "council_member@region"),
		councilSector: e.User(t, "Sara Sektor", "council_member@sector"),
	}
	region := e.Organisation(t, "Region Värmland", registry.SectorPublic)
	_, v, err := e.Registry.CreateAgreement(ctx, f.official, "Överenskommelsen Värmland", region, registry.VersionInput{
		Title: "Överenskommelsen Värmland", Body: "Text", AdoptedOn: time.Date(2038, 1, 30, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	f.version = v.ID
	target := 12.0
	plan, err := e.FollowUp.CreateActionPlan(ctx, f.official, v.ID, 2040, []followup.ActivityInput{
		{Title: "Dialogmöten", Quarters: []int{1, 3}, Responsible: "region"},
		{Title: "Gemensam utbildning", Quarters: []int{2}, Responsible: "both",
			Indicators: []followup.IndicatorInput{{Name: "Deltagare", Unit: "personer", Target: &target}}},
	})
	require.NoError(t, err)
	acts, err := e.FollowUp.Activities(ctx, plan.ID)
	require.NoError(t, err)
	require.Len(t, acts, 2)
	f.regionAct, f.sharedAct = acts[0], acts[1]
	return f
}

func step(in *store.Instance, reason string) workflows.Step {
	return workflows.Step{ID: in.ID, ExpectedVersion: in.Version, Reason: reason}
}

func (f *fixture) read(t *testing.T, id uuid.UUID) *store.Instance {
	t.Helper()
	in, err := f.Engine.Instance(ctx, id)
	require.NoError(t, err)
	return in
}

// collecting opens the 2040 follow-up and starts the reporting.
func (f *fixture) collecting(t *testing.T) *store.Instance {
	t.Helper()
	in, err := f.FollowUp.Open(ctx, f.official, f.version, 2040)
	require.NoError(t, err)
	require.Equal(t, string(followup.Opened), in.State)
	deadline := f.Clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	in, err = f.FollowUp.StartCollecting(ctx, f.official, step(in, ""), &deadline)
	require.NoError(t, err)
	require.Equal(t, string(followup.CollectingReports), in.State)
	got, ok := followup.ReportDeadline(in)
	require.True(t, ok)
	require.True(t, got.Equal(deadline))
	return in
}

func (f *fixture) report(t *testing.T, pr authz.Principal, in *store.Instance, act *store.Activity, values map[uuid.UUID]float64) *store.Instance {
	t.Helper()
	in, err := f.FollowUp.SubmitReport(ctx, pr, followup.ReportInput{Step: step(in, ""), ActivityID: act.ID, Outcome: "Genomfört.", IndicatorValues: values})
	require.NoError(t, err)
	return in
}

func (f *fixture) events(t *testing.T, pr authz.Principal, id uuid.UUID) []string {
	t.Helper()
	events, _, err := f.Engine.History(ctx, pr, f.read(t, id), 0, 200)
	require.NoError(t, err)
	var out []string
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == "transition" {
			out = append(out, events[i].Transition)
		} else {
			out = append(out, events[i].Kind)
		}
	}
	return out
}

func (f *fixture) action(t *testing.T, pr authz.Principal, in *store.Instance, prefix string) string {
	t.Helper()
	live, err := f.Engine.Approvals(ctx, in)
	require.NoError(t, err)
	for _, a := range f.Engine.AvailableActions(ctx, pr, in, live) {
		if len(a.Title) >= len(prefix) && a.Title[:len(prefix)] == prefix {
			return a.Transition
		}
	}
	t.Fatalf("no action %q for %s", prefix, pr.Name)
	return ""
}

func requireCode(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	require.Error(t, err)
	var ae *apperr.Error
	require.True(t, errors.As(err, &ae), "%v is no apperr.Error", err)
	require.Equal(t, code, ae.Code, ae.Message)
	if field != "" {
		require.Equal(t, field, ae.Field, ae.Message)
	}
}

// The year's follow-up as its people take it: both parties report, the
// reports go to the council, one member of each side approves, the annual
// report is published and next year's plan adopted.
func TestFollowUpToNextPlan(t *testing.T) {
	f := newFixture(t)
	in := f.collecting(t)
	inds, err := f.FollowUp.Indicators(ctx, []uuid.UUID{f.sharedAct.ID})
	require.NoError(t, err)
	require.Len(t, inds, 1)

	missing, err := f.FollowUp.MissingReports(ctx, in)
	require.NoError(t, err)
	require.Equal(t, []string{"Dialogmöten (region)", "Gemensam utbildning (region)", "Gemensam utbildning (sector)"}, missing)
	in = f.report(t, f.official, in, f.regionAct, nil)
	in = f.report(t, f.official, in, f.sharedAct, map[uuid.UUID]float64{inds[0].ID: 9})
	in = f.report(t, f.councilSector, in, f.sharedAct, nil)
	missing, err = f.FollowUp.MissingReports(ctx, in)
	require.NoError(t, err)
	require.Empty(t, missing)
	reports, err := f.FollowUp.Reports(ctx, f.councilRegion, in)
	require.NoError(t, err)
	require.Len(t, reports, 3)
	anon, err := f.FollowUp.Reports(ctx, authz.Principal{}, in)
	require.NoError(t, err)
	require.Empty(t, anon, "the reports are the parties' and the council's until the annual report")

	in, err = f.FollowUp.SubmitToCouncil(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	require.Equal(t, string(followup.CouncilReview), in.State)
	name := f.action(t, f.councilRegion, in, "rådet godkänner")
	in, err = f.Engine.Approve(ctx, f.councilRegion, step(in, ""), name)
	require.NoError(t, err)
	require.Equal(t, string(followup.CouncilReview), in.State, "one side's approval is not the council's")
	_, err = f.Engine.Approve(ctx, f.councilRegion, step(in, ""), name)
	require.Error(t, err, "the same side cannot approve twice")
	in, err = f.Engine.Approve(ctx, f.councilSector, step(f.read(t, in.ID), ""), name)
	require.NoError(t, err)
	require.Equal(t, string(followup.Approved), in.State)

	_, err = f.FollowUp.PublishAnnualReport(ctx, f.official, step(in, ""), "Årsberättelse 2040", " ")
	requireCode(t, err, apperr.BadInput, "body")
	in, err = f.FollowUp.PublishAnnualReport(ctx, f.official, step(in, ""), "Årsberättelse 2040", "Ett år av samverkan.")
	require.NoError(t, err)
	ars, err := f.FollowUp.AnnualReports(ctx, f.version, 2040)
	require.NoError(t, err)
	require.Len(t, ars, 1)
	require.Equal(t, "Årsberättelse 2040", ars[0].Title)

	in, err = f.FollowUp.AdoptNextPlan(ctx, f.official, step(in, ""), []followup.ActivityInput{{Title: "Nätverksträffar", Quarters: []int{2}, Responsible: "sector"}})
	require.NoError(t, err)
	require.Equal(t, string(followup.PlanAdopted), in.State)
	next, err := f.FollowUp.PlanFor(ctx, f.version, 2041)
	require.NoError(t, err)
	require.NotNil(t, next)
	acts, err := f.FollowUp.Activities(ctx, next.ID)
	require.NoError(t, err)
	require.Len(t, acts, 1)
	require.Equal(t, "Nätverksträffar", acts[0].Title)

	require.Equal(t, []string{"started", "start_collecting", "report_submitted", "report_submitted", "report_submitted", "submit_to_council",
		"approval", "approval", "council_approve", "publish_annual_report", "adopt_next_plan"}, f.events(t, f.official, in.ID))
	require.Equal(t, []string{"started", "start_collecting", "submit_to_council", "approval", "approval", "council_approve",
		"publish_annual_report", "adopt_next_plan"}, f.events(t, authz.Principal{}, in.ID))
}

// Reports missing: the follow-up goes to the council only with a reason;
// the council sends it back only with one.
func TestSubmitWithReportsMissing(t *testing.T) {
	f := newFixture(t)
	in := f.collecting(t)
	in = f.report(t, f.official, in, f.regionAct, nil)
	_, err := f.FollowUp.SubmitToCouncil(ctx, f.official, step(in, ""))
	requireCode(t, err, apperr.InvalidTransition, "")
	require.Contains(t, err.Error(), "Gemensam utbildning (region), Gemensam utbildning (sector)")
	require.Equal(t, string(followup.CollectingReports), f.read(t, in.ID).State)
	in, err = f.FollowUp.SubmitToCouncil(ctx, f.official, step(in, "Sektorns rapport kommer i mars."))
	require.NoError(t, err)
	require.Equal(t, string(followup.CouncilReview), in.State)
	_, err = f.FollowUp.SendBack(ctx, f.councilSector, step(in, ""))
	requireCode(t, err, apperr.BadInput, "reason")
	in, err = f.FollowUp.SendBack(ctx, f.councilSector, step(in, "Rapporterna saknas."))
	require.NoError(t, err)
	require.Equal(t, string(followup.CollectingReports), in.State)
}

func TestFollowUpRefusals(t *testing.T) {
	f := newFixture(t)
	_, err := f.FollowUp.Open(ctx, f.official, f.version, 2037)
	requireCode(t, err, apperr.BadInput, "year")
	_, err = f.FollowUp.Open(ctx, f.councilSector, f.version, 2040)
	requireCode(t, err, apperr.Forbidden, "")
	in := f.collecting(t)
	_, err = f.FollowUp.Open(ctx, f.official, f.version, 2040)
	requireCode(t, err, apperr.Conflict, "")

	// A party reports only on what it answers for, and on this year's plan.
	_, err = f.FollowUp.SubmitReport(ctx, f.councilSector, followup.ReportInput{Step: step(in, ""), ActivityID: f.regionAct.ID, Outcome: "Gjort."})
	requireCode(t, err, apperr.BadInput, "activityId")
	_, err = f.FollowUp.SubmitReport(ctx, f.official, followup.ReportInput{Step: step(in, ""), ActivityID: uuid.New(), Outcome: "Gjort."})
	requireCode(t, err, apperr.BadInput, "activityId")
	_, err = f.FollowUp.SubmitReport(ctx, f.official, followup.ReportInput{Step: step(in, ""), ActivityID: f.regionAct.ID})
	requireCode(t, err, apperr.BadInput, "outcome")
	require.Equal(t, 0, f.Count(t, `SELECT count(*) FROM activity_reports WHERE instance_id = $1`, in.ID))

	// A stale read is a CONFLICT and nothing changes.
	stale := workflows.Step{ID: in.ID, ExpectedVersion: in.Version - 1, Reason: "Allt klart."}
	_, err = f.FollowUp.SubmitToCouncil(ctx, f.official, stale)
	requireCode(t, err, apperr.Conflict, "")
	_, err = f.FollowUp.SubmitReport(ctx, f.official, followup.ReportInput{Step: stale, ActivityID: f.regionAct.ID, Outcome: "Gjort."})
	requireCode(t, err, apperr.Conflict, "")
	got := f.read(t, in.ID)
	require.Equal(t, string(followup.CollectingReports), got.State)
	require.Equal(t, in.Version, got.Version)
	require.Equal(t, 0, f.Count(t, `SELECT count(*) FROM activity_reports WHERE instance_id = $1`, in.ID))

	// Another workflow's instance is NOT_FOUND, as a random id is.
	other, err := f.Revision.Open(ctx, f.official, f.version)
	require.NoError(t, err)
	_, missing := f.FollowUp.SubmitToCouncil(ctx, f.official, workflows.Step{ID: uuid.New(), Reason: "x"})
	requireCode(t, missing, apperr.NotFound, "instanceId")
	_, err = f.FollowUp.SubmitToCouncil(ctx, f.official, workflows.Step{ID: other.ID, Reason: "x"})
	require.Equal(t, missing.Error(), err.Error())
	_, err = f.FollowUp.ExtendDeadline(ctx, f.official, workflows.Step{ID: other.ID, Reason: "x"}, f.Clock.Now().Add(time.Hour))
	require.Equal(t, missing.Error(), err.Error())
	require.Equal(t, other.Version, f.read(t, other.ID).Version)

	// Moving the deadline; steps out of turn.
	later := f.Clock.Now().Add(60 * 24 * time.Hour).Truncate(time.Second)
	in, err = f.FollowUp.ExtendDeadline(ctx, f.official, step(f.read(t, in.ID), "Sektorn behöver mer tid."), later)
	require.NoError(t, err)
	d, _ := followup.ReportDeadline(in)
	require.True(t, d.Equal(later))
	_, err = f.FollowUp.PublishAnnualReport(ctx, f.official, step(in, ""), "Årsberättelse", "Text")
	requireCode(t, err, apperr.InvalidTransition, "")
	_, err = f.FollowUp.AdoptNextPlan(ctx, f.official, step(in, ""), []followup.ActivityInput{{Title: "X", Quarters: []int{5}, Responsible: "region"}})
	requireCode(t, err, apperr.BadInput, "activities[0].quarters")
	require.Equal(t, string(followup.CollectingReports), f.read(t, in.ID).State)
}

// Reports not in by the deadline: the follow-up is overdue.
func TestOverdue(t *testing.T) {
	f := newFixture(t)
	in := f.collecting(t)
	require.False(t, f.FollowUp.IsOverdue(in))
	d, _ := followup.ReportDeadline(in)
	f.RunDue(t, d.Add(time.Hour))
	require.True(t, f.FollowUp.IsOverdue(f.read(t, in.ID)))
	overdue, err := f.FollowUp.Overdue(ctx)
	require.NoError(t, err)
	require.Len(t, overdue, 1)
	require.Equal(t, in.ID, overdue[0].ID)
}

// Issue 14 item 10: a version's follow-ups come oldest year first, whatever
// order they were opened in.
func TestFollowUpsOldestYearFirst(t *testing.T) {
	f := newFixture(t)
	for _, y := range []int{2040, 2038, 2039} {
		_, err := f.FollowUp.Open(ctx, f.official, f.version, y)
		require.NoError(t, err)
	}
	all, err := f.FollowUp.FollowUps(ctx, f.version)
	require.NoError(t, err)
	var years []int
	for _, in := range all {
		years = append(years, followup.Year(in))
	}
	require.Equal(t, []int{2038, 2039, 2040}, years)
	batch, err := f.FollowUp.FollowUpsOf(ctx, authz.Principal{}, []uuid.UUID{f.version})
	require.NoError(t, err)
	years = nil
	for _, in := range batch {
		years = append(years, followup.Year(in))
	}
	require.Equal(t, []int{2038, 2039, 2040}, years, "as agreementVersion.followUps reads them")
}

// Both parties report the same indicator of a shared activity: each
// party's value is kept with who reported it (the second used to overwrite
// the first), a party's new report replaces only its own value, and the
// series shows the year's sum of the parties' values.
func TestSharedIndicatorKeepsEachPartysValue(t *testing.T) {
	f := newFixture(t)
	in := f.collecting(t)
	inds, err := f.FollowUp.Indicators(ctx, []uuid.UUID{f.sharedAct.ID})
	require.NoError(t, err)
	ind := inds[0].ID

	in = f.report(t, f.official, in, f.sharedAct, map[uuid.UUID]float64{ind: 9})
	in = f.report(t, f.councilSector, in, f.sharedAct, map[uuid.UUID]float64{ind: 5})
	values := func() []store.IndicatorValue {
		t.Helper()
		vs, err := f.FollowUp.IndicatorValues(ctx, []uuid.UUID{ind})
		require.NoError(t, err)
		return vs
	}
	require.Equal(t, []store.IndicatorValue{
		{IndicatorID: ind, Year: 2040, Party: "region", Value: 9, ReportedBy: f.official.UserID},
		{IndicatorID: ind, Year: 2040, Party: "sector", Value: 5, ReportedBy: f.councilSector.UserID},
	}, values())

	// Another official corrects the Region's figure; the sector's stays.
	other := f.User(t, "Anna Annan", "region_official@region")
	f.report(t, other, in, f.sharedAct, map[uuid.UUID]float64{ind: 10})
	require.Equal(t, []store.IndicatorValue{
		{IndicatorID: ind, Year: 2040, Party: "region", Value: 10, ReportedBy: other.UserID},
		{IndicatorID: ind, Year: 2040, Party: "sector", Value: 5, ReportedBy: f.councilSector.UserID},
	}, values())

	series, err := f.FollowUp.IndicatorSeries(ctx, f.version, "Deltagare")
	require.NoError(t, err)
	require.Equal(t, []store.IndicatorValue{{IndicatorID: ind, Year: 2040, Value: 15}}, series, "one number a year: the parties' sum")
}
