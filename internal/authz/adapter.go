// Package authz holds the service's authorization: Casbin's rules live in
// PostgreSQL (Adapter) and every instance reloads them when another one
// changes them (Watcher), applying just the lines that changed.
package authz

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/store"
)

// opTimeout bounds each database call: Casbin's interfaces take no context,
// and an enforcer holds its lock while the adapter works.
const opTimeout = 10 * time.Second

// Adapter stores Casbin's rules in table casbin_rule. Every change commits
// together with its number (store.NextPolicyVersion) and a NOTIFY on
// store.PolicyChannel listing its lines, so each instance's Watcher hears
// of exactly the changes that became visible. With it, an enforcer's own
// watcher notification is redundant; turn it off with
// EnableAutoNotifyWatcher(false).
type Adapter struct {
	db *store.DB
	// loaded is the number of the last change the last LoadPolicy saw.
	loaded atomic.Int64
}

var (
	_ persist.Adapter = (*Adapter)(nil)
	// Casbin's AddPolicies, AddGroupingPolicies and RemovePolicies assert
	// this interface without checking and would panic without it.
	_ persist.BatchAdapter = (*Adapter)(nil)
)

// NewAdapter returns an adapter on db.
func NewAdapter(db *store.DB) *Adapter { return &Adapter{db: db} }

// LoadPolicy loads every stored rule into m, and remembers the number of
// the last change they include (LoadedVersion).
func (a *Adapter) LoadPolicy(m model.Model) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rules, seq, err := store.CasbinRulesWithVersion(ctx, a.db)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := loadRule(r, m); err != nil {
			return err
		}
	}
	a.loaded.Store(seq)
	return nil
}

// LoadedVersion is the number of the last change that the last
// LoadPolicy included.
func (a *Adapter) LoadedVersion() int64 { return a.loaded.Load() }

// loadRule gives m the rule with as many values as m defines for its type
// (more only if the extra ones are set). Trimming every trailing empty
// value instead would break a rule whose last value is deliberately empty.
func loadRule(r store.CasbinRule, m model.Model) error {
	_, vals, err := modelRule(r, m)
	if err != nil {
		return fmt.Errorf("load authorization rule: %w", err)
	}
	return persist.LoadPolicyArray(append([]string{r.PType}, vals...), m)
}

// modelRule returns r's section ("p" or "g") and its values as m holds
// them: as many as m defines for the type, more only if the extra ones
// are set.
func modelRule(r store.CasbinRule, m model.Model) (sec string, vals []string, err error) {
	if r.PType == "" {
		return "", nil, fmt.Errorf("rule %v has no policy type", r.V)
	}
	sec = r.PType[:1]
	ast, err := m.GetAssertion(sec, r.PType)
	if err != nil {
		return "", nil, fmt.Errorf("rule %s %v: %w", r.PType, r.V, err)
	}
	n := len(ast.Tokens)
	if n > len(r.V) {
		return "", nil, fmt.Errorf("rule %s: the model has %d values, the table only %d", r.PType, n, len(r.V))
	}
	for i := n; i < len(r.V); i++ {
		if r.V[i] != "" {
			n = i + 1
		}
	}
	return sec, slices.Clone(r.V[:n]), nil
}

// SavePolicy replaces every stored rule with m's, in one transaction.
func (a *Adapter) SavePolicy(m model.Model) error {
	var rules []store.CasbinRule
	for _, sec := range []string{"p", "g"} {
		for _, ptype := range slices.Sorted(maps.Keys(m[sec])) {
			for _, v := range m[sec][ptype].Policy {
				r, err := toRule(ptype, v)
				if err != nil {
					return err
				}
				rules = append(rules, r)
			}
		}
	}
	return a.change(func(ctx context.Context, tx pgx.Tx) error {
		if err := store.ReplaceCasbinRules(ctx, tx, rules); err != nil {
			return err
		}
		return announceReloadTx(ctx, tx)
	})
}

// AddPolicy stores one rule; storing an existing rule again is no error.
func (a *Adapter) AddPolicy(_, ptype string, rule []string) error {
	return a.AddPolicies("", ptype, [][]string{rule})
}

// AddPolicies stores rules in one transaction.
func (a *Adapter) AddPolicies(_, ptype string, rules [][]string) error {
	rs, err := toRules(ptype, rules)
	if err != nil {
		return err
	}
	return a.change(func(ctx context.Context, tx pgx.Tx) error {
		for _, r := range rs {
			if err := store.InsertCasbinRule(ctx, tx, r); err != nil {
				return err
			}
		}
		return announceTx(ctx, tx, rs, nil)
	})
}

// RemovePolicy deletes the rule equal to rule.
func (a *Adapter) RemovePolicy(_, ptype string, rule []string) error {
	return a.RemovePolicies("", ptype, [][]string{rule})
}

// RemovePolicies deletes rules in one transaction.
func (a *Adapter) RemovePolicies(_, ptype string, rules [][]string) error {
	rs, err := toRules(ptype, rules)
	if err != nil {
		return err
	}
	return a.change(func(ctx context.Context, tx pgx.Tx) error {
		for _, r := range rs {
			if _, err := store.DeleteCasbinRule(ctx, tx, r); err != nil {
				return err
			}
		}
		return announceTx(ctx, tx, nil, rs)
	})
}

// RemoveFilteredPolicy deletes the rules of ptype whose values from
// fieldIndex on equal fieldValues; an empty value matches anything.
func (a *Adapter) RemoveFilteredPolicy(_, ptype string, fieldIndex int, fieldValues ...string) error {
	return a.change(func(ctx context.Context, tx pgx.Tx) error {
		if _, err := store.DeleteCasbinRulesFiltered(ctx, tx, ptype, fieldIndex, fieldValues...); err != nil {
			return err
		}
		return announceReloadTx(ctx, tx)
	})
}

// change runs fn, which also announces the change, in one transaction.
func (a *Adapter) change(fn func(context.Context, pgx.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return a.db.InTx(ctx, func(tx pgx.Tx) error { return fn(ctx, tx) })
}

func toRules(ptype string, rules [][]string) ([]store.CasbinRule, error) {
	rs := make([]store.CasbinRule, 0, len(rules))
	for _, v := range rules {
		r, err := toRule(ptype, v)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func toRule(ptype string, v []string) (store.CasbinRule, error) {
	r := store.CasbinRule{PType: ptype}
	if len(v) > len(r.V) {
		return r, fmt.Errorf("authorization rule %s %v has %d values; at most %d can be stored", ptype, v, len(v), len(r.V))
	}
	copy(r.V[:], v)
	return r, nil
}
