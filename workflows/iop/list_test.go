package iop_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
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
