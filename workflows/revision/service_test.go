package revision_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/revision"
	"github.com/samverkan/samverkan/workflows/signing"
	"github.com/samverkan/samverkan/workflows/workflowstest"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var ctx = context.Background()

// fixture is v1 of the agreement in force since 2036 with one signatory,
// and the people of a revision: an official, a politician, council members
// of both sides, the signatory's representative.
type fixture struct {
	*workflowstest.Env
	official, politician, councilRegion, councilSector authz.Principal
	rep                                                authz.Principal
	signatory                                          uuid.UUID
	v1                                                 *store.AgreementVersion
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e := workflowstest.New(t, workflowstest.Options{})
	f := &fixture{Env: e,
		official:      e.User(t, "Olle Officiell", "region_official@region"),
		politician:    e.User(t, "Pia Politiker", "region_politician@region"),
		councilRegion: e.User(t, "Rolf Rådsledamot", "council_member@region"),
		councilSector: e.User(t, "Sara Sektor", "council_member@sector"),
	}
	region := e.Organisation(t, "Region Värmland", registry.SectorPublic)
	_, v1, err := e.Registry.CreateAgreement(ctx, f.official, "Överenskommelsen Värmland", region, registry.VersionInput{
		Title: "Överenskommelsen Värmland", Body: "Version 1", AdoptedOn: time.Date(2036, 1, 30, 0, 0, 0, 0, time.UTC),
		DecisionReference: "RS 2036/1"})
	require.NoError(t, err)
	f.v1 = v1
	f.signatory = e.Organisation(t, "Föreningen Solrosen", registry.SectorIdeaBased)
	f.rep = f.representative(t, "Rut Representant", f.signatory)
	in := f.apply(t, f.signatory, f.rep, v1.ID)
	in, err = f.Signing.Approve(ctx, f.official, step(in, ""), signing.Eligibility{RegionalPerspective: true, DemocraticValues: true, Independent: true})
	require.NoError(t, err)
	_, err = f.Signing.Sign(ctx, f.rep, step(in, ""))
	require.NoError(t, err)
	return f
}

func (f *fixture) representative(t *testing.T, name string, org uuid.UUID) authz.Principal {
	return f.User(t, name, "sector_representative@"+authz.OrgScope(org))
}

// apply applies for org to sign version and starts the review.
func (f *fixture) apply(t *testing.T, org uuid.UUID, rep authz.Principal, version uuid.UUID) *store.Instance {
	t.Helper()
	in, err := f.Signing.Apply(ctx, rep, org, version, signing.Declarations{RegionalPerspective: true, DemocraticValues: true, Independent: true})
	require.NoError(t, err)
	in, err = f.Signing.StartReview(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	return in
}

func step(in *store.Instance, reason string) workflows.Step {
	return workflows.Step{ID: in.ID, ExpectedVersion: in.Version, Reason: reason}
}

func (f *fixture) read(t *testing.T, id uuid.UUID) *store.Instance {
	t.Helper()
	in, err := f.Engine.Instance(ctx, id)
	require.NoError(t, err)
	return in
}

// drafting opens the revision of v1 and moves it to drafting.
func (f *fixture) drafting(t *testing.T) *store.Instance {
	t.Helper()
	in, err := f.Revision.Open(ctx, f.official, f.v1.ID)
	require.NoError(t, err)
	for _, want := range []workflows.State{revision.Gathering, revision.Dialogue, revision.Drafting} {
		in, err = f.Revision.Advance(ctx, f.official, step(in, ""))
		require.NoError(t, err)
		require.Equal(t, string(want), in.State)
	}
	return in
}

func (f *fixture) draft(t *testing.T, in *store.Instance, title string) (*store.Instance, *store.Draft) {
	t.Helper()
	in, d, err := f.Revision.AddDraft(ctx, f.official, step(in, ""), title, "Text av "+title)
	require.NoError(t, err)
	return in, d
}

// consult sends the latest draft out and lets the round close by itself.
func (f *fixture) consult(t *testing.T, in *store.Instance) *store.Instance {
	t.Helper()
	deadline := f.Clock.Now().Add(14 * 24 * time.Hour)
	in, err := f.Revision.OpenConsultation(ctx, f.official, step(in, ""), deadline)
	require.NoError(t, err)
	require.Equal(t, string(revision.Consultation), in.State)
	f.RunDue(t, deadline.Add(time.Minute))
	in = f.read(t, in.ID)
	require.Equal(t, string(revision.Decision), in.State)
	return in
}

// adopt gives the approvals of both sides; the second adopts.
func (f *fixture) adopt(t *testing.T, in *store.Instance) *store.Instance {
	t.Helper()
	name := f.actionNamed(t, f.politician, in, "anta")
	in, err := f.Engine.Approve(ctx, f.politician, step(in, ""), name)
	require.NoError(t, err)
	require.Equal(t, string(revision.Decision), in.State, "one side's approval does not adopt")
	in, err = f.Engine.Approve(ctx, f.councilSector, step(in, ""), name)
	require.NoError(t, err)
	require.Equal(t, string(revision.Implementation), in.State)
	return in
}

// actionNamed is the available action whose title begins with prefix, as a
// user picks it.
func (f *fixture) actionNamed(t *testing.T, pr authz.Principal, in *store.Instance, prefix string) string {
	t.Helper()
	live, err := f.Engine.Approvals(ctx, in)
	require.NoError(t, err)
	for _, a := range f.Engine.AvailableActions(ctx, pr, in, live) {
		if len(a.Title) >= len(prefix) && a.Title[:len(prefix)] == prefix {
			return a.Transition
		}
	}
	t.Fatalf("no action %q for %s", prefix, pr.Name)
	return ""
}

func (f *fixture) events(t *testing.T, pr authz.Principal, id uuid.UUID) []string {
	t.Helper()
	events, _, err := f.Engine.History(ctx, pr, f.read(t, id), 0, 200)
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

func (f *fixture) versions(t *testing.T) []*store.AgreementVersion {
	t.Helper()
	vs, err := f.Registry.Versions(ctx, f.v1.AgreementID)
	require.NoError(t, err)
	return vs
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

// The whole revision as its people take it: phases, a draft, a round with a
// signatory's comment the council answers, the decision's details, both
// sides' approvals; v2 is adopted with the decision's title (issue 14 item
// 13), keeping its scope note and decision reference, and v1's signatory is
// asked to re-confirm.
func TestRevisionToAdoption(t *testing.T) {
	f := newFixture(t)
	in := f.drafting(t)
	in, _ = f.draft(t, in, "Utkast 1 – arbetsnamn")
	deadline := f.Clock.Now().Add(14 * 24 * time.Hour)
	in, err := f.Revision.OpenConsultation(ctx, f.official, step(in, ""), deadline)
	require.NoError(t, err)
	c, err := f.Revision.Comment(ctx, f.rep, revision.CommentInput{Step: workflows.Step{ID: in.ID}, OrganisationID: f.signatory,
		Section: "3.1", Body: "Lägg till ideella perspektivet."})
	require.NoError(t, err)
	f.RunDue(t, deadline.Add(time.Minute))
	in = f.read(t, in.ID)
	require.Equal(t, string(revision.Decision), in.State)

	// Adoption waits for the council's answer to every comment.
	name := f.actionNamed(t, f.politician, in, "anta")
	_, err = f.Engine.Approve(ctx, f.politician, step(in, ""), name)
	requireCode(t, err, apperr.InvalidTransition, "")
	require.Equal(t, string(revision.Decision), f.read(t, in.ID).State)
	_, err = f.Revision.Respond(ctx, f.councilRegion, c.ID, "Tillagt i 3.1.")
	require.NoError(t, err)

	in, err = f.Revision.SetDecision(ctx, f.official, step(f.read(t, in.ID), ""), revision.DecisionDetails{
		Title: "Överenskommelsen Värmland 2041", DecisionReference: "RS 2041/17", ScopeNote: "Gäller hela länet."})
	require.NoError(t, err)
	require.Equal(t, revision.DecisionDetails{Title: "Överenskommelsen Värmland 2041", DecisionReference: "RS 2041/17",
		ScopeNote: "Gäller hela länet."}, revision.DecisionOf(in), "what the council is asked to approve")
	in = f.adopt(t, in)

	vs := f.versions(t)
	require.Len(t, vs, 2)
	v2 := vs[1]
	require.Equal(t, 2, v2.Number)
	require.Equal(t, "Överenskommelsen Värmland 2041", v2.Title)
	require.Equal(t, "RS 2041/17", v2.DecisionReference)
	require.Equal(t, "Gäller hela länet.", v2.ScopeNote)
	require.Equal(t, "Text av Utkast 1 – arbetsnamn", v2.Body)
	got, ok := revision.NewVersionID(in)
	require.True(t, ok)
	require.Equal(t, v2.ID, got)

	apps, err := f.Signing.Applications(ctx, f.signatory)
	require.NoError(t, err)
	var reconfirm *store.Instance
	for _, a := range apps {
		if a.State == string(signing.ReconfirmationRequested) {
			reconfirm = a
		}
	}
	require.NotNil(t, reconfirm, "v1's signatory is asked to re-confirm v2")

	require.Equal(t, []string{"started", "start_gathering", "start_dialogue", "start_drafting", "draft_added", "open_consultation",
		"comment_submitted", "close_consultation", "comment_answered", "decision_details", "approval", "approval", "adopt"}, f.events(t, f.official, in.ID))
	// The public history leaves out the drafts' and comments' private
	// steps; who approved the adoption is public.
	require.Equal(t, []string{"started", "start_gathering", "start_dialogue", "start_drafting", "open_consultation",
		"close_consultation", "comment_answered", "decision_details", "approval", "approval", "adopt"}, f.events(t, authz.Principal{}, in.ID))
}

// Without a title in the decision, v2 keeps the adopted draft's.
func TestDecisionWithoutTitleKeepsDraftTitle(t *testing.T) {
	f := newFixture(t)
	in := f.drafting(t)
	in, _ = f.draft(t, in, "Reviderad överenskommelse")
	in = f.consult(t, in)
	f.adopt(t, in)
	vs := f.versions(t)
	require.Equal(t, "Reviderad överenskommelse", vs[1].Title)
}

// Issue 14 item 9: every draft that was out for consultation stays public
// after adoption; a draft never sent out does not become public.
func TestConsultedDraftsStayPublic(t *testing.T) {
	f := newFixture(t)
	in := f.drafting(t)
	in, never := f.draft(t, in, "Utkast 1")
	in, first := f.draft(t, in, "Utkast 2")
	in = f.consult(t, in)
	in, err := f.Revision.SendBack(ctx, f.politician, step(in, "Mer dialog om 4."))
	require.NoError(t, err)
	in, second := f.draft(t, in, "Utkast 3")
	in = f.consult(t, in)
	in = f.adopt(t, in)

	ids := func(ds []*store.Draft) []uuid.UUID {
		out := []uuid.UUID{}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	anon, err := f.Revision.Drafts(ctx, authz.Principal{}, in)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{first.ID, second.ID}, ids(anon))
	batch, err := f.Revision.DraftsOf(ctx, authz.Principal{}, []uuid.UUID{in.ID})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{first.ID, second.ID}, ids(batch[in.ID]))
	all, err := f.Revision.Drafts(ctx, f.official, in)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{never.ID, first.ID, second.ID}, ids(all))
}

func TestRevisionRefusals(t *testing.T) {
	f := newFixture(t)
	in, err := f.Revision.Open(ctx, f.official, f.v1.ID)
	require.NoError(t, err)
	_, err = f.Revision.Open(ctx, f.official, f.v1.ID)
	requireCode(t, err, apperr.Conflict, "")
	_, err = f.Revision.Open(ctx, f.rep, f.v1.ID)
	requireCode(t, err, apperr.Forbidden, "")

	// A stale read is a CONFLICT and nothing moves.
	in, err = f.Revision.Advance(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	_, err = f.Revision.Advance(ctx, f.official, workflows.Step{ID: in.ID, ExpectedVersion: in.Version - 1})
	requireCode(t, err, apperr.Conflict, "")
	require.Equal(t, string(revision.Gathering), f.read(t, in.ID).State)
	require.Equal(t, in.Version, f.read(t, in.ID).Version)
	// Only officials advance.
	_, err = f.Revision.Advance(ctx, f.rep, step(in, ""))
	requireCode(t, err, apperr.Forbidden, "")

	// Another workflow's instance is NOT_FOUND, as a random id is, and
	// its state is not told.
	apps, err := f.Signing.Applications(ctx, f.signatory)
	require.NoError(t, err)
	_, missing := f.Revision.Advance(ctx, f.official, workflows.Step{ID: uuid.New()})
	requireCode(t, missing, apperr.NotFound, "instanceId")
	_, err = f.Revision.Advance(ctx, f.official, workflows.Step{ID: apps[0].ID})
	require.Equal(t, missing.Error(), err.Error())
	_, _, err = f.Revision.AddDraft(ctx, f.official, workflows.Step{ID: apps[0].ID}, "Utkast", "Text")
	require.Equal(t, missing.Error(), err.Error())
	require.Equal(t, string(signing.Signed), f.read(t, apps[0].ID).State)

	in, err = f.Revision.Advance(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	in, err = f.Revision.Advance(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	require.Equal(t, string(revision.Drafting), in.State)
	// Drafting moves on by sending a draft out, not by advancing.
	_, err = f.Revision.Advance(ctx, f.official, step(in, ""))
	requireCode(t, err, apperr.InvalidTransition, "")
	// Nothing to send out; a round without a future deadline.
	_, err = f.Revision.OpenConsultation(ctx, f.official, step(in, ""), f.Clock.Now().Add(time.Hour))
	requireCode(t, err, apperr.InvalidTransition, "")
	_, _, err = f.Revision.AddDraft(ctx, f.official, step(in, ""), "", "Text")
	requireCode(t, err, apperr.BadInput, "title")
	in, _ = f.draft(t, in, "Utkast 1")
	_, err = f.Revision.OpenConsultation(ctx, f.official, step(in, ""), f.Clock.Now().Add(-time.Hour))
	requireCode(t, err, apperr.BadInput, "deadline")
	require.Equal(t, string(revision.Drafting), f.read(t, in.ID).State)

	// Comments: no round open yet; then only signatories and invited
	// organisations, as their representatives, until the deadline.
	outsider := f.Organisation(t, "Utanförföreningen", registry.SectorIdeaBased)
	outsiderRep := f.representative(t, "Ulf Utanför", outsider)
	comment := func(pr authz.Principal, org uuid.UUID) error {
		_, err := f.Revision.Comment(ctx, pr, revision.CommentInput{Step: workflows.Step{ID: in.ID}, OrganisationID: org, Section: "1", Body: "Synpunkt."})
		return err
	}
	requireCode(t, comment(f.rep, f.signatory), apperr.InvalidTransition, "")
	deadline := f.Clock.Now().Add(7 * 24 * time.Hour)
	in, err = f.Revision.OpenConsultation(ctx, f.official, step(in, ""), deadline)
	require.NoError(t, err)
	requireCode(t, comment(outsiderRep, outsider), apperr.Forbidden, "")
	requireCode(t, comment(outsiderRep, f.signatory), apperr.Forbidden, "")
	_, err = f.Revision.Invite(ctx, f.councilSector, step(f.read(t, in.ID), ""), outsider)
	require.NoError(t, err)
	require.NoError(t, comment(outsiderRep, outsider))
	require.Equal(t, 1, f.Count(t, `SELECT count(*) FROM consultation_comments WHERE instance_id = $1`, in.ID))
	f.Clock.AdvanceTo(deadline.Add(time.Second))
	requireCode(t, comment(f.rep, f.signatory), apperr.InvalidTransition, "")
	require.Equal(t, 1, f.Count(t, `SELECT count(*) FROM consultation_comments WHERE instance_id = $1`, in.ID))
	_, err = f.Revision.Respond(ctx, f.rep, uuid.New(), "Svar.")
	requireCode(t, err, apperr.NotFound, "")

	f.RunDue(t, deadline.Add(time.Minute))
	in = f.read(t, in.ID)
	require.Equal(t, string(revision.Decision), in.State)
	_, err = f.Revision.SendBack(ctx, f.politician, step(in, ""))
	requireCode(t, err, apperr.BadInput, "reason")
	require.Equal(t, string(revision.Decision), f.read(t, in.ID).State)
}

// Issue 14 item 4: applications to v1 still open when v2 is adopted move
// to v2 in the adoption's transaction, with a history event and a notice
// to the organisation: approved and signed afterwards they are on v2's
// list, not on the superseded v1's; one waiting for a ceremony signs v2
// there.
func TestAdoptionMovesOpenApplications(t *testing.T) {
	f := newFixture(t)
	a := f.Organisation(t, "Föreningen Asken", registry.SectorIdeaBased)
	aRep := f.representative(t, "Anna Asken", a)
	inA := f.apply(t, a, aRep, f.v1.ID)
	b := f.Organisation(t, "Föreningen Björken", registry.SectorIdeaBased)
	bRep := f.representative(t, "Bo Björken", b)
	inB := f.apply(t, b, bRep, f.v1.ID)
	inB, err := f.Signing.Approve(ctx, f.official, step(inB, ""), signing.Eligibility{RegionalPerspective: true, DemocraticValues: true, Independent: true})
	require.NoError(t, err)
	day := time.Date(2041, 6, 2, 0, 0, 0, 0, time.UTC)
	c, err := f.Signing.CreateCeremony(ctx, f.official, signing.CeremonyInput{AgreementVersionID: f.v1.ID, Title: "Signering", HeldOn: day})
	require.NoError(t, err)
	_, err = f.Signing.AttachToCeremony(ctx, f.official, step(inB, ""), c.ID)
	require.NoError(t, err)

	in := f.drafting(t)
	in, _ = f.draft(t, in, "Utkast 1")
	in = f.consult(t, in)
	f.adopt(t, in)
	v2 := f.versions(t)[1]

	for _, id := range []uuid.UUID{inA.ID, inB.ID} {
		got := f.read(t, id)
		require.Equal(t, v2.ID, signing.VersionOf(got))
		events := f.events(t, f.official, id)
		require.Equal(t, "moved_to_version", events[len(events)-1])
	}
	require.Equal(t, 1, f.Count(t, `SELECT count(*) FROM notifications WHERE organisation_id = $1 AND dedupe_key LIKE 'moved:%'`, a))
	cer, err := f.Signing.Ceremony(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, v2.ID, cer.AgreementVersionID, "the planned ceremony signs the version in force")

	inA, err = f.Signing.Approve(ctx, f.official, step(f.read(t, inA.ID), ""), signing.Eligibility{RegionalPerspective: true, DemocraticValues: true, Independent: true})
	require.NoError(t, err)
	_, err = f.Signing.Sign(ctx, aRep, step(inA, ""))
	require.NoError(t, err)
	f.RunDue(t, day.AddDate(0, 0, 1))
	require.Equal(t, string(signing.Signed), f.read(t, inB.ID).State)

	list := func(v uuid.UUID) []uuid.UUID {
		rows, err := f.Signing.Signatories(ctx, store.SignatoryPage{VersionID: v, Limit: 100})
		require.NoError(t, err)
		out := []uuid.UUID{}
		for _, s := range rows {
			out = append(out, s.OrganisationID)
		}
		return out
	}
	require.Equal(t, []uuid.UUID{f.signatory}, list(f.v1.ID), "nobody signs the superseded v1")
	require.ElementsMatch(t, []uuid.UUID{a, b}, list(v2.ID))
}

// Offered and CommentingFor tell each person the commands the policy and
// the phase allow them now: the official drafts and records the decision,
// the council invites and responds, the signatory's representative
// comments for its organisation while the round is open, and nobody
// comments once it has closed.
func TestOfferedCommands(t *testing.T) {
	f := newFixture(t)
	offered := func(pr authz.Principal, in *store.Instance) []revision.Command {
		return f.Revision.Offered(ctx, pr, f.read(t, in.ID))
	}
	in, err := f.Revision.Open(ctx, f.official, f.v1.ID)
	require.NoError(t, err)
	require.Empty(t, offered(f.official, in), "nothing but the phase moves in the pre-phase")
	for range 3 {
		in, err = f.Revision.Advance(ctx, f.official, step(in, ""))
		require.NoError(t, err)
	}
	require.Equal(t, []revision.Command{revision.AddDraftCommand, revision.SetDecisionCommand}, offered(f.official, in))
	require.Equal(t, []revision.Command{revision.InviteCommand}, offered(f.councilRegion, in))
	require.Empty(t, offered(f.rep, in))
	require.Empty(t, offered(authz.Principal{}, in))
	require.Empty(t, f.Revision.CommentingFor(ctx, f.rep, f.read(t, in.ID), []uuid.UUID{f.signatory}), "no round is open")

	in, _ = f.draft(t, in, "Utkast 1")
	deadline := f.Clock.Now().Add(14 * 24 * time.Hour)
	in, err = f.Revision.OpenConsultation(ctx, f.official, step(in, ""), deadline)
	require.NoError(t, err)
	require.Equal(t, []revision.Command{revision.SetDecisionCommand}, offered(f.official, in))
	require.Equal(t, []revision.Command{revision.InviteCommand, revision.RespondCommand}, offered(f.councilSector, in))
	other := f.Organisation(t, "Klarälvens Vänner", registry.SectorIdeaBased)
	require.Equal(t, []uuid.UUID{f.signatory}, f.Revision.CommentingFor(ctx, f.rep, in, []uuid.UUID{f.signatory, other}),
		"a representative comments only for the organisation they represent")
	require.Empty(t, f.Revision.CommentingFor(ctx, f.official, in, []uuid.UUID{f.signatory}))

	f.RunDue(t, deadline.Add(time.Minute))
	in = f.read(t, in.ID)
	require.Equal(t, string(revision.Decision), in.State)
	require.Empty(t, f.Revision.CommentingFor(ctx, f.rep, in, []uuid.UUID{f.signatory}), "the round has closed")
	require.Equal(t, []revision.Command{revision.RespondCommand}, offered(f.councilSector, in))
	require.Equal(t, []revision.Command{revision.SetDecisionCommand}, offered(f.official, in))
}
