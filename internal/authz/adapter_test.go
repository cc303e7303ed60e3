package authz_test

import (
	"context"
	"strings"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// rbacWithDomains: a user has a role within a domain (g = user, role,
// domain), a role may act on an object within its domain.
const rbacWithDomains = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`

// newEnforcer returns an enforcer that has loaded the policy stored in db.
func newEnforcer(t *testing.T, db *testdb.Database) *casbin.SyncedEnforcer {
	t.Helper()
	m, err := model.NewModelFromString(rbacWithDomains)
	require.NoError(t, err)
	e, err := casbin.NewSyncedEnforcer(m, authz.NewAdapter(store.New(db.Pool)))
	require.NoError(t, err)
	return e
}

type enforcer interface {
	Enforce(rvals ...any) (bool, error)
}

func allowed(t *testing.T, e enforcer, sub, dom, obj, act string) bool {
	t.Helper()
	ok, err := e.Enforce(sub, dom, obj, act)
	require.NoError(t, err)
	return ok
}

// stored lists the table's rows in order as "ptype,v0,v1,...", without
// trailing empty values.
func stored(t *testing.T, db *testdb.Database) []string {
	t.Helper()
	rules, err := store.CasbinRules(context.Background(), db.Pool)
	require.NoError(t, err)
	out := []string{}
	for _, r := range rules {
		out = append(out, strings.TrimRight(r.PType+","+strings.Join(r.V[:], ","), ","))
	}
	return out
}

// changed checks the result of an enforcer's Add*/Remove* call:
// changed(t)(e.AddPolicy(...)).
func changed(t *testing.T) func(bool, error) {
	return func(ok bool, err error) {
		t.Helper()
		require.NoError(t, err)
		require.True(t, ok, "the policy did not change")
	}
}

func TestAdapterPersistsRulesForOtherEnforcers(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a := newEnforcer(t, db)

	changed(t)(a.AddPolicy("admin", "org1", "doc", "write"))
	changed(t)(a.AddPolicies([][]string{{"reader", "org1", "doc", "read"}, {"admin", "org1", "doc", "read"}}))
	changed(t)(a.AddGroupingPolicy("alice", "admin", "org1"))
	changed(t)(a.AddGroupingPolicies([][]string{{"bob", "reader", "org1"}}))

	require.Equal(t, []string{
		"p,admin,org1,doc,write",
		"p,reader,org1,doc,read",
		"p,admin,org1,doc,read",
		"g,alice,admin,org1",
		"g,bob,reader,org1",
	}, stored(t, db))

	b := newEnforcer(t, db)
	require.True(t, allowed(t, b, "alice", "org1", "doc", "write"))
	require.True(t, allowed(t, b, "bob", "org1", "doc", "read"))
	require.False(t, allowed(t, b, "bob", "org1", "doc", "write"))
	require.False(t, allowed(t, b, "alice", "org2", "doc", "write"), "a role holds only in its domain")
}

func TestAdapterDuplicatesAreHarmless(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a := newEnforcer(t, db)
	changed(t)(a.AddPolicy("admin", "org1", "doc", "write"))

	ok, err := a.AddPolicy("admin", "org1", "doc", "write")
	require.NoError(t, err)
	require.False(t, ok)

	// Another instance that already had the rule, or adds it concurrently,
	// reaches the adapter with it too.
	ad := authz.NewAdapter(store.New(db.Pool))
	require.NoError(t, ad.AddPolicy("p", "p", []string{"admin", "org1", "doc", "write"}))
	require.NoError(t, ad.AddPolicies("p", "p", [][]string{
		{"admin", "org1", "doc", "write"},
		{"admin", "org1", "doc", "write"},
	}))

	require.Equal(t, []string{"p,admin,org1,doc,write"}, stored(t, db))
	b := newEnforcer(t, db)
	rules, err := b.GetPolicy()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"admin", "org1", "doc", "write"}}, rules)
}

func TestAdapterRemovePolicyRemovesOnlyThatRule(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a := newEnforcer(t, db)
	changed(t)(a.AddPolicies([][]string{
		{"admin", "org1", "doc", "write"},
		{"admin", "org1", "doc", "read"},
		{"admin", "org2", "doc", "write"},
	}))
	changed(t)(a.AddGroupingPolicies([][]string{{"alice", "admin", "org1"}, {"alice", "admin", "org2"}}))

	changed(t)(a.RemovePolicy("admin", "org1", "doc", "write"))
	changed(t)(a.RemoveGroupingPolicy("alice", "admin", "org2"))

	require.Equal(t, []string{
		"p,admin,org1,doc,read",
		"p,admin,org2,doc,write",
		"g,alice,admin,org1",
	}, stored(t, db))
	b := newEnforcer(t, db)
	require.False(t, allowed(t, b, "alice", "org1", "doc", "write"))
	require.True(t, allowed(t, b, "alice", "org1", "doc", "read"))
	require.False(t, allowed(t, b, "alice", "org2", "doc", "write"))
}

func TestAdapterRemoveFilteredPolicyRemovesOnlyMatches(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a := newEnforcer(t, db)
	changed(t)(a.AddPolicies([][]string{
		{"admin", "org1", "doc", "write"},
		{"admin", "org2", "doc", "write"},
		{"admin", "org2", "doc", "read"},
		{"reader", "org2", "doc", "read"},
	}))
	changed(t)(a.AddGroupingPolicies([][]string{
		{"alice", "admin", "org1"},
		{"carol", "admin", "org2"},
		{"bob", "reader", "org2"},
		{"alice", "reader", "org2"},
	}))

	// Every admin grant, in any domain.
	changed(t)(a.RemoveFilteredGroupingPolicy(1, "admin"))
	// Writes in org2 by anyone on anything: "" matches any value.
	changed(t)(a.RemoveFilteredPolicy(0, "", "org2", "", "write"))

	require.Equal(t, []string{
		"p,admin,org1,doc,write",
		"p,admin,org2,doc,read",
		"p,reader,org2,doc,read",
		"g,bob,reader,org2",
		"g,alice,reader,org2",
	}, stored(t, db))
	b := newEnforcer(t, db)
	require.False(t, allowed(t, b, "alice", "org1", "doc", "write"))
	require.False(t, allowed(t, b, "carol", "org2", "doc", "read"))
	require.True(t, allowed(t, b, "bob", "org2", "doc", "read"))
	require.True(t, allowed(t, b, "alice", "org2", "doc", "read"))
}

func TestAdapterSavePolicyReplacesEverything(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a := newEnforcer(t, db)
	changed(t)(a.AddPolicy("admin", "org1", "doc", "write"))
	changed(t)(a.AddGroupingPolicy("alice", "admin", "org1"))
	// Stored by someone else; a's model does not have it.
	require.NoError(t, authz.NewAdapter(store.New(db.Pool)).AddPolicy("p", "p", []string{"ghost", "org9", "doc", "read"}))

	a.EnableAutoSave(false)
	_, err := a.RemovePolicy("admin", "org1", "doc", "write")
	require.NoError(t, err)
	// An empty last value is a value like any other.
	changed(t)(a.AddPolicy("auditor", "org1", "log", ""))
	changed(t)(a.AddGroupingPolicy("dave", "auditor", "org1"))
	require.Len(t, stored(t, db), 3, "without auto-save nothing is stored yet")

	require.NoError(t, a.SavePolicy())

	require.Equal(t, []string{
		"p,auditor,org1,log",
		"g,alice,admin,org1",
		"g,dave,auditor,org1",
	}, stored(t, db))
	b := newEnforcer(t, db)
	rules, err := b.GetPolicy()
	require.NoError(t, err)
	require.Equal(t, [][]string{{"auditor", "org1", "log", ""}}, rules)
	require.True(t, allowed(t, b, "dave", "org1", "log", ""))
	require.False(t, allowed(t, b, "alice", "org1", "doc", "write"))
	require.False(t, allowed(t, b, "ghost", "org9", "doc", "read"))
}

func TestAdapterRejectsRulesTheModelCannotHold(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	require.NoError(t, store.InsertCasbinRule(context.Background(), db.Pool,
		store.CasbinRule{PType: "g2", V: [6]string{"doc", "folder"}}))

	m, err := model.NewModelFromString(rbacWithDomains)
	require.NoError(t, err)
	_, err = casbin.NewSyncedEnforcer(m, authz.NewAdapter(store.New(db.Pool)))
	require.ErrorContains(t, err, "g2", "a rule must not be dropped silently")

	err = authz.NewAdapter(store.New(db.Pool)).AddPolicy("p", "p", []string{"1", "2", "3", "4", "5", "6", "7"})
	require.ErrorContains(t, err, "at most 6")
}
