package registry_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/registry"
)

// A registration with several bad fields is refused with one BAD_INPUT
// that names every one of them (each once, in the form's order, Swedish
// first), so the person can mend them all at once; nothing is written.
func TestRegistrationReportsEveryBadField(t *testing.T) {
	in := newInstances(t)
	reg := registry.New(in.sdb, in.a, in.clock, slog.New(slog.DiscardHandler))
	rep := in.person(t, "Rep")
	ctx := context.Background()
	orgsBefore := count(t, in.db, "SELECT count(*) FROM organisations")
	eventsBefore := count(t, in.db, "SELECT count(*) FROM history_events")

	bad := organisation(1)
	bad.Name = "   "
	bad.OrganisationNumber = "802-12"
	bad.LegalForm = "aktiebolag"
	bad.ContactEmail = "inte en adress"
	_, _, err := reg.RegisterOrganisation(ctx, rep, bad)
	require.True(t, apperr.IsCode(err, apperr.BadInput), "%v", err)
	fields := apperr.FieldsOf(err)
	var names []string
	for _, f := range fields {
		names = append(names, f.Field)
		require.Regexp(t, `^\S.* / \S.*$`, f.Message, "Swedish, then English")
	}
	require.Equal(t, []string{"name", "organisationNumber", "legalForm", "contactEmail"}, names)
	e, _ := apperr.As(err)
	require.Equal(t, "name", e.Field)
	require.Equal(t, fields[0].Message, e.Message)
	require.Equal(t, orgsBefore, count(t, in.db, "SELECT count(*) FROM organisations"))
	require.Equal(t, eventsBefore, count(t, in.db, "SELECT count(*) FROM history_events"))

	t.Run("OneBadFieldIsAsBefore", func(t *testing.T) {
		one := organisation(2)
		one.Website = "ftp://example.org"
		_, _, err := reg.RegisterOrganisation(ctx, rep, one)
		e, ok := apperr.As(err)
		require.True(t, ok)
		require.Equal(t, "website", e.Field)
		require.Empty(t, e.Fields)
	})
	t.Run("GoodInputIsRegistered", func(t *testing.T) {
		o, _, err := reg.RegisterOrganisation(ctx, rep, organisation(3))
		require.NoError(t, err)
		require.Equal(t, "Förening 0003", o.Name)
	})
}
