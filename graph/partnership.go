package graph

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/graph/model"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/identity"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
)

// private returns a private field of a partnership, or nil for those who
// may not see it.
func private(p *iop.Partnership, v string) *string {
	if !p.Private {
		return nil
	}
	return &v
}

func (r *Resolver) partnershipPayload(ctx context.Context, id uuid.UUID) (*model.PartnershipPayload, error) {
	p, err := r.IOP.Get(ctx, identity.FromContext(ctx), id)
	if err != nil {
		return nil, err
	}
	return &model.PartnershipPayload{Partnership: p}, nil
}

// partnershipStep is the step a partnership command takes: the
// partnership, the version of its instance the client read and the reason.
func partnershipStep(gid string, expectedVersion *int, reason *string) (workflows.Step, error) {
	id, err := mustID("partnershipId", gid, typePartnership)
	if err != nil {
		return workflows.Step{}, err
	}
	return workflows.Step{ID: id, ExpectedVersion: num(expectedVersion), Reason: str(reason)}, nil
}

// partnershipAct runs a command on a partnership and answers with it.
func (r *Resolver) partnershipAct(ctx context.Context, gid string, expectedVersion *int, reason *string,
	fn func(authz.Principal, workflows.Step) error) (*model.PartnershipPayload, error) {
	st, err := partnershipStep(gid, expectedVersion, reason)
	if err != nil {
		return nil, err
	}
	if err := fn(identity.FromContext(ctx), st); err != nil {
		return nil, err
	}
	return r.partnershipPayload(ctx, st.ID)
}

func proposeInput(in model.ProposePartnershipInput) (iop.ProposeInput, error) {
	body, err := mustID("publicBodyId", in.PublicBodyID, typeOrganisation)
	if err != nil {
		return iop.ProposeInput{}, err
	}
	out := iop.ProposeInput{PublicBodyID: body, OwnInitiative: in.OwnInitiative}
	for _, g := range in.IdeaBasedIds {
		id, err := mustID("ideaBasedIds", g, typeOrganisation)
		if err != nil {
			return out, err
		}
		out.IdeaBasedIDs = append(out.IdeaBasedIDs, id)
	}
	out.Record, err = recordInput(in)
	return out, err
}

// updateInput is the record an update writes: the same fields as a
// proposal's, without the parties.
func updateInput(in model.UpdatePartnershipInput) (iop.Record, error) {
	return recordInput(model.ProposePartnershipInput{
		Title: in.Title, Purpose: in.Purpose, Background: in.Background, Preconditions: in.Preconditions,
		ValueBaseVersionID: in.ValueBaseVersionID, SteeringGroup: in.SteeringGroup, WorkingGroup: in.WorkingGroup,
		Responsibilities: in.Responsibilities, Goals: in.Goals, TargetGroup: in.TargetGroup, FollowUpIndicators: in.FollowUpIndicators,
		ReportDueMonth: in.ReportDueMonth, ReportDueDay: in.ReportDueDay, Budget: in.Budget, ExpectedGains: in.ExpectedGains,
		StartDate: in.StartDate, EndDate: in.EndDate, NoticeMonths: in.NoticeMonths, ChangeHandling: in.ChangeHandling,
		Renegotiation: in.Renegotiation, Rescission: in.Rescission, DisputeResolution: in.DisputeResolution,
		Contributions: in.Contributions,
	})
}

// recordInput is the record of a proposal.
func recordInput(in model.ProposePartnershipInput) (iop.Record, error) {
	out := iop.Record{
		Title: in.Title, Purpose: in.Purpose, Background: str(in.Background), Preconditions: str(in.Preconditions),
		SteeringGroup: str(in.SteeringGroup), WorkingGroup: str(in.WorkingGroup), Responsibilities: str(in.Responsibilities),
		Goals: str(in.Goals), TargetGroup: str(in.TargetGroup), FollowUpIndicators: str(in.FollowUpIndicators),
		ReportDueMonth: num(in.ReportDueMonth), ReportDueDay: num(in.ReportDueDay), Budget: str(in.Budget),
		ExpectedGains: str(in.ExpectedGains), StartDate: in.StartDate, EndDate: in.EndDate, NoticeMonths: num(in.NoticeMonths),
		ChangeHandling: str(in.ChangeHandling), Renegotiation: str(in.Renegotiation), Rescission: str(in.Rescission),
		DisputeResolution: str(in.DisputeResolution),
	}
	if in.ValueBaseVersionID != nil {
		v, err := mustID("valueBaseVersionId", *in.ValueBaseVersionID, typeAgreementVersion)
		if err != nil {
			return out, err
		}
		out.ValueBaseVersionID = &v
	}
	for _, c := range in.Contributions {
		org, err := mustID("contributions.organisationId", c.OrganisationID, typeOrganisation)
		if err != nil {
			return out, err
		}
		out.Contributions = append(out.Contributions, iop.ContributionInput{OrganisationID: org, Year: c.Year,
			Kind: strings.ToLower(string(c.Kind)), Amount: c.Amount, Unit: str(c.Unit), Description: str(c.Description)})
	}
	return out, nil
}

// partnershipConnection makes a page of rows (fetched with one more than n
// to tell whether there is a next page); the parties come with their
// organisations, and what the rows will look up besides is primed.
func partnershipConnection(ctx context.Context, rows []*iop.Partnership, n int, cursorOf func(*iop.Partnership) string) *model.PartnershipConnection {
	conn := &model.PartnershipConnection{PageInfo: &model.PageInfo{}, Edges: []*model.PartnershipEdge{}}
	if len(rows) > n {
		rows, conn.PageInfo.HasNextPage = rows[:n], true
	}
	primePartnerships(ctx, rows)
	for _, p := range rows {
		conn.Edges = append(conn.Edges, &model.PartnershipEdge{Cursor: cursorOf(p), Node: p})
	}
	setCursors(conn.PageInfo, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn
}

// primePartnerships asks at once for what the page's partnerships will
// look up through loaders, when the operation asks for it: their value
// bases, and contributors who are not parties. The edges are marshalled one
// after the other (PartnershipEdge is in make generate's IN_ORDER_LISTS),
// so a lookup left to each would wait for its own batch.
func primePartnerships(ctx context.Context, rows []*iop.Partnership) {
	l := loaders(ctx)
	if l.fields["valueBase"] {
		var ids []uuid.UUID
		for _, p := range rows {
			if p.Record.ValueBaseVersionID != nil {
				ids = append(ids, *p.Record.ValueBaseVersionID)
			}
		}
		l.Version.Prime(ctx, ids...)
	}
	if l.fields["contributions"] {
		var ids []uuid.UUID
		for _, p := range rows {
			for _, c := range p.Contributions {
				if !isParty(p, c.OrganisationID) {
					ids = append(ids, c.OrganisationID)
				}
			}
		}
		l.Organisation.Prime(ctx, ids...)
	}
}

func isParty(p *iop.Partnership, orgID uuid.UUID) bool {
	for _, party := range p.Parties {
		if party.OrganisationID == orgID && party.Organisation != nil {
			return true
		}
	}
	return false
}

// contributionsOut are a partnership's contributions with their
// organisations bound (a plain field, no resolver): every contributor is a
// party, read with its organisation; another one comes through the loader.
func contributionsOut(ctx context.Context, p *iop.Partnership) ([]*model.Contribution, error) {
	orgs := make(map[uuid.UUID]*store.Organisation, len(p.Parties))
	for _, party := range p.Parties {
		if party.Organisation != nil {
			orgs[party.OrganisationID] = party.Organisation
		}
	}
	out := make([]*model.Contribution, len(p.Contributions))
	for i, c := range p.Contributions {
		o := orgs[c.OrganisationID]
		if o == nil {
			var err error
			if o, err = load(ctx, loaders(ctx).Organisation, c.OrganisationID); err != nil {
				return nil, err
			}
		}
		out[i] = &model.Contribution{Contribution: c, Kind: model.ContributionKind(strings.ToUpper(c.Kind)), Amount: iop.FormatAmount(c.Amount),
			Organisation: o}
	}
	return out, nil
}
