// Package workflowstest is the one test environment of the workflow
// packages: a fresh database (internal/testdb), a test clock shared with a
// running River client, the engine on the real policy point (Casbin with
// policy.csv) unless a test brings its own, the four workflow services on
// the configuration's defaults, and helpers for people, organisations and
// moving time. Only tests import it.
package workflowstest

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

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/jobs"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/iop"
	"github.com/samverkan/samverkan/workflows/revision"
	"github.com/samverkan/samverkan/workflows/signing"
)

// T0 is when a test starts unless it says otherwise: in the future, so that
// River works a job only once the test clock reaches it, and its job
// rescuer, which measures with the wall clock, never takes a running job for
// one stuck since the past.
var T0 = time.Date(2041, 1, 7, 9, 0, 0, 0, clock.Stockholm)

// Options change the environment.
type Options struct {
	// Start is the test clock's start (T0 when zero).
	Start time.Time
	// Config changes the configuration's defaults the services start on.
	Config func(*config.Config)
	// Policy replaces the real policy point (the engine's own tests use
	// made-up actions). With it, Definitions replace the four workflows.
	Policy      workflows.Policy
	Definitions []*workflows.Definition
}

// Env is a running engine and its services.
type Env struct {
	DB       *testdb.Database
	Clock    *clock.Test
	Engine   *workflows.Engine
	River    *jobs.Client
	Config   config.Config
	Enforcer *authz.PolicyEnforcer // nil when Options.Policy is given

	Registry *registry.Service
	Roles    *authz.RoleService
	Signing  *signing.Service
	FollowUp *followup.Service
	Revision *revision.Service
	IOP      *iop.Service

	numbers atomic.Int64
}

// New starts an environment that stops with the test.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	start := o.Start
	if start.IsZero() {
		start = T0
	}
	e := &Env{DB: testdb.New(t), Clock: clock.NewTest(start), Config: config.MustDefaults()}
	if o.Config != nil {
		o.Config(&e.Config)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("SAMVERKAN_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	db := store.New(e.DB.Pool)
	policy := o.Policy
	if policy == nil {
		enf, err := authz.NewPolicyEnforcer(ctx, db, e.DB.Pool, log)
		require.NoError(t, err)
		t.Cleanup(enf.Close)
		e.Enforcer, policy = enf, enf
		e.Roles = authz.NewRoleService(db, enf, e.Clock)
		e.Registry = registry.New(db, enf, e.Clock, log)
	}
	e.Engine = workflows.New(db, policy, e.Clock, log)
	workers := river.NewWorkers()
	river.AddWorker(workers, &workflows.TimerWorker{Engine: e.Engine})
	if o.Policy != nil {
		require.NoError(t, e.Engine.Register(o.Definitions...))
	} else {
		e.startServices(t, workers)
	}
	rc, err := jobs.NewClient(e.DB.Pool, jobs.Options{Workers: workers, Clock: e.Clock, Logger: log, WorkerCount: 4,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	e.River = rc
	e.Engine.SetJobClient(rc)
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, rc.Stop(ctx))
	})
	return e
}

func (e *Env) startServices(t testing.TB, workers *river.Workers) {
	t.Helper()
	var err error
	e.Signing, err = signing.NewService(e.Engine)
	require.NoError(t, err)
	schedule, err := followup.ScheduleFrom(e.Config)
	require.NoError(t, err)
	e.FollowUp, err = followup.NewService(e.Engine, schedule)
	require.NoError(t, err)
	e.Revision, err = revision.NewService(e.Engine, e.Signing, revision.OptionsFrom(e.Config))
	require.NoError(t, err)
	e.IOP, err = iop.NewService(e.Engine, iop.OptionsFrom(e.Config))
	require.NoError(t, err)
	e.IOP.AddWorkers(workers)
	river.AddWorker(workers, &workflows.OpenDueWorker{DB: e.Engine.DB(), Openers: map[string]workflows.Opener{
		"followups": e.FollowUp, "revisions": e.Revision}})
}

// User stores a person holding roles written "role@scope"; with the real
// policy point the roles are granted as an admin would.
func (e *Env) User(t testing.TB, name string, roles ...string) authz.Principal {
	t.Helper()
	u := &store.User{Issuer: "test", Subject: fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(name, " ", "-")), e.numbers.Add(1)),
		Name: name, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"}
	require.NoError(t, store.UpsertUser(context.Background(), e.DB.Pool, u))
	for _, r := range roles {
		role, scope, _ := strings.Cut(r, "@")
		require.NotNil(t, e.Enforcer, "roles need the real policy point; grant them in your own policy")
		a := authz.Assignment{UserID: u.ID, Role: role, Scope: scope}
		require.NoError(t, e.Engine.DB().InTx(context.Background(), func(tx pgx.Tx) error {
			return authz.GrantTx(context.Background(), tx, authz.SystemPrincipal, a, e.Clock.Now())
		}))
		e.Enforcer.Remember(a)
	}
	return authz.Principal{UserID: u.ID, Name: name}
}

// Organisation stores an organisation of a sector (registry.SectorIdeaBased
// or registry.SectorPublic) with an invented number.
func (e *Env) Organisation(t testing.TB, name, sector string) uuid.UUID {
	t.Helper()
	o := &store.Organisation{Name: name, OrganisationNumber: fmt.Sprintf("80%08d", e.numbers.Add(1)), LegalForm: "ideell_forening",
		Sector: sector, Municipality: "Karlstad", CreatedAt: e.Clock.Now()}
	require.NoError(t, store.InsertOrganisation(context.Background(), e.DB.Pool, o))
	return o.ID
}

// RunDue moves the test clock to at and waits until River has worked every
// job due by then.
func (e *Env) RunDue(t testing.TB, at time.Time) {
	t.Helper()
	e.Clock.AdvanceTo(at)
	require.Empty(t, jobstest.RunDue(t, e.DB.Pool, e.River, e.Clock.Now(), 10*time.Second), "a job failed")
}

// Count runs a counting query.
func (e *Env) Count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}
