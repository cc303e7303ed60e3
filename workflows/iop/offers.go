package iop

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// The states in which the commands that are no transitions may be given.
var (
	addDraftStates     = []workflows.State{Negotiation}
	commentDraftStates = []workflows.State{Negotiation, Decision}
)

// Offers are what a viewer may do with a partnership now beyond the
// workflow's transitions (which the engine's AvailableActions lists): a
// page offers exactly these, and each command still checks them itself.
type Offers struct {
	// AddDraft: add the next draft of the agreement text (AddDraft).
	AddDraft bool
	// CommentDraft: comment on a draft (CommentDraft).
	CommentDraft bool
	// ReportYears are the years whose follow-up report is open, not yet
	// submitted, and the viewer's to submit (SubmitReport).
	ReportYears []int
	// TerminateFor are the parties the viewer may give notice for now
	// (Terminate): the public body and the idea-based parties they
	// represent, while the partnership is in force.
	TerminateFor []uuid.UUID
}

// Offers tells what pr may do with the partnership id beyond its
// transitions; a partnership pr may not see in full is NOT_FOUND or
// FORBIDDEN, as for its drafts.
func (s *Service) Offers(ctx context.Context, pr authz.Principal, id uuid.UUID) (Offers, error) {
	p, in, err := s.readPrivate(ctx, pr, id)
	if err != nil {
		return Offers{}, err
	}
	var o Offers
	pol, state := s.eng.Policy(), workflows.State(in.State)
	if pol.Authorize(ctx, pr, "partnership.draft", in.Scopes) == nil {
		o.AddDraft = slices.Contains(addDraftStates, state)
		o.CommentDraft = slices.Contains(commentDraftStates, state)
	}
	if slices.Contains(agreed, state) && pol.Authorize(ctx, pr, "partnership.report", in.Scopes) == nil {
		reports, err := store.PartnershipReports(ctx, s.db.Pool, p.ID, today(s.eng.Clock().Now()))
		if err != nil {
			return Offers{}, err
		}
		for _, r := range reports {
			if r.SubmittedAt == nil {
				o.ReportYears = append(o.ReportYears, r.Year)
			}
		}
	}
	def, err := s.eng.Definition(Kind, in.DefinitionVersion)
	if err != nil {
		return Offers{}, err
	}
	if t, ok := def.Transition(tTerminate); ok && slices.Contains(t.From, state) {
		for _, party := range partiesOf(in) {
			if scope, ok := partyScope(in, party); ok && pol.Authorize(ctx, pr, "partnership.terminate", []string{scope}) == nil {
				o.TerminateFor = append(o.TerminateFor, party)
			}
		}
	}
	return o, nil
}

// partyScope is the scope that acts for a party of the partnership: the
// Region for the public body, the organisation's own for an idea-based
// party; false for an organisation that is no party.
func partyScope(in *store.Instance, party uuid.UUID) (string, bool) {
	switch {
	case party == PublicBody(in):
		return authz.ScopeRegion, true
	case slices.Contains(IdeaBasedParties(in), party):
		return authz.OrgScope(party), true
	}
	return "", false
}
