package revision

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/signing"
)

// Service runs revisions.
type Service struct {
	eng  *workflows.Engine
	db   *store.DB
	opts Options
}

// NewService registers the definition and returns the service.
func NewService(eng *workflows.Engine, sign *signing.Service, o Options) (*Service, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := eng.Register(Definition(o, sign)); err != nil {
		return nil, err
	}
	return &Service{eng: eng, db: eng.DB(), opts: o}, nil
}

// Open opens the revision of an agreement version early (officials). A
// version is revised once: a second opening is a CONFLICT.
func (s *Service) Open(ctx context.Context, pr authz.Principal, versionID uuid.UUID) (*store.Instance, error) {
	if err := s.eng.Policy().Authorize(ctx, pr, "revision.open", []string{authz.ScopeRegion}); err != nil {
		return nil, err
	}
	var in *store.Instance
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := registry.VersionTx(ctx, tx, versionID); err != nil {
			return err
		}
		var err error
		in, err = s.startTx(ctx, tx, pr, versionID)
		if apperr.IsCode(err, apperr.Conflict) {
			return apperr.New(apperr.Conflict, "Revideringen av den här versionen är redan öppnad. / The revision of this version is already open.")
		}
		return err
	})
	return in, err
}

func (s *Service) startTx(ctx context.Context, tx pgx.Tx, pr authz.Principal, versionID uuid.UUID) (*store.Instance, error) {
	return s.eng.StartTx(ctx, tx, workflows.StartParams{Kind: Kind, SubjectType: "agreement_version", SubjectID: versionID,
		Scopes: Scopes, Actor: pr, Data: map[string]any{"agreementVersionId": versionID.String()}})
}

// OpenDue opens the revision of every version in force that reaches five
// years within the lead time. Safe to run any number of times at once.
func (s *Service) OpenDue(ctx context.Context) (int, error) {
	due, err := store.DueRevisions(ctx, s.db.Pool, s.eng.Clock().Now().Add(s.opts.Lead))
	if err != nil {
		return 0, err
	}
	return workflows.StartEach(ctx, s.eng, due, func(ctx context.Context, tx pgx.Tx, v uuid.UUID) error {
		_, err := s.startTx(ctx, tx, authz.SystemPrincipal, v)
		return err
	})
}

// command runs one of the commands by its rule (see commands.go).
func (s *Service) command(ctx context.Context, pr authz.Principal, st workflows.Step, c Command,
	fn func(context.Context, pgx.Tx, *store.Instance, time.Time) (workflows.Note, error)) (*store.Instance, error) {
	r := commandRules[c]
	return s.eng.Act(ctx, workflows.ActParams{InstanceID: st.ID, Kind: Kind, Actor: pr, Action: r.action, States: r.states,
		ExpectedVersion: st.ExpectedVersion}, fn)
}

func (s *Service) fire(ctx context.Context, pr authz.Principal, p workflows.FireParams) (*store.Instance, error) {
	p.Kind, p.Actor = Kind, pr
	res, err := s.eng.Fire(ctx, p)
	if err != nil {
		return nil, err
	}
	return res.Instance, nil
}

// Advance ends the current phase (pre-phase, gathering or dialogue) and
// starts the next; the later phases move on by their own commands.
func (s *Service) Advance(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, workflows.FireParams{InstanceID: st.ID, ExpectedVersion: st.ExpectedVersion, Reason: st.Reason,
		TransitionFor: func(from workflows.State) string { return nextPhase[from] }})
}

// OpenConsultation sends the latest draft out on a consultation round that
// closes by itself at deadline.
func (s *Service) OpenConsultation(ctx context.Context, pr authz.Principal, st workflows.Step, deadline time.Time) (*store.Instance, error) {
	return s.fire(ctx, pr, workflows.FireParams{InstanceID: st.ID, ExpectedVersion: st.ExpectedVersion, Reason: st.Reason,
		Transition: tOpenConsultation, Input: map[string]any{inDeadline: deadline}})
}

// SendBack sends the revision from the decision back to drafting, with a
// reason.
func (s *Service) SendBack(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, workflows.FireParams{InstanceID: st.ID, ExpectedVersion: st.ExpectedVersion, Reason: st.Reason, Transition: tSendBack})
}

// AddDraft adds the next draft version while drafting.
func (s *Service) AddDraft(ctx context.Context, pr authz.Principal, st workflows.Step, title, body string) (*store.Instance, *store.Draft, error) {
	if err := validate.Text("title", title, 1, 300); err != nil {
		return nil, nil, err
	}
	if err := validate.Text("body", body, 1, 200000); err != nil {
		return nil, nil, err
	}
	d := &store.Draft{InstanceID: st.ID, Title: title, Body: body}
	if pr.Authenticated() {
		d.CreatedBy = &pr.UserID
	}
	in, err := s.command(ctx, pr, st, AddDraftCommand,
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			d.CreatedAt = now
			if err := store.InsertDraft(ctx, tx, d); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "draft_added", Input: map[string]any{"version": d.Version, "title": title}}, nil
		})
	if err != nil {
		return nil, nil, err
	}
	return in, d, nil
}

// DecisionDetails are what the decision says of the version it adopts.
type DecisionDetails struct {
	// Title of the new version; empty keeps the adopted draft's title.
	Title             string
	DecisionReference string
	ScopeNote         string
}

// SetDecision records the title, decision reference and scope note that
// the adopted version will carry.
func (s *Service) SetDecision(ctx context.Context, pr authz.Principal, st workflows.Step, d DecisionDetails) (*store.Instance, error) {
	if err := validate.Text("title", d.Title, 0, 300); err != nil {
		return nil, err
	}
	if err := validate.Text("decisionReference", d.DecisionReference, 0, 200); err != nil {
		return nil, err
	}
	if err := validate.Text("scopeNote", d.ScopeNote, 0, 2000); err != nil {
		return nil, err
	}
	return s.command(ctx, pr, st, SetDecisionCommand,
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			workflows.SetData(in, keyNewTitle, d.Title)
			workflows.SetData(in, keyDecisionReference, d.DecisionReference)
			workflows.SetData(in, keyScopeNote, d.ScopeNote)
			return workflows.Note{Kind: "decision_details", Input: map[string]any{"title": d.Title, "decisionReference": d.DecisionReference,
				"scopeNote": d.ScopeNote}, Public: true}, nil
		})
}

// Invite lets an organisation that has not signed comment in the round.
func (s *Service) Invite(ctx context.Context, pr authz.Principal, st workflows.Step, orgID uuid.UUID) (*store.Instance, error) {
	return s.command(ctx, pr, st, InviteCommand,
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			org, err := store.GetOrganisation(ctx, tx, orgID)
			if err != nil {
				return workflows.Note{}, apperr.Invalid("organisationId", "Organisationen finns inte. / The organisation does not exist.")
			}
			if err := store.InviteToConsultation(ctx, tx, in.ID, orgID); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "organisation_invited", Input: map[string]any{"organisation": org.Name}, Public: true}, nil
		})
}

// CommentInput is a comment on the draft out for consultation.
type CommentInput struct {
	workflows.Step
	OrganisationID uuid.UUID
	Section        string
	Body           string
}

// Comment records an organisation's comment on a section of the draft out
// for consultation, as the organisation's voice: the commenter must
// represent it. Only signatories of the version under revision and invited
// organisations comment, and only until the round's deadline.
func (s *Service) Comment(ctx context.Context, pr authz.Principal, c CommentInput) (*store.Comment, error) {
	if err := validate.Text("section", c.Section, 1, 100); err != nil {
		return nil, err
	}
	if err := validate.Text("body", c.Body, 1, 20000); err != nil {
		return nil, err
	}
	var out *store.Comment
	_, err := s.eng.Act(ctx, workflows.ActParams{InstanceID: c.ID, Kind: Kind, Actor: pr, Action: commandRules[CommentCommand].action,
		Scopes: []string{authz.OrgScope(c.OrganisationID)}, ExpectedVersion: c.ExpectedVersion},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			deadline, open := ConsultationDeadline(in)
			if in.State != string(Consultation) || !open || !now.Before(deadline) {
				if open {
					return workflows.Note{}, apperr.New(apperr.InvalidTransition, "Synpunktsrundan stängde %s; synpunkter tas inte längre emot. / The consultation round closed on %s; comments are no longer accepted.",
						deadline.In(clock.Stockholm).Format("2006-01-02 15:04"), deadline.In(clock.Stockholm).Format("2006-01-02 15:04"))
				}
				return workflows.Note{}, apperr.New(apperr.InvalidTransition, "Ingen synpunktsrunda är öppen. / No consultation round is open.")
			}
			signed, err := store.CurrentSignatory(ctx, tx, in.SubjectID, c.OrganisationID)
			if err != nil && !apperr.IsCode(err, apperr.NotFound) {
				return workflows.Note{}, err
			}
			if signed == nil || apperr.IsCode(err, apperr.NotFound) {
				invited, err := store.IsInvited(ctx, tx, in.ID, c.OrganisationID)
				if err != nil {
					return workflows.Note{}, err
				}
				if !invited {
					return workflows.Note{}, apperr.New(apperr.Forbidden, "Bara undertecknare och inbjudna organisationer lämnar synpunkter. / Only signatories and invited organisations comment.")
				}
			}
			draftID, _ := workflows.DataUUID(in, keyConsultationDraft)
			out = &store.Comment{InstanceID: in.ID, DraftID: draftID, Section: c.Section, Body: c.Body,
				OrganisationID: c.OrganisationID, AuthorID: pr.UserID, SubmittedAt: now}
			if err := store.InsertComment(ctx, tx, out); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "comment_submitted", Input: map[string]any{"section": c.Section, "comment": out.ID.String()}}, nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Respond records the council's response to a comment.
func (s *Service) Respond(ctx context.Context, pr authz.Principal, commentID uuid.UUID, response string) (*store.Comment, error) {
	if err := validate.Text("response", response, 1, 20000); err != nil {
		return nil, err
	}
	c, err := store.GetComment(ctx, s.db.Pool, commentID)
	if err != nil {
		if apperr.IsCode(err, apperr.NotFound) {
			return nil, apperr.New(apperr.NotFound, "Synpunkten finns inte. / The comment does not exist.")
		}
		return nil, err
	}
	_, err = s.command(ctx, pr, workflows.Step{ID: c.InstanceID}, RespondCommand,
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			if err := store.RespondToComment(ctx, tx, c.ID, response, pr.UserID, now); err != nil {
				return workflows.Note{}, err
			}
			c.Response, c.RespondedBy, c.RespondedAt = &response, &pr.UserID, &now
			return workflows.Note{Kind: "comment_answered", Input: map[string]any{"comment": c.ID.String(), "section": c.Section}, Public: true}, nil
		})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Revision is the revision of a version (nil when none).
func (s *Service) Revision(ctx context.Context, versionID uuid.UUID) (*store.Instance, error) {
	all, err := store.InstancesOfKind(ctx, s.db.Pool, Kind, &versionID)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[0], nil
}

// VisibleDrafts keeps of a revision's drafts those pr may read: all of them
// for those who may read the revision's private side, otherwise every draft
// that has been out for consultation.
func (s *Service) VisibleDrafts(ctx context.Context, pr authz.Principal, in *store.Instance, all []*store.Draft) []*store.Draft {
	if s.eng.CanReadPrivate(ctx, pr, in) {
		return all
	}
	public := publicDrafts(in)
	out := []*store.Draft{}
	for _, d := range all {
		if slices.Contains(public, d.ID) {
			out = append(out, d)
		}
	}
	return out
}

// VisibleComments keeps of a revision's comments those pr may read: all of
// them for those who may read the revision's private side, otherwise those
// the council has answered (the answer is public, with what it answers).
func (s *Service) VisibleComments(ctx context.Context, pr authz.Principal, in *store.Instance, all []*store.Comment) []*store.Comment {
	if s.eng.CanReadPrivate(ctx, pr, in) {
		return all
	}
	out := []*store.Comment{}
	for _, c := range all {
		if c.Response != nil {
			out = append(out, c)
		}
	}
	return out
}

// Comments lists the comments of a revision that pr may read.
func (s *Service) Comments(ctx context.Context, pr authz.Principal, in *store.Instance) ([]*store.Comment, error) {
	all, err := store.Comments(ctx, s.db.Pool, in.ID)
	if err != nil {
		return nil, err
	}
	return s.VisibleComments(ctx, pr, in, all), nil
}

// Drafts lists the drafts of a revision that pr may read.
func (s *Service) Drafts(ctx context.Context, pr authz.Principal, in *store.Instance) ([]*store.Draft, error) {
	all, err := store.Drafts(ctx, s.db.Pool, in.ID)
	if err != nil {
		return nil, err
	}
	return s.VisibleDrafts(ctx, pr, in, all), nil
}

// DraftsOf reads the drafts of many revisions at once, each kept to what pr
// may read (for batch loaders); a revision pr may not see has none.
func (s *Service) DraftsOf(ctx context.Context, pr authz.Principal, revisionIDs []uuid.UUID) (map[uuid.UUID][]*store.Draft, error) {
	revisions, err := s.eng.InstancesByIDs(ctx, pr, revisionIDs)
	if err != nil {
		return nil, err
	}
	rows, err := store.DraftsOf(ctx, s.db.Pool, revisionIDs)
	if err != nil {
		return nil, err
	}
	all := make(map[uuid.UUID][]*store.Draft, len(revisionIDs))
	for _, d := range rows {
		all[d.InstanceID] = append(all[d.InstanceID], d)
	}
	out := make(map[uuid.UUID][]*store.Draft, len(revisionIDs))
	for _, id := range revisionIDs {
		out[id] = []*store.Draft{}
	}
	for _, in := range revisions {
		if in.Kind == Kind {
			out[in.ID] = s.VisibleDrafts(ctx, pr, in, all[in.ID])
		}
	}
	return out, nil
}

// ConsultationDraft is the ID of the draft sent out for consultation.
func ConsultationDraft(in *store.Instance) (uuid.UUID, bool) {
	return workflows.DataUUID(in, keyConsultationDraft)
}
