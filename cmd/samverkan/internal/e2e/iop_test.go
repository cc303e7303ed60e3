package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/e2e/client"
)

// iopStory is a public body, an organisation with its representative, and
// the Region's decision-maker.
type iopStory struct {
	*story
	politician *apptest.User
	org        applicant
}

func newIOPStory(t *testing.T) *iopStory {
	s := newStory(t)
	return &iopStory{story: s, politician: s.env.NewUser("Petra Politiker", "region_politician@region"), org: s.partner(t, 1)}
}

// partner registers the n-th partner organisation; an official confirms its
// representative.
func (s *story) partner(t *testing.T, n int) applicant {
	rep := s.env.NewUser(fmt.Sprintf("IOP Rep %d", n))
	r, err := client.RegisterOrganisation(t.Context(), s.as(rep), client.OrganisationInput{Name: fmt.Sprintf("Partnerföreningen %d", n),
		OrganisationNumber: orgNumber(600 + n), LegalForm: client.LegalFormIdeellForening, Sector: client.SectorIdeaBased})
	require.NoError(t, err)
	_, err = client.ConfirmRepresentation(t.Context(), s.as(s.official), r.RegisterOrganisation.RepresentationClaim.Id)
	require.NoError(t, err)
	return applicant{rep: rep, org: r.RegisterOrganisation.Organisation.Id}
}

func (s *iopStory) partnership(t *testing.T, id string) client.PartnershipNodePartnership {
	resp, err := client.Partnership(context.Background(), s.as(s.official), id)
	require.NoError(t, err)
	return *node[*client.PartnershipNodePartnership](t, resp.Node)
}

// propose brings a partnership proposed by the organisation through a
// passing assessment to negotiation.
func (s *iopStory) propose(t *testing.T, title, start, end string) string {
	ctx := context.Background()
	first, err := time.Parse("2006-01-02", start)
	require.NoError(t, err)
	p, err := client.ProposePartnership(ctx, s.as(s.org.rep), title, "Fler unga klarar skolan.", s.publicBody, []string{s.org.org},
		start, end, 3, []client.ContributionInput{
			{OrganisationId: s.publicBody, Year: first.Year(), Kind: client.ContributionKindMoney, Amount: "250000"},
			{OrganisationId: s.org.org, Year: first.Year(), Kind: client.ContributionKindVolunteerHours, Amount: "800"},
		})
	require.NoError(t, err)
	id := p.ProposePartnership.Partnership.Id
	require.Equal(t, "initiative", p.ProposePartnership.Partnership.State)
	_, err = client.StartPartnershipAssessment(ctx, s.as(s.official), id)
	require.NoError(t, err)
	a, err := client.AssessPartnership(ctx, s.as(s.official), id, false, false, false, true)
	require.NoError(t, err)
	require.Equal(t, "negotiation", a.AssessPartnership.Partnership.State)
	return id
}

// agree adds a draft, puts it to the decision and has both parties approve.
func (s *iopStory) agree(t *testing.T, id string) client.PartnershipFields {
	ctx := context.Background()
	_, err := client.AddPartnershipDraft(ctx, s.as(s.org.rep), id, "Avtalstext.")
	require.NoError(t, err)
	_, err = client.SubmitPartnershipForDecision(ctx, s.as(s.org.rep), id)
	require.NoError(t, err)
	_, err = client.ApprovePartnership(ctx, s.as(s.politician), id)
	require.NoError(t, err)
	r, err := client.ApprovePartnership(ctx, s.as(s.org.rep), id)
	require.NoError(t, err)
	return r.ApprovePartnership.Partnership.PartnershipFields
}

// An IOP from initiative to renewal, over HTTP with the typed client and
// the clock driving its yearly reports and renewal.
func TestPartnershipLifecycle(t *testing.T) {
	t.Parallel()
	s := newIOPStory(t)
	ctx := context.Background()
	env := s.env
	env.AdvanceTo(at(2018, 2, 1, 9))
	id := s.propose(t, "Läxhjälp i Karlstad", "2018-03-01", "2020-12-31")

	// Negotiation over two drafts.
	_, err := client.AddPartnershipDraft(ctx, s.as(s.org.rep), id, "Första utkastet.")
	require.NoError(t, err)
	d, err := client.AddPartnershipDraft(ctx, s.as(s.official), id, "Andra utkastet, med Regionens synpunkter.")
	require.NoError(t, err)
	require.Len(t, d.AddPartnershipDraft.Partnership.Drafts, 2)

	// A representative of an organisation that is not a party does not see
	// a partnership being negotiated, let alone its drafts, and cannot act.
	outsider := s.partner(t, 2)
	resp, err := client.Partnership(ctx, s.as(outsider.rep), id)
	require.NoError(t, err)
	require.Nil(t, resp.Node)
	_, err = client.AddPartnershipDraft(ctx, s.as(outsider.rep), id, "Mitt utkast.")
	requireCode(t, err, "NOT_FOUND")
	_, err = client.ApprovePartnership(ctx, s.as(outsider.rep), id)
	requireCode(t, err, "NOT_FOUND")

	// Both decide; one alone does not activate it.
	_, err = client.SubmitPartnershipForDecision(ctx, s.as(s.org.rep), id)
	require.NoError(t, err)
	a, err := client.ApprovePartnership(ctx, s.as(s.politician), id)
	require.NoError(t, err)
	require.Equal(t, "decision", a.ApprovePartnership.Partnership.State)
	a, err = client.ApprovePartnership(ctx, s.as(s.org.rep), id)
	require.NoError(t, err)
	require.Equal(t, "active", a.ApprovePartnership.Partnership.State)
	require.Equal(t, "250000.00", a.ApprovePartnership.Partnership.TotalPublicContribution)
	// Once agreed, the outsider sees that it exists, but not its drafts.
	resp, err = client.Partnership(ctx, s.as(outsider.rep), id)
	require.NoError(t, err)
	seen := node[*client.PartnershipNodePartnership](t, resp.Node)
	require.Equal(t, "Läxhjälp i Karlstad", seen.Title)
	require.Nil(t, seen.Drafts)

	// The yearly reports are opened by jobs; the first on time, the second
	// late and marked overdue.
	env.AdvanceTo(at(2019, 1, 2, 9))
	p := s.partnership(t, id)
	require.Len(t, p.Reports, 1)
	require.Equal(t, 2018, p.Reports[0].Year)
	require.Equal(t, "2019-03-31", p.Reports[0].DueOn)
	env.AdvanceTo(at(2019, 3, 10, 9))
	_, err = client.SubmitPartnershipReport(ctx, s.as(s.org.rep), id, 2018, "Ett bra första år.")
	require.NoError(t, err)
	env.AdvanceTo(at(2020, 4, 2, 9))
	p = s.partnership(t, id)
	require.Len(t, p.Reports, 2)
	require.True(t, p.Reports[1].Overdue, "the 2019 report was due on 2020-03-31")
	r, err := client.SubmitPartnershipReport(ctx, s.as(s.org.rep), id, 2019, "Sent, men här.")
	require.NoError(t, err)
	rep := r.SubmitPartnershipReport.Partnership.Reports
	require.False(t, rep[0].Late)
	require.True(t, rep[1].Late)
	require.False(t, rep[1].Overdue)

	// Six months before the end the renewal opens by itself.
	env.AdvanceTo(at(2020, 6, 30, 9))
	require.Equal(t, "active", s.partnership(t, id).State)
	one := 1
	exp, err := client.PartnershipsExpiring(ctx, s.as(nil), 200, &one, nil)
	require.NoError(t, err)
	require.Len(t, exp.PartnershipsExpiring.Edges, 1)
	require.Equal(t, "Läxhjälp i Karlstad", exp.PartnershipsExpiring.Edges[0].Node.Title, "the public sees what is ending")
	require.False(t, exp.PartnershipsExpiring.PageInfo.HasNextPage)
	tooMany := 101
	_, err = client.PartnershipsExpiring(ctx, s.as(nil), 200, &tooMany, nil)
	requireCode(t, err, "BAD_INPUT")
	env.AdvanceTo(at(2020, 7, 1, 9))
	require.Equal(t, "renewal", s.partnership(t, id).State)
	_, err = client.ProposePartnershipRenewal(ctx, s.as(s.org.rep), id, "2023-12-31")
	require.NoError(t, err)
	_, err = client.RenewPartnership(ctx, s.as(s.politician), id)
	require.NoError(t, err)
	rn, err := client.RenewPartnership(ctx, s.as(s.org.rep), id)
	require.NoError(t, err)
	renewed := rn.RenewPartnership.Partnership
	require.Equal(t, "active", renewed.State)
	require.Equal(t, "2023-12-31", renewed.EndDate)
	require.Len(t, renewed.Periods, 2, "a new period, the first kept")
	require.Equal(t, "2020-12-31", renewed.Periods[0].EndDate)
}

// A partnership terminated early by the organisation ends after its notice
// period; an assessment that finds a market closes the case; approval by
// one party never activates.
func TestPartnershipEndings(t *testing.T) {
	t.Parallel()
	s := newIOPStory(t)
	ctx := context.Background()
	s.env.AdvanceTo(at(2018, 2, 1, 9))

	id := s.propose(t, "Mötesplats", "2018-03-01", "2021-12-31")
	require.Equal(t, "active", s.agree(t, id).State)
	s.env.AdvanceTo(at(2019, 5, 10, 10))
	tr, err := client.TerminatePartnership(ctx, s.as(s.org.rep), id, s.org.org, "Föreningen läggs ned.")
	require.NoError(t, err)
	require.Equal(t, "terminating", tr.TerminatePartnership.Partnership.State)
	// Under notice it ends when the termination takes effect, and is listed
	// among those expiring by that day.
	var shown struct {
		Node                 struct{ EndDate, EffectiveEndDate string }
		PartnershipsExpiring struct {
			TotalCount int
			Edges      []struct {
				Node struct{ ID, EffectiveEndDate string }
			}
		}
	}
	s.env.MustDo(nil, `query($id: ID!) { node(id: $id) { ... on Partnership { endDate effectiveEndDate } }
		partnershipsExpiring(withinDays: 120) { totalCount edges { node { id effectiveEndDate } } } }`, map[string]any{"id": id}, &shown)
	require.Equal(t, "2021-12-31", shown.Node.EndDate)
	require.Equal(t, "2019-08-10", shown.Node.EffectiveEndDate)
	require.Equal(t, 1, shown.PartnershipsExpiring.TotalCount)
	require.Equal(t, id, shown.PartnershipsExpiring.Edges[0].Node.ID)
	s.env.AdvanceTo(at(2019, 8, 9, 12))
	require.Equal(t, "terminating", s.partnership(t, id).State, "the notice period runs three months")
	s.env.AdvanceTo(at(2019, 8, 10, 12))
	require.Equal(t, "terminated", s.partnership(t, id).State)

	// A market: the case closes with the recommendation to procure.
	p, err := client.ProposePartnership(ctx, s.as(s.org.rep), "Städtjänster", "Städning av lokaler.", s.publicBody,
		[]string{s.org.org}, "2019-09-01", "2020-08-31", 1, nil)
	require.NoError(t, err)
	market := p.ProposePartnership.Partnership.Id
	_, err = client.StartPartnershipAssessment(ctx, s.as(s.official), market)
	require.NoError(t, err)
	as, err := client.AssessPartnership(ctx, s.as(s.official), market, true, true, false, true)
	require.NoError(t, err)
	closed := as.AssessPartnership.Partnership
	require.Equal(t, "closed_not_suitable", closed.State)
	require.Equal(t, "procurement", closed.Assessment.Recommendation)
	_, err = client.SubmitPartnershipForDecision(ctx, s.as(s.org.rep), market)
	requireCode(t, err, "INVALID_TRANSITION")

	// One party's approval leaves it undecided.
	half := s.propose(t, fmt.Sprintf("Halvt beslut %d", time.Now().Nanosecond()), "2019-09-01", "2021-08-31")
	_, err = client.AddPartnershipDraft(ctx, s.as(s.org.rep), half, "Text.")
	require.NoError(t, err)
	_, err = client.SubmitPartnershipForDecision(ctx, s.as(s.org.rep), half)
	require.NoError(t, err)
	ap, err := client.ApprovePartnership(ctx, s.as(s.org.rep), half)
	require.NoError(t, err)
	require.Equal(t, "decision", ap.ApprovePartnership.Partnership.State)
	_, err = client.ApprovePartnership(ctx, s.as(s.org.rep), half)
	requireCode(t, err, "CONFLICT")
	require.Equal(t, "decision", s.partnership(t, half).State)
}

// While negotiating, the parties rewrite the record, comment on a draft and
// keep internal notes, each on the version of the partnership they read: a
// stale version is refused with CONFLICT and changes nothing, and an
// organisation that is not a party cannot do any of it.
func TestPartnershipRecordCommentsAndNotes(t *testing.T) {
	t.Parallel()
	s := newIOPStory(t)
	ctx := context.Background()
	s.env.AdvanceTo(at(2018, 2, 1, 9))
	id := s.propose(t, "Läxhjälp i Karlstad", "2018-03-01", "2020-12-31")
	read := s.partnership(t, id).Instance.Version
	outsider := s.partner(t, 2)

	// The record: the official rewrites it, contributions and all.
	up, err := client.UpdatePartnership(ctx, s.as(s.official), id, &read, "Läxhjälp i Värmland", "Fler unga klarar skolan.",
		"300 elever per år.", "2018-03-01", "2021-12-31", []client.ContributionInput{
			{OrganisationId: s.publicBody, Year: 2018, Kind: client.ContributionKindMoney, Amount: "300000"},
		})
	require.NoError(t, err)
	updated := up.UpdatePartnership.Partnership
	require.Equal(t, "Läxhjälp i Värmland", updated.Title)
	require.Equal(t, "300 elever per år.", *updated.Goals)
	require.Equal(t, "2021-12-31", updated.EndDate)
	require.Equal(t, "300000.00", updated.TotalPublicContribution, "the contributions given replace the earlier ones")
	require.Equal(t, "negotiation", updated.State)
	require.Greater(t, updated.Instance.Version, read)
	// The organisation still has the version it read before: refused.
	_, err = client.UpdatePartnership(ctx, s.as(s.org.rep), id, &read, "Läxhjälp", "Annat.", "Inga mål.", "2018-03-01", "2020-12-31", nil)
	requireCode(t, err, "CONFLICT")
	_, err = client.UpdatePartnership(ctx, s.as(outsider.rep), id, nil, "Läxhjälp", "Annat.", "Inga mål.", "2018-03-01", "2020-12-31", nil)
	requireCode(t, err, "NOT_FOUND")
	p := s.partnership(t, id)
	require.Equal(t, "Läxhjälp i Värmland", p.Title)
	require.Equal(t, "300 elever per år.", *p.Goals)
	require.Equal(t, updated.Instance.Version, p.Instance.Version)

	// A comment on the draft: the representative speaks for the organisation.
	d, err := client.AddPartnershipDraft(ctx, s.as(s.official), id, "Första utkastet.")
	require.NoError(t, err)
	drafts := d.AddPartnershipDraft.Partnership.Drafts
	require.Len(t, drafts, 1)
	read = d.AddPartnershipDraft.Partnership.Instance.Version
	c, err := client.CommentOnPartnershipDraft(ctx, s.as(s.org.rep), id, &read, drafts[0].Id, "Förtydliga målen.")
	require.NoError(t, err)
	comment := c.CommentOnPartnershipDraft.Comment
	require.Equal(t, "Förtydliga målen.", comment.Body)
	require.NotNil(t, comment.Organisation)
	require.Equal(t, "Partnerföreningen 1", comment.Organisation.Name)
	require.WithinDuration(t, at(2018, 2, 1, 9), comment.CreatedAt, time.Minute, "the clock of the service")
	_, err = client.CommentOnPartnershipDraft(ctx, s.as(s.official), id, &read, drafts[0].Id, "Jag läste en äldre version.")
	requireCode(t, err, "CONFLICT")
	_, err = client.CommentOnPartnershipDraft(ctx, s.as(outsider.rep), id, nil, drafts[0].Id, "Jag är ingen part.")
	requireCode(t, err, "NOT_FOUND")
	// A draft id that is no draft, or a draft of another partnership: none.
	other := s.propose(t, "Mötesplats", "2018-03-01", "2020-12-31")
	_, err = client.CommentOnPartnershipDraft(ctx, s.as(s.org.rep), other, nil, drafts[0].Id, "Fel partnerskap.")
	requireCode(t, err, "NOT_FOUND")
	_, err = client.CommentOnPartnershipDraft(ctx, s.as(s.org.rep), id, nil, id, "Inget utkast.")
	requireCode(t, err, "BAD_INPUT")

	// An internal note.
	read = c.CommentOnPartnershipDraft.Partnership.Instance.Version
	n, err := client.AddPartnershipNote(ctx, s.as(s.official), id, &read, "Ring föreningen om budgeten.")
	require.NoError(t, err)
	require.Equal(t, "Ring föreningen om budgeten.", n.AddPartnershipNote.Note.Body)
	require.Greater(t, n.AddPartnershipNote.Partnership.Instance.Version, read)
	_, err = client.AddPartnershipNote(ctx, s.as(s.org.rep), id, &read, "En äldre version.")
	requireCode(t, err, "CONFLICT")
	_, err = client.AddPartnershipNote(ctx, s.as(outsider.rep), id, nil, "Jag är ingen part.")
	requireCode(t, err, "NOT_FOUND")
	_, err = client.AddPartnershipNote(ctx, s.as(s.politician), id, nil, "Politikern antecknar.")
	requireCode(t, err, "FORBIDDEN")
	_, err = client.AddPartnershipNote(ctx, s.as(s.org.rep), id, nil, " ")
	requireCode(t, err, "BAD_INPUT")
	require.Equal(t, n.AddPartnershipNote.Partnership.Instance.Version, s.partnership(t, id).Instance.Version,
		"nothing refused changed the partnership")
	require.Equal(t, 1, s.env.Count("SELECT count(*) FROM partnership_notes"))
	require.Equal(t, 1, s.env.Count("SELECT count(*) FROM partnership_draft_comments"))

	// The other IOP mutations take expectedVersion too: on a stale one the
	// draft is not put to the decision, on the current one it is.
	submit := `mutation($p: ID!, $v: Int) { submitPartnershipForDecision(input: {partnershipId: $p, expectedVersion: $v}) {
		partnership { state } } }`
	r := s.env.Do(s.org.rep, submit, map[string]any{"p": id, "v": read})
	require.NotEmpty(t, r.Errors)
	require.Equal(t, "CONFLICT", r.Errors[0].Code())
	require.Equal(t, "negotiation", s.partnership(t, id).State)
	var out struct {
		SubmitPartnershipForDecision struct{ Partnership struct{ State string } }
	}
	s.env.MustDo(s.org.rep, submit, map[string]any{"p": id, "v": s.partnership(t, id).Instance.Version}, &out)
	require.Equal(t, "decision", out.SubmitPartnershipForDecision.Partnership.State)
}
