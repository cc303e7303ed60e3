// Package authz is the service's one policy point. Every resolver and every
// workflow transition asks it whether a principal may do an action on an
// object in one of the object's scopes. The permissions are policy.csv; the
// model is model.conf (RBAC with domains); role assignments are made by
// admins and kept in PostgreSQL, and every instance of the service applies
// the lines another one changes (numbered notices over LISTEN/NOTIFY),
// reloading everything only when it may have missed one.
package authz

import (
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/store"
)

//go:embed model.conf
var modelText string

//go:embed policy.csv
var policyText string

// Rule is a line of policy.csv.
type Rule struct {
	Role, Scope, Resource, Action string
}

// Policy returns the rules of policy.csv.
func Policy() []Rule {
	r := csv.NewReader(strings.NewReader(policyText))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		panic(fmt.Sprintf("policy.csv: %v", err))
	}
	var out []Rule
	for _, rec := range recs {
		if len(rec) != 5 || rec[0] != "p" {
			panic(fmt.Sprintf("policy.csv: bad line %q", rec))
		}
		out = append(out, Rule{Role: rec[1], Scope: rec[2], Resource: rec[3], Action: rec[4]})
	}
	return out
}

// PolicyEnforcer is the policy point.
type PolicyEnforcer struct {
	e       *casbin.SyncedEnforcer
	adapter *Adapter
	db      *store.DB
	watcher *Watcher
	log     *slog.Logger
	// decisions caches Casbin's answers per subject; a role change forgets
	// only its person's, a change of the permissions (or a reload) replaces
	// the whole cache (a request lists hundreds of objects and asks the same
	// few questions about each).
	decisions atomic.Pointer[decisionCache]

	// The notices the watcher has received and not yet applied; one
	// goroutine applies them, as many at a time as have arrived (apply.go).
	mu       sync.Mutex
	pending  []string
	progress chan struct{} // closed and replaced whenever version moves on
	wake     chan struct{}
	version  atomic.Int64 // number of the last change applied
	// applying serialises every change to the enforcer's memory.
	applying sync.Mutex
	stop     chan struct{}
	stopped  chan struct{}
	// Reloads counts full reloads, Applied the notices applied line by
	// line (for tests and metrics).
	reloads, applied atomic.Int64
}

// NewPolicyEnforcer writes policy.csv's rules to the database (replacing
// older ones), starts listening for changes, then loads rules and role
// assignments; changes made by any instance reach it as notices.
func NewPolicyEnforcer(ctx context.Context, db *store.DB, pool *pgxpool.Pool, log *slog.Logger) (*PolicyEnforcer, error) {
	if err := syncPolicy(ctx, db); err != nil {
		return nil, err
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("casbin enforcer: %w", err)
	}
	// Casbin installs keyMatch as the role manager's domain matching
	// function whenever the matcher compares domains with keyMatch. With
	// it, every role link added compares its scope with every stored scope,
	// so a reload costs the square of the number of assignments (20,000 of
	// them: minutes) and a role change grows with the policy. The model
	// asks for the "*" scope by name instead; take the function out.
	e.AddNamedDomainMatchingFunc("g", "", nil)
	adapter := NewAdapter(db)
	e.SetAdapter(adapter)
	// Changes are written by us in our own transactions (with their history
	// event); the enforcer only holds them in memory.
	e.EnableAutoSave(false)
	w, err := NewWatcher(ctx, pool, log)
	if err != nil {
		return nil, err
	}
	p := &PolicyEnforcer{e: e, adapter: adapter, db: db, watcher: w, log: log,
		progress: make(chan struct{}), wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	p.forgetDecisions()
	// Listen first, then load: a change committed in between arrives as a
	// notice that the loaded version already includes, and is skipped.
	_ = w.SetUpdateCallback(p.receive)
	select {
	case <-w.Ready():
	case <-ctx.Done():
		w.Close()
		return nil, ctx.Err()
	}
	if err := e.LoadPolicy(); err != nil {
		w.Close()
		return nil, fmt.Errorf("load policy: %w", err)
	}
	p.version.Store(adapter.LoadedVersion())
	go p.applyLoop()
	p.signal()
	return p, nil
}

// Close stops listening for changes.
func (p *PolicyEnforcer) Close() {
	p.watcher.Close()
	p.mu.Lock()
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.mu.Unlock()
	<-p.stopped
}

func syncPolicy(ctx context.Context, db *store.DB) error {
	want := map[store.CasbinRule]bool{}
	for _, r := range Policy() {
		want[store.CasbinRule{PType: "p", V: [6]string{r.Role, r.Scope, r.Resource, r.Action}}] = true
	}
	return db.InTx(ctx, func(tx pgx.Tx) error {
		rules, err := store.CasbinRules(ctx, tx)
		if err != nil {
			return err
		}
		have := map[store.CasbinRule]bool{}
		var added, removed []store.CasbinRule
		for _, r := range rules {
			if r.PType != "p" {
				continue
			}
			have[r] = true
			if !want[r] {
				if _, err := store.DeleteCasbinRule(ctx, tx, r); err != nil {
					return err
				}
				removed = append(removed, r)
			}
		}
		for r := range want {
			if !have[r] {
				if err := store.InsertCasbinRule(ctx, tx, r); err != nil {
					return err
				}
				added = append(added, r)
			}
		}
		if len(added)+len(removed) > 0 {
			return announceTx(ctx, tx, added, removed)
		}
		return nil
	})
}

// Can tells whether p may do action ("resource.verb") in one of scopes.
// Decisions already cached are looked at first, so a question asked with
// many scopes (a list of organisations) costs Casbin only what is new.
func (p *PolicyEnforcer) Can(pr Principal, action string, scopes ...string) bool {
	if pr.System {
		return true
	}
	resource, verb, _ := strings.Cut(action, ".")
	subjects := []string{pr.Subject()}
	if pr.Authenticated() {
		subjects = append(subjects, "signed_in")
	}
	cache := p.decisions.Load()
	var own [2]*subjectDecisions
	for i, sub := range subjects {
		own[i] = cache.of(sub)
	}
	type question struct {
		sd         *subjectDecisions
		sub, scope string
	}
	var unknown []question
	for _, scope := range scopes {
		for i, sub := range subjects {
			key := decisionKey(scope, resource, verb)
			v, ok := own[i].m.Load(key)
			if !ok {
				unknown = append(unknown, question{own[i], sub, scope})
				continue
			}
			if v.(bool) {
				return true
			}
		}
	}
	for _, q := range unknown {
		if p.enforce(cache, q.sd, q.sub, q.scope, resource, verb) {
			return true
		}
	}
	return false
}

// maxDecisions bounds the decision cache: scopes include organisation
// numbers, so the set of questions grows with the registry.
const maxDecisions = 100_000

type decisionCache struct {
	subjects sync.Map // subject -> *subjectDecisions
	n        atomic.Int64
}

// subjectDecisions are the cached answers for one subject.
type subjectDecisions struct {
	m sync.Map // decisionKey -> bool
	n atomic.Int64
}

// of returns sub's decisions, creating them when there are none.
func (c *decisionCache) of(sub string) *subjectDecisions {
	if sd, ok := c.subjects.Load(sub); ok {
		return sd.(*subjectDecisions)
	}
	sd, _ := c.subjects.LoadOrStore(sub, &subjectDecisions{})
	return sd.(*subjectDecisions)
}

// forget drops sub's decisions; a decision being computed for sub lands
// in the dropped set, never in the one that replaces it.
func (c *decisionCache) forget(sub string) {
	if sd, ok := c.subjects.LoadAndDelete(sub); ok {
		c.n.Add(-sd.(*subjectDecisions).n.Load())
	}
}

func decisionKey(dom, obj, act string) string {
	return dom + "\x00" + obj + "\x00" + act
}

// enforce asks Casbin and remembers the answer. Callers take sd before
// asking: the policy changes first and the cached decisions are forgotten
// after, so an answer from the old policy lands in a forgotten set.
func (p *PolicyEnforcer) enforce(cache *decisionCache, sd *subjectDecisions, sub, dom, obj, act string) bool {
	ok, err := p.e.Enforce(sub, dom, obj, act)
	if err != nil {
		p.log.Error("policy check failed", "err", err, "action", obj+"."+act)
		return false
	}
	if cache.n.Add(1) > maxDecisions {
		p.decisions.CompareAndSwap(cache, &decisionCache{})
		return ok
	}
	sd.n.Add(1)
	sd.m.Store(decisionKey(dom, obj, act), ok)
	return ok
}

func (p *PolicyEnforcer) forgetDecisions() { p.decisions.Store(&decisionCache{}) }

// Authorize is Can as an error: UNAUTHENTICATED for the anonymous public,
// FORBIDDEN for a signed-in user without the right. Neither says whether
// the object exists.
func (p *PolicyEnforcer) Authorize(_ context.Context, pr Principal, action string, scopes []string) error {
	if p.Can(pr, action, scopes...) {
		return nil
	}
	if !pr.Authenticated() && !pr.System {
		return apperr.New(apperr.Unauthenticated, "Du behöver logga in för att göra detta. / You need to sign in to do this.")
	}
	return apperr.New(apperr.Forbidden, "Du har inte behörighet att göra detta. / You are not allowed to do this.")
}

// Assignments are the roles a principal holds.
func (p *PolicyEnforcer) Assignments(pr Principal) []Assignment {
	if !pr.Authenticated() {
		return nil
	}
	rows, err := p.e.GetFilteredGroupingPolicy(0, pr.Subject())
	if err != nil {
		return nil
	}
	out := make([]Assignment, 0, len(rows))
	for _, r := range rows {
		if len(r) >= 3 {
			out = append(out, Assignment{UserID: pr.UserID, Role: r[1], Scope: r[2]})
		}
	}
	slices.SortFunc(out, func(a, b Assignment) int { return strings.Compare(a.Role+a.Scope, b.Role+b.Scope) })
	return out
}

// GrantedActions are the actions ("resource.verb") some rule grants pr in
// some scope: to a role pr holds, to signed_in or to pr itself. Whether pr
// may do one on a given object is still Authorize's answer; an action not
// in the list is one pr may do nowhere, which lets a caller leave out of a
// query what pr could never act on.
func (p *PolicyEnforcer) GrantedActions(pr Principal) []string {
	if !pr.Authenticated() {
		return nil
	}
	subjects := map[string]bool{pr.Subject(): true, "signed_in": true}
	for _, a := range p.Assignments(pr) {
		subjects[a.Role] = true
	}
	rules, err := p.e.GetPolicy()
	if err != nil {
		p.log.Error("policy read failed", "err", err)
		return nil
	}
	var out []string
	for _, r := range rules {
		if len(r) >= 4 && subjects[r[0]] {
			out = append(out, r[2]+"."+r[3])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AllAssignments lists every role assignment, for admins.
func (p *PolicyEnforcer) AllAssignments() []Assignment {
	rows, _ := p.e.GetGroupingPolicy()
	out := make([]Assignment, 0, len(rows))
	for _, r := range rows {
		id, err := uuid.Parse(strings.TrimPrefix(r[0], "user:"))
		if err != nil || len(r) < 3 {
			continue
		}
		out = append(out, Assignment{UserID: id, Role: r[1], Scope: r[2]})
	}
	return out
}

// Reload reads all rules and assignments from the database again.
func (p *PolicyEnforcer) Reload() error {
	p.applying.Lock()
	defer p.applying.Unlock()
	return p.reload()
}

// ValidateAssignment checks that a role may be held in a scope.
func ValidateAssignment(role, scope string) error {
	if !slices.Contains(Roles, role) {
		return apperr.Invalid("role", "Okänd roll %q; möjliga roller: %s. / Unknown role %q; the roles are: %s.",
			role, strings.Join(Roles, ", "), role, strings.Join(Roles, ", "))
	}
	ok := false
	switch role {
	case RoleAdmin:
		ok = scope == ScopeAll
	case RoleRegionOfficial, RoleRegionPolitician:
		ok = scope == ScopeRegion
	case RoleCouncilMember:
		ok = scope == ScopeRegion || scope == ScopeSector
	case RoleSectorRepresentative:
		_, ok = OrgOfScope(scope)
	}
	if !ok {
		return apperr.Invalid("scope", "Rollen %s kan inte gälla %q (%s). / The role %s cannot hold in scope %q (%s).",
			role, scope, allowedScopes(role), role, scope, allowedScopes(role))
	}
	return nil
}

func allowedScopes(role string) string {
	switch role {
	case RoleAdmin:
		return `"*"`
	case RoleRegionOfficial, RoleRegionPolitician:
		return `"region"`
	case RoleCouncilMember:
		return `"region" eller/or "sector"`
	default:
		return `"org:<id>"`
	}
}

// GrantTx writes a role assignment and its history event in the caller's
// transaction and announces the change to every instance on commit. Call
// Remember after the commit so that this instance knows at once.
func GrantTx(ctx context.Context, tx pgx.Tx, by Principal, a Assignment, at time.Time) error {
	if err := ValidateAssignment(a.Role, a.Scope); err != nil {
		return err
	}
	rule := store.CasbinRule{PType: "g", V: [6]string{UserSubject(a.UserID), a.Role, a.Scope}}
	exists, err := store.CasbinRuleExists(ctx, tx, rule)
	if err != nil {
		return err
	}
	if exists {
		return apperr.New(apperr.Conflict, "Personen har redan rollen %s i %s. / The person already holds %s in %s.", a.Role, a.Scope, a.Role, a.Scope)
	}
	if err := store.InsertCasbinRule(ctx, tx, rule); err != nil {
		return err
	}
	if err := appendRoleEvent(ctx, tx, by, "role_assigned", a, at); err != nil {
		return err
	}
	return announceTx(ctx, tx, []store.CasbinRule{rule}, nil)
}

// RevokeTx removes a role assignment, with its history event.
func RevokeTx(ctx context.Context, tx pgx.Tx, by Principal, a Assignment, at time.Time) error {
	rule := store.CasbinRule{PType: "g", V: [6]string{UserSubject(a.UserID), a.Role, a.Scope}}
	n, err := store.DeleteCasbinRule(ctx, tx, rule)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, "Personen har inte rollen %s i %s. / The person does not hold %s in %s.", a.Role, a.Scope, a.Role, a.Scope)
	}
	if err := appendRoleEvent(ctx, tx, by, "role_revoked", a, at); err != nil {
		return err
	}
	return announceTx(ctx, tx, nil, []store.CasbinRule{rule})
}

func appendRoleEvent(ctx context.Context, tx pgx.Tx, by Principal, kind string, a Assignment, at time.Time) error {
	ev := &store.Event{Stream: "roles", OccurredAt: at, Kind: kind,
		Input: store.MarshalInput(map[string]string{"userId": a.UserID.String(), "role": a.Role, "scope": a.Scope})}
	if by.Authenticated() {
		ev.ActorID = &by.UserID
	}
	return store.AppendEvent(ctx, tx, ev)
}

// Remember makes sure this instance knows of a committed assignment when
// it returns: it waits until the change notices up to the latest committed
// change have been applied (a millisecond or two), and reloads if they do
// not come. Applying only through the notices, in their order, keeps a
// later revocation made elsewhere from being undone by an earlier grant.
func (p *PolicyEnforcer) Remember(Assignment) { p.catchUp() }

// Forget makes sure this instance knows of a committed revocation, as
// Remember does for an assignment.
func (p *PolicyEnforcer) Forget(Assignment) { p.catchUp() }
