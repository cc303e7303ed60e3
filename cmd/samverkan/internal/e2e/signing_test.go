package e2e_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/e2e/client"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
)

// Raw operations, for the tests that send hand-built or malformed requests
// (bad input, idempotency keys, the role matrix, several processes); the
// stories go through the typed client in package client.

const registerOrg = `mutation($o: OrganisationInput!) { registerOrganisation(input: {organisation: $o}) { organisation { id name } representationClaim { id } } }`

const createAgreement = `mutation($body: ID!) { createAgreement(input: {name: "Överenskommelsen Värmland", publicBodyId: $body,
	firstVersion: {title: "Överenskommelse mellan Region Värmland och idéburen sektor", adoptedOn: "2018-01-30", decisionReference: "RS/2017:123"}}) {
	agreement { id currentVersion { id number revisionDue } } } }`

const applyToSign = `mutation($org: ID!, $ver: ID!) { applyToSign(input: {organisationId: $org, agreementVersionId: $ver,
	regionalPerspective: true, democraticValues: true, independent: true}) { instance { id state version } } }`

const instanceFields = `instance { id state version availableActions { name } }`

// story is the 2018 signing story's cast.
type story struct {
	env        *apptest.Env
	admin      *apptest.User
	official   *apptest.User
	version    string
	publicBody string
	ceremonyID string
	council    council
}

type instanceData struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Version int    `json:"version"`
}

func newStory(t *testing.T) *story {
	env := apptest.Start(t, apptest.Options{})
	s := &story{env: env, admin: env.NewUser("Ada Admin", "admin@*"), official: env.NewUser("Olle Official", "region_official@region")}
	s.publicBody = s.register(t, s.official, client.OrganisationInput{Name: "Region Värmland", OrganisationNumber: "232100-0156",
		LegalForm: client.LegalFormOther, Sector: client.SectorPublic})
	ag, err := client.CreateAgreement(t.Context(), s.as(s.official), "Överenskommelsen Värmland", s.publicBody,
		"Överenskommelse mellan Region Värmland och idéburen sektor", "2018-01-30", "RS/2017:123")
	require.NoError(t, err)
	require.Equal(t, "2023-01-30", ag.CreateAgreement.Agreement.CurrentVersion.RevisionDue, "revision due five years after adoption")
	s.version = ag.CreateAgreement.Agreement.CurrentVersion.Id
	return s
}

// register registers an organisation as u and returns its ID.
func (s *story) register(t *testing.T, u *apptest.User, o client.OrganisationInput) string {
	t.Helper()
	r, err := client.RegisterOrganisation(t.Context(), s.as(u), o)
	require.NoError(t, err)
	return r.RegisterOrganisation.Organisation.Id
}

// orgNumber makes the n-th valid organisation number of an ideell förening.
func orgNumber(n int) string { return orgnr.Complete(fmt.Sprintf("8020%05d", n)).String() }

// applicant is an organisation and its representative.
type applicant struct {
	rep      *apptest.User
	org      string
	instance string
}

// organisation registers the n-th idea-based organisation, by its new
// representative; it has not applied to sign.
func (s *story) organisation(t *testing.T, n int) applicant {
	rep := s.env.NewUser(fmt.Sprintf("Rep %d", n))
	r, err := client.RegisterOrganisation(t.Context(), s.as(rep), client.OrganisationInput{Name: fmt.Sprintf("Förening %02d", n), OrganisationNumber: orgNumber(n),
		LegalForm: client.LegalFormIdeellForening, Sector: client.SectorIdeaBased, Municipality: "Karlstad"})
	require.NoError(t, err)
	// Registering grants nothing: the official confirms the representative.
	_, err = client.ConfirmRepresentation(t.Context(), s.as(s.official), r.RegisterOrganisation.RepresentationClaim.Id)
	require.NoError(t, err)
	return applicant{rep: rep, org: r.RegisterOrganisation.Organisation.Id}
}

func (s *story) apply(t *testing.T, n int) applicant {
	a := s.organisation(t, n)
	r, err := client.ApplyToSign(t.Context(), s.as(a.rep), a.org, s.version, true, true, true)
	require.NoError(t, err)
	require.Equal(t, "applied", r.ApplyToSign.Instance.State)
	a.instance = r.ApplyToSign.Instance.Id
	return a
}

// act takes a signing, follow-up or revision action by its mutation's name
// with a raw query, for the tests that go through every mutation (the role
// matrix); the stories use the typed client instead.
func (s *story) act(t *testing.T, u *apptest.User, mutation, instance string, extra string) instanceData {
	t.Helper()
	q := fmt.Sprintf(`mutation($id: ID!) { %s(input: {instanceId: $id %s}) { %s } }`, mutation, extra, instanceFields)
	var out map[string]struct{ Instance instanceData }
	s.env.MustDo(u, q, map[string]any{"id": instance}, &out)
	return out[mutation].Instance
}

func (s *story) approve(t *testing.T, a applicant) {
	ctx, official := t.Context(), s.as(s.official)
	_, err := client.StartSigningReview(ctx, official, a.instance)
	require.NoError(t, err)
	r, err := client.ApproveSigningApplication(ctx, official, a.instance, true, true, true)
	require.NoError(t, err)
	require.Equal(t, "approved", r.ApproveSigningApplication.Instance.State)
}

// sign signs the applicant's approved application directly, as its
// representative, and returns the state it moved to.
func (s *story) sign(t *testing.T, a applicant) string {
	r, err := client.SignAgreement(t.Context(), s.as(a.rep), a.instance)
	require.NoError(t, err)
	return r.SignAgreement.Instance.State
}

// signatoryList is an agreement version's public list, in the shape of the
// query's answer: node { signatories }.
type signatoryList struct {
	Node struct{ Signatories client.SignatoryPage }
}

// publicList is the story's version's public list, as anyone sees it.
func (s *story) publicList(t *testing.T) signatoryList {
	return s.signatories(t, s.version)
}

// signatories is a version's public list (its first 100), as anyone sees it.
func (s *story) signatories(t *testing.T, version string) signatoryList {
	r, err := client.PublicSignatories(t.Context(), s.as(nil), version, 100, nil)
	require.NoError(t, err)
	var out signatoryList
	out.Node.Signatories = node[*client.PublicSignatoriesNodeAgreementVersion](t, r.Node).Signatories
	return out
}

func TestSigningStory2018(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	env, ctx, official := s.env, t.Context(), s.as(s.official)

	cer, err := client.CreateSigningCeremony(ctx, official, s.version, "Signeringsceremoni", "2018-04-20", "Karlstad")
	require.NoError(t, err)

	var spring []applicant
	for n := 1; n <= 35; n++ {
		a := s.apply(t, n)
		s.approve(t, a)
		r, err := client.AttachToSigningCeremony(ctx, official, a.instance, cer.CreateSigningCeremony.Ceremony.Id)
		require.NoError(t, err)
		require.Equal(t, "awaiting_ceremony", r.AttachToSigningCeremony.Instance.State)
		spring = append(spring, a)
	}
	require.Equal(t, 0, s.publicList(t).Node.Signatories.TotalCount, "nobody has signed before the ceremony")

	env.AdvanceTo(time.Date(2018, 4, 20, 10, 0, 0, 0, clock.Stockholm))
	list := s.publicList(t)
	require.Equal(t, 35, list.Node.Signatories.TotalCount)
	for _, e := range list.Node.Signatories.Edges {
		require.Equal(t, "2018-04-20", e.Node.SignedOn)
		require.Equal(t, "ceremony", e.Node.How)
		require.NotNil(t, e.Node.Ceremony)
		require.Equal(t, "Signeringsceremoni", e.Node.Ceremony.Title)
	}

	env.AdvanceTo(time.Date(2018, 9, 10, 10, 0, 0, 0, clock.Stockholm))
	for n := 36; n <= 50; n++ {
		a := s.apply(t, n)
		s.approve(t, a)
		require.Equal(t, "signed", s.sign(t, a))
	}
	list = s.publicList(t)
	require.Equal(t, 50, list.Node.Signatories.TotalCount)
	require.Equal(t, "2018-09-10", list.Node.Signatories.Edges[49].Node.SignedOn)

	env.AdvanceTo(time.Date(2018, 11, 5, 14, 0, 0, 0, clock.Stockholm))
	leaver := spring[6]
	w, err := client.WithdrawSignature(ctx, s.as(leaver.rep), leaver.instance, "Föreningen har lagts ned.")
	require.NoError(t, err)
	require.Equal(t, "withdrawn", w.WithdrawSignature.Instance.State)
	require.Equal(t, 49, s.publicList(t).Node.Signatories.TotalCount)

	// The withdrawal is public: who, when and why, to anyone.
	h, err := client.InstanceHistory(ctx, s.as(nil), leaver.instance, 50)
	require.NoError(t, err)
	hist := node[*client.InstanceHistoryNodeWorkflowInstance](t, h.Node)
	require.Equal(t, "withdrawn", hist.State)
	last := hist.History.Edges[0].Node
	require.Equal(t, "withdraw", val(last.Transition))
	require.Equal(t, "Föreningen har lagts ned.", last.Reason)
	require.NotNil(t, last.Actor)
	require.Equal(t, leaver.rep.Name, last.Actor.Name)
	require.Equal(t, "2018-11-05", last.At.In(clock.Stockholm).Format(time.DateOnly), last.At)
	for _, e := range hist.History.Edges {
		require.NotEqual(t, "start_review", val(e.Node.Transition), "the review is not public")
	}

	// The organisation's signing history.
	o, err := client.OrganisationSignatures(ctx, s.as(nil), leaver.org)
	require.NoError(t, err)
	org := node[*client.OrganisationSignaturesNodeOrganisation](t, o.Node)
	require.Len(t, org.Signatures, 1)
	require.Equal(t, "2018-04-20", org.Signatures[0].SignedOn)
	require.Equal(t, "2018-11-05", val(org.Signatures[0].EndedOn))
	require.Equal(t, "withdrawn", val(org.Signatures[0].EndedHow))
}

func TestConcurrentIdenticalApprovalsRecordOne(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	a := s.apply(t, 1)
	ctx, official := t.Context(), s.as(s.official)
	_, err := client.StartSigningReview(ctx, official, a.instance)
	require.NoError(t, err)
	var wg sync.WaitGroup
	codes := make(chan string, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.ApproveSigningApplication(ctx, official, a.instance, true, true, true)
			if err != nil {
				codes <- client.ErrorCode(err) // "" when it is not a GraphQL error
			} else {
				codes <- "OK"
			}
		}()
	}
	wg.Wait()
	close(codes)
	count := map[string]int{}
	for c := range codes {
		count[c]++
	}
	require.Equal(t, map[string]int{"OK": 1, "INVALID_TRANSITION": 49}, count)
	require.Equal(t, 1, s.env.Count(`SELECT count(*) FROM history_events WHERE transition = 'approve'`))
}

func TestConcurrentTransitionsOnDifferentInstancesAllApply(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	var apps []applicant
	for n := 1; n <= 200; n++ {
		apps = append(apps, s.apply(t, n))
	}
	ctx, official := t.Context(), s.as(s.official)
	var wg sync.WaitGroup
	errs := make(chan error, len(apps))
	for _, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := client.StartSigningReview(ctx, official, a.instance); err != nil {
				errs <- fmt.Errorf("%s: %w", client.ErrorCode(err), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 200, s.env.Count(`SELECT count(*) FROM workflow_instances WHERE state = 'under_review'`))
	require.Equal(t, 200, s.env.Count(`SELECT count(*) FROM history_events WHERE transition = 'start_review'`))
}
