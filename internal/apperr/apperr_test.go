package apperr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
)

func TestJoin(t *testing.T) {
	t.Parallel()
	t.Run("NoneBad", func(t *testing.T) {
		require.NoError(t, apperr.Join(nil, nil))
	})
	t.Run("OneBadIsItself", func(t *testing.T) {
		one := apperr.Invalid("name", "Namn saknas. / Name missing.")
		require.Same(t, one, apperr.Join(nil, one, nil))
	})
	t.Run("EveryFieldOnceInOrder", func(t *testing.T) {
		err := apperr.Join(
			apperr.Invalid("name", "Namn saknas. / Name missing."),
			nil,
			fmt.Errorf("number: %w", apperr.Invalid("organisationNumber", "Fel nummer. / Wrong number.")),
			apperr.Invalid("name", "Namnet är för långt. / The name is too long."),
			apperr.Invalid("contactEmail", "Fel adress. / Wrong address."),
		)
		require.True(t, errors.Is(err, &apperr.Error{Code: apperr.BadInput}))
		e, ok := apperr.As(err)
		require.True(t, ok)
		require.Equal(t, apperr.BadInput, e.Code)
		require.Equal(t, "name", e.Field, "the first field is the error's own")
		require.Equal(t, "Namn saknas. / Name missing.", e.Message)
		require.Equal(t, []apperr.FieldError{
			{Field: "name", Message: "Namn saknas. / Name missing."},
			{Field: "organisationNumber", Message: "Fel nummer. / Wrong number."},
			{Field: "contactEmail", Message: "Fel adress. / Wrong address."},
		}, apperr.FieldsOf(err))
	})
	t.Run("JoinedAgainKeepsEveryField", func(t *testing.T) {
		inner := apperr.Join(apperr.Invalid("a", "A. / A."), apperr.Invalid("b", "B. / B."))
		err := apperr.Join(inner, apperr.Invalid("c", "C. / C."))
		require.Len(t, apperr.FieldsOf(err), 3)
	})
	t.Run("OtherErrorWins", func(t *testing.T) {
		boom := errors.New("boom")
		err := apperr.Join(apperr.Invalid("name", "Namn saknas. / Name missing."), boom)
		require.Same(t, boom, err)
		forbidden := apperr.New(apperr.Forbidden, "Nej. / No.")
		require.Same(t, forbidden, apperr.Join(forbidden, apperr.Invalid("name", "x")))
	})
}

func TestFieldsOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, []apperr.FieldError{{Field: "title", Message: "T. / T."}}, apperr.FieldsOf(apperr.Invalid("title", "T. / T.")))
	require.Nil(t, apperr.FieldsOf(apperr.New(apperr.NotFound, "Finns inte. / Not found.")))
	require.Nil(t, apperr.FieldsOf(errors.New("boom")))
	moved := apperr.OnField(apperr.Join(apperr.Invalid("a", "A. / A."), apperr.Invalid("b", "B. / B.")), "x")
	require.Equal(t, "x", apperr.FieldsOf(moved)[0].Field)
}
