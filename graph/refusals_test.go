package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/samverkan/samverkan/internal/apperr"
)

// The messages the error presenter makes for failures a person cannot see
// the cause of (an internal error, a database that went away, a request out
// of time, gqlgen's own refusals) are in Swedish, then English, and keep their codes.
func TestPresentedFailuresAreInSwedishThenEnglish(t *testing.T) {
	present := errorPresenter(slog.New(slog.DiscardHandler))
	for name, c := range map[string]struct {
		err  error
		code apperr.Code
	}{
		"internal":       {errors.New("boom"), apperr.Internal},
		"timeout":        {fmt.Errorf("query: %w", context.DeadlineExceeded), apperr.Unavailable},
		"gqlgen's own":   {&gqlerror.Error{Message: "Cannot query field \"x\" on type \"Query\".", Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}}, "GRAPHQL_VALIDATION_FAILED"},
		"uncoded gqlgen": {&gqlerror.Error{Message: "input: something"}, apperr.BadInput},
	} {
		out := present(context.Background(), c.err)
		require.Equal(t, string(c.code), out.Extensions["code"], name)
		sv, en, ok := strings.Cut(out.Message, " / ")
		require.True(t, ok, "%s: %q", name, out.Message)
		require.NotEmpty(t, strings.TrimSpace(sv), name)
		require.NotEmpty(t, strings.TrimSpace(en), name)
		require.NotContains(t, out.Message, "boom", name)
	}
}

// At most 20 errors, then one that counts the rest.
func TestCapErrors(t *testing.T) {
	var list gqlerror.List
	for i := range 25 {
		list = append(list, &gqlerror.Error{Message: fmt.Sprint(i), Extensions: map[string]any{"code": "X"}})
	}
	out := capErrors(list)
	require.Len(t, out, 21)
	require.Equal(t, "… och 5 fel till. / … and 5 more errors.", out[20].Message)
	require.Len(t, capErrors(list[:20]), 20)
}
