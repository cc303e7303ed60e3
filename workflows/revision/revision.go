// Package revision is the five-year revision of an agreement (seed 002 and
// 003): pre-phase, gathering, dialogue, drafting, a consultation round
// (synpunktsrunda) that closes itself at its deadline, a decision that needs
// both parties (jämbördighet), and adoption of the next version, after which
// the old version's signatories are asked to re-confirm.
package revision

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/signing"
)

// Kind is the workflow's kind.
const Kind = "revision"

// The phases.
const (
	PrePhase       workflows.State = "pre_phase"
	Gathering      workflows.State = "gathering"
	Dialogue       workflows.State = "dialogue"
	Drafting       workflows.State = "drafting"
	Consultation   workflows.State = "consultation"
	Decision       workflows.State = "decision"
	Implementation workflows.State = "implementation"
)

// Data keys.
const (
	KeyConsultationDeadline = "consultationDeadline"
	keyConsultationDraft    = "consultationDraftId"
	keyDecisionReference    = "decisionReference"
	keyScopeNote            = "scopeNote"
	keyNewVersion           = "newVersionId"
)

// Scopes of a revision: both sides.
var Scopes = []string{authz.ScopeRegion, authz.ScopeSector}

// Options are what an installation decides about its revisions.
type Options struct {
	// RegionApprovals and SectorApprovals make the adoption quorum: that
	// many region politicians and that many council members sitting for
	// the sector. Both default to one.
	RegionApprovals int
	SectorApprovals int
	// ReconfirmWithin is how long signatories of the old version have to
	// confirm the new one (default three months).
	ReconfirmWithin time.Duration
	// Lead is how long before a version reaches five years its revision
	// opens by itself (default twelve months).
	Lead time.Duration
}

func (o Options) withDefaults() Options {
	if o.RegionApprovals <= 0 {
		o.RegionApprovals = 1
	}
	if o.SectorApprovals <= 0 {
		o.SectorApprovals = 1
	}
	if o.ReconfirmWithin <= 0 {
		o.ReconfirmWithin = 91 * 24 * time.Hour
	}
	if o.Lead <= 0 {
		o.Lead = 365 * 24 * time.Hour
	}
	return o
}

// Definition is version 1 of the revision workflow.
func Definition(o Options, sign *signing.Service) *workflows.Definition {
	o = o.withDefaults()
	quorum := func(*store.Instance) workflows.Quorum {
		return workflows.Quorum{
			{Name: "region", Title: "Regionen (förtroendevald) / The Region (politician)", Roles: []string{authz.RoleRegionPolitician},
				Scope: authz.ScopeRegion, Count: o.RegionApprovals},
			{Name: "sector", Title: "Sektorn (rådets ledamot för sektorn) / The sector (council member for the sector)",
				Roles: []string{authz.RoleCouncilMember}, Scope: authz.ScopeSector, Count: o.SectorApprovals},
		}
	}
	advance := func(name, title string, from, to workflows.State) *workflows.Transition {
		return &workflows.Transition{Name: name, Title: title, From: []workflows.State{from}, To: to, Action: "revision.advance", Public: true}
	}
	return &workflows.Definition{
		Kind: Kind, Version: 1, Title: "Revidering / Revision", Initial: PrePhase, PublicStart: true,
		Public: func(*store.Instance) bool { return true },
		States: []workflows.StateSpec{
			{Name: PrePhase, Title: "förfas / pre-phase"},
			{Name: Gathering, Title: "samlingsfas / gathering"},
			{Name: Dialogue, Title: "dialogprocess / dialogue"},
			{Name: Drafting, Title: "formuleringsfas / drafting"},
			{Name: Consultation, Title: "synpunktsrunda / consultation round", Timers: []workflows.Timer{
				{Name: "consultation closes", Fire: "close_consultation", At: func(in *store.Instance) (time.Time, bool) {
					return workflows.DataTime(in, KeyConsultationDeadline)
				}},
			}},
			{Name: Decision, Title: "förankrings- och beslutsfas / anchoring and decision"},
			{Name: Implementation, Title: "genomförandefas / implementation", Final: true},
		},
		Transitions: []*workflows.Transition{
			advance("start_gathering", "starta samlingsfasen / start gathering", PrePhase, Gathering),
			advance("start_dialogue", "starta dialogprocessen / start the dialogue", Gathering, Dialogue),
			advance("start_drafting", "starta formuleringsfasen / start drafting", Dialogue, Drafting),
			{Name: "open_consultation", Title: "skicka ut på synpunktsrunda / open the consultation round", From: []workflows.State{Drafting},
				To: Consultation, Action: "revision.advance", Guard: consultationReady, Public: true},
			{Name: "close_consultation", Title: "synpunktsrundan stänger / the consultation round closes", From: []workflows.State{Consultation},
				To: Decision, Public: true},
			{Name: "adopt", Title: "anta den reviderade överenskommelsen / adopt the revised agreement", From: []workflows.State{Decision},
				To: Implementation, Action: "revision.approve", Quorum: quorum, Guard: commentsAnswered, Effect: adopt(o, sign), Public: true},
			{Name: "send_back", Title: "skicka tillbaka till formuleringsfasen / send back to drafting", From: []workflows.State{Decision},
				To: Drafting, Action: "revision.approve", RequireReason: true, Public: true},
		},
	}
}

// consultationReady needs a draft and a deadline in the future; it remembers
// which draft went out.
func consultationReady(ctx context.Context, f *workflows.Firing) error {
	drafts, err := store.Drafts(ctx, f.Tx(), f.Instance.ID)
	if err != nil {
		return err
	}
	if len(drafts) == 0 {
		return apperr.New(apperr.InvalidTransition, "Det finns inget utkast att skicka ut. / There is no draft to send out.")
	}
	s, _ := f.Input[KeyConsultationDeadline].(string)
	deadline, err := time.Parse(time.RFC3339, s)
	if err != nil || !deadline.After(f.Now) {
		return apperr.Invalid("deadline", "Synpunktsrundan behöver ett slutdatum i framtiden. / The consultation round needs a deadline in the future.")
	}
	f.Instance.Data[KeyConsultationDeadline] = deadline.UTC().Format(time.RFC3339)
	f.Instance.Data[keyConsultationDraft] = drafts[len(drafts)-1].ID.String()
	return nil
}

// commentsAnswered keeps the decision from being taken before the council
// has responded to every comment of the round.
func commentsAnswered(ctx context.Context, f *workflows.Firing) error {
	comments, err := store.Comments(ctx, f.Tx(), f.Instance.ID)
	if err != nil {
		return err
	}
	open := 0
	for _, c := range comments {
		if c.Response == nil {
			open++
		}
	}
	if open > 0 {
		return apperr.New(apperr.InvalidTransition, "Rådet har inte svarat på %d synpunkter. / The council has not responded to %d comments.", open, open)
	}
	return nil
}

// adopt creates the next agreement version from the latest draft and asks
// the old version's signatories to re-confirm, in the same transaction.
func adopt(o Options, sign *signing.Service) func(context.Context, pgx.Tx, *workflows.Firing) error {
	return func(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
		old, err := store.GetAgreementVersion(ctx, tx, f.Instance.SubjectID)
		if err != nil {
			return err
		}
		drafts, err := store.Drafts(ctx, tx, f.Instance.ID)
		if err != nil {
			return err
		}
		if len(drafts) == 0 {
			return apperr.New(apperr.InvalidTransition, "Det finns inget utkast att anta. / There is no draft to adopt.")
		}
		latest := drafts[len(drafts)-1]
		today := dateOf(f.Now)
		ref, _ := f.Instance.Data[keyDecisionReference].(string)
		note, _ := f.Instance.Data[keyScopeNote].(string)
		v, err := registry.InsertVersionTx(ctx, tx, f.Actor, old.AgreementID, old.Number+1, registry.VersionInput{
			Title: latest.Title, Body: latest.Body, AdoptedOn: today, ValidFrom: today, DecisionReference: ref,
			Principles: old.Principles, ScopeNote: note, DocumentURL: "",
		}, f.Now)
		if err != nil {
			return err
		}
		f.Instance.Data[keyNewVersion] = v.ID.String()
		orgs, err := store.CurrentSignatoryOrganisations(ctx, tx, old.ID)
		if err != nil {
			return err
		}
		deadline := f.Now.Add(o.ReconfirmWithin)
		for _, org := range orgs {
			if _, err := sign.RequestReconfirmationTx(ctx, tx, org, v.ID, deadline); err != nil {
				return err
			}
		}
		return nil
	}
}

func dateOf(t time.Time) time.Time {
	s := t.In(clock.Stockholm)
	return time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
}

// NewVersionID is the version a completed revision adopted.
func NewVersionID(in *store.Instance) (uuid.UUID, bool) {
	s, _ := in.Data[keyNewVersion].(string)
	id, err := uuid.Parse(s)
	return id, err == nil
}
