// Package revision is the five-year revision of an agreement (seed 002 and
// 003): pre-phase, gathering, dialogue, drafting, a consultation round
// (synpunktsrunda) that closes itself at its deadline, a decision that needs
// both parties (jämbördighet), and adoption of the next version, after which
// the old version's signatories are asked to re-confirm.
package revision

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
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
	keyConsultationDeadline = "consultationDeadline"
	keyConsultationDraft    = "consultationDraftId"
	// keyPublicDrafts lists every draft that went out for consultation:
	// once public, a draft stays public.
	keyPublicDrafts      = "publicDraftIds"
	keyDecisionReference = "decisionReference"
	keyScopeNote         = "scopeNote"
	keyNewTitle          = "newTitle"
	keyNewVersion        = "newVersionId"
)

// The transitions; the Service's typed commands fire them.
const (
	tStartGathering    = "start_gathering"
	tStartDialogue     = "start_dialogue"
	tStartDrafting     = "start_drafting"
	tOpenConsultation  = "open_consultation"
	tCloseConsultation = "close_consultation"
	tAdopt             = "adopt"
	tSendBack          = "send_back"
)

// nextPhase is the transition that moves a revision on from the phases that
// an official ends by hand.
var nextPhase = map[workflows.State]string{PrePhase: tStartGathering, Gathering: tStartDialogue, Dialogue: tStartDrafting}

// Scopes of a revision: both sides.
var Scopes = []string{authz.ScopeRegion, authz.ScopeSector}

// Options are what an installation decides about its revisions; the
// defaults are internal/config's.
type Options struct {
	// RegionApprovals and SectorApprovals make the adoption quorum: that
	// many region politicians and that many council members sitting for
	// the sector.
	RegionApprovals int
	SectorApprovals int
	// ReconfirmWithin is how long signatories of the old version have to
	// confirm the new one.
	ReconfirmWithin time.Duration
	// Lead is how long before a version reaches five years its revision
	// opens by itself.
	Lead time.Duration
}

// OptionsFrom takes the revision settings of a configuration (whose
// defaults are internal/config's).
func OptionsFrom(c config.Config) Options {
	return Options{RegionApprovals: c.RevisionRegionApprovals, SectorApprovals: c.RevisionSectorApprovals,
		ReconfirmWithin: c.ReconfirmWithin, Lead: c.RevisionLead}
}

func (o Options) validate() error {
	if o.RegionApprovals < 1 || o.SectorApprovals < 1 || o.ReconfirmWithin <= 0 || o.Lead <= 0 {
		return fmt.Errorf("revision options %+v: both quorums need at least one approval and the durations must be positive", o)
	}
	return nil
}

// Definition is version 1 of the revision workflow.
func Definition(o Options, sign *signing.Service) *workflows.Definition {
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
		Duties: []workflows.Duty{{Action: "revision.respond", Title: "svara på synpunkterna / respond to the comments",
			States: []workflows.State{Consultation, Decision}}},
		Deadline: func(in *store.Instance) (time.Time, bool) {
			if in.State != string(Consultation) {
				return time.Time{}, false
			}
			return ConsultationDeadline(in)
		},
		States: []workflows.StateSpec{
			{Name: PrePhase, Title: "förfas / pre-phase"},
			{Name: Gathering, Title: "samlingsfas / gathering"},
			{Name: Dialogue, Title: "dialogprocess / dialogue"},
			{Name: Drafting, Title: "formuleringsfas / drafting"},
			{Name: Consultation, Title: "synpunktsrunda / consultation round", Timers: []workflows.Timer{
				{Name: "consultation closes", Fire: tCloseConsultation, At: func(in *store.Instance) (time.Time, bool) {
					return ConsultationDeadline(in)
				}},
			}},
			{Name: Decision, Title: "förankrings- och beslutsfas / anchoring and decision"},
			{Name: Implementation, Title: "genomförandefas / implementation", Final: true},
		},
		Transitions: []*workflows.Transition{
			advance(tStartGathering, "starta samlingsfasen / start gathering", PrePhase, Gathering),
			advance(tStartDialogue, "starta dialogprocessen / start the dialogue", Gathering, Dialogue),
			advance(tStartDrafting, "starta formuleringsfasen / start drafting", Dialogue, Drafting),
			{Name: tOpenConsultation, Title: "skicka ut på synpunktsrunda / open the consultation round", From: []workflows.State{Drafting},
				To: Consultation, Action: "revision.advance", Guard: consultationReady, Effect: sendOutDraft, Public: true},
			{Name: tCloseConsultation, Title: "synpunktsrundan stänger / the consultation round closes", From: []workflows.State{Consultation},
				To: Decision, Public: true},
			{Name: tAdopt, Title: "anta den reviderade överenskommelsen / adopt the revised agreement", From: []workflows.State{Decision},
				To: Implementation, Action: "revision.approve", Quorum: quorum, Guard: commentsAnswered, Effect: adopt(o, sign), Public: true},
			{Name: tSendBack, Title: "skicka tillbaka till formuleringsfasen / send back to drafting", From: []workflows.State{Decision},
				To: Drafting, Action: "revision.approve", RequireReason: true, Public: true},
		},
	}
}

// consultationReady refuses to send out nothing, or a round without a
// deadline in the future.
func consultationReady(ctx context.Context, f *workflows.Firing) error {
	drafts, err := store.Drafts(ctx, f.Tx(), f.Instance.ID)
	if err != nil {
		return err
	}
	if len(drafts) == 0 {
		return apperr.New(apperr.InvalidTransition, "Det finns inget utkast att skicka ut. / There is no draft to send out.")
	}
	if deadline, ok := f.Input[inDeadline].(time.Time); !ok || !deadline.After(f.Now) {
		return apperr.Invalid("deadline", "Synpunktsrundan behöver ett slutdatum i framtiden. / The consultation round needs a deadline in the future.")
	}
	return nil
}

// sendOutDraft records which draft went out (it is public from now on, and
// stays so) and the round's deadline.
func sendOutDraft(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	drafts, err := store.Drafts(ctx, tx, f.Instance.ID)
	if err != nil {
		return err
	}
	latest := drafts[len(drafts)-1].ID
	workflows.SetData(f.Instance, keyConsultationDeadline, f.Input[inDeadline].(time.Time))
	workflows.SetData(f.Instance, keyConsultationDraft, latest)
	public := publicDrafts(f.Instance)
	if !slices.Contains(public, latest) {
		public = append(public, latest)
	}
	ids := make([]string, len(public))
	for i, id := range public {
		ids[i] = id.String()
	}
	workflows.SetData(f.Instance, keyPublicDrafts, ids)
	return nil
}

// publicDrafts are the drafts that have been out for consultation.
func publicDrafts(in *store.Instance) []uuid.UUID {
	var out []uuid.UUID
	list, _ := in.Data[keyPublicDrafts].([]any)
	for _, v := range list {
		if id, err := uuid.Parse(stringOf(v)); err == nil {
			out = append(out, id)
		}
	}
	if id, ok := workflows.DataUUID(in, keyConsultationDraft); ok && !slices.Contains(out, id) {
		// Revisions sent out before the list was kept.
		out = append(out, id)
	}
	return out
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// inDeadline is the open_consultation input with the round's deadline.
const inDeadline = "deadline"

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
		today := clock.Today(f.Now)
		title := workflows.DataString(f.Instance, keyNewTitle)
		if title == "" {
			title = latest.Title
		}
		ref := workflows.DataString(f.Instance, keyDecisionReference)
		note := workflows.DataString(f.Instance, keyScopeNote)
		v, err := registry.InsertVersionTx(ctx, tx, f.Actor, old.AgreementID, old.Number+1, registry.VersionInput{
			Title: title, Body: latest.Body, AdoptedOn: today, ValidFrom: today, DecisionReference: ref,
			Principles: old.Principles, ScopeNote: note, DocumentURL: "",
		}, f.Now)
		if err != nil {
			return err
		}
		workflows.SetData(f.Instance, keyNewVersion, v.ID)
		// Applications still open for the old version go on for the new one.
		if _, err := sign.MoveOpenApplicationsTx(ctx, tx, old, v); err != nil {
			return err
		}
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

// NewVersionID is the version a completed revision adopted.
func NewVersionID(in *store.Instance) (uuid.UUID, bool) {
	return workflows.DataUUID(in, keyNewVersion)
}

// ConsultationDeadline is when the revision's consultation round closes
// (false before a round has opened).
func ConsultationDeadline(in *store.Instance) (time.Time, bool) {
	return workflows.DataTime(in, keyConsultationDeadline)
}
