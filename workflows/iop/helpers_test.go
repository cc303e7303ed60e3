package iop_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/jobs"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
	"github.com/samverkan/samverkan/workflows/workflowstest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// t0 is when every test starts (Stockholm).
var t0 = workflowstest.T0

// env is the workflows' test environment with the partnership service's
// view of it.
type env struct {
	*workflowstest.Env
	db     *testdb.Database
	eng    *workflows.Engine
	svc    *iop.Service
	clock  *clock.Test
	policy *authz.PolicyEnforcer
	river  *jobs.Client
}

// newEnv starts the workflows on the configuration's defaults, changed by
// configure when given.
func newEnv(t testing.TB, start time.Time, configure func(*config.Config)) *env {
	t.Helper()
	w := workflowstest.New(t, workflowstest.Options{Start: start, Config: configure})
	return &env{Env: w, db: w.DB, eng: w.Engine, svc: w.IOP, clock: w.Clock, policy: w.Enforcer, river: w.River}
}

// user stores a person holding roles written "role@scope".
func (e *env) user(t testing.TB, name string, roles ...string) authz.Principal {
	return e.User(t, name, roles...)
}

// org registers an organisation of a sector ("public" or "idea_based").
func (e *env) org(t testing.TB, name, sector string) uuid.UUID {
	return e.Organisation(t, name, sector)
}

// runDue moves the test clock to at and waits until River has worked
// every job due by then (asking River to run the due scheduled jobs now
// rather than at its scheduler's next 5-second tick).
func (e *env) runDue(t testing.TB, at time.Time) {
	t.Helper()
	e.clock.AdvanceTo(at)
	require.Empty(t, jobstest.RunDue(t, e.db.Pool, e.river, e.clock.Now(), 10*time.Second), "a job failed")
}

func (e *env) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func (e *env) state(t testing.TB, id uuid.UUID) string {
	t.Helper()
	p, err := store.GetPartnership(context.Background(), e.db.Pool, id)
	require.NoError(t, err)
	return p.State
}

func (e *env) record(t testing.TB, id uuid.UUID) *store.Partnership {
	t.Helper()
	p, err := store.GetPartnership(context.Background(), e.db.Pool, id)
	require.NoError(t, err)
	return p
}

func requireCode(t testing.TB, want apperr.Code, err error) *apperr.Error {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, apperr.CodeOf(err), "error: %v", err)
	ae, _ := apperr.As(err)
	return ae
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func at(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, clock.Stockholm)
}

// cast are the people of a partnership between the Region and
// idea-based organisations.
type cast struct {
	region     uuid.UUID
	official   authz.Principal
	politician authz.Principal
	orgs       []uuid.UUID
	reps       []authz.Principal
}

func (e *env) cast(t testing.TB, ideaBased ...string) *cast {
	t.Helper()
	c := &cast{region: e.org(t, "Region Värmland", "public")}
	c.official = e.user(t, "Tjänsteperson Test", authz.RoleRegionOfficial+"@"+authz.ScopeRegion)
	c.politician = e.user(t, "Förtroendevald Test", authz.RoleRegionPolitician+"@"+authz.ScopeRegion)
	for _, name := range ideaBased {
		id := e.org(t, name, "idea_based")
		c.orgs = append(c.orgs, id)
		c.reps = append(c.reps, e.user(t, "Ordförande "+name, authz.RoleSectorRepresentative+"@"+authz.OrgScope(id)))
	}
	return c
}

// proposal is a valid initiative between the cast's parties, from start to
// end with yearly contributions.
func (c *cast) proposal(start, end time.Time) iop.ProposeInput {
	var cs []iop.ContributionInput
	for y := start.Year(); y <= end.Year(); y++ {
		cs = append(cs, iop.ContributionInput{OrganisationID: c.region, Year: y, Kind: "money", Amount: "500 000"})
		for _, o := range c.orgs {
			cs = append(cs, iop.ContributionInput{OrganisationID: o, Year: y, Kind: "volunteer_hours", Amount: "2000",
				Description: "Volontärer i mötesplatsen / Volunteers at the meeting place"})
		}
	}
	return iop.ProposeInput{
		Record: iop.Record{
			Title:              "Mötesplats för nyanlända / A meeting place for newcomers",
			Purpose:            "Minska ensamhet och öka delaktighet. / Reduce loneliness and increase participation.",
			Background:         "Behovet har vuxit sedan 2039. / The need has grown since 2039.",
			SteeringGroup:      "En från varje part. / One from each party.",
			Goals:              "200 deltagare per år. / 200 participants a year.",
			TargetGroup:        "Nyanlända vuxna. / Newly arrived adults.",
			FollowUpIndicators: "Antal deltagare; upplevd delaktighet. / Participants; perceived participation.",
			ReportDueMonth:     3, ReportDueDay: 31,
			Budget:        "1 800 000",
			ExpectedGains: "Färre i utanförskap. / Fewer left outside.",
			StartDate:     start, EndDate: end, NoticeMonths: 3,
			DisputeResolution: "Samråd i styrgruppen. / Consultation in the steering group.",
			Contributions:     cs,
		},
		PublicBodyID: c.region, IdeaBasedIDs: c.orgs,
	}
}

func suitable() iop.AssessmentInput {
	return iop.AssessmentInput{
		EconomicActivity: false, EconomicActivityJustification: "Ingen ersättning för tjänster. / No payment for services.",
		MarketOrCompetition: false, MarketOrCompetitionJustification: "Ingen marknad finns. / There is no market.",
		PossibleStateAid: false, PossibleStateAidJustification: "Ingen ekonomisk verksamhet. / No economic activity.",
		IdeaBasedOrganisation: true, IdeaBasedOrganisationJustification: "Allmännyttigt ändamål i stadgarna. / Public-benefit purpose in the statutes.",
	}
}

// agree takes a proposal through assessment, one draft and every party's
// approval.
func (e *env) agree(t testing.TB, c *cast, in iop.ProposeInput) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	p, _, err := e.svc.Propose(ctx, c.official, in)
	require.NoError(t, err)
	_, _, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID}, suitable())
	require.NoError(t, err)
	_, err = e.svc.AddDraft(ctx, c.official, workflows.Step{ID: p.ID}, "Överenskommelse om IOP. / IOP agreement.")
	require.NoError(t, err)
	_, err = e.svc.SubmitForDecision(ctx, c.official, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	_, err = e.svc.Approve(ctx, c.politician, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	for _, rep := range c.reps {
		_, err = e.svc.Approve(ctx, rep, workflows.Step{ID: p.ID})
		require.NoError(t, err)
	}
	require.Equal(t, string(iop.Active), e.state(t, p.ID))
	return p.ID
}

// taskActions are the actions pr's work queue lists on the partnership
// (nil when it is not in the queue).
func (e *env) taskActions(t testing.TB, pr authz.Principal, id uuid.UUID) []string {
	t.Helper()
	tasks, err := e.eng.Tasks(context.Background(), pr)
	require.NoError(t, err)
	for _, task := range tasks {
		if task.Instance.SubjectID == id || task.Instance.ID == id {
			var names []string
			for _, a := range task.Actions {
				names = append(names, a.Transition)
			}
			return names
		}
	}
	return nil
}
