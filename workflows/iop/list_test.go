package iop_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// The register of partnerships without a state filter lists them all, in
// every state the viewer may see (it used to list none).
func TestPartnershipListWithoutFilterListsAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Part")
	active := e.agree(t, c, c.proposal(day(2041, 3, 1), day(2042, 12, 31)))
	proposed, _, err := e.svc.Propose(ctx, c.reps[0], c.proposal(day(2041, 6, 1), day(2043, 12, 31)))
	require.NoError(t, err)

	ids := func(pr authz.Principal, state string) []string {
		t.Helper()
		list, err := e.svc.ByState(ctx, pr, store.PartnershipPage{State: state, Limit: 10})
		require.NoError(t, err)
		var out []string
		for _, p := range list {
			out = append(out, p.Record.ID.String())
		}
		return out
	}
	// Anyone sees the active one; an initiative is the parties' and the
	// officials' until it is agreed.
	require.Equal(t, []string{active.String()}, ids(authz.Anonymous, ""))
	require.ElementsMatch(t, []string{active.String(), proposed.ID.String()}, ids(c.official, ""))
	require.Equal(t, []string{active.String()}, ids(c.official, "active"))
	require.Equal(t, []string{proposed.ID.String()}, ids(c.official, "initiative"))
}

// A partnership under notice ends on the day its termination takes effect:
// that is its effective end, by which it is listed among those expiring
// (it used to keep its original end date and drop out of the list), and
// the list's cursor follows it.
func TestTerminatingPartnershipExpiresByItsTermination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil) // 2041-01-07
	c := e.cast(t, "Part")
	long := e.agree(t, c, c.proposal(day(2041, 2, 1), day(2045, 12, 31)))
	short := e.agree(t, c, c.proposal(day(2041, 2, 1), day(2041, 3, 31)))
	_, err := e.svc.Terminate(ctx, c.reps[0], workflows.Step{ID: long, Reason: "Vi avslutar. / We are ending it."}, c.orgs[0])
	require.NoError(t, err)

	got, err := e.svc.Get(ctx, authz.Anonymous, long)
	require.NoError(t, err)
	require.Equal(t, day(2045, 12, 31), got.Record.EndDate, "the agreed end date stays on the record")
	require.Equal(t, day(2041, 4, 7), got.EffectiveEnd(), "three months' notice from 7 January")
	s, err := e.svc.Get(ctx, authz.Anonymous, short)
	require.NoError(t, err)
	require.Equal(t, day(2041, 3, 31), s.EffectiveEnd(), "without notice the end date")

	expiring := func(days int, page store.ExpiringPage) []uuid.UUID {
		t.Helper()
		list, err := e.svc.ExpiringWithin(ctx, authz.Anonymous, days, page)
		require.NoError(t, err)
		var out []uuid.UUID
		for _, p := range list {
			out = append(out, p.Record.ID)
		}
		return out
	}
	require.Equal(t, []uuid.UUID{short, long}, expiring(100, store.ExpiringPage{Limit: 10}), "soonest first, by the effective end")
	require.Equal(t, []uuid.UUID{short}, expiring(85, store.ExpiringPage{Limit: 10}), "the termination takes effect after 85 days")
	require.Equal(t, []uuid.UUID{long}, expiring(100, store.ExpiringPage{Limit: 10, AfterEnd: s.EffectiveEnd(), AfterID: short}),
		"the next page goes on after the previous page's effective end")
	n, err := e.svc.CountExpiringWithin(ctx, authz.Anonymous, 100)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	// The range of days is the service's: 0–3650, on the field withinDays.
	_, err = e.svc.ExpiringWithin(ctx, authz.Anonymous, 3651, store.ExpiringPage{})
	ae := requireCode(t, apperr.BadInput, err)
	require.Equal(t, "withinDays", ae.Field)
	require.Contains(t, ae.Message, "0–3650")
	_, err = e.svc.ExpiringWithin(ctx, authz.Anonymous, -1, store.ExpiringPage{})
	requireCode(t, apperr.BadInput, err)
	_, err = e.svc.ExpiringWithin(ctx, authz.Anonymous, 3650, store.ExpiringPage{})
	require.NoError(t, err)
}
