package revision

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// Command is a step of a revision that is not a transition: it changes
// what the revision holds, not its phase. As AvailableActions does for the
// transitions, Offered tells which of them a person may take now.
type Command string

// The commands, each one method of the Service.
const (
	// AddDraftCommand is AddDraft.
	AddDraftCommand Command = "add_draft"
	// SetDecisionCommand is SetDecision.
	SetDecisionCommand Command = "set_decision"
	// InviteCommand is Invite.
	InviteCommand Command = "invite"
	// RespondCommand is Respond.
	RespondCommand Command = "respond"
	// CommentCommand is Comment.
	CommentCommand Command = "comment"
)

// commandRule is the policy action a command needs and the phases it runs
// in; the Service's methods and Offered read the same table.
type commandRule struct {
	action string
	states []workflows.State
}

var commandRules = map[Command]commandRule{
	AddDraftCommand:    {"revision.draft", []workflows.State{Drafting}},
	SetDecisionCommand: {"revision.advance", []workflows.State{Drafting, Consultation, Decision}},
	InviteCommand:      {"revision.invite", []workflows.State{Drafting, Consultation}},
	RespondCommand:     {"revision.respond", []workflows.State{Consultation, Decision}},
	CommentCommand:     {"revision.comment", []workflows.State{Consultation}},
}

// commandOrder is the order Offered lists the commands in.
var commandOrder = []Command{AddDraftCommand, SetDecisionCommand, InviteCommand, RespondCommand}

// Offered lists the commands other than commenting that pr may take on the
// revision in its current phase (the policy in the revision's scopes).
// Like AvailableActions it does not check input: the command does.
func (s *Service) Offered(ctx context.Context, pr authz.Principal, in *store.Instance) []Command {
	if in.Kind != Kind || !pr.Authenticated() {
		return nil
	}
	var out []Command
	for _, c := range commandOrder {
		r := commandRules[c]
		if slices.Contains(r.states, workflows.State(in.State)) && s.eng.Policy().Authorize(ctx, pr, r.action, in.Scopes) == nil {
			out = append(out, c)
		}
	}
	return out
}

// CommentingFor keeps of orgs those pr may comment for now: the round is
// open and before its deadline, and pr represents the organisation. Whether
// the organisation has signed or was invited is checked by Comment.
func (s *Service) CommentingFor(ctx context.Context, pr authz.Principal, in *store.Instance, orgs []uuid.UUID) []uuid.UUID {
	r := commandRules[CommentCommand]
	deadline, open := ConsultationDeadline(in)
	if in.Kind != Kind || !pr.Authenticated() || !slices.Contains(r.states, workflows.State(in.State)) || !open ||
		!s.eng.Clock().Now().Before(deadline) {
		return nil
	}
	var out []uuid.UUID
	for _, org := range orgs {
		if s.eng.Policy().Authorize(ctx, pr, r.action, []string{authz.OrgScope(org)}) == nil {
			out = append(out, org)
		}
	}
	return out
}

// DecisionOf is what SetDecision recorded for the version the revision will
// adopt (empty fields: not given).
func DecisionOf(in *store.Instance) DecisionDetails {
	return DecisionDetails{Title: workflows.DataString(in, keyNewTitle), DecisionReference: workflows.DataString(in, keyDecisionReference),
		ScopeNote: workflows.DataString(in, keyScopeNote)}
}
