package revision

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
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
	o = o.withDefaults()
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
		if _, err := store.GetAgreementVersion(ctx, tx, versionID); err != nil {
			if apperr.IsCode(err, apperr.NotFound) {
				return &apperr.Error{Code: apperr.NotFound, Field: "agreementVersionId", Message: "Versionen finns inte. / The agreement version does not exist."}
			}
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

func (s *Service) act(ctx context.Context, pr authz.Principal, id uuid.UUID, action string, states []workflows.State,
	fn func(context.Context, pgx.Tx, *store.Instance, time.Time) (workflows.Note, error)) (*store.Instance, error) {
	return s.eng.Act(ctx, workflows.ActParams{InstanceID: id, Actor: pr, Action: action, States: states},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			if in.Kind != Kind {
				return workflows.Note{}, apperr.New(apperr.NotFound, "Revideringen finns inte. / The revision does not exist.")
			}
			return fn(ctx, tx, in, now)
		})
}

// AddDraft adds the next draft version while drafting.
func (s *Service) AddDraft(ctx context.Context, pr authz.Principal, id uuid.UUID, title, body string) (*store.Instance, *store.Draft, error) {
	if err := validate.Text("title", title, 1, 300); err != nil {
		return nil, nil, err
	}
	if err := validate.Text("body", body, 1, 200000); err != nil {
		return nil, nil, err
	}
	d := &store.Draft{InstanceID: id, Title: title, Body: body}
	if pr.Authenticated() {
		d.CreatedBy = &pr.UserID
	}
	in, err := s.act(ctx, pr, id, "revision.draft", []workflows.State{Drafting},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			d.CreatedAt = now
			if err := store.InsertDraft(ctx, tx, d); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "draft_added", Input: map[string]any{"version": d.Version, "title": title}}, nil
		})
	return in, d, err
}

// SetDecision records the decision reference and scope note that the
// adopted version will carry.
func (s *Service) SetDecision(ctx context.Context, pr authz.Principal, id uuid.UUID, reference, scopeNote string) (*store.Instance, error) {
	if err := validate.Text("decisionReference", reference, 0, 200); err != nil {
		return nil, err
	}
	if err := validate.Text("scopeNote", scopeNote, 0, 2000); err != nil {
		return nil, err
	}
	return s.act(ctx, pr, id, "revision.advance", []workflows.State{Drafting, Consultation, Decision},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			in.Data[keyDecisionReference], in.Data[keyScopeNote] = reference, scopeNote
			return workflows.Note{Kind: "decision_details", Input: map[string]any{"decisionReference": reference, "scopeNote": scopeNote}, Public: true}, nil
		})
}

// Invite lets an organisation that has not signed comment in the round.
func (s *Service) Invite(ctx context.Context, pr authz.Principal, id, orgID uuid.UUID) (*store.Instance, error) {
	return s.act(ctx, pr, id, "revision.invite", []workflows.State{Drafting, Consultation},
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
	InstanceID     uuid.UUID
	OrganisationID uuid.UUID
	Section        string
	Body           string
}

// Comment records an organisation's comment on a section of the draft out
// for consultation. Only signatories of the version under revision and
// invited organisations comment, and only until the round's deadline.
func (s *Service) Comment(ctx context.Context, pr authz.Principal, c CommentInput) (*store.Comment, error) {
	if err := validate.Text("section", c.Section, 1, 100); err != nil {
		return nil, err
	}
	if err := validate.Text("body", c.Body, 1, 20000); err != nil {
		return nil, err
	}
	if err := s.eng.Policy().Authorize(ctx, pr, "revision.comment", []string{authz.OrgScope(c.OrganisationID)}); err != nil {
		return nil, err
	}
	var out *store.Comment
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		in, err := store.LockInstance(ctx, tx, c.InstanceID)
		if err != nil || in.Kind != Kind {
			return apperr.New(apperr.NotFound, "Revideringen finns inte. / The revision does not exist.")
		}
		now := s.eng.Clock().Now()
		deadline, open := workflows.DataTime(in, KeyConsultationDeadline)
		if in.State != string(Consultation) || !open || !now.Before(deadline) {
			if open {
				return apperr.New(apperr.InvalidTransition, "Synpunktsrundan stängde %s; synpunkter tas inte längre emot. / The consultation round closed on %s; comments are no longer accepted.",
					deadline.In(clock.Stockholm).Format("2006-01-02 15:04"), deadline.In(clock.Stockholm).Format("2006-01-02 15:04"))
			}
			return apperr.New(apperr.InvalidTransition, "Ingen synpunktsrunda är öppen. / No consultation round is open.")
		}
		signed, err := store.CurrentSignatory(ctx, tx, in.SubjectID, c.OrganisationID)
		if err != nil && !apperr.IsCode(err, apperr.NotFound) {
			return err
		}
		if signed == nil || apperr.IsCode(err, apperr.NotFound) {
			invited, err := store.IsInvited(ctx, tx, in.ID, c.OrganisationID)
			if err != nil {
				return err
			}
			if !invited {
				return apperr.New(apperr.Forbidden, "Bara undertecknare och inbjudna organisationer lämnar synpunkter. / Only signatories and invited organisations comment.")
			}
		}
		draftID, _ := uuid.Parse(stringOf(in.Data[keyConsultationDraft]))
		out = &store.Comment{InstanceID: in.ID, DraftID: draftID, Section: c.Section, Body: c.Body,
			OrganisationID: c.OrganisationID, AuthorID: pr.UserID, SubmittedAt: now}
		if err := store.InsertComment(ctx, tx, out); err != nil {
			return err
		}
		in.UpdatedAt = now
		if err := store.UpdateInstance(ctx, tx, in); err != nil {
			return err
		}
		return store.AppendEvent(ctx, tx, &store.Event{Stream: store.InstanceStream(in.ID), OccurredAt: now, ActorID: &pr.UserID,
			Kind: "comment_submitted", InstanceID: &in.ID, WorkflowKind: Kind, FromState: in.State, ToState: in.State,
			Input: store.MarshalInput(map[string]any{"section": c.Section, "comment": out.ID.String()})})
	})
	return out, err
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
	_, err = s.act(ctx, pr, c.InstanceID, "revision.respond", []workflows.State{Consultation, Decision},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			if err := store.RespondToComment(ctx, tx, c.ID, response, pr.UserID, now); err != nil {
				return workflows.Note{}, err
			}
			c.Response, c.RespondedBy, c.RespondedAt = &response, &pr.UserID, &now
			return workflows.Note{Kind: "comment_answered", Input: map[string]any{"comment": c.ID.String(), "section": c.Section}, Public: true}, nil
		})
	return c, err
}

// Revision is the revision of a version (nil when none).
func (s *Service) Revision(ctx context.Context, versionID uuid.UUID) (*store.Instance, error) {
	all, err := store.InstancesOfKind(ctx, s.db.Pool, Kind, &versionID)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[0], nil
}

// Drafts lists a revision's drafts.
func (s *Service) Drafts(ctx context.Context, id uuid.UUID) ([]*store.Draft, error) {
	return store.Drafts(ctx, s.db.Pool, id)
}

// Comments lists a revision's comments.
func (s *Service) Comments(ctx context.Context, id uuid.UUID) ([]*store.Comment, error) {
	return store.Comments(ctx, s.db.Pool, id)
}

// ConsultationDraft is the ID of the draft sent out for consultation.
func ConsultationDraft(in *store.Instance) (uuid.UUID, bool) {
	id, err := uuid.Parse(stringOf(in.Data[keyConsultationDraft]))
	return id, err == nil
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
