package authz_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

func newPolicyEnforcer(t *testing.T, db *testdb.Database) *authz.PolicyEnforcer {
	t.Helper()
	p, err := authz.NewPolicyEnforcer(t.Context(), store.New(db.Pool), db.Pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

func newUser(t *testing.T, db *testdb.Database, name string) authz.Principal {
	t.Helper()
	u := &store.User{Issuer: "test", Subject: name, Name: name}
	require.NoError(t, store.UpsertUser(t.Context(), db.Pool, u))
	return authz.Principal{UserID: u.ID, Name: name}
}

func grant(t *testing.T, db *testdb.Database, a authz.Assignment) {
	t.Helper()
	require.NoError(t, store.New(db.Pool).InTx(t.Context(), func(tx pgx.Tx) error {
		return authz.GrantTx(t.Context(), tx, authz.SystemPrincipal, a, time.Now())
	}))
}

func revoke(t *testing.T, db *testdb.Database, a authz.Assignment) {
	t.Helper()
	require.NoError(t, store.New(db.Pool).InTx(t.Context(), func(tx pgx.Tx) error {
		return authz.RevokeTx(t.Context(), tx, authz.SystemPrincipal, a, time.Now())
	}))
}

func official(id uuid.UUID) authz.Assignment {
	return authz.Assignment{UserID: id, Role: authz.RoleRegionOfficial, Scope: authz.ScopeRegion}
}

// A grant and a revocation reach the other instance as lines to apply:
// neither reloads the policy, and neither forgets the decisions about
// other people.
func TestRoleChangesReachTheOtherInstanceWithoutAReload(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a, b := newPolicyEnforcer(t, db), newPolicyEnforcer(t, db)
	alice, bob := newUser(t, db, "alice"), newUser(t, db, "bob")
	grant(t, db, official(bob.UserID))
	a.Remember(official(bob.UserID))
	require.Eventually(t, func() bool { return b.Can(bob, "organisation.update", authz.ScopeRegion) }, time.Second, time.Millisecond)
	reloads := b.Reloads()

	grant(t, db, official(alice.UserID))
	a.Remember(official(alice.UserID))
	require.True(t, a.Can(alice, "organisation.update", authz.ScopeRegion), "the granting instance does not know at once")
	require.Eventually(t, func() bool { return b.Can(alice, "organisation.update", authz.ScopeRegion) }, time.Second, time.Millisecond)

	revoke(t, db, official(alice.UserID))
	a.Forget(official(alice.UserID))
	require.False(t, a.Can(alice, "organisation.update", authz.ScopeRegion))
	require.Eventually(t, func() bool { return !b.Can(alice, "organisation.update", authz.ScopeRegion) }, time.Second, time.Millisecond)

	require.True(t, b.Can(bob, "organisation.update", authz.ScopeRegion))
	require.Equal(t, reloads, b.Reloads())
	require.Equal(t, a.Version(), b.Version())
}

// An instance that misses a change (here: one committed without its
// notice) sees the gap in the numbers at the next notice and reloads.
func TestAMissedChangeIsNoticedAndReloaded(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	p := newPolicyEnforcer(t, db)
	alice, bob := newUser(t, db, "alice"), newUser(t, db, "bob")
	require.NoError(t, store.New(db.Pool).InTx(t.Context(), func(tx pgx.Tx) error {
		if _, err := store.NextPolicyVersion(t.Context(), tx); err != nil {
			return err
		}
		return store.InsertCasbinRule(t.Context(), tx, store.CasbinRule{PType: "g",
			V: [6]string{authz.UserSubject(alice.UserID), authz.RoleRegionOfficial, authz.ScopeRegion}})
	}))
	time.Sleep(50 * time.Millisecond)
	require.False(t, p.Can(alice, "organisation.update", authz.ScopeRegion))
	reloads := p.Reloads()

	grant(t, db, official(bob.UserID))
	require.Eventually(t, func() bool { return p.Can(bob, "organisation.update", authz.ScopeRegion) }, time.Second, time.Millisecond)
	require.True(t, p.Can(alice, "organisation.update", authz.ScopeRegion), "the missed change is still unknown")
	require.Equal(t, reloads+1, p.Reloads())
}

// Changes made while the watcher's connection was lost arrive with the
// reload that follows the reconnect.
func TestChangesMissedDuringAReconnectArriveAfterIt(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	p := newPolicyEnforcer(t, db)
	alice := newUser(t, db, "alice")
	before := listeners(t, db)
	require.Len(t, before, 1)
	reloads := p.Reloads()
	// The grant commits right after the watcher's backend is gone, while
	// it waits to reconnect.
	require.NoError(t, store.New(db.Pool).InTx(t.Context(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, before[0]); err != nil {
			return err
		}
		return authz.GrantTx(t.Context(), tx, authz.SystemPrincipal, official(alice.UserID), time.Now())
	}))
	require.Eventually(t, func() bool { return p.Can(alice, "organisation.update", authz.ScopeRegion) }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return len(listeners(t, db)) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return p.Reloads() == reloads+1 }, 5*time.Second, 5*time.Millisecond,
		"no reload after the reconnect")
}

// Remember applies this instance's change in the order of all changes: a
// revocation committed elsewhere after our grant is not undone by it.
func TestRememberDoesNotUndoALaterRevocation(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a, b := newPolicyEnforcer(t, db), newPolicyEnforcer(t, db)
	alice := newUser(t, db, "alice")

	grant(t, db, official(alice.UserID)) // made through a, which has not yet remembered it
	revoke(t, db, official(alice.UserID))
	b.Forget(official(alice.UserID))
	a.Remember(official(alice.UserID))

	require.False(t, a.Can(alice, "organisation.update", authz.ScopeRegion))
	require.False(t, b.Can(alice, "organisation.update", authz.ScopeRegion))
	require.Empty(t, a.Assignments(alice))
}

// GrantedActions lists what the rules grant a person's roles anywhere,
// and what every signed-in person may do; nothing for the anonymous
// public.
func TestGrantedActions(t *testing.T) {
	db := testdb.New(t)
	p := newPolicyEnforcer(t, db)
	olle, nils := newUser(t, db, "olle"), newUser(t, db, "nils")
	grant(t, db, official(olle.UserID))
	require.NoError(t, p.Reload())

	got := p.GrantedActions(olle)
	require.Contains(t, got, "signing.start_review", "the official's role")
	require.Contains(t, got, "organisation.register", "every signed-in person")
	require.NotContains(t, got, "signing.apply", "a representative's, not the official's")
	require.NotContains(t, got, "roles.assign", "an admin's")
	require.NotContains(t, p.GrantedActions(nils), "signing.start_review", "no role, no role's actions")
	require.Contains(t, p.GrantedActions(nils), "organisation.register")
	require.Empty(t, p.GrantedActions(authz.Principal{}), "the anonymous public")
}
