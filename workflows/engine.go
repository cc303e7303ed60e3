package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
)

// Policy is the one policy point, as the engine uses it.
type Policy interface {
	// Authorize returns nil when p may do action in one of scopes, and an
	// UNAUTHENTICATED or FORBIDDEN error otherwise.
	Authorize(ctx context.Context, p authz.Principal, action string, scopes []string) error
	// Assignments are the roles p holds.
	Assignments(p authz.Principal) []authz.Assignment
	// GrantedActions are the actions some rule grants p in some scope: an
	// action not listed is one p may do nowhere.
	GrantedActions(p authz.Principal) []string
}

// Engine runs workflow instances.
type Engine struct {
	db     *store.DB
	policy Policy
	clock  clock.Clock
	log    *slog.Logger

	mu       sync.RWMutex
	defs     map[string]map[int]*Definition
	latest   map[string]*Definition
	jobs     txInserter
	observer Observer
}

// Observer hears of every attempted transition and its result ("moved",
// "approval", or the error code that refused it).
type Observer interface {
	Transition(kind, transition, result string)
}

// SetObserver sets the engine's observer (metrics).
func (e *Engine) SetObserver(o Observer) { e.observer = o }

// txInserter is River's client as the engine needs it.
type txInserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// New returns an engine. Register definitions and SetJobClient before use.
func New(db *store.DB, policy Policy, clk clock.Clock, log *slog.Logger) *Engine {
	return &Engine{db: db, policy: policy, clock: clk, log: log,
		defs: map[string]map[int]*Definition{}, latest: map[string]*Definition{}}
}

// SetJobClient gives the engine River's client; it is created after the
// engine because River's workers (the timer worker) need the engine.
func (e *Engine) SetJobClient(c txInserter) { e.jobs = c }

// Clock is the engine's clock.
func (e *Engine) Clock() clock.Clock { return e.clock }

// DB is the engine's database.
func (e *Engine) DB() *store.DB { return e.db }

// Policy is the engine's policy point.
func (e *Engine) Policy() Policy { return e.policy }

// Register adds definitions; the highest version of a kind is used for new
// instances, and every registered version keeps running its instances.
func (e *Engine) Register(defs ...*Definition) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range defs {
		if err := d.Validate(); err != nil {
			return err
		}
		if e.defs[d.Kind] == nil {
			e.defs[d.Kind] = map[int]*Definition{}
		}
		e.defs[d.Kind][d.Version] = d
		if cur := e.latest[d.Kind]; cur == nil || d.Version > cur.Version {
			e.latest[d.Kind] = d
		}
	}
	return nil
}

// Definition returns a kind's definition of a version (0: the newest).
func (e *Engine) Definition(kind string, version int) (*Definition, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if version == 0 {
		if d := e.latest[kind]; d != nil {
			return d, nil
		}
	} else if d := e.defs[kind][version]; d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("no definition for workflow %s version %d", kind, version)
}

// Firing is a transition in progress: what an Effect or Guard sees.
type Firing struct {
	Instance   *store.Instance
	Definition *Definition
	Transition *Transition
	From       State
	Actor      authz.Principal
	Input      map[string]any
	Reason     string
	Now        time.Time
	tx         pgx.Tx
	jobs       []river.InsertManyParams
}

// Tx is the transition's transaction, for guards that read the database.
func (f *Firing) Tx() pgx.Tx { return f.tx }

// Enqueue adds a job to insert in the transition's transaction.
func (f *Firing) Enqueue(args river.JobArgs, opts *river.InsertOpts) {
	f.jobs = append(f.jobs, river.InsertManyParams{Args: args, InsertOpts: opts})
}

// StartParams start an instance.
type StartParams struct {
	Kind        string
	SubjectType string
	SubjectID   uuid.UUID
	Scopes      []string
	Data        map[string]any
	Actor       authz.Principal
	// State is where to start; empty means the definition's initial state.
	State State
	// Event names the first history event ("started" when empty); Public
	// makes it public whatever the definition says.
	Event  string
	Public bool
	// Input is recorded in the "started" event.
	Input map[string]any
}

// StartTx creates an instance in its initial state inside the caller's
// transaction (so that the caller's domain rows and the instance commit
// together), appends the "started" event and schedules the state's timers.
func (e *Engine) StartTx(ctx context.Context, tx pgx.Tx, p StartParams) (*store.Instance, error) {
	def, err := e.Definition(p.Kind, 0)
	if err != nil {
		return nil, err
	}
	start := def.Initial
	if p.State != "" {
		if !slices.Contains(def.Entry, p.State) {
			return nil, fmt.Errorf("%s v%d cannot start in state %q", def.Kind, def.Version, p.State)
		}
		start = p.State
	}
	now := e.clock.Now()
	data := p.Data
	if data == nil {
		data = map[string]any{}
	}
	// An instance may start in a final state (a past year recorded as done).
	spec, _ := def.State(start)
	in := &store.Instance{
		ID: uuid.New(), Kind: def.Kind, DefinitionVersion: def.Version, SubjectType: p.SubjectType,
		SubjectID: p.SubjectID, Scopes: p.Scopes, State: string(start), StateEnteredAt: now,
		Round: 1, Data: data, Version: 1, Final: spec.Final, CreatedAt: now, UpdatedAt: now,
	}
	if err := store.InsertInstance(ctx, tx, in); err != nil {
		return nil, err
	}
	event := p.Event
	if event == "" {
		event = "started"
	}
	if err := e.appendEvent(ctx, tx, in, p.Actor, now, Event{Kind: event, To: start, Input: p.Input, Public: def.PublicStart || p.Public}); err != nil {
		return nil, err
	}
	f := &Firing{Instance: in, Definition: def, Actor: p.Actor, Now: now}
	if err := e.scheduleTimers(ctx, tx, def, in, f); err != nil {
		return nil, err
	}
	if err := e.insertJobs(ctx, tx, f.jobs); err != nil {
		return nil, err
	}
	return in, nil
}

// FireParams fire a transition.
type FireParams struct {
	InstanceID uuid.UUID
	Transition string
	Actor      authz.Principal
	// ExpectedVersion, when not zero, must equal the instance's version:
	// a client that read version N refuses to act on a newer state.
	ExpectedVersion int
	Input           map[string]any
	Reason          string
	// OnlyApproval refuses transitions that are not decided by a quorum
	// (the generic approve mutation; other transitions have typed ones).
	OnlyApproval bool
	// TransitionFor, when set, chooses the transition from the instance's
	// state on the locked row (a revision's "advance" is the next phase's
	// transition); "" means nothing moves on this way from that state.
	TransitionFor func(State) string
	// Kind, when set, is the workflow the caller acts on: an instance of
	// another kind is NOT_FOUND, so a typed mutation never acts on another
	// workflow's instance. It is checked on the locked row, which saves
	// reading the instance twice.
	Kind string
}

// Result is what firing did.
type Result struct {
	Instance *store.Instance
	// Moved tells whether the state changed (false for an approval that
	// did not complete its quorum).
	Moved bool
}

// Fire fires a transition in its own transaction.
func (e *Engine) Fire(ctx context.Context, p FireParams) (*Result, error) {
	var res *Result
	err := e.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = e.FireTx(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// FireTx fires a transition inside the caller's transaction.
func (e *Engine) FireTx(ctx context.Context, tx pgx.Tx, p FireParams) (res *Result, err error) {
	var in *store.Instance
	var t *Transition
	if e.observer != nil {
		defer func() { e.observer.Transition(observed(in, t, p, res, err)) }()
	}
	in, def, err := e.lockForWrite(ctx, tx, writeTarget{InstanceID: p.InstanceID, Kind: p.Kind, ExpectedVersion: p.ExpectedVersion, Actor: p.Actor},
		func(def *Definition, in *store.Instance) (string, error) {
			var err error
			t, err = p.chooseTransition(def, in)
			if err != nil {
				return "", err
			}
			return t.Action, nil
		})
	if err != nil {
		return nil, err
	}
	if !t.from(State(in.State)) {
		return nil, apperr.New(apperr.InvalidTransition,
			"Det går inte att %s när ärendet är i läget %q. / Cannot %s while the instance is %q.",
			t.titleOrName(), def.StateTitle(State(in.State)), t.Name, in.State)
	}
	if err := validate.Text("reason", p.Reason, 0, MaxReason); err != nil {
		return nil, err
	}
	if t.RequireReason && strings.TrimSpace(p.Reason) == "" {
		return nil, apperr.Invalid("reason", "Ange ett skäl. / A reason is required.")
	}
	now := e.clock.Now()
	f := &Firing{Instance: in, Definition: def, Transition: t, From: State(in.State), Actor: p.Actor,
		Input: p.Input, Reason: p.Reason, Now: now, tx: tx}
	if t.Guard != nil {
		if err := t.Guard(ctx, f); err != nil {
			return nil, err
		}
	}
	if t.Quorum != nil && !p.Actor.System {
		met, err := e.recordApproval(ctx, tx, f)
		if err != nil {
			return nil, err
		}
		if !met {
			return &Result{Instance: in}, nil
		}
	}
	if err := e.move(ctx, tx, f); err != nil {
		return nil, err
	}
	return &Result{Instance: in, Moved: true}, nil
}

// chooseTransition finds the transition the parameters name (or choose from
// the locked instance's state).
func (p FireParams) chooseTransition(def *Definition, in *store.Instance) (*Transition, error) {
	name := p.Transition
	if p.TransitionFor != nil {
		if name = p.TransitionFor(State(in.State)); name == "" {
			return nil, apperr.New(apperr.InvalidTransition, "Läget %q går vidare på annat sätt. / The state %q moves on another way.",
				def.StateTitle(State(in.State)), in.State)
		}
	}
	t, ok := def.Transition(name)
	if !ok {
		return nil, apperr.Invalid("transition", "%q är ingen åtgärd i %s. / %q is not an action of %s.", validate.Clip(name), def.Title, validate.Clip(name), def.Kind)
	}
	if p.OnlyApproval && t.Quorum == nil {
		return nil, apperr.Invalid("transition", "%q beslutas inte genom godkännanden; använd dess egen mutation. / %q is not decided by approvals; use its own mutation.", t.Name, t.Name)
	}
	return t, nil
}

// observed is what the observer hears of a firing: the kind, the
// transition and its result ("moved", "approval" or the refusal's code).
func observed(in *store.Instance, t *Transition, p FireParams, res *Result, err error) (kind, transition, result string) {
	kind, transition = "unknown", p.Transition
	if in != nil {
		kind = in.Kind
	}
	if t != nil {
		transition = t.Name
	}
	if transition == "" {
		transition = "advance"
	}
	switch {
	case err == nil && res.Moved:
		return kind, transition, "moved"
	case err == nil:
		return kind, transition, "approval"
	}
	return kind, transition, string(apperr.CodeOf(err))
}

func (t *Transition) titleOrName() string {
	if t.Title != "" {
		return t.Title
	}
	return t.Name
}

// writeTarget names what every write acts on: the instance, the workflow it
// must belong to (empty: any), the version the caller read (0: not given)
// and who acts.
type writeTarget struct {
	InstanceID      uuid.UUID
	Kind            string
	ExpectedVersion int
	Actor           authz.Principal
	// Scopes the action is asked in; empty means the instance's (an
	// organisation's comment on a revision is asked in its own scope).
	Scopes []string
}

// errNoInstance is the answer for an instance that does not exist, is of
// another workflow than the caller acts on, or that the actor may not see:
// the three cannot be told apart.
func errNoInstance() error {
	return &apperr.Error{Code: apperr.NotFound, Field: noInstanceField, Message: "Ärendet finns inte. / The workflow instance does not exist."}
}

const noInstanceField = "instanceId"

// IsNoInstance tells whether err is the engine's answer for an instance that
// does not exist for the actor, so that a service acting on a record with an
// instance (a partnership) can answer in the record's terms.
func IsNoInstance(err error) bool {
	var ae *apperr.Error
	return errors.As(err, &ae) && ae.Code == apperr.NotFound && ae.Field == noInstanceField
}

// lockForWrite is the start of every write to an instance. In this order it
// locks the row, checks the workflow kind and that the actor may see the
// instance at all (otherwise it does not exist for them), checks the version
// the caller read, and asks the policy point for the action that action
// names (it may need the definition, e.g. to find a transition; an empty
// action is done by the system only). The system principal (timers, jobs)
// sees everything and needs no permission.
func (e *Engine) lockForWrite(ctx context.Context, tx pgx.Tx, t writeTarget, action func(*Definition, *store.Instance) (string, error)) (*store.Instance, *Definition, error) {
	in, err := store.LockInstance(ctx, tx, t.InstanceID)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, nil, errNoInstance()
	}
	if err != nil {
		return nil, nil, err
	}
	if t.Kind != "" && in.Kind != t.Kind {
		return nil, nil, errNoInstance()
	}
	def, err := e.Definition(in.Kind, in.DefinitionVersion)
	if err != nil {
		return nil, nil, err
	}
	if !t.Actor.System && !e.canRead(ctx, t.Actor, in, def) {
		return nil, nil, errNoInstance()
	}
	if t.ExpectedVersion != 0 && t.ExpectedVersion != in.Version {
		return in, def, apperr.New(apperr.Conflict,
			"Ärendet har ändrats sedan du läste det (version %d, nu %d). Läs om och försök igen. / The instance changed since you read it (version %d, now %d); reload and try again.",
			t.ExpectedVersion, in.Version, t.ExpectedVersion, in.Version)
	}
	name, err := action(def, in)
	if err != nil {
		return in, def, err
	}
	if t.Actor.System {
		return in, def, nil
	}
	if name == "" {
		return in, def, apperr.New(apperr.Forbidden, "Åtgärden utförs bara av systemet. / The action is done by the system only.")
	}
	scopes := in.Scopes
	if len(t.Scopes) > 0 {
		scopes = t.Scopes
	}
	return in, def, e.policy.Authorize(ctx, t.Actor, name, scopes)
}

// write runs fn on the instance locked and checked by lockForWrite, in a
// transaction of its own.
func (e *Engine) write(ctx context.Context, t writeTarget, action func(*Definition, *store.Instance) (string, error),
	fn func(tx pgx.Tx, in *store.Instance, def *Definition) error) (*store.Instance, error) {
	var in *store.Instance
	err := e.db.InTx(ctx, func(tx pgx.Tx) error {
		var def *Definition
		var err error
		if in, def, err = e.lockForWrite(ctx, tx, t, action); err != nil {
			return err
		}
		return fn(tx, in, def)
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// fixedAction is an action function for writes that need one permission.
func fixedAction(name string) func(*Definition, *store.Instance) (string, error) {
	return func(*Definition, *store.Instance) (string, error) { return name, nil }
}

// move changes the instance's state: effect, update, event, timers, jobs.
func (e *Engine) move(ctx context.Context, tx pgx.Tx, f *Firing) error {
	in, t := f.Instance, f.Transition
	if t.Effect != nil {
		if err := t.Effect(ctx, tx, f); err != nil {
			return err
		}
	}
	to, _ := f.Definition.State(t.To)
	in.State = string(t.To)
	in.StateEnteredAt = f.Now
	in.Round++
	in.Final = to.Final
	in.UpdatedAt = f.Now
	if err := store.UpdateInstance(ctx, tx, in); err != nil {
		return err
	}
	if err := e.appendEvent(ctx, tx, in, f.Actor, f.Now, Event{Kind: "transition", Transition: t.Name, From: f.From, To: t.To,
		Input: f.Input, Reason: f.Reason, Public: t.Public}); err != nil {
		return err
	}
	if err := e.scheduleTimers(ctx, tx, f.Definition, in, f); err != nil {
		return err
	}
	return e.insertJobs(ctx, tx, f.jobs)
}

// Event describes a history event of an instance.
type Event struct {
	// Kind is "transition", "approval", "reminder", "deadline_changed" or a
	// workflow's own note ("report_submitted", …).
	Kind       string
	Transition string
	From, To   State
	Input      map[string]any
	Reason     string
	// Public events are readable by anyone.
	Public bool
}

func (e *Engine) appendEvent(ctx context.Context, tx pgx.Tx, in *store.Instance, actor authz.Principal, at time.Time, ev Event) error {
	row := &store.Event{
		Stream: store.InstanceStream(in.ID), OccurredAt: at, Kind: ev.Kind, InstanceID: &in.ID,
		WorkflowKind: in.Kind, Transition: ev.Transition, FromState: string(ev.From), ToState: string(ev.To),
		Input: store.MarshalInput(ev.Input), Reason: ev.Reason, Public: ev.Public,
	}
	if actor.Authenticated() {
		row.ActorID = &actor.UserID
	}
	return store.AppendEvent(ctx, tx, row)
}

func (e *Engine) insertJobs(ctx context.Context, tx pgx.Tx, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	if e.jobs == nil {
		return fmt.Errorf("workflow engine has no job client")
	}
	if _, err := e.jobs.InsertManyTx(ctx, tx, jobs); err != nil {
		return fmt.Errorf("insert jobs: %w", err)
	}
	return nil
}

// recordApproval records the actor's approval and reports whether the
// quorum is now complete.
func (e *Engine) recordApproval(ctx context.Context, tx pgx.Tx, f *Firing) (bool, error) {
	in, t := f.Instance, f.Transition
	quorum := t.Quorum(in)
	live, err := store.LiveApprovals(ctx, tx, in.ID, in.Round)
	if err != nil {
		return false, err
	}
	counts := map[string]int{}
	for _, a := range live {
		if a.Transition != t.Name {
			continue
		}
		if a.ApproverID == f.Actor.UserID {
			return false, apperr.New(apperr.Conflict, "Du har redan godkänt. / You have already approved.")
		}
		counts[a.Requirement]++
	}
	req, ok := e.requirementFor(f.Actor, quorum, in, counts)
	if !ok {
		return false, apperr.New(apperr.Forbidden, "Du kan inte godkänna för någon av parterna. / You cannot approve for any of the parties.")
	}
	a := &store.Approval{InstanceID: in.ID, Round: in.Round, Transition: t.Name, Requirement: req.Name,
		ApproverID: f.Actor.UserID, ApprovedAt: f.Now}
	if err := store.InsertApproval(ctx, tx, a); err != nil {
		return false, err
	}
	counts[req.Name]++
	if err := e.appendEvent(ctx, tx, in, f.Actor, f.Now, Event{Kind: "approval", Transition: t.Name, From: State(in.State), To: State(in.State),
		Input: map[string]any{"requirement": req.Name}, Reason: f.Reason, Public: t.Public}); err != nil {
		return false, err
	}
	for _, r := range quorum {
		if counts[r.Name] < r.Count {
			// The instance did not move, but its version must change so that
			// a client holding the old version sees that something happened.
			in.UpdatedAt = f.Now
			return false, store.UpdateInstance(ctx, tx, in)
		}
	}
	return true, nil
}

// requirementFor picks the requirement the actor's approval counts for:
// the first one they qualify for that still needs approvals, else the
// first they qualify for at all.
func (e *Engine) requirementFor(actor authz.Principal, q Quorum, in *store.Instance, counts map[string]int) (Requirement, bool) {
	var fallback *Requirement
	for i, r := range q {
		if !e.qualifies(actor, r, in) {
			continue
		}
		if counts[r.Name] < r.Count {
			return r, true
		}
		if fallback == nil {
			fallback = &q[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return Requirement{}, false
}

func (e *Engine) qualifies(actor authz.Principal, r Requirement, in *store.Instance) bool {
	for _, a := range e.policy.Assignments(actor) {
		if !slices.Contains(r.Roles, a.Role) {
			continue
		}
		if a.Scope == authz.ScopeAll {
			return true
		}
		if r.Scope != "" {
			if a.Scope == r.Scope {
				return true
			}
			continue
		}
		if slices.Contains(in.Scopes, a.Scope) {
			return true
		}
	}
	return false
}

// WithdrawParams withdraw an approval.
type WithdrawParams struct {
	InstanceID uuid.UUID
	// Kind, when set, is the workflow the caller acts on (as in FireParams).
	Kind            string
	Transition      string
	Actor           authz.Principal
	ExpectedVersion int
	Reason          string
}

// WithdrawApproval withdraws the actor's approval before the quorum is
// complete (after that the state has moved and there is nothing to
// withdraw).
func (e *Engine) WithdrawApproval(ctx context.Context, p WithdrawParams) (*store.Instance, error) {
	if err := validate.Text("reason", p.Reason, 0, MaxReason); err != nil {
		return nil, err
	}
	var t *Transition
	return e.write(ctx, writeTarget{InstanceID: p.InstanceID, Kind: p.Kind, ExpectedVersion: p.ExpectedVersion, Actor: p.Actor},
		func(def *Definition, _ *store.Instance) (string, error) {
			var ok bool
			if t, ok = def.Transition(p.Transition); !ok {
				return "", apperr.Invalid("transition", "%q är ingen åtgärd i %s. / %q is not an action of %s.", p.Transition, def.Title, p.Transition, def.Kind)
			}
			if t.Quorum == nil {
				return "", apperr.Invalid("transition", "%q är inget beslut som godkänns. / %q is not a decision taken by approval.", p.Transition, p.Transition)
			}
			return t.Action, nil
		},
		func(tx pgx.Tx, in *store.Instance, _ *Definition) error {
			now := e.clock.Now()
			ok, err := store.WithdrawApproval(ctx, tx, in.ID, in.Round, t.Name, p.Actor.UserID, now)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.New(apperr.InvalidTransition, "Du har inget godkännande att ta tillbaka. / You have no approval to withdraw.")
			}
			in.UpdatedAt = now
			if err := store.UpdateInstance(ctx, tx, in); err != nil {
				return err
			}
			return e.appendEvent(ctx, tx, in, p.Actor, now, Event{Kind: "approval_withdrawn", Transition: t.Name,
				From: State(in.State), To: State(in.State), Reason: p.Reason, Public: t.Public})
		})
}

// Action is something the viewer may do now.
type Action struct {
	Transition string
	Title      string
	// NeedsApproval tells that firing records an approval towards a quorum.
	NeedsApproval bool
	// Approved tells that the viewer has already approved.
	Approved bool
	// Optional actions never wait for the viewer (see Transition.Optional).
	Optional bool
}

// AvailableActions lists the transitions the actor may fire from the
// instance's current state. Guards that need input are checked on firing.
func (e *Engine) AvailableActions(ctx context.Context, actor authz.Principal, in *store.Instance, live []store.Approval) []Action {
	def, err := e.Definition(in.Kind, in.DefinitionVersion)
	if err != nil || !actor.Authenticated() {
		return nil
	}
	var out []Action
	for _, t := range def.Transitions {
		if t.Action == "" || !t.from(State(in.State)) {
			continue
		}
		if e.policy.Authorize(ctx, actor, t.Action, in.Scopes) != nil {
			continue
		}
		a := Action{Transition: t.Name, Title: t.titleOrName(), NeedsApproval: t.Quorum != nil, Optional: t.optionalIn(State(in.State))}
		if t.Quorum != nil {
			q := t.Quorum(in)
			if _, ok := e.requirementFor(actor, q, in, map[string]int{}); !ok {
				continue
			}
			for _, ap := range live {
				if ap.Transition == t.Name && ap.ApproverID == actor.UserID {
					a.Approved = true
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// Progress is how far a quorum has come.
type Progress struct {
	Transition  string
	Requirement Requirement
	Approvers   []uuid.UUID
}

// PendingApprovals lists, for each quorum transition possible from the
// current state, each requirement with the approvals given so far.
func (e *Engine) PendingApprovals(in *store.Instance, live []store.Approval) []Progress {
	def, err := e.Definition(in.Kind, in.DefinitionVersion)
	if err != nil {
		return nil
	}
	var out []Progress
	for _, t := range def.Transitions {
		if t.Quorum == nil || !t.from(State(in.State)) {
			continue
		}
		for _, r := range t.Quorum(in) {
			p := Progress{Transition: t.Name, Requirement: r}
			for _, a := range live {
				if a.Transition == t.Name && a.Requirement == r.Name {
					p.Approvers = append(p.Approvers, a.ApproverID)
				}
			}
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Transition < out[j].Transition })
	return out
}

// CanRead tells whether pr may see the instance at all: its state, its
// public events and its public details. Whoever may not is told it does not
// exist.
func (e *Engine) CanRead(ctx context.Context, pr authz.Principal, in *store.Instance) bool {
	def, err := e.Definition(in.Kind, in.DefinitionVersion)
	if err != nil {
		return false
	}
	return e.canRead(ctx, pr, in, def)
}

func (e *Engine) canRead(ctx context.Context, pr authz.Principal, in *store.Instance, def *Definition) bool {
	return pr.System || (def.Public != nil && def.Public(in)) || e.CanReadPrivate(ctx, pr, in) || e.CanReadPrivateHistory(ctx, pr, in)
}

// CanReadPrivate tells whether pr may see the instance's private details
// (drafts, reports, contributions, …): the definition's ReadPrivate
// permission in its scopes.
func (e *Engine) CanReadPrivate(ctx context.Context, pr authz.Principal, in *store.Instance) bool {
	if pr.System {
		return true
	}
	def, err := e.Definition(in.Kind, in.DefinitionVersion)
	return err == nil && e.policy.Authorize(ctx, pr, def.ReadPrivate(), in.Scopes) == nil
}

// CanReadPrivateHistory tells whether pr may see the instance's private
// history events: those who may read its private details, and those allowed
// "history.read_private" (who keep the record, and see no more than it).
func (e *Engine) CanReadPrivateHistory(ctx context.Context, pr authz.Principal, in *store.Instance) bool {
	return e.CanReadPrivate(ctx, pr, in) || e.policy.Authorize(ctx, pr, "history.read_private", in.Scopes) == nil
}

// Approvals are the live approvals of the instance's current round.
func (e *Engine) Approvals(ctx context.Context, in *store.Instance) ([]store.Approval, error) {
	return store.LiveApprovals(ctx, e.db.Pool, in.ID, in.Round)
}

// Timers are the pending timers of the instance's current state.
func (e *Engine) Timers(ctx context.Context, in *store.Instance) ([]store.Timer, error) {
	return store.PendingTimers(ctx, e.db.Pool, in.ID, in.Round)
}

// History reads a page of the instance's history, newest first, with the
// total: the public events only, unless pr may read private ones.
func (e *Engine) History(ctx context.Context, pr authz.Principal, in *store.Instance, beforeSeq, limit int) ([]store.Event, int, error) {
	publicOnly := !e.CanReadPrivateHistory(ctx, pr, in)
	stream := store.InstanceStream(in.ID)
	events, err := store.StreamEvents(ctx, e.db.Pool, store.HistoryPage{Stream: stream, PublicOnly: publicOnly, BeforeSeq: beforeSeq, Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	total, err := store.CountStreamEvents(ctx, e.db.Pool, stream, publicOnly)
	return events, total, err
}

// HistoryHead is the hash of the newest event of the instance's chain.
func (e *Engine) HistoryHead(ctx context.Context, in *store.Instance) ([]byte, error) {
	h, _, err := store.StreamHead(ctx, e.db.Pool, store.InstanceStream(in.ID))
	return h, err
}

// MaxReason is the longest reason (for a transition, a withdrawal, a
// deadline change) in characters.
const MaxReason = 2000

// Note is a history event that is not a transition: a report submitted, a
// comment answered.
type Note struct {
	Kind   string
	Input  map[string]any
	Reason string
	Public bool
}

// ActParams describe a domain action on an instance that does not change
// its state.
type ActParams struct {
	InstanceID uuid.UUID
	Actor      authz.Principal
	// Kind, when set, is the workflow the caller acts on (as in FireParams).
	Kind string
	// Action is the policy action, asked in the instance's scopes or in
	// Scopes when given.
	Action          string
	Scopes          []string
	ExpectedVersion int
	// States the instance must be in; empty means any.
	States []State
}

// Act runs fn on the locked instance in one transaction: the checks of
// every write (lockForWrite), the state check, fn's domain writes (it may
// change the instance's data), a new version of the instance and the
// history event fn returns.
func (e *Engine) Act(ctx context.Context, p ActParams, fn func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (Note, error)) (*store.Instance, error) {
	return e.write(ctx, p.target(), fixedAction(p.Action), func(tx pgx.Tx, in *store.Instance, def *Definition) error {
		return e.act(ctx, tx, p, in, def, fn)
	})
}

// ActTx is Act inside the caller's transaction: one workflow's step that
// changes instances of another in the same transaction (an adoption moves
// the open applications to the new version).
func (e *Engine) ActTx(ctx context.Context, tx pgx.Tx, p ActParams, fn func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (Note, error)) (*store.Instance, error) {
	in, def, err := e.lockForWrite(ctx, tx, p.target(), fixedAction(p.Action))
	if err != nil {
		return nil, err
	}
	return in, e.act(ctx, tx, p, in, def, fn)
}

func (p ActParams) target() writeTarget {
	return writeTarget{InstanceID: p.InstanceID, Kind: p.Kind, ExpectedVersion: p.ExpectedVersion, Actor: p.Actor, Scopes: p.Scopes}
}

func (e *Engine) act(ctx context.Context, tx pgx.Tx, p ActParams, in *store.Instance, def *Definition,
	fn func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (Note, error)) error {
	if len(p.States) > 0 && !slices.Contains(p.States, State(in.State)) {
		return apperr.New(apperr.InvalidTransition, "Det går inte när ärendet är i läget %q. / Not possible while the instance is %q.",
			def.StateTitle(State(in.State)), in.State)
	}
	now := e.clock.Now()
	note, err := fn(ctx, tx, in, now)
	if err != nil {
		return err
	}
	in.UpdatedAt = now
	if err := store.UpdateInstance(ctx, tx, in); err != nil {
		return err
	}
	return e.appendEvent(ctx, tx, in, p.Actor, now, Event{Kind: note.Kind, From: State(in.State), To: State(in.State),
		Input: note.Input, Reason: note.Reason, Public: note.Public})
}

// Instance reads an instance.
func (e *Engine) Instance(ctx context.Context, id uuid.UUID) (*store.Instance, error) {
	in, err := store.GetInstance(ctx, e.db.Pool, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, errNoInstance()
	}
	return in, err
}

// StartEach starts an instance for each item, one transaction each, as the
// system. An item that another process started at the same moment (the
// kind's unique index says CONFLICT) is skipped. It reports how many it
// started.
func StartEach[T any](ctx context.Context, e *Engine, items []T, start func(ctx context.Context, tx pgx.Tx, item T) error) (int, error) {
	started := 0
	for _, item := range items {
		err := e.db.InTx(ctx, func(tx pgx.Tx) error { return start(ctx, tx, item) })
		switch {
		case err == nil:
			started++
		case apperr.IsCode(err, apperr.Conflict):
		default:
			return started, err
		}
	}
	return started, nil
}

// Approve records pr's approval of a decision taken by a quorum: the
// transition is one the instance lists among its available actions (the
// generic approve command; every other step has a typed command in its
// workflow's package). When the quorum is complete the state moves.
func (e *Engine) Approve(ctx context.Context, pr authz.Principal, st Step, transition string) (*store.Instance, error) {
	// The approval's reason is what the API calls its comment.
	if err := validate.Text("comment", st.Reason, 0, MaxReason); err != nil {
		return nil, err
	}
	res, err := e.Fire(ctx, FireParams{InstanceID: st.ID, Transition: transition, Actor: pr, ExpectedVersion: st.ExpectedVersion,
		Reason: st.Reason, OnlyApproval: true})
	if err != nil {
		return nil, err
	}
	return res.Instance, nil
}
