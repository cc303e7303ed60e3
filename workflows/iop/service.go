package iop

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
	"github.com/samverkan/samverkan/workflows"
)

// Service runs IOP partnerships. Its commands take a workflows.Step whose ID
// is the partnership's (the workflow instance's subject) and whose
// ExpectedVersion is the version of the partnership's instance the person
// read: a newer one is a CONFLICT and nothing changes.
type Service struct {
	eng  *workflows.Engine
	db   *store.DB
	opts Options
}

// NewService returns the partnership service; it registers the definition.
// Options are optional; the first one given is used.
func NewService(eng *workflows.Engine, o Options) (*Service, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := eng.Register(Definition(o, eng.Policy())); err != nil {
		return nil, err
	}
	return &Service{eng: eng, db: eng.DB(), opts: o}, nil
}

func notFound() error {
	return apperr.New(apperr.NotFound, "Partnerskapet finns inte. / The partnership does not exist.")
}

// load reads a partnership and its instance.
func (s *Service) load(ctx context.Context, q store.Querier, id uuid.UUID) (*store.Partnership, *store.Instance, error) {
	p, err := store.GetPartnership(ctx, q, id)
	if apperr.IsCode(err, apperr.NotFound) || (err == nil && p.InstanceID == nil) {
		return nil, nil, notFound()
	}
	if err != nil {
		return nil, nil, err
	}
	in, err := store.GetInstance(ctx, q, *p.InstanceID)
	if err != nil {
		return nil, nil, err
	}
	return p, in, nil
}

// act runs fn on the locked instance (see workflows.Engine.Act) with the
// partnership read in the same transaction.
// The reason the person gave goes into the history event.
func (s *Service) act(ctx context.Context, pr authz.Principal, st workflows.Step, action string, states []workflows.State,
	fn func(ctx context.Context, tx pgx.Tx, p *store.Partnership, in *store.Instance, now time.Time) (workflows.Note, error)) (*store.Instance, error) {
	if err := validate.Text("reason", st.Reason, 0, workflows.MaxReason); err != nil {
		return nil, err
	}
	_, in, err := s.load(ctx, s.db.Pool, st.ID)
	if err != nil {
		return nil, err
	}
	in, err = s.eng.Act(ctx, workflows.ActParams{InstanceID: in.ID, Kind: Kind, Actor: pr, Action: action, States: states,
		ExpectedVersion: st.ExpectedVersion},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			p, err := store.GetPartnership(ctx, tx, st.ID)
			if err != nil {
				return workflows.Note{}, err
			}
			note, err := fn(ctx, tx, p, in, now)
			if note.Reason == "" {
				note.Reason = st.Reason
			}
			return note, err
		})
	return in, inPartnershipTerms(err)
}

// inPartnershipTerms answers for a partnership the actor may not see as for
// one that does not exist.
func inPartnershipTerms(err error) error {
	if workflows.IsNoInstance(err) {
		return notFound()
	}
	return err
}

// fire fires a transition of the partnership's instance, checking the
// version the person read and recording their reason.
func (s *Service) fire(ctx context.Context, pr authz.Principal, st workflows.Step, transition string, input map[string]any) (*workflows.Result, error) {
	_, in, err := s.load(ctx, s.db.Pool, st.ID)
	if err != nil {
		return nil, err
	}
	res, err := s.eng.Fire(ctx, workflows.FireParams{InstanceID: in.ID, Kind: Kind, Transition: transition, Actor: pr, Input: input,
		ExpectedVersion: st.ExpectedVersion, Reason: st.Reason})
	return res, inPartnershipTerms(err)
}

func (s *Service) fireInstance(ctx context.Context, pr authz.Principal, st workflows.Step, transition string, input map[string]any) (*store.Instance, error) {
	res, err := s.fire(ctx, pr, st, transition, input)
	if err != nil {
		return nil, err
	}
	return res.Instance, nil
}

func actorID(pr authz.Principal) *uuid.UUID {
	if pr.Authenticated() {
		return &pr.UserID
	}
	return nil
}

// ProposeInput starts a partnership: its record and its parties.
type ProposeInput struct {
	Record
	// PublicBodyID is the one public body (an organisation of the public
	// sector); IdeaBasedIDs are one or more idea-based organisations.
	PublicBodyID uuid.UUID
	IdeaBasedIDs []uuid.UUID
	// OwnInitiative records whether it is the organisation's own
	// initiative; nil: it is when the proposer represents one of the
	// idea-based parties and is not an official.
	OwnInitiative *bool
}

// Propose records an initiative for a partnership, by either party.
func (s *Service) Propose(ctx context.Context, pr authz.Principal, in ProposeInput) (*store.Partnership, *store.Instance, error) {
	scopes := Scopes(in.IdeaBasedIDs)
	pol := s.eng.Policy()
	if err := pol.Authorize(ctx, pr, "partnership.propose", scopes); err != nil {
		return nil, nil, err
	}
	if err := checkParties(in.PublicBodyID, in.IdeaBasedIDs); err != nil {
		return nil, nil, err
	}
	now := s.eng.Clock().Now()
	p := &store.Partnership{CreatedAt: now, InitiatedBy: actorID(pr)}
	cs, err := in.Record.apply(p, append([]uuid.UUID{in.PublicBodyID}, in.IdeaBasedIDs...))
	if err != nil {
		return nil, nil, err
	}
	p.OwnInitiative = pol.Authorize(ctx, pr, "partnership.propose", scopes[1:]) == nil &&
		pol.Authorize(ctx, pr, "partnership.propose", scopes[:1]) != nil
	if in.OwnInitiative != nil {
		p.OwnInitiative = *in.OwnInitiative
	}
	var inst *store.Instance
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		names, err := checkOrganisations(ctx, tx, in.PublicBodyID, in.IdeaBasedIDs)
		if err != nil {
			return err
		}
		if err := checkValueBase(ctx, tx, p.ValueBaseVersionID); err != nil {
			return err
		}
		if err := store.InsertPartnership(ctx, tx, p); err != nil {
			return err
		}
		parties := []store.PartnershipParty{{PartnershipID: p.ID, OrganisationID: in.PublicBodyID, Role: registry.SectorPublic}}
		ideaBased := make([]any, len(in.IdeaBasedIDs))
		for i, id := range in.IdeaBasedIDs {
			parties = append(parties, store.PartnershipParty{PartnershipID: p.ID, OrganisationID: id, Role: registry.SectorIdeaBased})
			ideaBased[i] = id.String()
		}
		if err := store.InsertPartnershipParties(ctx, tx, parties); err != nil {
			return err
		}
		if err := store.ReplaceContributions(ctx, tx, p.ID, nil, cs); err != nil {
			return err
		}
		inst, err = s.eng.StartTx(ctx, tx, workflows.StartParams{
			Kind: Kind, SubjectType: "partnership", SubjectID: p.ID, Scopes: scopes, Actor: pr,
			Data: map[string]any{keyPartnership: p.ID.String(), keyPublicBody: in.PublicBodyID.String(), keyIdeaBased: ideaBased,
				keyPartyNames: names, keyOwn: p.OwnInitiative},
			Input: map[string]any{"title": p.Title, "publicBodyId": in.PublicBodyID.String(), "ideaBasedIds": ideaBased,
				"ownInitiative": p.OwnInitiative},
		})
		if err != nil {
			return err
		}
		p.InstanceID = &inst.ID
		p.State = inst.State
		return store.SetPartnershipInstance(ctx, tx, p.ID, inst.ID)
	})
	if err != nil {
		return nil, nil, err
	}
	return p, inst, nil
}

// checkOrganisations checks that the public body is one and each
// idea-based party is one, and returns their names by id.
func checkOrganisations(ctx context.Context, tx pgx.Tx, publicBody uuid.UUID, ideaBased []uuid.UUID) (map[string]any, error) {
	orgs, err := store.OrganisationsByIDs(ctx, tx, append([]uuid.UUID{publicBody}, ideaBased...))
	if err != nil {
		return nil, err
	}
	byID := map[uuid.UUID]*store.Organisation{}
	for _, o := range orgs {
		byID[o.ID] = o
	}
	body := byID[publicBody]
	if body == nil {
		return nil, apperr.Invalid("publicBodyId", "Den offentliga parten är ingen registrerad organisation. / The public body is not a registered organisation.")
	}
	if body.Sector != registry.SectorPublic {
		return nil, apperr.Invalid("publicBodyId", "%s är ingen offentlig aktör. / %s is not a public body.", body.Name, body.Name)
	}
	names := map[string]any{}
	for i, id := range ideaBased {
		field := fmt.Sprintf("ideaBasedIds[%d]", i)
		o := byID[id]
		if o == nil {
			return nil, apperr.Invalid(field, "Parten är ingen registrerad organisation. / The party is not a registered organisation.")
		}
		if o.Sector != registry.SectorIdeaBased {
			return nil, apperr.Invalid(field, "%s är ingen idéburen organisation. / %s is not an idea-based organisation.", o.Name, o.Name)
		}
		names[id.String()] = o.Name
	}
	return names, nil
}

func checkValueBase(ctx context.Context, q store.Querier, id *uuid.UUID) error {
	if id == nil {
		return nil
	}
	_, err := registry.VersionTx(ctx, q, *id)
	return apperr.OnField(err, "valueBaseVersionId")
}

func partiesOf(in *store.Instance) []uuid.UUID {
	return append([]uuid.UUID{PublicBody(in)}, IdeaBasedParties(in)...)
}

// Update rewrites the record while it is negotiated (initiative,
// assessment, negotiation); the parties stay. Contributions are replaced.
func (s *Service) Update(ctx context.Context, pr authz.Principal, st workflows.Step, r Record) (*store.Partnership, error) {
	var out *store.Partnership
	_, err := s.act(ctx, pr, st, "partnership.draft", []workflows.State{Initiative, Assessment, Negotiation},
		func(ctx context.Context, tx pgx.Tx, p *store.Partnership, in *store.Instance, now time.Time) (workflows.Note, error) {
			cs, err := r.apply(p, partiesOf(in))
			if err != nil {
				return workflows.Note{}, err
			}
			if err := checkValueBase(ctx, tx, p.ValueBaseVersionID); err != nil {
				return workflows.Note{}, err
			}
			p.UpdatedAt = now
			if err := store.UpdatePartnershipRecord(ctx, tx, p); err != nil {
				return workflows.Note{}, err
			}
			if err := store.ReplaceContributions(ctx, tx, p.ID, nil, cs); err != nil {
				return workflows.Note{}, err
			}
			out = p
			return workflows.Note{Kind: "record_updated", Input: map[string]any{"title": p.Title}}, nil
		})
	return out, err
}

// StartAssessment lets an official start assessing an initiative.
func (s *Service) StartAssessment(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fireInstance(ctx, pr, st, tStartAssessment, nil)
}

// Assess records the official's checklist. When an IOP fits, the parties
// go on to negotiate; when it does not, the case closes with the
// recommendation of a grant or procurement.
func (s *Service) Assess(ctx context.Context, pr authz.Principal, st workflows.Step, a AssessmentInput) (*store.Instance, *store.PartnershipAssessment, error) {
	transition := tAssessNotSuitable
	if a.Suitable() {
		transition = tAssessSuitable
	}
	in, err := s.fireInstance(ctx, pr, st, transition, map[string]any{"assessment": a})
	if err != nil {
		return nil, nil, err
	}
	row, err := store.GetPartnershipAssessment(ctx, s.db.Pool, st.ID)
	return in, row, err
}

// AddDraft adds the next version of the agreement text while negotiating.
func (s *Service) AddDraft(ctx context.Context, pr authz.Principal, st workflows.Step, body string) (*store.PartnershipDraft, error) {
	if err := validate.Text("body", strings.TrimSpace(body), 1, 200000); err != nil {
		return nil, err
	}
	d := &store.PartnershipDraft{PartnershipID: st.ID, Body: body, CreatedBy: actorID(pr)}
	_, err := s.act(ctx, pr, st, "partnership.draft", addDraftStates,
		func(ctx context.Context, tx pgx.Tx, _ *store.Partnership, _ *store.Instance, now time.Time) (workflows.Note, error) {
			d.CreatedAt = now
			if err := store.InsertPartnershipDraft(ctx, tx, d); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "draft_added", Input: map[string]any{"version": d.Version}}, nil
		})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// CommentDraft comments on a draft of the partnership (st.ID), while
// negotiating or deciding. The expected version is the partnership's
// instance's, as for every command; a draft of another partnership is one
// that does not exist.
func (s *Service) CommentDraft(ctx context.Context, pr authz.Principal, st workflows.Step, draftID uuid.UUID, body string) (*store.DraftComment, error) {
	if err := validate.Text("body", strings.TrimSpace(body), 1, 20000); err != nil {
		return nil, err
	}
	c := &store.DraftComment{DraftID: draftID, PartnershipID: st.ID, Body: body, AuthorID: pr.UserID}
	_, err := s.act(ctx, pr, st, "partnership.draft", commentDraftStates,
		func(ctx context.Context, tx pgx.Tx, p *store.Partnership, in *store.Instance, now time.Time) (workflows.Note, error) {
			// Asked once the partnership is known to be visible, so the
			// answer tells nothing of another partnership's drafts.
			d, err := store.GetPartnershipDraft(ctx, tx, draftID)
			if apperr.IsCode(err, apperr.NotFound) || (err == nil && d.PartnershipID != p.ID) {
				return workflows.Note{}, &apperr.Error{Code: apperr.NotFound, Field: "draftId", Message: "Utkastet finns inte. / The draft does not exist."}
			}
			if err != nil {
				return workflows.Note{}, err
			}
			c.CreatedAt = now
			c.OrganisationID = s.representedParty(pr, in)
			if err := store.InsertDraftComment(ctx, tx, c); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "draft_commented", Input: map[string]any{"version": d.Version}}, nil
		})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// representedParty is the idea-based party the actor represents, if any.
func (s *Service) representedParty(pr authz.Principal, in *store.Instance) *uuid.UUID {
	parties := IdeaBasedParties(in)
	for _, a := range s.eng.Policy().Assignments(pr) {
		if id, ok := authz.OrgOfScope(a.Scope); ok && a.Role == authz.RoleSectorRepresentative && slices.Contains(parties, id) {
			return &id
		}
	}
	return nil
}

// AttachDocument attaches a link or a file (at most 5 MB) until the
// partnership has ended.
func (s *Service) AttachDocument(ctx context.Context, pr authz.Principal, st workflows.Step, d DocumentInput) (*store.PartnershipDocument, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	doc := &store.PartnershipDocument{PartnershipID: st.ID, Kind: d.Kind, Title: d.Title, URL: d.URL, Content: d.Content,
		MediaType: d.MediaType, UploadedBy: actorID(pr)}
	_, err := s.act(ctx, pr, st, "partnership.draft",
		[]workflows.State{Initiative, Assessment, Negotiation, Decision, Active, AmendmentProposed, Renewal, Terminating},
		func(ctx context.Context, tx pgx.Tx, _ *store.Partnership, _ *store.Instance, now time.Time) (workflows.Note, error) {
			doc.CreatedAt = now
			if err := store.InsertPartnershipDocument(ctx, tx, doc); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "document_attached", Input: map[string]any{"kind": doc.Kind, "title": doc.Title}}, nil
		})
	if err != nil {
		return nil, err
	}
	doc.Content = nil
	return doc, nil
}

// AddNote adds an internal note (private to the parties and officials).
func (s *Service) AddNote(ctx context.Context, pr authz.Principal, st workflows.Step, body string) (*store.PartnershipNote, error) {
	if err := validate.Text("body", strings.TrimSpace(body), 1, 20000); err != nil {
		return nil, err
	}
	n := &store.PartnershipNote{PartnershipID: st.ID, Body: body, AuthorID: actorID(pr)}
	_, err := s.act(ctx, pr, st, "partnership.draft", nil,
		func(ctx context.Context, tx pgx.Tx, _ *store.Partnership, _ *store.Instance, now time.Time) (workflows.Note, error) {
			n.CreatedAt = now
			if err := store.InsertPartnershipNote(ctx, tx, n); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "note_added"}, nil
		})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// SubmitForDecision puts the newest draft before the parties' decision.
func (s *Service) SubmitForDecision(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fireInstance(ctx, pr, st, tSubmitForDecision, nil)
}

// SendBack returns the draft to negotiation, with a reason; approvals
// given so far lapse.
func (s *Service) SendBack(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fireInstance(ctx, pr, st, tSendBack, nil)
}

// Approve records the actor's approval of the draft for their party: the
// public body's decision-maker or an idea-based party's board
// representative. When every party has approved, the partnership is active.
func (s *Service) Approve(ctx context.Context, pr authz.Principal, st workflows.Step) (*workflows.Result, error) {
	return s.fire(ctx, pr, st, tApprove, nil)
}

// Resolution is one of the decisions the parties take by each approving it.
type Resolution int

// The resolutions.
const (
	// AgreementResolution is the decision on the agreement (Approve).
	AgreementResolution Resolution = iota + 1
	// RenewalResolution is the decision on a proposed renewal (Renew).
	RenewalResolution
	// AmendmentResolution is the decision on a proposed amendment
	// (AdoptAmendment).
	AmendmentResolution
)

var resolutionTransitions = map[Resolution]string{AgreementResolution: tApprove, RenewalResolution: tRenew, AmendmentResolution: tAdoptAmendment}

// WithdrawApproval takes back the actor's approval of a decision before
// every party has approved.
func (s *Service) WithdrawApproval(ctx context.Context, pr authz.Principal, st workflows.Step, r Resolution) (*store.Instance, error) {
	transition, ok := resolutionTransitions[r]
	if !ok {
		return nil, apperr.Invalid("resolution", "Inget sådant beslut finns. / There is no such decision.")
	}
	_, in, err := s.load(ctx, s.db.Pool, st.ID)
	if err != nil {
		return nil, err
	}
	in, err = s.eng.WithdrawApproval(ctx, workflows.WithdrawParams{InstanceID: in.ID, Kind: Kind, Transition: transition, Actor: pr,
		ExpectedVersion: st.ExpectedVersion, Reason: st.Reason})
	return in, inPartnershipTerms(err)
}

// Withdraw abandons the partnership before it is agreed, with a reason.
func (s *Service) Withdraw(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fireInstance(ctx, pr, st, tWithdraw, nil)
}

// SubmitReport submits the follow-up report on a year once it is open;
// a report submitted after its due date is marked late.
func (s *Service) SubmitReport(ctx context.Context, pr authz.Principal, st workflows.Step, year int, body string) (*store.PartnershipReport, error) {
	if err := validate.Text("body", strings.TrimSpace(body), 1, 100000); err != nil {
		return nil, err
	}
	var out *store.PartnershipReport
	_, err := s.act(ctx, pr, st, "partnership.report", agreed,
		func(ctx context.Context, tx pgx.Tx, p *store.Partnership, _ *store.Instance, now time.Time) (workflows.Note, error) {
			r, err := store.GetPartnershipReport(ctx, tx, p.ID, year, today(now))
			if apperr.IsCode(err, apperr.NotFound) {
				return workflows.Note{}, &apperr.Error{Code: apperr.NotFound, Field: "year",
					Message: fmt.Sprintf("Uppföljningsrapporten för %d är inte öppnad. / The follow-up report for %d is not open.", year, year)}
			}
			if err != nil {
				return workflows.Note{}, err
			}
			ok, err := store.SubmitPartnershipReport(ctx, tx, r.PartnershipID, r.Year, body, pr.UserID, now)
			if err != nil {
				return workflows.Note{}, err
			}
			if !ok {
				return workflows.Note{}, apperr.New(apperr.Conflict, "Rapporten för %d är redan inlämnad. / The report for %d has already been submitted.", year, year)
			}
			if out, err = store.GetPartnershipReport(ctx, tx, p.ID, year, today(now)); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "report_submitted", Input: map[string]any{"year": year, "late": out.Late}}, nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProposeRenewal proposes a new period up to end; when every party
// approves it (Renew) the partnership is active again until then. A new
// proposal replaces the previous one and its approvals.
func (s *Service) ProposeRenewal(ctx context.Context, pr authz.Principal, st workflows.Step, end time.Time) (*store.Instance, error) {
	return s.fireInstance(ctx, pr, st, tProposeRenewal, map[string]any{"endDate": dateOf(end).Format(time.DateOnly)})
}

// Renew approves the proposed renewal for the actor's party.
func (s *Service) Renew(ctx context.Context, pr authz.Principal, st workflows.Step) (*workflows.Result, error) {
	return s.fire(ctx, pr, st, tRenew, nil)
}

// Terminate gives notice on behalf of party (the public body or an
// idea-based organisation, which the actor must represent), with a reason
// (st.Reason, required); the partnership is terminated when the notice
// period has passed.
func (s *Service) Terminate(ctx context.Context, pr authz.Principal, st workflows.Step, party uuid.UUID) (*store.Instance, error) {
	if err := validate.Text("reason", strings.TrimSpace(st.Reason), 1, 2000); err != nil {
		return nil, err
	}
	return s.fireInstance(ctx, pr, st, tTerminate, map[string]any{"partyId": party.String()})
}

// Amend proposes an amendment of an active partnership; it takes effect
// when every party approves it (AdoptAmendment).
func (s *Service) Amend(ctx context.Context, pr authz.Principal, st workflows.Step, a AmendmentInput) (*store.Instance, *store.Amendment, error) {
	p, in, err := s.load(ctx, s.db.Pool, st.ID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.eng.Policy().Authorize(ctx, pr, "partnership.amend", in.Scopes); err != nil {
		return nil, nil, err
	}
	am, err := a.check(p, partiesOf(in))
	if err != nil {
		return nil, nil, err
	}
	out, err := s.fireInstance(ctx, pr, st, tProposeAmendment, map[string]any{"amendment": am})
	if err != nil {
		return nil, nil, err
	}
	row, err := store.OpenAmendment(ctx, s.db.Pool, st.ID)
	return out, row, err
}

// AdoptAmendment approves the proposed amendment for the actor's party.
func (s *Service) AdoptAmendment(ctx context.Context, pr authz.Principal, st workflows.Step) (*workflows.Result, error) {
	return s.fire(ctx, pr, st, tAdoptAmendment, nil)
}

// RejectAmendment rejects (or withdraws) the proposed amendment, with a
// reason.
func (s *Service) RejectAmendment(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fireInstance(ctx, pr, st, tRejectAmendment, nil)
}
