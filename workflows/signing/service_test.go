package signing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/signing"
	"github.com/samverkan/samverkan/workflows/workflowstest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var ctx = context.Background()

// fixture is an agreement in force (v1) with a Region official, and an
// idea-based organisation with its representative.
type fixture struct {
	*workflowstest.Env
	official authz.Principal
	rep      authz.Principal
	org      uuid.UUID
	version  uuid.UUID
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e := workflowstest.New(t, workflowstest.Options{})
	f := &fixture{Env: e, official: e.User(t, "Olle Officiell", "region_official@region")}
	region := e.Organisation(t, "Region Värmland", registry.SectorPublic)
	_, v, err := e.Registry.CreateAgreement(ctx, f.official, "Överenskommelsen Värmland", region, registry.VersionInput{
		Title: "Överenskommelsen Värmland", Body: "Text", AdoptedOn: time.Date(2038, 1, 30, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	f.version = v.ID
	f.org = e.Organisation(t, "Föreningen Solrosen", registry.SectorIdeaBased)
	f.rep = f.representative(t, "Rut Representant", f.org)
	return f
}

func (f *fixture) representative(t *testing.T, name string, org uuid.UUID) authz.Principal {
	return f.User(t, name, "sector_representative@"+authz.OrgScope(org))
}

var allDeclared = signing.Declarations{RegionalPerspective: true, DemocraticValues: true, Independent: true}
var allChecked = signing.Eligibility{RegionalPerspective: true, DemocraticValues: true, Independent: true}

func step(in *store.Instance, reason string) workflows.Step {
	return workflows.Step{ID: in.ID, ExpectedVersion: in.Version, Reason: reason}
}

// apply applies for f.org and starts the review.
func (f *fixture) underReview(t *testing.T) *store.Instance {
	t.Helper()
	in, err := f.Signing.Apply(ctx, f.rep, f.org, f.version, allDeclared)
	require.NoError(t, err)
	in, err = f.Signing.StartReview(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	return in
}

func (f *fixture) read(t *testing.T, id uuid.UUID) *store.Instance {
	t.Helper()
	in, err := f.Engine.Instance(ctx, id)
	require.NoError(t, err)
	return in
}

// transitions are the instance's history as an official reads it, oldest
// first: transition names, or the event's kind for other events.
func (f *fixture) transitions(t *testing.T, id uuid.UUID) []string {
	t.Helper()
	events, _, err := f.Engine.History(ctx, f.official, f.read(t, id), 0, 100)
	require.NoError(t, err)
	var out []string
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == "transition" {
			out = append(out, events[i].Transition)
		} else {
			out = append(out, events[i].Kind)
		}
	}
	return out
}

func (f *fixture) signatories(t *testing.T, version uuid.UUID) []uuid.UUID {
	t.Helper()
	rows, err := f.Signing.Signatories(ctx, store.SignatoryPage{VersionID: version, Limit: 1000})
	require.NoError(t, err)
	var out []uuid.UUID
	for _, s := range rows {
		out = append(out, s.OrganisationID)
	}
	return out
}

func requireCode(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	require.Error(t, err)
	var ae *apperr.Error
	require.True(t, errors.As(err, &ae), "%v is no apperr.Error", err)
	require.Equal(t, code, ae.Code, ae.Message)
	if field != "" {
		require.Equal(t, field, ae.Field, ae.Message)
	}
}

// An organisation applies, is reviewed, asked for more, answers, is approved
// and signs directly: it is on the public list, and the history tells each
// step in order.
func TestApplyReviewApproveSign(t *testing.T) {
	f := newFixture(t)
	in := f.underReview(t)
	require.Equal(t, string(signing.UnderReview), in.State)

	_, err := f.Signing.RequestInformation(ctx, f.official, step(in, ""))
	requireCode(t, err, apperr.BadInput, "reason")
	in, err = f.Signing.RequestInformation(ctx, f.official, step(in, "Skicka stadgarna."))
	require.NoError(t, err)
	require.Equal(t, string(signing.NeedsInformation), in.State)
	in, err = f.Signing.ProvideInformation(ctx, f.rep, step(in, "Stadgarna bifogade."))
	require.NoError(t, err)
	in, err = f.Signing.Approve(ctx, f.official, step(in, ""), allChecked)
	require.NoError(t, err)
	require.Equal(t, string(signing.Approved), in.State)
	require.Empty(t, f.signatories(t, f.version), "approved is not signed")

	in, err = f.Signing.Sign(ctx, f.rep, step(in, ""))
	require.NoError(t, err)
	require.Equal(t, string(signing.Signed), in.State)
	require.Equal(t, []uuid.UUID{f.org}, f.signatories(t, f.version))
	require.Equal(t, []string{"started", "start_review", "request_information", "provide_information", "approve", "sign"}, f.transitions(t, in.ID))

	// An anonymous visitor sees the signature, not the application's
	// private steps.
	events, _, err := f.Engine.History(ctx, authz.Principal{}, in, 0, 100)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "sign", events[0].Transition)
}

func TestApplyRefusals(t *testing.T) {
	f := newFixture(t)
	_, err := f.Signing.Apply(ctx, f.rep, f.org, f.version, signing.Declarations{RegionalPerspective: true, DemocraticValues: true})
	requireCode(t, err, apperr.BadInput, "declarations")
	other := f.Organisation(t, "Annan förening", registry.SectorIdeaBased)
	_, err = f.Signing.Apply(ctx, f.rep, other, f.version, allDeclared)
	requireCode(t, err, apperr.Forbidden, "")
	_, err = f.Signing.Apply(ctx, f.rep, f.org, uuid.New(), allDeclared)
	requireCode(t, err, apperr.NotFound, "")

	_, err = f.Signing.Apply(ctx, f.rep, f.org, f.version, allDeclared)
	require.NoError(t, err)
	_, err = f.Signing.Apply(ctx, f.rep, f.org, f.version, allDeclared)
	requireCode(t, err, apperr.Conflict, "")
	require.Equal(t, 1, f.Count(t, `SELECT count(*) FROM workflow_instances WHERE kind = 'signing'`))
}

// The official confirms each criterion that applies; a missing one names
// itself and nothing changes.
func TestApproveNeedsEachCriterion(t *testing.T) {
	f := newFixture(t)
	in := f.underReview(t)
	for field, e := range map[string]signing.Eligibility{
		"regionalPerspective": {DemocraticValues: true, Independent: true},
		"democraticValues":    {RegionalPerspective: true, Independent: true},
		"independent":         {RegionalPerspective: true, DemocraticValues: true},
	} {
		_, err := f.Signing.Approve(ctx, f.official, step(in, ""), e)
		requireCode(t, err, apperr.BadInput, field)
	}
	got := f.read(t, in.ID)
	require.Equal(t, string(signing.UnderReview), got.State)
	require.Equal(t, in.Version, got.Version)
	require.Equal(t, []string{"started", "start_review"}, f.transitions(t, in.ID))
}

// Issue 14 item 3: a public body (Länsstyrelsen) is approved on the
// criteria that apply to it, without independence from the public sector.
func TestPublicBodyApprovedWithoutIndependence(t *testing.T) {
	f := newFixture(t)
	lst := f.Organisation(t, "Länsstyrelsen Värmland", registry.SectorPublic)
	rep := f.representative(t, "Lena Länsstyrelse", lst)
	in, err := f.Signing.Apply(ctx, rep, lst, f.version, signing.Declarations{RegionalPerspective: true, DemocraticValues: true})
	require.NoError(t, err)
	in, err = f.Signing.StartReview(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	_, err = f.Signing.Approve(ctx, f.official, step(in, ""), signing.Eligibility{RegionalPerspective: true})
	requireCode(t, err, apperr.BadInput, "democraticValues")
	in, err = f.Signing.Approve(ctx, f.official, step(in, ""), signing.Eligibility{RegionalPerspective: true, DemocraticValues: true})
	require.NoError(t, err)
	require.Equal(t, string(signing.Approved), in.State)
	in, err = f.Signing.Sign(ctx, rep, step(in, ""))
	require.NoError(t, err)
	require.Equal(t, string(signing.Signed), in.State)
	require.Equal(t, []uuid.UUID{lst}, f.signatories(t, f.version))
}

// A command on a version of the instance older than the one in the
// database is a CONFLICT and changes nothing.
func TestStaleVersionIsConflict(t *testing.T) {
	f := newFixture(t)
	in := f.underReview(t)
	stale := workflows.Step{ID: in.ID, ExpectedVersion: in.Version - 1}
	for name, cmd := range map[string]func() error{
		"approve": func() error { _, err := f.Signing.Approve(ctx, f.official, stale, allChecked); return err },
		"reject":  func() error { stale.Reason = "Nej."; _, err := f.Signing.Reject(ctx, f.official, stale); return err },
		"withdraw": func() error {
			stale.Reason = "Vi avstår."
			_, err := f.Signing.Withdraw(ctx, f.rep, stale)
			return err
		},
	} {
		requireCode(t, cmd(), apperr.Conflict, "")
		got := f.read(t, in.ID)
		require.Equal(t, string(signing.UnderReview), got.State, name)
		require.Equal(t, in.Version, got.Version, name)
	}
	require.Equal(t, []string{"started", "start_review"}, f.transitions(t, in.ID))
}

// A follow-up's id given to a signing command is NOT_FOUND, as is an
// application read or acted on by another organisation's representative:
// the same answer as for an id that does not exist.
func TestOtherKindAndInvisibleAreNotFound(t *testing.T) {
	f := newFixture(t)
	in := f.underReview(t)
	fu, err := f.FollowUp.Open(ctx, f.official, f.version, 2040)
	require.NoError(t, err)

	_, missing := f.Signing.StartReview(ctx, f.official, workflows.Step{ID: uuid.New()})
	requireCode(t, missing, apperr.NotFound, "instanceId")
	_, err = f.Signing.StartReview(ctx, f.official, workflows.Step{ID: fu.ID})
	require.Equal(t, missing.Error(), err.Error())
	requireCode(t, err, apperr.NotFound, "instanceId")
	require.Equal(t, string(fu.State), f.read(t, fu.ID).State)

	stranger := f.representative(t, "Sven Främling", f.Organisation(t, "Främlingarna", registry.SectorIdeaBased))
	_, err = f.Signing.Withdraw(ctx, stranger, workflows.Step{ID: in.ID, Reason: "Vi avstår."})
	require.Equal(t, missing.Error(), err.Error())
	requireCode(t, err, apperr.NotFound, "instanceId")
	_, readErr := f.Engine.Read(ctx, stranger, in.ID)
	_, readMissing := f.Engine.Read(ctx, stranger, uuid.New())
	require.Equal(t, readMissing.Error(), readErr.Error())
	requireCode(t, readErr, apperr.NotFound, "instanceId")
	require.Equal(t, string(signing.UnderReview), f.read(t, in.ID).State)
}

func TestRejectReopenWithdrawNeedReasons(t *testing.T) {
	f := newFixture(t)
	in := f.underReview(t)
	_, err := f.Signing.Reject(ctx, f.official, step(in, " "))
	requireCode(t, err, apperr.BadInput, "reason")
	in, err = f.Signing.Reject(ctx, f.official, step(in, "Saknar regionalt perspektiv."))
	require.NoError(t, err)
	require.Equal(t, string(signing.Rejected), in.State)
	_, err = f.Signing.Reopen(ctx, f.official, step(in, ""))
	requireCode(t, err, apperr.BadInput, "reason")
	in, err = f.Signing.Reopen(ctx, f.official, step(in, "Nya uppgifter."))
	require.NoError(t, err)
	require.Equal(t, string(signing.UnderReview), in.State)
	_, err = f.Signing.Withdraw(ctx, f.rep, step(in, ""))
	requireCode(t, err, apperr.BadInput, "reason")
	in, err = f.Signing.Withdraw(ctx, f.rep, step(in, "Vi avstår."))
	require.NoError(t, err)
	require.Equal(t, string(signing.Withdrawn), in.State)
	require.Equal(t, []string{"started", "start_review", "reject", "reopen", "withdraw"}, f.transitions(t, in.ID))
	// The representative may not do the official's steps.
	in2 := f.underReview(t)
	_, err = f.Signing.Approve(ctx, f.rep, step(in2, ""), allChecked)
	requireCode(t, err, apperr.Forbidden, "")
}

// A signatory that withdraws leaves the public list.
func TestWithdrawSignature(t *testing.T) {
	f := newFixture(t)
	in := f.underReview(t)
	in, err := f.Signing.Approve(ctx, f.official, step(in, ""), allChecked)
	require.NoError(t, err)
	in, err = f.Signing.Sign(ctx, f.rep, step(in, ""))
	require.NoError(t, err)
	require.Len(t, f.signatories(t, f.version), 1)
	_, err = f.Signing.Withdraw(ctx, f.rep, step(in, "Föreningen upplöses."))
	require.NoError(t, err)
	require.Empty(t, f.signatories(t, f.version))
	sigs, err := f.Signing.SignaturesOf(ctx, f.org)
	require.NoError(t, err)
	require.Len(t, sigs, 1)
	require.Equal(t, "withdrawn", *sigs[0].EndedHow)
}

// Attached to a planned ceremony, an application is signed on the
// ceremony's date by itself; a ceremony that does not exist or has taken
// place is refused, and detaching needs a reason.
func TestCeremony(t *testing.T) {
	f := newFixture(t)
	in := f.underReview(t)
	in, err := f.Signing.Approve(ctx, f.official, step(in, ""), allChecked)
	require.NoError(t, err)

	day := time.Date(2041, 1, 20, 0, 0, 0, 0, time.UTC)
	c, err := f.Signing.CreateCeremony(ctx, f.official, signing.CeremonyInput{AgreementVersionID: f.version, Title: "Signering", HeldOn: day, Place: "Karlstad"})
	require.NoError(t, err)
	_, err = f.Signing.CreateCeremony(ctx, f.official, signing.CeremonyInput{AgreementVersionID: f.version, Title: "Förr", HeldOn: time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC)})
	requireCode(t, err, apperr.BadInput, "heldOn")

	_, err = f.Signing.AttachToCeremony(ctx, f.official, step(in, ""), uuid.New())
	requireCode(t, err, apperr.BadInput, "ceremonyId")
	in, err = f.Signing.AttachToCeremony(ctx, f.official, step(in, ""), c.ID)
	require.NoError(t, err)
	require.Equal(t, string(signing.AwaitingCeremony), in.State)
	_, err = f.Signing.DetachFromCeremony(ctx, f.official, step(in, ""))
	requireCode(t, err, apperr.BadInput, "reason")
	in, err = f.Signing.DetachFromCeremony(ctx, f.official, step(in, "Kan inte komma."))
	require.NoError(t, err)
	in, err = f.Signing.AttachToCeremony(ctx, f.official, step(in, ""), c.ID)
	require.NoError(t, err)

	f.RunDue(t, day.AddDate(0, 0, 1))
	got := f.read(t, in.ID)
	require.Equal(t, string(signing.Signed), got.State)
	sigs, err := f.Signing.SignaturesOf(ctx, f.org)
	require.NoError(t, err)
	require.Len(t, sigs, 1)
	require.Equal(t, "2041-01-20", sigs[0].SignedOn.Format("2006-01-02"))
	require.Equal(t, c.ID, *sigs[0].CeremonyID)
	require.Equal(t, []string{"started", "start_review", "approve", "attach_to_ceremony", "detach_from_ceremony", "attach_to_ceremony", "sign_at_ceremony"},
		f.transitions(t, in.ID))

	// That ceremony has taken place: another application cannot join it.
	late := f.Organisation(t, "Sena föreningen", registry.SectorIdeaBased)
	lateRep := f.representative(t, "Sen Representant", late)
	in2, err := f.Signing.Apply(ctx, lateRep, late, f.version, allDeclared)
	require.NoError(t, err)
	in2, err = f.Signing.StartReview(ctx, f.official, step(in2, ""))
	require.NoError(t, err)
	in2, err = f.Signing.Approve(ctx, f.official, step(in2, ""), allChecked)
	require.NoError(t, err)
	_, err = f.Signing.AttachToCeremony(ctx, f.official, step(in2, ""), c.ID)
	requireCode(t, err, apperr.BadInput, "ceremonyId")
	require.Equal(t, string(signing.Approved), f.read(t, in2.ID).State)
}

// Issue 14 item 8: at a ceremony where 35 sign on the same day the public
// list is in signing order: the moment of signing, then the organisation's
// name; and the pages follow that order.
func TestSignatoryOrderWithinADay(t *testing.T) {
	f := newFixture(t)
	day := time.Date(2041, 1, 20, 0, 0, 0, 0, time.UTC)
	c, err := f.Signing.CreateCeremony(ctx, f.official, signing.CeremonyInput{AgreementVersionID: f.version, Title: "Signering", HeldOn: day})
	require.NoError(t, err)
	var want []uuid.UUID
	// Registered in an order unlike their names'.
	for _, i := range []int{17, 3, 35, 1, 22, 9, 30, 12, 5, 28, 14, 33, 7, 19, 25, 2, 11, 31, 6, 24, 15, 34, 8, 20, 27, 4, 13, 29, 10, 18, 23, 32, 16, 26, 21} {
		org := f.Organisation(t, fmt.Sprintf("Förening %02d", i), registry.SectorIdeaBased)
		rep := f.representative(t, fmt.Sprintf("Rep %02d", i), org)
		in, err := f.Signing.Apply(ctx, rep, org, f.version, allDeclared)
		require.NoError(t, err)
		in, err = f.Signing.StartReview(ctx, f.official, step(in, ""))
		require.NoError(t, err)
		in, err = f.Signing.Approve(ctx, f.official, step(in, ""), allChecked)
		require.NoError(t, err)
		_, err = f.Signing.AttachToCeremony(ctx, f.official, step(in, ""), c.ID)
		require.NoError(t, err)
	}
	names := map[uuid.UUID]string{}
	f.RunDue(t, day.Add(12*time.Hour))
	// Later the same day one more signs directly: after the ceremony's 35,
	// though its name comes first.
	early := f.Organisation(t, "Aa-föreningen", registry.SectorIdeaBased)
	earlyRep := f.representative(t, "Aa Rep", early)
	in, err := f.Signing.Apply(ctx, earlyRep, early, f.version, allDeclared)
	require.NoError(t, err)
	in, err = f.Signing.StartReview(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	in, err = f.Signing.Approve(ctx, f.official, step(in, ""), allChecked)
	require.NoError(t, err)
	_, err = f.Signing.Sign(ctx, earlyRep, step(in, ""))
	require.NoError(t, err)

	orgs, err := f.Registry.ListOrganisations(ctx, store.OrganisationPage{Limit: 100})
	require.NoError(t, err)
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	for i := 1; i <= 35; i++ {
		for id, n := range names {
			if n == fmt.Sprintf("Förening %02d", i) {
				want = append(want, id)
			}
		}
	}
	want = append(want, early)

	var got []string
	// The pages bring their organisations' listing columns along.
	p := store.SignatoryPage{VersionID: f.version, Limit: 10, Organisations: store.OrganisationListing}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		rows, err := f.Signing.Signatories(ctx, p)
		require.NoError(t, err)
		if len(rows) == 0 {
			break
		}
		for _, s := range rows {
			require.Equal(t, "2041-01-20", s.SignedOn.Format("2006-01-02"))
			got = append(got, names[s.OrganisationID])
			require.NotNil(t, s.Organisation)
			require.Equal(t, s.OrganisationID, s.Organisation.ID)
			require.Equal(t, names[s.OrganisationID], s.Organisation.Name)
			require.Len(t, s.Organisation.OrganisationNumber, 10)
			require.Empty(t, s.Organisation.Description, "the listing leaves the wide columns out")
		}
		p = nextSignatoryPage(p, rows[len(rows)-1])
	}
	var wantNames []string
	for _, id := range want {
		wantNames = append(wantNames, names[id])
	}
	require.Equal(t, wantNames, got)

	// First pages of several versions (one without signatories), with
	// the whole organisation or none.
	first, err := f.Signing.FirstSignatoryPages(ctx, []uuid.UUID{uuid.New(), f.version}, 10, store.OrganisationWhole)
	require.NoError(t, err)
	var firstNames []string
	for _, s := range first {
		firstNames = append(firstNames, names[s.OrganisationID])
		whole, err := f.Registry.OrganisationsByIDs(ctx, []uuid.UUID{s.OrganisationID})
		require.NoError(t, err)
		require.Equal(t, whole[0], s.Organisation, "every column, as the organisation's own read")
	}
	require.Equal(t, wantNames[:10], firstNames)
	bare, err := f.Signing.FirstSignatoryPages(ctx, []uuid.UUID{f.version}, 3, store.NoOrganisation)
	require.NoError(t, err)
	require.Len(t, bare, 3)
	for i, s := range bare {
		require.Nil(t, s.Organisation)
		require.Equal(t, first[i].ID, s.ID)
	}
}

// nextSignatoryPage is the page after row, as a client's cursor asks.
func nextSignatoryPage(p store.SignatoryPage, row *store.Signatory) store.SignatoryPage {
	p.AfterID = row.ID
	return p
}

// Issue 14 item 4: an application left on a version that has since been
// superseded cannot be approved or signed onto it; the refusal says so, in
// Swedish, then English, and nothing changes.
func TestApproveOntoSupersededVersionRefused(t *testing.T) {
	f := newFixture(t)
	in := f.underReview(t)
	in2 := f.underReview2(t)
	in2, err := f.Signing.Approve(ctx, f.official, step(in2, ""), allChecked)
	require.NoError(t, err)
	v1, err := f.Registry.Version(ctx, f.version)
	require.NoError(t, err)
	require.NoError(t, f.Engine.DB().InTx(ctx, func(tx pgx.Tx) error {
		_, err := registry.InsertVersionTx(ctx, tx, f.official, v1.AgreementID, 2, registry.VersionInput{Title: "Version 2", Principles: v1.Principles,
			AdoptedOn: time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC), ValidFrom: time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC)}, f.Clock.Now())
		return err
	}))

	_, err = f.Signing.Approve(ctx, f.official, step(in, ""), allChecked)
	requireCode(t, err, apperr.InvalidTransition, "")
	require.Contains(t, err.Error(), "Version 1 har ersatts av version 2")
	require.Contains(t, err.Error(), "/ Version 1 has been superseded by version 2")
	_, err = f.Signing.Sign(ctx, f.User(t, "Annan Rep", "sector_representative@"+authz.OrgScope(signing.OrganisationOf(in2))), step(in2, ""))
	requireCode(t, err, apperr.InvalidTransition, "")
	require.Equal(t, string(signing.UnderReview), f.read(t, in.ID).State)
	require.Equal(t, string(signing.Approved), f.read(t, in2.ID).State)
	require.Empty(t, f.signatories(t, f.version))
}

// underReview2 is a second organisation's application under review.
func (f *fixture) underReview2(t *testing.T) *store.Instance {
	t.Helper()
	org := f.Organisation(t, "Föreningen Vitsippan", registry.SectorIdeaBased)
	rep := f.representative(t, "Vera Vitsippa", org)
	in, err := f.Signing.Apply(ctx, rep, org, f.version, allDeclared)
	require.NoError(t, err)
	in, err = f.Signing.StartReview(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	return in
}
