package e2e_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Over GraphQL, nobody can register a look-alike of Region Värmland on
// the public list: invisible and text-direction characters are refused,
// and so is a name confusable with an existing organisation's, naming it,
// with nothing written; a genuinely different name is accepted, and a
// decomposed ä is stored composed.
func TestLookAlikeOrganisationNamesAreRefused(t *testing.T) {
	t.Parallel()
	s := newStory(t) // registers Region Värmland
	rep := s.env.NewUser("Ruth Representative")
	org := func(name string, n int) map[string]any {
		return map[string]any{"o": map[string]any{"name": name, "organisationNumber": orgNumber(n), "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}}
	}
	s.env.MustDo(rep, `{ viewer { user { name } } }`, nil, nil) // the first request records the person
	before := s.env.Checksums()
	for i, c := range []struct{ name, says string }{
		{"Region Värmland\u202e", "U+202E"},
		{"Region\u200bVärmland", "U+200B"},
		{"Region Värmlаnd", "Region Värmland"}, // Cyrillic а
		{"REGION VÄRMLAND", "Region Värmland"},
	} {
		e := s.env.MustFail(rep, "BAD_INPUT", registerOrg, org(c.name, 900+i))
		require.Equal(t, "name", e.Extensions["field"], "%q: %s", c.name, e.Message)
		require.Contains(t, e.Message, c.says)
		sv, en, ok := strings.Cut(e.Message, " / ")
		require.True(t, ok && sv != en, e.Message)
	}
	require.Equal(t, before, s.env.Checksums(), "a refused name changes nothing")

	var out struct {
		RegisterOrganisation struct{ Organisation struct{ ID, Name string } }
	}
	s.env.MustDo(rep, registerOrg, org("Region Värmlands Scoutdistrikt", 910), &out)
	s.env.MustDo(rep, registerOrg, org("Ga\u0308vle Idrottsfo\u0308rening", 911), &out)
	require.Equal(t, "Gävle Idrottsförening", out.RegisterOrganisation.Organisation.Name)
	require.Equal(t, 1, s.env.Count(`SELECT count(*) FROM organisations WHERE name = $1`, "Gävle Idrottsförening"))
}
