// Package authz is the service's one policy point. Every resolver and every
// workflow transition asks it whether a principal may do an action on an
// object in one of the object's scopes. The permissions are policy.csv; the
// model is model.conf (RBAC with domains); role assignments are made by
// admins and kept in PostgreSQL, and every instance of the service reloads
// them when another one changes them (LISTEN/NOTIFY).
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
	"github.com/casbin/casbin/v2/util"
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
	db      *store.DB
	watcher *Watcher
	log     *slog.Logger
	// decisions caches Casbin's answers; every change to the policy in
	// memory replaces the whole map (a request lists hundreds of objects and
	// asks the same few questions about each).
	decisions atomic.Pointer[decisionCache]
}

// NewPolicyEnforcer writes policy.csv's rules to the database (replacing
// older ones), loads rules and role assignments, and starts listening for
// changes made by other instances.
func NewPolicyEnforcer(ctx context.Context, db *store.DB, pool *pgxpool.Pool, log *slog.Logger) (*PolicyEnforcer, error) {
	if err := syncPolicy(ctx, db); err != nil {
		return nil, err
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, NewAdapter(db))
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	// Changes are written by us in our own transactions (with their history
	// event); the enforcer only holds them in memory.
	e.EnableAutoSave(false)
	e.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	if err := e.LoadPolicy(); err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	w, err := NewWatcher(ctx, pool, log)
	if err != nil {
		return nil, err
	}
	p := &PolicyEnforcer{e: e, db: db, watcher: w, log: log}
	p.forgetDecisions()
	reload := ReloadCallback(e, log)
	if err := w.SetUpdateCallback(func(msg string) {
		reload(msg)
		p.forgetDecisions()
	}); err != nil {
		w.Close()
		return nil, err
	}
	select {
	case <-w.Ready():
	case <-ctx.Done():
		w.Close()
		return nil, ctx.Err()
	}
	return p, nil
}

// Close stops listening for changes.
func (p *PolicyEnforcer) Close() { p.watcher.Close() }

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
		changed := false
		for _, r := range rules {
			if r.PType != "p" {
				continue
			}
			have[r] = true
			if !want[r] {
				if _, err := store.DeleteCasbinRule(ctx, tx, r); err != nil {
					return err
				}
				changed = true
			}
		}
		for r := range want {
			if !have[r] {
				if err := store.InsertCasbinRule(ctx, tx, r); err != nil {
					return err
				}
				changed = true
			}
		}
		if changed {
			return store.NotifyPolicyChanged(ctx, tx, "policy")
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
	var unknown []string
	for _, scope := range scopes {
		for _, sub := range subjects {
			key := decisionKey(sub, scope, resource, verb)
			v, ok := cache.m.Load(key)
			if !ok {
				unknown = append(unknown, sub, scope)
				continue
			}
			if v.(bool) {
				return true
			}
		}
	}
	for i := 0; i < len(unknown); i += 2 {
		if p.enforce(cache, unknown[i], unknown[i+1], resource, verb) {
			return true
		}
	}
	return false
}

// maxDecisions bounds the decision cache: scopes include organisation
// numbers, so the set of questions grows with the registry.
const maxDecisions = 100_000

type decisionCache struct {
	m sync.Map
	n atomic.Int64
}

func decisionKey(sub, dom, obj, act string) string {
	return sub + "\x00" + dom + "\x00" + obj + "\x00" + act
}

// enforce asks Casbin and remembers the answer. A decision computed while
// the policy changes lands in the map being replaced, never in the new one.
func (p *PolicyEnforcer) enforce(cache *decisionCache, sub, dom, obj, act string) bool {
	ok, err := p.e.Enforce(sub, dom, obj, act)
	if err != nil {
		p.log.Error("policy check failed", "err", err, "action", obj+"."+act)
		return false
	}
	if cache.n.Add(1) > maxDecisions {
		p.decisions.CompareAndSwap(cache, &decisionCache{})
		return ok
	}
	cache.m.Store(decisionKey(sub, dom, obj, act), ok)
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
	defer p.forgetDecisions()
	return p.e.LoadPolicy()
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
	return store.NotifyPolicyChanged(ctx, tx, "roles")
}

// RevokeTx removes a role assignment, with its history event.
func RevokeTx(ctx context.Context, tx pgx.Tx, by Principal, a Assignment, at time.Time) error {
	n, err := store.DeleteCasbinRule(ctx, tx, store.CasbinRule{PType: "g", V: [6]string{UserSubject(a.UserID), a.Role, a.Scope}})
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, "Personen har inte rollen %s i %s. / The person does not hold %s in %s.", a.Role, a.Scope, a.Role, a.Scope)
	}
	if err := appendRoleEvent(ctx, tx, by, "role_revoked", a, at); err != nil {
		return err
	}
	return store.NotifyPolicyChanged(ctx, tx, "roles")
}

func appendRoleEvent(ctx context.Context, tx pgx.Tx, by Principal, kind string, a Assignment, at time.Time) error {
	ev := &store.Event{Stream: "roles", OccurredAt: at, Kind: kind,
		Input: store.MarshalInput(map[string]string{"userId": a.UserID.String(), "role": a.Role, "scope": a.Scope})}
	if by.Authenticated() {
		ev.ActorID = &by.UserID
	}
	return store.AppendEvent(ctx, tx, ev)
}

// Remember puts a committed assignment into this instance's memory at once;
// the other instances reload when the change notice reaches them.
func (p *PolicyEnforcer) Remember(a Assignment) {
	if _, err := p.e.AddGroupingPolicy(UserSubject(a.UserID), a.Role, a.Scope); err != nil {
		p.log.Warn("remembering role assignment", "err", err)
	}
	p.forgetDecisions()
}

// Forget removes a committed revocation from this instance's memory.
func (p *PolicyEnforcer) Forget(a Assignment) {
	if _, err := p.e.RemoveGroupingPolicy(UserSubject(a.UserID), a.Role, a.Scope); err != nil {
		p.log.Warn("forgetting role assignment", "err", err)
	}
	p.forgetDecisions()
}
