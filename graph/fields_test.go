package graph

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
)

// A BAD_INPUT that names several fields keeps code, field and message of
// the first and lists every field with its message in extensions.fields;
// one with a single field has no list.
func TestPresenterListsEveryBadField(t *testing.T) {
	present := errorPresenter(slog.New(slog.DiscardHandler))
	out := present(context.Background(), apperr.Join(
		apperr.Invalid("name", "Skriv namnet. / Enter the name."),
		apperr.Invalid("organisationNumber", "Fel nummer. / Wrong number."),
		apperr.Invalid("contactEmail", "Fel adress. / Wrong address.")))
	require.Equal(t, "BAD_INPUT", out.Extensions["code"])
	require.Equal(t, "name", out.Extensions["field"])
	require.Equal(t, "Skriv namnet. / Enter the name.", out.Message)
	require.Equal(t, []map[string]any{
		{"field": "name", "message": "Skriv namnet. / Enter the name."},
		{"field": "organisationNumber", "message": "Fel nummer. / Wrong number."},
		{"field": "contactEmail", "message": "Fel adress. / Wrong address."},
	}, out.Extensions["fields"])

	one := present(context.Background(), apperr.Invalid("website", "Fel länk. / Wrong link."))
	require.Equal(t, "website", one.Extensions["field"])
	require.NotContains(t, one.Extensions, "fields")
}
