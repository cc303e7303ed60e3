package iop

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// Partnership is a partnership as one viewer may see it. By the openness
// principle, anyone sees that an agreed IOP exists, its parties, purpose,
// duration and total public contribution; the parties' representatives and
// officials (Private) see the whole record.
type Partnership struct {
	// Record's private fields are blank unless Private.
	Record  *store.Partnership
	Parties []*store.PartnershipParty
	// Contributions per party and year; nil unless Private.
	Contributions []*store.Contribution
	// TotalPublicContribution is the public body's money over all years,
	// in hundredths of SEK.
	TotalPublicContribution int64
	Instance                *store.Instance
	Private                 bool
}

// Title is the record's title (public).
func (p *Partnership) Title() string { return p.Record.Title }

// PublicBody is the public party's organisation, read along with the
// parties; nil when there is none.
func (p *Partnership) PublicBody() *store.Organisation {
	for _, party := range p.Parties {
		if party.Role == "public" {
			return party.Organisation
		}
	}
	return nil
}

// IdeaBasedParties are the idea-based parties' organisations, read along
// with the parties, by name.
func (p *Partnership) IdeaBasedParties() []*store.Organisation {
	out := make([]*store.Organisation, 0, len(p.Parties))
	for _, party := range p.Parties {
		if party.Role == "idea_based" && party.Organisation != nil {
			out = append(out, party.Organisation)
		}
	}
	return out
}

// Redact keeps the public fields of a record: that it exists, its title,
// purpose and duration, and where its workflow is.
func Redact(p *store.Partnership) *store.Partnership {
	return &store.Partnership{ID: p.ID, InstanceID: p.InstanceID, Title: p.Title, Purpose: p.Purpose,
		StartDate: p.StartDate, EndDate: p.EndDate, ActivatedAt: p.ActivatedAt, TerminatedOn: p.TerminatedOn,
		EndedAt: p.EndedAt, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, State: p.State}
}

// CanSeePrivate tells whether pr may see a partnership's private fields,
// drafts, documents, notes and reports.
func (s *Service) CanSeePrivate(ctx context.Context, pr authz.Principal, in *store.Instance) bool {
	return s.eng.CanReadPrivate(ctx, pr, in)
}

// readPrivate loads a partnership whose private side pr may see.
func (s *Service) readPrivate(ctx context.Context, pr authz.Principal, id uuid.UUID) (*store.Partnership, *store.Instance, error) {
	p, in, err := s.load(ctx, s.db.Pool, id)
	if err != nil {
		return nil, nil, err
	}
	if !s.eng.CanRead(ctx, pr, in) {
		return nil, nil, notFound()
	}
	if err := s.eng.Policy().Authorize(ctx, pr, "partnership.read_private", in.Scopes); err != nil {
		return nil, nil, err
	}
	return p, in, nil
}

// visibility is which partnerships pr may see at all, for list queries.
func (s *Service) visibility(ctx context.Context, pr authz.Principal) store.PartnershipVisibility {
	var v store.PartnershipVisibility
	if !pr.Authenticated() && !pr.System {
		return v
	}
	v.All = s.eng.CanReadPrivate(ctx, pr, &store.Instance{Kind: Kind, Scopes: []string{authz.ScopeRegion}})
	for _, a := range s.eng.Policy().Assignments(pr) {
		if id, ok := authz.OrgOfScope(a.Scope); ok && s.eng.CanReadPrivate(ctx, pr, &store.Instance{Kind: Kind, Scopes: []string{a.Scope}}) {
			v.Orgs = append(v.Orgs, id)
		}
	}
	return v
}

// views builds what pr may see of records, leaving out those it may not.
func (s *Service) views(ctx context.Context, pr authz.Principal, records []*store.Partnership) ([]*Partnership, error) {
	ids := make([]uuid.UUID, 0, len(records))
	instanceIDs := make([]uuid.UUID, 0, len(records))
	for _, p := range records {
		if p.InstanceID != nil {
			ids = append(ids, p.ID)
			instanceIDs = append(instanceIDs, *p.InstanceID)
		}
	}
	// The instances, parties and contributions in one round trip.
	along, err := store.PartnershipsWith(ctx, s.db.Pool, ids, instanceIDs)
	if err != nil {
		return nil, err
	}
	byInstance := map[uuid.UUID]*store.Instance{}
	for _, in := range along.Instances {
		byInstance[in.ID] = in
	}
	parties := partiesByPartnership(along.Parties)
	contributions := along.Contributions
	// The public body's money over all years, from the rows just read (as
	// store.PublicMoneyTotals sums them), not another statement.
	publicBody := map[uuid.UUID]uuid.UUID{}
	for id, ps := range parties {
		for _, p := range ps {
			if p.Role == "public" {
				publicBody[id] = p.OrganisationID
			}
		}
	}
	byPartnership := map[uuid.UUID][]*store.Contribution{}
	totals := map[uuid.UUID]int64{}
	for _, c := range contributions {
		byPartnership[c.PartnershipID] = append(byPartnership[c.PartnershipID], c)
		if body, ok := publicBody[c.PartnershipID]; ok && c.Kind == "money" && c.OrganisationID == body {
			totals[c.PartnershipID] += c.Amount
		}
	}
	out := make([]*Partnership, 0, len(ids))
	for _, p := range records {
		if p.InstanceID == nil {
			continue
		}
		in := byInstance[*p.InstanceID]
		if in == nil || !s.eng.CanRead(ctx, pr, in) {
			continue
		}
		v := &Partnership{Record: p, Parties: parties[p.ID], Contributions: byPartnership[p.ID],
			TotalPublicContribution: totals[p.ID], Instance: in, Private: s.eng.CanReadPrivate(ctx, pr, in)}
		if !v.Private {
			v.Record, v.Contributions = Redact(p), nil
		}
		out = append(out, v)
	}
	return out, nil
}

// Get reads a partnership as pr may see it; one pr may not see at all is
// NOT_FOUND.
func (s *Service) Get(ctx context.Context, pr authz.Principal, id uuid.UUID) (*Partnership, error) {
	p, err := store.GetPartnership(ctx, s.db.Pool, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	views, err := s.views(ctx, pr, []*store.Partnership{p})
	if err != nil {
		return nil, err
	}
	if len(views) == 0 {
		return nil, notFound()
	}
	return views[0], nil
}

// ByIDs reads several partnerships as pr may see them (for data loaders);
// missing and hidden ones are left out.
func (s *Service) ByIDs(ctx context.Context, pr authz.Principal, ids []uuid.UUID) ([]*Partnership, error) {
	records, err := store.PartnershipsByIDs(ctx, s.db.Pool, ids)
	if err != nil {
		return nil, err
	}
	return s.views(ctx, pr, records)
}

// OfOrganisation lists the partnerships an organisation is a party to, as
// pr may see them, newest first.
func (s *Service) OfOrganisation(ctx context.Context, pr authz.Principal, orgID uuid.UUID) ([]*Partnership, error) {
	records, err := store.PartnershipsOfOrganisation(ctx, s.db.Pool, s.visibility(ctx, pr), orgID)
	if err != nil {
		return nil, err
	}
	return s.views(ctx, pr, records)
}

// ByState pages through the partnerships in a state that pr may see.
func (s *Service) ByState(ctx context.Context, pr authz.Principal, page store.PartnershipPage) ([]*Partnership, error) {
	if page.Limit <= 0 || page.Limit > 500 {
		page.Limit = 100
	}
	records, err := store.PartnershipsByState(ctx, s.db.Pool, s.visibility(ctx, pr), page)
	if err != nil {
		return nil, err
	}
	return s.views(ctx, pr, records)
}

// CountByState counts the partnerships in a state (every state when state
// is empty) that pr may see, as ByState lists them.
func (s *Service) CountByState(ctx context.Context, pr authz.Principal, state string) (int, error) {
	return store.CountPartnershipsByState(ctx, s.db.Pool, s.visibility(ctx, pr), state)
}

// ExpiringWithin lists one page of the partnerships in force (active, with
// an amendment or renewal open, or under notice) whose effective end (see
// EffectiveEnd) falls between today and days (0–3650) from today, soonest
// first. The page's AfterEnd and AfterID continue
// from a previous page; its States, From and To are set here.
func (s *Service) ExpiringWithin(ctx context.Context, pr authz.Principal, days int, page store.ExpiringPage) ([]*Partnership, error) {
	page, err := s.expiring(days, page)
	if err != nil {
		return nil, err
	}
	if page.Limit <= 0 || page.Limit > 500 {
		page.Limit = 100
	}
	records, err := store.ExpiringPartnerships(ctx, s.db.Pool, s.visibility(ctx, pr), page)
	if err != nil {
		return nil, err
	}
	return s.views(ctx, pr, records)
}

// CountExpiringWithin counts the partnerships ExpiringWithin lists over
// all its pages.
func (s *Service) CountExpiringWithin(ctx context.Context, pr authz.Principal, days int) (int, error) {
	page, err := s.expiring(days, store.ExpiringPage{})
	if err != nil {
		return 0, err
	}
	return store.CountExpiringPartnerships(ctx, s.db.Pool, s.visibility(ctx, pr), page)
}

// expiring sets the states and the period of the partnerships expiring
// within days from today.
func (s *Service) expiring(days int, page store.ExpiringPage) (store.ExpiringPage, error) {
	if days < 0 || days > 3650 {
		return page, apperr.Invalid("withinDays", "Ange 0–3650 dagar. / Give 0–3650 days.")
	}
	day := today(s.eng.Clock().Now())
	page.States = []string{string(Active), string(AmendmentProposed), string(Renewal), string(Terminating)}
	page.From, page.To = day, day.AddDate(0, 0, days)
	return page, nil
}

// ContributionSums sums a partnership's contributions per party, year and
// kind (private).
func (s *Service) ContributionSums(ctx context.Context, pr authz.Principal, id uuid.UUID) ([]store.ContributionSum, error) {
	if _, _, err := s.readPrivate(ctx, pr, id); err != nil {
		return nil, err
	}
	return store.ContributionSums(ctx, s.db.Pool, id)
}

func partiesByPartnership(rows []*store.PartnershipParty) map[uuid.UUID][]*store.PartnershipParty {
	out := map[uuid.UUID][]*store.PartnershipParty{}
	for _, r := range rows {
		out[r.PartnershipID] = append(out[r.PartnershipID], r)
	}
	return out
}

// ContributionsByPartnershipIDs reads the contributions of the
// partnerships among ids whose private side pr may see.
func (s *Service) ContributionsByPartnershipIDs(ctx context.Context, pr authz.Principal, ids []uuid.UUID) (map[uuid.UUID][]*store.Contribution, error) {
	views, err := s.ByIDs(ctx, pr, ids)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]*store.Contribution{}
	for _, v := range views {
		if v.Private {
			out[v.Record.ID] = v.Contributions
		}
	}
	return out, nil
}

// PublicContributionTotals is the public body's money contribution of each
// partnership (public once the partnership is agreed).
func (s *Service) PublicContributionTotals(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
	return store.PublicMoneyTotals(ctx, s.db.Pool, ids)
}

// Periods lists the periods of a partnership pr may see (its duration is
// public).
func (s *Service) Periods(ctx context.Context, pr authz.Principal, id uuid.UUID) ([]*store.PartnershipPeriod, error) {
	if _, err := s.Get(ctx, pr, id); err != nil {
		return nil, err
	}
	return store.PartnershipPeriods(ctx, s.db.Pool, id)
}

// Drafts lists the drafts of the agreement text (private).
func (s *Service) Drafts(ctx context.Context, pr authz.Principal, id uuid.UUID) ([]*store.PartnershipDraft, error) {
	if _, _, err := s.readPrivate(ctx, pr, id); err != nil {
		return nil, err
	}
	return store.PartnershipDrafts(ctx, s.db.Pool, id)
}

// DraftComments lists the comments on a draft (private).
func (s *Service) DraftComments(ctx context.Context, pr authz.Principal, draftID uuid.UUID) ([]*store.DraftComment, error) {
	d, err := store.GetPartnershipDraft(ctx, s.db.Pool, draftID)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, &apperr.Error{Code: apperr.NotFound, Field: "draftId", Message: "Utkastet finns inte. / The draft does not exist."}
	}
	if err != nil {
		return nil, err
	}
	if _, _, err := s.readPrivate(ctx, pr, d.PartnershipID); err != nil {
		return nil, err
	}
	return store.DraftComments(ctx, s.db.Pool, draftID)
}

// Documents lists the attached documents without their files (private).
func (s *Service) Documents(ctx context.Context, pr authz.Principal, id uuid.UUID) ([]*store.PartnershipDocument, error) {
	if _, _, err := s.readPrivate(ctx, pr, id); err != nil {
		return nil, err
	}
	return store.PartnershipDocuments(ctx, s.db.Pool, id)
}

// Document reads an attached document with its file (private).
func (s *Service) Document(ctx context.Context, pr authz.Principal, documentID uuid.UUID) (*store.PartnershipDocument, error) {
	d, err := store.PartnershipDocumentContent(ctx, s.db.Pool, documentID)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, &apperr.Error{Code: apperr.NotFound, Field: "documentId", Message: "Dokumentet finns inte. / The document does not exist."}
	}
	if err != nil {
		return nil, err
	}
	if _, _, err := s.readPrivate(ctx, pr, d.PartnershipID); err != nil {
		return nil, err
	}
	return d, nil
}

// Notes lists the internal notes (private).
func (s *Service) Notes(ctx context.Context, pr authz.Principal, id uuid.UUID) ([]*store.PartnershipNote, error) {
	if _, _, err := s.readPrivate(ctx, pr, id); err != nil {
		return nil, err
	}
	return store.PartnershipNotes(ctx, s.db.Pool, id)
}

// Reports lists the yearly follow-up reports with whether each is overdue
// today (private).
func (s *Service) Reports(ctx context.Context, pr authz.Principal, id uuid.UUID) ([]*store.PartnershipReport, error) {
	if _, _, err := s.readPrivate(ctx, pr, id); err != nil {
		return nil, err
	}
	return store.PartnershipReports(ctx, s.db.Pool, id, today(s.eng.Clock().Now()))
}

// Assessment reads the official's assessment (private; nil before it).
func (s *Service) Assessment(ctx context.Context, pr authz.Principal, id uuid.UUID) (*store.PartnershipAssessment, error) {
	if _, _, err := s.readPrivate(ctx, pr, id); err != nil {
		return nil, err
	}
	a, err := store.GetPartnershipAssessment(ctx, s.db.Pool, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, nil
	}
	return a, err
}

// Amendments lists the amendments by version (private).
func (s *Service) Amendments(ctx context.Context, pr authz.Principal, id uuid.UUID) ([]*store.Amendment, error) {
	if _, _, err := s.readPrivate(ctx, pr, id); err != nil {
		return nil, err
	}
	return store.Amendments(ctx, s.db.Pool, id)
}

// Pending are the approvals given so far towards the decision open now.
func (s *Service) Pending(ctx context.Context, pr authz.Principal, id uuid.UUID) ([]workflows.Progress, error) {
	_, in, err := s.readPrivate(ctx, pr, id)
	if err != nil {
		return nil, err
	}
	live, err := s.eng.Approvals(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.eng.PendingApprovals(in, live), nil
}

// EffectiveEnd is the day the partnership ends: its end date, or the day a
// termination takes effect when that is sooner.
func (p *Partnership) EffectiveEnd() time.Time {
	return EffectiveEnd(p.Record)
}

// EffectiveEnd is the day a partnership record ends: its end date, or the
// day its termination takes effect when that is sooner.
func EffectiveEnd(p *store.Partnership) time.Time {
	if p.TerminatedOn != nil && p.TerminatedOn.Before(p.EndDate) {
		return *p.TerminatedOn
	}
	return p.EndDate
}
