package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
)

// The register of organisations and the lists of partnerships say how many
// they hold over all their pages (totalCount), each viewer counting only
// what the list shows them.
func TestOrganisationAndPartnershipListsCount(t *testing.T) {
	t.Parallel()
	s := newIOPStory(t)
	s.env.AdvanceTo(at(2018, 2, 1, 9))
	s.partner(t, 2)
	s.partner(t, 3)

	var orgs struct {
		Organisations struct {
			TotalCount int
			Edges      []struct{ Node struct{ Name string } }
		}
	}
	const orgQuery = `query($s: String) { organisations(search: $s, first: 1) { totalCount edges { node { name } } } }`
	s.env.MustDo(nil, orgQuery, map[string]any{"s": nil}, &orgs)
	require.Equal(t, 4, orgs.Organisations.TotalCount, "the Region and three partner associations")
	require.Len(t, orgs.Organisations.Edges, 1, "one page of one")
	s.env.MustDo(nil, orgQuery, map[string]any{"s": "Partnerföreningen"}, &orgs)
	require.Equal(t, 3, orgs.Organisations.TotalCount)

	active := s.propose(t, "Läxhjälp", "2018-03-01", "2020-12-31")
	require.Equal(t, "active", s.agree(t, active).State)
	s.propose(t, "Mötesplats", "2018-04-01", "2021-12-31") // in negotiation

	count := func(u *apptest.User, query string) int {
		t.Helper()
		var out map[string]struct{ TotalCount int }
		s.env.MustDo(u, query, nil, &out)
		for _, c := range out {
			return c.TotalCount
		}
		t.Fatal("no connection in the answer")
		return 0
	}
	// Anyone sees the agreed one; the one in negotiation is the official's.
	require.Equal(t, 1, count(nil, `{ partnerships(first: 1) { totalCount } }`))
	require.Equal(t, 2, count(s.official, `{ partnerships(first: 1) { totalCount } }`))
	require.Equal(t, 1, count(s.official, `{ partnerships(state: "negotiation") { totalCount } }`))
	require.Equal(t, 0, count(nil, `{ partnerships(state: "negotiation") { totalCount } }`))
	require.Equal(t, 1, count(nil, `{ partnershipsExpiring(withinDays: 3650, first: 1) { totalCount } }`))
	require.Equal(t, 0, count(s.official, `{ partnershipsExpiring(withinDays: 30) { totalCount } }`))
}
