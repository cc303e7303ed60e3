package iop_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/jobs"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// t0 is when every test starts (Stockholm): in the future, so that River
// works a job only once the test clock reaches it, and its job rescuer,
// which measures with the wall clock, never takes a running job for one
// stuck since the past.
var t0 = time.Date(2041, 1, 7, 9, 0, 0, 0, clock.Stockholm)

type env struct {
	db     *testdb.Database
	eng    *workflows.Engine
	svc    *iop.Service
	clock  *clock.Test
	policy *authz.PolicyEnforcer
	river  *jobs.Client
	orgs   atomic.Int64
}

func newEnv(t testing.TB, start time.Time, o iop.Options) *env {
	t.Helper()
	db := testdb.New(t)
	clk := clock.NewTest(start)
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("SAMVERKAN_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// The real policy point, with the real policy.csv.
	policy, err := authz.NewPolicyEnforcer(context.Background(), store.New(db.Pool), db.Pool, log)
	require.NoError(t, err)
	t.Cleanup(policy.Close)
	eng := workflows.New(store.New(db.Pool), policy, clk, log)
	svc, err := iop.NewService(eng, o)
	require.NoError(t, err)
	workers := river.NewWorkers()
	river.AddWorker(workers, &workflows.TimerWorker{Engine: eng})
	svc.AddWorkers(workers)
	rc, err := jobs.NewClient(db.Pool, jobs.Options{Workers: workers, Clock: clk, Logger: log, WorkerCount: 4,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	eng.SetJobClient(rc)
	require.NoError(t, rc.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, rc.Stop(ctx))
	})
	return &env{db: db, eng: eng, svc: svc, clock: clk, policy: policy, river: rc}
}

// user stores a person holding roles written "role@scope".
func (e *env) user(t testing.TB, name string, roles ...string) authz.Principal {
	t.Helper()
	u := &store.User{Issuer: "test", Subject: strings.ToLower(strings.ReplaceAll(name, " ", "-")), Name: name,
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"}
	require.NoError(t, store.UpsertUser(context.Background(), e.db.Pool, u))
	for _, r := range roles {
		role, scope, _ := strings.Cut(r, "@")
		a := authz.Assignment{UserID: u.ID, Role: role, Scope: scope}
		require.NoError(t, e.eng.DB().InTx(context.Background(), func(tx pgx.Tx) error {
			return authz.GrantTx(context.Background(), tx, authz.SystemPrincipal, a, e.clock.Now())
		}))
		e.policy.Remember(a)
	}
	return authz.Principal{UserID: u.ID, Name: name}
}

// org registers an organisation of a sector ("public" or "idea_based").
func (e *env) org(t testing.TB, name, sector string) uuid.UUID {
	t.Helper()
	o := &store.Organisation{Name: name, OrganisationNumber: fmt.Sprintf("80%08d", e.orgs.Add(1)), LegalForm: "ideell_forening",
		Sector: sector, CreatedAt: e.clock.Now()}
	require.NoError(t, store.InsertOrganisation(context.Background(), e.db.Pool, o))
	return o.ID
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
	_, _, err = e.svc.Assess(ctx, c.official, p.ID, suitable())
	require.NoError(t, err)
	_, err = e.svc.AddDraft(ctx, c.official, p.ID, "Överenskommelse om IOP. / IOP agreement.")
	require.NoError(t, err)
	_, err = e.svc.SubmitForDecision(ctx, c.official, p.ID)
	require.NoError(t, err)
	_, err = e.svc.Approve(ctx, c.politician, p.ID)
	require.NoError(t, err)
	for _, rep := range c.reps {
		_, err = e.svc.Approve(ctx, rep, p.ID)
		require.NoError(t, err)
	}
	require.Equal(t, string(iop.Active), e.state(t, p.ID))
	return p.ID
}
