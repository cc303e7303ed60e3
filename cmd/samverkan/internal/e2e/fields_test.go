package e2e_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Over GraphQL, a registration with three bad fields is one BAD_INPUT
// whose extensions.fields name all three, each with its own message in
// Swedish, then English; extensions.code, field and the error's message
// stay those of the first, and nothing is written.
func TestRegistrationWithThreeBadFieldsGetsThreeFieldErrors(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	rep := s.env.NewUser("Fia Fält")
	s.env.MustDo(rep, `{ viewer { user { name } } }`, nil, nil)
	before := s.env.Checksums()
	e := s.env.MustFail(rep, "BAD_INPUT", registerOrg, map[string]any{"o": map[string]any{
		"name": " ", "organisationNumber": "12", "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED",
		"contactEmail": "ingen adress"}})
	raw, ok := e.Extensions["fields"].([]any)
	require.True(t, ok, "extensions.fields: %#v", e.Extensions)
	var fields []string
	for _, f := range raw {
		m := f.(map[string]any)
		fields = append(fields, m["field"].(string))
		sv, en, ok := strings.Cut(m["message"].(string), " / ")
		require.True(t, ok && sv != "" && en != "", "%v", m)
	}
	require.Equal(t, []string{"name", "organisationNumber", "contactEmail"}, fields)
	require.Equal(t, "name", e.Extensions["field"])
	require.Equal(t, raw[0].(map[string]any)["message"], e.Message)
	require.Equal(t, before, s.env.Checksums(), "nothing is written")

	// One bad field has no list: extensions.field says it all, as before.
	one := s.env.MustFail(rep, "BAD_INPUT", registerOrg, map[string]any{"o": map[string]any{
		"name": "Fältföreningen", "organisationNumber": orgNumber(930), "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED",
		"contactEmail": "ingen adress"}})
	require.Equal(t, "contactEmail", one.Extensions["field"])
	require.NotContains(t, one.Extensions, "fields")
}
