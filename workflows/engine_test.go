package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
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
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/workflowstest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// fakePolicy stands in for the Casbin policy point (tested in
// internal/authz): an action is allowed to whoever holds one of the roles
// listed for it, in one of the object's scopes or everywhere ("*"), and it
// refuses the way authz.PolicyEnforcer.Authorize does.
type fakePolicy struct {
	actions map[string][]string // action → roles; fixed at creation

	mu   sync.Mutex
	held map[uuid.UUID][]authz.Assignment
}

func (p *fakePolicy) Authorize(_ context.Context, pr authz.Principal, action string, scopes []string) error {
	if pr.System {
		return nil
	}
	for _, a := range p.Assignments(pr) {
		if slices.Contains(p.actions[action], a.Role) && (a.Scope == authz.ScopeAll || slices.Contains(scopes, a.Scope)) {
			return nil
		}
	}
	if !pr.Authenticated() {
		return apperr.New(apperr.Unauthenticated, "sign in to do this")
	}
	return apperr.New(apperr.Forbidden, "not allowed")
}

func (p *fakePolicy) Assignments(pr authz.Principal) []authz.Assignment {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.held[pr.UserID])
}

func (p *fakePolicy) GrantedActions(pr authz.Principal) []string {
	var out []string
	for action, roles := range p.actions {
		for _, a := range p.Assignments(pr) {
			if slices.Contains(roles, a.Role) {
				out = append(out, action)
				break
			}
		}
	}
	return out
}

// env is the workflows' test environment with the engine running the
// given definitions under the fake policy.
type env struct {
	db     *testdb.Database
	eng    *workflows.Engine
	clock  *clock.Test
	policy *fakePolicy
	river  *jobs.Client
	worker *workflows.TimerWorker
}

// t0 is when every test starts.
var t0 = workflowstest.T0

func newEnv(t *testing.T, actions map[string][]string, defs ...*workflows.Definition) *env {
	t.Helper()
	policy := &fakePolicy{actions: actions, held: map[uuid.UUID][]authz.Assignment{}}
	w := workflowstest.New(t, workflowstest.Options{Policy: policy, Definitions: defs})
	return &env{db: w.DB, eng: w.Engine, clock: w.Clock, policy: policy, river: w.River, worker: &workflows.TimerWorker{Engine: w.Engine}}
}

// user stores a person (approvals and events refer to users) holding the
// given roles, written "role@scope".
func (e *env) user(t *testing.T, name string, roles ...string) authz.Principal {
	t.Helper()
	u := &store.User{Issuer: "test", Subject: strings.ToLower(name), Name: name, Email: strings.ToLower(name) + "@example.org"}
	require.NoError(t, store.UpsertUser(context.Background(), e.db.Pool, u))
	e.policy.mu.Lock()
	defer e.policy.mu.Unlock()
	for _, r := range roles {
		role, scope, _ := strings.Cut(r, "@")
		e.policy.held[u.ID] = append(e.policy.held[u.ID], authz.Assignment{UserID: u.ID, Role: role, Scope: scope})
	}
	return authz.Principal{UserID: u.ID, Name: name}
}

func (e *env) start(t *testing.T, p workflows.StartParams) *store.Instance {
	t.Helper()
	if p.SubjectType == "" {
		p.SubjectType, p.SubjectID = "thing", uuid.New()
	}
	var in *store.Instance
	require.NoError(t, e.eng.DB().InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		in, err = e.eng.StartTx(context.Background(), tx, p)
		return err
	}))
	return in
}

func (e *env) fire(t *testing.T, p workflows.FireParams) *workflows.Result {
	t.Helper()
	res, err := e.eng.Fire(context.Background(), p)
	require.NoError(t, err)
	return res
}

func (e *env) instance(t *testing.T, id uuid.UUID) *store.Instance {
	t.Helper()
	in, err := store.GetInstance(context.Background(), e.db.Pool, id)
	require.NoError(t, err)
	return in
}

// history is the instance's whole history, oldest first, as the engine
// shows it to someone allowed to read private events.
func (e *env) history(t *testing.T, in *store.Instance) []store.Event {
	t.Helper()
	events, err := store.StreamEvents(context.Background(), e.db.Pool,
		store.HistoryPage{Stream: store.InstanceStream(in.ID), Limit: 1000})
	require.NoError(t, err)
	slices.Reverse(events)
	return events
}

func (e *env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// footprint is everything firing a transition may write.
type footprint struct {
	Instance                                            *store.Instance
	Events, Approvals, Timers, Notifications, RiverJobs int
}

func (e *env) footprint(t *testing.T, id uuid.UUID) footprint {
	t.Helper()
	f := footprint{Instance: e.instance(t, id)}
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM history_events WHERE instance_id = $1),
		(SELECT count(*) FROM workflow_approvals WHERE instance_id = $1),
		(SELECT count(*) FROM workflow_timers WHERE instance_id = $1),
		(SELECT count(*) FROM notifications WHERE instance_id = $1),
		(SELECT count(*) FROM river_job)`, id).
		Scan(&f.Events, &f.Approvals, &f.Timers, &f.Notifications, &f.RiverJobs))
	return f
}

func requireCode(t *testing.T, want apperr.Code, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, apperr.CodeOf(err), "error: %v", err)
}

// toy is a small review workflow; toyV2 replaces it with other states.
var toyActions = map[string][]string{
	"toy.submit": {authz.RoleSectorRepresentative},
	"toy.decide": {authz.RoleRegionOfficial},
}

func toyV1() *workflows.Definition {
	return &workflows.Definition{
		Kind: "toy", Version: 1, Title: "Toy", Initial: "draft",
		// Visible to all: these tests are about firing, not reading.
		Public: func(*store.Instance) bool { return true },
		States: []workflows.StateSpec{{Name: "draft"}, {Name: "review"}, {Name: "done", Final: true}},
		Transitions: []*workflows.Transition{
			{Name: "submit", From: []workflows.State{"draft"}, To: "review", Action: "toy.submit"},
			{Name: "accept", From: []workflows.State{"review"}, To: "done", Action: "toy.decide"},
			{Name: "reject", From: []workflows.State{"review"}, To: "draft", Action: "toy.decide", RequireReason: true},
			{Name: "expire", From: []workflows.State{"review"}, To: "done"},
		},
	}
}

func toyV2() *workflows.Definition {
	return &workflows.Definition{
		Kind: "toy", Version: 2, Title: "Toy", Initial: "draft",
		// Visible to all: these tests are about firing, not reading.
		Public: func(*store.Instance) bool { return true },
		States: []workflows.StateSpec{{Name: "draft"}, {Name: "checking"}, {Name: "published", Final: true}},
		Transitions: []*workflows.Transition{
			{Name: "submit", From: []workflows.State{"draft"}, To: "checking", Action: "toy.submit"},
			{Name: "publish", From: []workflows.State{"checking"}, To: "published", Action: "toy.decide"},
		},
	}
}

var toyScopes = []string{authz.ScopeRegion, "org:1"}

func TestDefinitionVersions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, toyActions, toyV1())
	author := e.user(t, "Ann", authz.RoleSectorRepresentative+"@org:1")
	official := e.user(t, "Olle", authz.RoleRegionOfficial+"@region")

	old := e.start(t, workflows.StartParams{Kind: "toy", Scopes: toyScopes, Actor: author})
	require.Equal(t, 1, old.DefinitionVersion)

	require.NoError(t, e.eng.Register(toyV2()))
	cur := e.start(t, workflows.StartParams{Kind: "toy", Scopes: toyScopes, Actor: author})
	require.Equal(t, 2, cur.DefinitionVersion, "new instances start on the newest version")

	// The new instance follows v2: v1's transitions are not its actions.
	_, err := e.eng.Fire(context.Background(), workflows.FireParams{InstanceID: cur.ID, Transition: "accept", Actor: official})
	requireCode(t, apperr.BadInput, err)
	require.Equal(t, "checking", e.fire(t, workflows.FireParams{InstanceID: cur.ID, Transition: "submit", Actor: author}).Instance.State)
	res := e.fire(t, workflows.FireParams{InstanceID: cur.ID, Transition: "publish", Actor: official})
	require.Equal(t, "published", res.Instance.State)
	require.True(t, res.Instance.Final)

	// The old instance finishes on v1, through states v2 does not have.
	_, err = e.eng.Fire(context.Background(), workflows.FireParams{InstanceID: old.ID, Transition: "publish", Actor: official})
	requireCode(t, apperr.BadInput, err)
	require.Equal(t, "review", e.fire(t, workflows.FireParams{InstanceID: old.ID, Transition: "submit", Actor: author}).Instance.State)
	e.fire(t, workflows.FireParams{InstanceID: old.ID, Transition: "accept", Actor: official})

	got := e.instance(t, old.ID)
	require.Equal(t, 1, got.DefinitionVersion)
	require.Equal(t, "done", got.State)
	require.True(t, got.Final)
	require.Equal(t, 2, e.instance(t, cur.ID).DefinitionVersion)
}

// unregisteredArgs is a job kind River has no worker for, so inserting it
// fails.
type unregisteredArgs struct{}

func (unregisteredArgs) Kind() string { return "not_registered" }

func TestTransitionIsAtomic(t *testing.T) {
	t.Parallel()
	def := &workflows.Definition{
		Kind: "atomic", Version: 1, Title: "Atomic", Initial: "open",
		// Visible to all: these tests are about firing, not reading.
		Public: func(*store.Instance) bool { return true },
		States: []workflows.StateSpec{
			{Name: "open"},
			{Name: "closed", Timers: []workflows.Timer{{Name: "follow up", After: 24 * time.Hour, Reminder: "Follow up."}}},
		},
		Transitions: []*workflows.Transition{{
			Name: "close", From: []workflows.State{"open"}, To: "closed", Action: "atomic.close",
			Quorum: func(*store.Instance) workflows.Quorum {
				return workflows.Quorum{{Name: "official", Roles: []string{authz.RoleRegionOfficial}, Count: 1}}
			},
			// Writes of every sort before the failing job insert: data,
			// a domain row, and (through the target state) a timer.
			Effect: func(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
				f.Instance.Data["closedBy"] = f.Actor.Name
				if err := store.InsertNotification(ctx, tx, &store.Notification{InstanceID: &f.Instance.ID,
					Kind: "notice", Subject: "Closed", Body: "Closed.", CreatedAt: f.Now}); err != nil {
					return err
				}
				f.Enqueue(unregisteredArgs{}, nil)
				return nil
			},
		}},
	}
	e := newEnv(t, map[string][]string{"atomic.close": {authz.RoleRegionOfficial}}, def)
	official := e.user(t, "Olle", authz.RoleRegionOfficial+"@region")
	in := e.start(t, workflows.StartParams{Kind: "atomic", Scopes: []string{authz.ScopeRegion}, Actor: official})

	before := e.footprint(t, in.ID)
	_, err := e.eng.Fire(context.Background(), workflows.FireParams{InstanceID: in.ID, Transition: "close", Actor: official})
	var unknown *river.UnknownJobKindError
	require.True(t, errors.As(err, &unknown), "the job insert must be what failed: %v", err)

	require.Equal(t, before, e.footprint(t, in.ID), "no state change, approval, event, timer, notification or job")
	require.Equal(t, "open", e.instance(t, in.ID).State)
}

func TestFireRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, toyActions, toyV1())
	author := e.user(t, "Ann", authz.RoleSectorRepresentative+"@org:1")
	official := e.user(t, "Olle", authz.RoleRegionOfficial+"@region")
	in := e.start(t, workflows.StartParams{Kind: "toy", Scopes: toyScopes, Actor: author})

	// The author read version 1 and submits; a client still holding
	// version 1 is then refused.
	res := e.fire(t, workflows.FireParams{InstanceID: in.ID, Transition: "submit", Actor: author, ExpectedVersion: 1})
	require.Equal(t, 2, res.Instance.Version)

	for _, c := range []struct {
		name string
		p    workflows.FireParams
		want apperr.Code
	}{
		{"stale version", workflows.FireParams{Transition: "accept", Actor: official, ExpectedVersion: 1}, apperr.Conflict},
		{"wrong state", workflows.FireParams{Transition: "submit", Actor: author}, apperr.InvalidTransition},
		{"unknown transition", workflows.FireParams{Transition: "publish", Actor: official}, apperr.BadInput},
		{"without the right", workflows.FireParams{Transition: "accept", Actor: author}, apperr.Forbidden},
		{"anonymous", workflows.FireParams{Transition: "accept", Actor: authz.Anonymous}, apperr.Unauthenticated},
		{"system only", workflows.FireParams{Transition: "expire", Actor: official}, apperr.Forbidden},
		{"reason missing", workflows.FireParams{Transition: "reject", Actor: official}, apperr.BadInput},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.footprint(t, in.ID)
			c.p.InstanceID = in.ID
			_, err := e.eng.Fire(context.Background(), c.p)
			requireCode(t, c.want, err)
			require.Equal(t, before, e.footprint(t, in.ID), "nothing changed")
		})
	}

	_, err := e.eng.Fire(context.Background(), workflows.FireParams{InstanceID: uuid.New(), Transition: "accept", Actor: official})
	requireCode(t, apperr.NotFound, err)

	// With a reason, and then with the current version, the same actions work.
	res = e.fire(t, workflows.FireParams{InstanceID: in.ID, Transition: "reject", Actor: official, Reason: "Missing budget."})
	require.Equal(t, "draft", res.Instance.State)
	e.fire(t, workflows.FireParams{InstanceID: in.ID, Transition: "submit", Actor: author})
	res = e.fire(t, workflows.FireParams{InstanceID: in.ID, Transition: "accept", Actor: official, ExpectedVersion: 4})
	require.Equal(t, "done", res.Instance.State)
	events := e.history(t, in)
	require.Equal(t, "Missing budget.", events[2].Reason)
	require.Equal(t, "reject", events[2].Transition)
}

func TestQuorum(t *testing.T) {
	t.Parallel()
	def := &workflows.Definition{
		Kind: "decision", Version: 1, Title: "Decision", Initial: "proposed",
		// Visible to all: these tests are about firing, not reading.
		Public: func(*store.Instance) bool { return true },
		States: []workflows.StateSpec{{Name: "proposed"}, {Name: "decided", Final: true}},
		Transitions: []*workflows.Transition{{
			Name: "decide", From: []workflows.State{"proposed"}, To: "decided", Action: "decision.decide",
			// Jämbördighet: one approval from each side of the agreement.
			Quorum: func(*store.Instance) workflows.Quorum {
				return workflows.Quorum{
					{Name: "region", Roles: []string{authz.RoleRegionPolitician}, Count: 1},
					{Name: "sector", Roles: []string{authz.RoleCouncilMember}, Scope: authz.ScopeSector, Count: 1},
				}
			},
		}},
	}
	e := newEnv(t, map[string][]string{"decision.decide": {authz.RoleRegionPolitician, authz.RoleCouncilMember}}, def)
	politician := e.user(t, "Pia", authz.RoleRegionPolitician+"@region")
	sector := e.user(t, "Sven", authz.RoleCouncilMember+"@sector")
	regionMember := e.user(t, "Rut", authz.RoleCouncilMember+"@region")
	in := e.start(t, workflows.StartParams{Kind: "decision", Scopes: []string{authz.ScopeRegion, authz.ScopeSector}, Actor: politician})
	ctx := context.Background()
	decide := func(actor authz.Principal) (*workflows.Result, error) {
		return e.eng.Fire(ctx, workflows.FireParams{InstanceID: in.ID, Transition: "decide", Actor: actor})
	}
	approvers := func() map[string][]uuid.UUID {
		cur := e.instance(t, in.ID)
		live, err := e.eng.Approvals(ctx, cur)
		require.NoError(t, err)
		out := map[string][]uuid.UUID{}
		for _, p := range e.eng.PendingApprovals(cur, live) {
			out[p.Requirement.Name] = p.Approvers
		}
		return out
	}

	res, err := decide(politician)
	require.NoError(t, err)
	require.False(t, res.Moved)
	require.Equal(t, "proposed", e.instance(t, in.ID).State)
	require.Equal(t, map[string][]uuid.UUID{"region": {politician.UserID}, "sector": nil}, approvers())

	_, err = decide(politician)
	requireCode(t, apperr.Conflict, err)
	require.Equal(t, map[string][]uuid.UUID{"region": {politician.UserID}, "sector": nil}, approvers(), "counted once")

	// A council member sitting for the Region may decide but is neither side
	// of this quorum: the sector requirement is scoped to the sector.
	_, err = decide(regionMember)
	requireCode(t, apperr.Forbidden, err)

	_, err = e.eng.WithdrawApproval(ctx, workflows.WithdrawParams{InstanceID: in.ID, Transition: "decide", Actor: politician, Reason: "Wait for the budget."})
	require.NoError(t, err)
	require.Equal(t, map[string][]uuid.UUID{"region": nil, "sector": nil}, approvers())
	_, err = e.eng.WithdrawApproval(ctx, workflows.WithdrawParams{InstanceID: in.ID, Transition: "decide", Actor: politician})
	requireCode(t, apperr.InvalidTransition, err)

	res, err = decide(politician)
	require.NoError(t, err)
	require.False(t, res.Moved)
	require.Equal(t, map[string][]uuid.UUID{"region": {politician.UserID}, "sector": nil}, approvers())

	res, err = decide(sector)
	require.NoError(t, err)
	require.True(t, res.Moved)
	got := e.instance(t, in.ID)
	require.Equal(t, "decided", got.State)
	require.True(t, got.Final)

	type step struct{ Kind, Who, Requirement string }
	var steps []step
	for _, ev := range e.history(t, in) {
		var input struct{ Requirement string }
		require.NoError(t, json.Unmarshal([]byte(ev.Input), &input))
		steps = append(steps, step{ev.Kind, ev.ActorName, input.Requirement})
	}
	require.Equal(t, []step{
		{"started", "Pia", ""},
		{"approval", "Pia", "region"},
		{"approval_withdrawn", "Pia", ""},
		{"approval", "Pia", "region"},
		{"approval", "Sven", "sector"},
		{"transition", "Sven", ""},
	}, steps)
}
