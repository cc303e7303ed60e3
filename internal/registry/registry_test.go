package registry_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var t0 = time.Date(2041, 3, 4, 9, 0, 0, 0, time.UTC)

// instances are two processes of the service on one database: each has
// its own policy point with its own watcher.
type instances struct {
	db    *testdb.Database
	sdb   *store.DB
	clock *clock.Test
	a, b  *authz.PolicyEnforcer
}

func newInstances(t testing.TB) *instances {
	t.Helper()
	db := testdb.New(t)
	sdb := store.New(db.Pool)
	log := slog.New(slog.DiscardHandler)
	in := &instances{db: db, sdb: sdb, clock: clock.NewTest(t0)}
	for _, p := range []**authz.PolicyEnforcer{&in.a, &in.b} {
		e, err := authz.NewPolicyEnforcer(context.Background(), sdb, db.Pool, log)
		require.NoError(t, err)
		t.Cleanup(e.Close)
		*p = e
	}
	return in
}

// person stores a signed-in person holding the given roles ("role@scope"),
// granted through instance a.
func (in *instances) person(t testing.TB, name string, roles ...string) authz.Principal {
	t.Helper()
	u := &store.User{Issuer: "test", Subject: strings.ToLower(name), Name: name}
	require.NoError(t, store.UpsertUser(context.Background(), in.db.Pool, u))
	for _, r := range roles {
		role, scope, _ := strings.Cut(r, "@")
		a := authz.Assignment{UserID: u.ID, Role: role, Scope: scope}
		require.NoError(t, in.sdb.InTx(context.Background(), func(tx pgx.Tx) error {
			return authz.GrantTx(context.Background(), tx, authz.SystemPrincipal, a, in.clock.Now())
		}))
		in.a.Remember(a)
	}
	return authz.Principal{UserID: u.ID, Name: name}
}

// organisation is the n-th idea-based organisation of a test.
func organisation(n int) registry.OrganisationInput {
	return registry.OrganisationInput{Name: fmt.Sprintf("Förening %04d", n),
		OrganisationNumber: orgnr.Complete(fmt.Sprintf("802%06d", n)).String(),
		LegalForm:          "ideell_forening", Sector: registry.SectorIdeaBased}
}

func count(t testing.TB, db *testdb.Database, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// One signed-in person registers organisations as fast as one client can
// (an admin confirms each as theirs, which grants a role and tells every
// instance), while an
// admin takes a role from someone else. The revocation reaches the other
// instance at once, both instances end with exactly the stored policy
// without reloading it, and the registrations beyond the limit are refused
// with RATE_LIMITED and write nothing.
func TestRegistrationFloodKeepsEveryInstanceRightAndStopsAtTheLimit(t *testing.T) {
	const limit, attempts = 500, 600
	in := newInstances(t)
	reg := registry.New(in.sdb, in.a, in.clock, slog.New(slog.DiscardHandler), registry.WithRegistrationsPerHour(limit))
	roles := authz.NewRoleService(in.sdb, in.a, in.clock)
	admin := in.person(t, "Admin", "admin@*")
	official := in.person(t, "Official", "region_official@region")
	flooder := in.person(t, "Flooder")
	bystander := in.person(t, "Bystander")
	require.Eventually(t, func() bool { return in.b.Version() == in.a.Version() }, time.Second, time.Millisecond)
	reloadsBefore, appliedBefore := in.b.Reloads(), in.b.Applied()
	require.True(t, in.b.Can(official, "organisation.update", authz.ScopeRegion))

	var (
		mu         sync.Mutex
		registered []uuid.UUID
		refused    []error
	)
	halfway := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range attempts {
			o, c, err := reg.RegisterOrganisation(context.Background(), flooder, organisation(i))
			if err == nil {
				_, err = reg.ConfirmRepresentation(context.Background(), admin, c.ID, "")
			}
			mu.Lock()
			if err != nil {
				refused = append(refused, err)
			} else {
				registered = append(registered, o.ID)
			}
			mu.Unlock()
			if i == limit/2 {
				close(halfway)
			}
		}
	}()

	<-halfway
	require.NoError(t, roles.Revoke(context.Background(), admin, authz.Assignment{UserID: official.UserID, Role: authz.RoleRegionOfficial, Scope: authz.ScopeRegion}))
	revoked := time.Now()
	require.False(t, in.a.Can(official, "organisation.update", authz.ScopeRegion), "the instance that revoked still allows")
	for in.b.Can(official, "organisation.update", authz.ScopeRegion) {
		require.Less(t, time.Since(revoked), time.Second, "the revocation did not reach the other instance within a second of the flood")
		time.Sleep(200 * time.Microsecond)
	}
	t.Logf("the revocation reached the other instance after %v, during the flood", time.Since(revoked).Round(10*time.Microsecond))
	<-done

	// (c) The limit held: the requests after it were refused, in Swedish
	// and English, and left no organisation, history event, role or count.
	require.Len(t, registered, limit)
	require.Len(t, refused, attempts-limit)
	for _, err := range refused {
		require.Equal(t, apperr.RateLimited, apperr.CodeOf(err), "%v", err)
		msg := err.(*apperr.Error).Message
		require.Contains(t, msg, "För många registrerade organisationer: högst 500 per timme. Försök igen om 60 minuter. / Too many organisations registered: at most 500 per hour. Try again in 60 minutes.")
	}
	require.Equal(t, limit, count(t, in.db, `SELECT count(*) FROM organisations`))
	require.Equal(t, limit, count(t, in.db, `SELECT count(*) FROM history_events WHERE kind = 'organisation_registered'`))
	require.Equal(t, limit, count(t, in.db, `SELECT count(*) FROM history_events WHERE kind = 'role_assigned' AND input->>'userId' = $1`, flooder.UserID.String()))
	require.Equal(t, limit, count(t, in.db, `SELECT count(*) FROM casbin_rule WHERE ptype = 'g' AND v0 = $1`, authz.UserSubject(flooder.UserID)))
	require.Equal(t, limit, count(t, in.db, `SELECT count(*) FROM rate_limit_hits WHERE person_id = $1`, flooder.UserID))
	require.Zero(t, count(t, in.db, `SELECT count(*) FROM organisations WHERE organisation_number = $1`, string(orgnr.Complete(fmt.Sprintf("802%06d", attempts-1)))))

	// (b) Both instances hold exactly the stored assignments, learnt line by
	// line: the other instance reloaded nothing during the flood.
	stored := storedAssignments(t, in)
	require.Eventually(t, func() bool {
		return slices.Equal(sorted(in.b.AllAssignments()), stored)
	}, time.Second, time.Millisecond)
	require.Equal(t, stored, sorted(in.a.AllAssignments()))
	require.Equal(t, reloadsBefore, in.b.Reloads(), "the other instance reloaded the whole policy")
	require.Equal(t, int64(limit+1), in.b.Applied()-appliedBefore, "the other instance did not apply each grant and the revocation as a notice")
	for _, id := range registered {
		scope := authz.OrgScope(id)
		for _, pr := range []authz.Principal{flooder, bystander, official} {
			want := pr == flooder
			require.Equal(t, want, in.a.Can(pr, "organisation.update", scope), "instance a, %s in %s", pr.Name, scope)
			require.Equal(t, want, in.b.Can(pr, "organisation.update", scope), "instance b, %s in %s", pr.Name, scope)
		}
	}
	require.False(t, in.b.Can(official, "organisation.update", authz.ScopeRegion))
	// An assignment in "*" holds in every organisation's scope.
	require.True(t, in.b.Can(admin, "organisation.read_private", authz.OrgScope(registered[0])))
	require.False(t, in.b.Can(bystander, "organisation.read_private", authz.OrgScope(registered[0])))

	// An hour after the first registration, there is room again.
	in.clock.Advance(time.Hour)
	_, _, err := reg.RegisterOrganisation(context.Background(), flooder, organisation(attempts))
	require.NoError(t, err)
	require.Equal(t, limit+1, count(t, in.db, `SELECT count(*) FROM organisations`))
}

// Two registrations at once from different processes cannot both take the
// last place under the limit.
func TestRegistrationLimitHoldsAcrossProcesses(t *testing.T) {
	const limit = 5
	in := newInstances(t)
	log := slog.New(slog.DiscardHandler)
	regs := []*registry.Service{
		registry.New(in.sdb, in.a, in.clock, log, registry.WithRegistrationsPerHour(limit)),
		registry.New(in.sdb, in.b, in.clock, log, registry.WithRegistrationsPerHour(limit)),
	}
	flooder := in.person(t, "Flooder")
	other := in.person(t, "Other")

	const attempts = 40
	var wg sync.WaitGroup
	errs := make([]error, attempts)
	for i := range attempts {
		wg.Go(func() {
			_, _, errs[i] = regs[i%2].RegisterOrganisation(context.Background(), flooder, organisation(i))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.Equal(t, apperr.RateLimited, apperr.CodeOf(err), "%v", err)
	}
	require.Equal(t, limit, ok)
	require.Equal(t, limit, count(t, in.db, `SELECT count(*) FROM organisations`))

	// The limit is the person's: someone else may still register.
	_, _, err := regs[1].RegisterOrganisation(context.Background(), other, organisation(attempts))
	require.NoError(t, err)
}

func storedAssignments(t testing.TB, in *instances) []string {
	t.Helper()
	rules, err := store.CasbinRules(context.Background(), in.db.Pool)
	require.NoError(t, err)
	var out []string
	for _, r := range rules {
		if r.PType == "g" {
			out = append(out, strings.Join(r.V[:3], " "))
		}
	}
	slices.Sort(out)
	return out
}

func sorted(as []authz.Assignment) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, strings.Join([]string{authz.UserSubject(a.UserID), a.Role, a.Scope}, " "))
	}
	slices.Sort(out)
	return out
}
