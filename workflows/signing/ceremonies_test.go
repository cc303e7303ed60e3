package signing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/workflows/signing"
)

// The planned ceremonies are listed soonest first for those who may plan
// them, and a ceremony that has taken place is no longer among them; a
// representative is refused the list. CeremonyOf names the ceremony an
// application waits for, and none once it has signed.
func TestPlannedCeremonies(t *testing.T) {
	f := newFixture(t)
	later, err := f.Signing.CreateCeremony(ctx, f.official, signing.CeremonyInput{AgreementVersionID: f.version, Title: "Hösten",
		HeldOn: time.Date(2041, 9, 1, 0, 0, 0, 0, time.UTC), Place: "Arvika"})
	require.NoError(t, err)
	sooner, err := f.Signing.CreateCeremony(ctx, f.official, signing.CeremonyInput{AgreementVersionID: f.version, Title: "Våren",
		HeldOn: time.Date(2041, 3, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)

	_, err = f.Signing.PlannedCeremonies(ctx, f.rep)
	requireCode(t, err, apperr.Forbidden, "")
	list, err := f.Signing.PlannedCeremonies(ctx, f.official)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, []string{"Våren", "Hösten"}, []string{list[0].Title, list[1].Title})
	require.Equal(t, "Arvika", list[1].Place)

	in := f.underReview(t)
	in, err = f.Signing.Approve(ctx, f.official, step(in, ""), allChecked)
	require.NoError(t, err)
	_, waits := signing.CeremonyOf(in)
	require.False(t, waits, "an approved application waits for no ceremony")
	in, err = f.Signing.AttachToCeremony(ctx, f.official, step(in, ""), sooner.ID)
	require.NoError(t, err)
	id, waits := signing.CeremonyOf(in)
	require.True(t, waits)
	require.Equal(t, sooner.ID, id)

	f.RunDue(t, time.Date(2041, 3, 2, 0, 0, 0, 0, time.UTC))
	_, waits = signing.CeremonyOf(f.read(t, in.ID))
	require.False(t, waits, "signed at the ceremony")
	list, err = f.Signing.PlannedCeremonies(ctx, f.official)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, later.ID, list[0].ID)
}
