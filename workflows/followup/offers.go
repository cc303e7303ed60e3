package followup

import (
	"context"
	"slices"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// What a person may do on a follow-up besides its transitions (which the
// engine's AvailableActions lists): report for their party, and move the
// report deadline. The pages ask these rather than repeat the rules.

// deadlineStates are the states in which the report deadline can move.
var deadlineStates = []workflows.State{Opened, CollectingReports}

// PartyOf is the party pr reports for: the Region's officials for the
// Region, the council's members for their side ("" for none).
func (s *Service) PartyOf(pr authz.Principal) string {
	for _, a := range s.eng.Policy().Assignments(pr) {
		if p, ok := a.Party(); ok && (a.Role == authz.RoleRegionOfficial || a.Role == authz.RoleCouncilMember) {
			return string(p)
		}
	}
	return ""
}

// MayReport tells for which party pr may submit reports on the follow-up
// now ("" and false when pr may not).
func (s *Service) MayReport(ctx context.Context, pr authz.Principal, in *store.Instance) (string, bool) {
	if in.Kind != Kind || in.State != string(CollectingReports) {
		return "", false
	}
	if s.eng.Policy().Authorize(ctx, pr, "followup.report", in.Scopes) != nil {
		return "", false
	}
	party := s.PartyOf(pr)
	return party, party != ""
}

// MayExtendDeadline tells whether pr may move the report deadline now.
func (s *Service) MayExtendDeadline(ctx context.Context, pr authz.Principal, in *store.Instance) bool {
	return in.Kind == Kind && !in.Final && slices.Contains(deadlineStates, workflows.State(in.State)) &&
		s.eng.Policy().Authorize(ctx, pr, "followup.extend_deadline", in.Scopes) == nil
}

// Responsible tells whether a party answers for an activity ("region",
// "sector" or "both").
func Responsible(act *store.Activity, party string) bool {
	return slices.Contains(partiesOf(act.Responsible), party)
}
