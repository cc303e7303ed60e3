package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/e2e/client"
	"github.com/samverkan/samverkan/internal/clock"
)

// Registering an organisation grants no role: the registrant's claim to
// represent it is a request that an official confirms, visible to both and
// recorded in the history; until then the person can do nothing on the
// organisation's behalf. Officials never become representatives this way.
func TestRepresentingAnOrganisationNeedsAnOfficialsConfirmation(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	ctx := t.Context()
	s.env.AdvanceTo(time.Date(2018, 6, 1, 9, 0, 0, 0, clock.Stockholm))
	input := func(n int) client.OrganisationInput {
		return client.OrganisationInput{Name: []string{"Filipstads hembygdsförening", "Filipstads konstförening", "Filipstads schackklubb"}[n], OrganisationNumber: orgNumber(700 + n),
			LegalForm: client.LegalFormIdeellForening, Sector: client.SectorIdeaBased, Municipality: "Filipstad"}
	}
	history := func(kind string) int {
		return s.env.Count(`SELECT count(*) FROM history_events WHERE kind = $1`, kind)
	}

	// The chair registers her association and asks, with it, to represent it.
	chair := s.env.NewUser("Ingrid Ordförande")
	reg, err := client.RegisterOrganisation(ctx, s.as(chair), input(1))
	require.NoError(t, err)
	org := reg.RegisterOrganisation.Organisation.Id
	claim := reg.RegisterOrganisation.RepresentationClaim
	require.Equal(t, client.ClaimStatusRequested, claim.Status)
	require.Equal(t, 1, history("representation_requested"))
	// Until confirmed she can do nothing on its behalf.
	_, err = client.ApplyToSign(ctx, s.as(chair), org, s.version, true, true, true)
	requireCode(t, err, "FORBIDDEN")
	// Both see the request: she among her own, the official among those waiting.
	mine, err := client.MyClaims(ctx, s.as(chair))
	require.NoError(t, err)
	require.Len(t, mine.Viewer.RepresentationClaims, 1)
	require.Equal(t, client.ClaimStatusRequested, mine.Viewer.RepresentationClaims[0].Status)
	waiting, err := client.RepresentationRequests(ctx, s.as(s.official))
	require.NoError(t, err)
	require.Len(t, waiting.RepresentationRequests, 1)
	require.Equal(t, "Ingrid Ordförande", waiting.RepresentationRequests[0].Person.Name)
	_, err = client.RepresentationRequests(ctx, s.as(chair))
	requireCode(t, err, "FORBIDDEN")
	// Nobody confirms their own request, and only officials and admins decide.
	_, err = client.ConfirmRepresentation(ctx, s.as(chair), claim.Id)
	requireCode(t, err, "FORBIDDEN")

	// A first registrant holds no privilege over a later, genuine one: the
	// official declines one request and confirms the other.
	genuine := s.env.NewUser("Gunnar Kassör")
	ask, err := client.AskToRepresent(ctx, s.as(genuine), org)
	require.NoError(t, err)
	_, err = client.DeclineRepresentation(ctx, s.as(s.official), claim.Id, "Föreningens styrelse känner inte till henne.")
	require.NoError(t, err)
	_, err = client.ConfirmRepresentation(ctx, s.as(s.official), ask.AskToRepresent.Claim.Id)
	require.NoError(t, err)
	require.Equal(t, 1, history("representation_declined"))
	require.Equal(t, 1, history("representation_confirmed"))
	mine, err = client.MyClaims(ctx, s.as(chair))
	require.NoError(t, err)
	require.Equal(t, client.ClaimStatusDeclined, mine.Viewer.RepresentationClaims[0].Status)
	require.Equal(t, "Föreningens styrelse känner inte till henne.", *mine.Viewer.RepresentationClaims[0].Reason)
	_, err = client.ApplyToSign(ctx, s.as(chair), org, s.version, true, true, true)
	requireCode(t, err, "FORBIDDEN")
	_, err = client.ApplyToSign(ctx, s.as(genuine), org, s.version, true, true, true)
	require.NoError(t, err, "the confirmed representative applies")
	// A decided request is decided.
	_, err = client.ConfirmRepresentation(ctx, s.as(s.official), claim.Id)
	requireCode(t, err, "INVALID_TRANSITION")

	// An official who registers an idea-based organisation does not become
	// its representative, and cannot ask to.
	reg2, err := client.RegisterOrganisation(ctx, s.as(s.official), input(2))
	require.NoError(t, err)
	require.Nil(t, reg2.RegisterOrganisation.RepresentationClaim)
	_, err = client.ApplyToSign(ctx, s.as(s.official), reg2.RegisterOrganisation.Organisation.Id, s.version, true, true, true)
	requireCode(t, err, "FORBIDDEN")
	_, err = client.AskToRepresent(ctx, s.as(s.official), reg2.RegisterOrganisation.Organisation.Id)
	requireCode(t, err, "FORBIDDEN")
	r := s.env.Do(s.official, `mutation($o: OrganisationInput!) { registerOrganisation(input: {organisation: $o, askToRepresent: true}) { organisation { id } } }`,
		map[string]any{"o": map[string]any{"name": "Annan förening", "organisationNumber": orgNumber(703), "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}})
	require.Len(t, r.Errors, 1)
	require.Equal(t, "FORBIDDEN", r.Errors[0].Code())
	require.Zero(t, s.env.Count(`SELECT count(*) FROM organisations WHERE organisation_number = $1`, orgNumber(703)[:6]+orgNumber(703)[7:]),
		"a refused registration writes nothing")
}
