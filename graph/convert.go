package graph

import (
	"strings"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/graph/model"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
)

// assignmentFromInput reads a role assignment from GraphQL input; an
// organisation scope carries the organisation's global ID.
func assignmentFromInput(userGID string, role model.Role, scope string) (authz.Assignment, error) {
	uid, err := mustID("userId", userGID, typeUser)
	if err != nil {
		return authz.Assignment{}, err
	}
	a := authz.Assignment{UserID: uid, Role: strings.ToLower(string(role)), Scope: scope}
	if rest, ok := strings.CutPrefix(scope, "org:"); ok {
		oid, err := mustID("scope", rest, typeOrganisation)
		if err != nil {
			return a, err
		}
		a.Scope = authz.OrgScope(oid)
	}
	return a, authz.ValidateAssignment(a.Role, a.Scope)
}

var principleNames = map[model.Principle]string{
	model.PrincipleDialog: "Dialog", model.PrincipleKvalitet: "Kvalitet", model.PrincipleMangfald: "Mångfald",
	model.PrincipleSjalvstandighet: "Självständighet", model.PrincipleOppenhet: "Öppenhet",
}

func principlesIn(ps []model.Principle) []string {
	var out []string
	for _, p := range ps {
		out = append(out, principleNames[p])
	}
	return out
}

func principlesOut(ps []string) []model.Principle {
	var out []model.Principle
	for _, s := range ps {
		for k, v := range principleNames {
			if v == s {
				out = append(out, k)
			}
		}
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func organisationInput(in *model.OrganisationInput) registry.OrganisationInput {
	return registry.OrganisationInput{
		Name: in.Name, OrganisationNumber: in.OrganisationNumber, LegalForm: strings.ToLower(string(in.LegalForm)),
		Sector: strings.ToLower(string(in.Sector)), Municipality: str(in.Municipality), Website: str(in.Website),
		Description: str(in.Description), ContactEmail: str(in.ContactEmail), ContactPhone: str(in.ContactPhone),
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func dataID(in *store.Instance, key string) (uuid.UUID, bool) {
	s, _ := in.Data[key].(string)
	id, err := uuid.Parse(s)
	return id, err == nil
}

// step reads what a command acts on: the instance's global ID, the version
// the client read and the reason given.
func step(instanceGID string, expectedVersion *int, reason *string) (workflows.Step, error) {
	id, err := mustID("instanceId", instanceGID, typeInstance)
	if err != nil {
		return workflows.Step{}, err
	}
	return workflows.Step{ID: id, ExpectedVersion: num(expectedVersion), Reason: str(reason)}, nil
}

func pointers[T any](vals []T) []*T {
	out := make([]*T, len(vals))
	for i := range vals {
		out[i] = &vals[i]
	}
	return out
}

func activitiesIn(in []*model.ActivityInput) []followup.ActivityInput {
	out := make([]followup.ActivityInput, 0, len(in))
	for _, a := range in {
		act := followup.ActivityInput{Title: a.Title, Description: str(a.Description), Quarters: a.Quarters,
			Responsible: strings.ToLower(string(a.Responsible)), Principles: principlesIn(a.Principles)}
		for _, i := range a.Indicators {
			act.Indicators = append(act.Indicators, followup.IndicatorInput{Name: i.Name, Unit: str(i.Unit), Target: i.Target})
		}
		out = append(out, act)
	}
	return out
}

func payload(in *store.Instance, err error) (*model.WorkflowPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.WorkflowPayload{Instance: in}, nil
}

func actionsOut(actions []workflows.Action) []*model.AvailableAction {
	out := make([]*model.AvailableAction, 0, len(actions))
	for _, a := range actions {
		out = append(out, &model.AvailableAction{Name: a.Transition, Title: a.Title, NeedsApproval: a.NeedsApproval, Approved: a.Approved})
	}
	return out
}
