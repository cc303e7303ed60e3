package store

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
)

// The driver errors that mean something to a person become domain errors
// whose messages are in Swedish, then English.
func TestTranslatedErrorsAreInSwedishThenEnglish(t *testing.T) {
	for name, c := range map[string]struct {
		err  error
		code apperr.Code
	}{
		"no rows":           {pgx.ErrNoRows, apperr.NotFound},
		"serialization":     {&pgconn.PgError{Code: "40001"}, apperr.Conflict},
		"deadlock":          {&pgconn.PgError{Code: "40P01"}, apperr.Conflict},
		"admin shutdown":    {&pgconn.PgError{Code: "57P01"}, apperr.Unavailable},
		"connection broken": {fmt.Errorf("read: %w", io.ErrUnexpectedEOF), apperr.Unavailable},
	} {
		err := translate(c.err, "doing")
		de, ok := apperr.As(err)
		require.True(t, ok, name)
		require.Equal(t, c.code, de.Code, name)
		sv, en, ok := strings.Cut(de.Message, " / ")
		require.True(t, ok, "%s: %q", name, de.Message)
		require.NotEmpty(t, sv, name)
		require.NotEmpty(t, en, name)
	}
}
