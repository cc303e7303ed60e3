package orgnr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/orgnr"
)

func TestValid(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"212000-0142":   "212000-0142",
		"212000-1355":   "212000-1355",
		"556036-0793":   "556036-0793",
		"5560360793":    "556036-0793",
		" 556036-0793 ": "556036-0793",
		"165560360793":  "556036-0793",
		"16556036-0793": "556036-0793",
		"802002-4322":   "802002-4322",
	} {
		n, err := orgnr.Parse(in)
		require.NoError(t, err, in)
		require.Equal(t, want, n.String(), in)
	}
}

func TestInvalidSaysWhichRuleFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, says string }{
		{"556036-0794", "check digit"},
		{"", "ten digits"},
		{"55603607", "ten digits"},
		{"556036-07933", "ten digits"},
		{"175560360793", "starts with 16"},
		{"556O36-0793", "only contain digits"},
		{"55-6036-0793", "more than one hyphen"},
		{"5560-360793", "last four digits"},
		{"851015-1234", "at least 20"},
		{"'; DROP TABLE organisations; --", "only contain digits"},
	} {
		_, err := orgnr.Parse(tc.in)
		require.Error(t, err, tc.in)
		require.True(t, apperr.IsCode(err, apperr.BadInput), tc.in)
		e, _ := apperr.As(err)
		require.Equal(t, "organisationNumber", e.Field)
		require.Contains(t, e.Message, tc.says, tc.in)
	}
}

func TestLegalFormGroupIsShownNotEnforced(t *testing.T) {
	t.Parallel()
	n, err := orgnr.Parse("212000-0142")
	require.NoError(t, err)
	require.Contains(t, n.LegalFormGroup(), "Public bodies")
	n, err = orgnr.Parse("556036-0793")
	require.NoError(t, err, "a limited company's number is accepted")
	require.Contains(t, n.LegalFormGroup(), "Limited companies")
}

func FuzzParseNeverPanicsAndRoundTrips(f *testing.F) {
	for _, s := range []string{"212000-0142", "556036-0794", "16556036-0793", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := orgnr.Parse(s)
		if err != nil {
			require.True(t, apperr.IsCode(err, apperr.BadInput))
			return
		}
		again, err := orgnr.Parse(n.String())
		require.NoError(t, err)
		require.Equal(t, n, again)
	})
}

func TestCompleteMakesValidNumbers(t *testing.T) {
	t.Parallel()
	for _, nine := range []string{"556036079", "212000014", "802002432", "802900001"} {
		n := orgnr.Complete(nine)
		parsed, err := orgnr.Parse(n.String())
		require.NoError(t, err, nine)
		require.Equal(t, n, parsed)
	}
	require.Equal(t, orgnr.Number("5560360793"), orgnr.Complete("556036079"))
}
