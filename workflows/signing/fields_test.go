package signing_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/workflows/signing"
)

// An application onto a superseded version that also leaves a declaration
// unconfirmed is told both at once; nothing is started.
func TestApplyReportsEveryBadField(t *testing.T) {
	f := newFixture(t)
	v1, err := f.Registry.Version(ctx, f.version)
	require.NoError(t, err)
	require.NoError(t, f.Engine.DB().InTx(ctx, func(tx pgx.Tx) error {
		_, err := registry.InsertVersionTx(ctx, tx, f.official, v1.AgreementID, 2, registry.VersionInput{Title: "Version 2", Principles: v1.Principles,
			AdoptedOn: time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC), ValidFrom: time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC)}, f.Clock.Now())
		return err
	}))
	_, err = f.Signing.Apply(ctx, f.rep, f.org, f.version, signing.Declarations{RegionalPerspective: true})
	requireCode(t, err, apperr.BadInput, "agreementVersionId")
	fields := apperr.FieldsOf(err)
	require.Len(t, fields, 2)
	require.Equal(t, "agreementVersionId", fields[0].Field)
	require.Equal(t, "declarations", fields[1].Field)
	require.Contains(t, fields[1].Message, "bekräfta alla tre. / ")
	require.Equal(t, 0, f.Count(t, `SELECT count(*) FROM workflow_instances WHERE kind = 'signing'`))
}
