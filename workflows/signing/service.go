package signing

import (
	"context"
	"fmt"
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

// Service runs signing.
type Service struct {
	eng *workflows.Engine
	db  *store.DB
}

// NewService returns the signing service; it registers the definition.
func NewService(eng *workflows.Engine) (*Service, error) {
	if err := eng.Register(Definition()); err != nil {
		return nil, err
	}
	return &Service{eng: eng, db: eng.DB()}, nil
}

// Declarations are what an organisation declares when it applies.
type Declarations struct {
	RegionalPerspective bool
	DemocraticValues    bool
	Independent         bool
}

// Apply starts an organisation's application to sign an agreement version.
func (s *Service) Apply(ctx context.Context, pr authz.Principal, orgID, versionID uuid.UUID, d Declarations) (*store.Instance, error) {
	scopes := Scopes(orgID)
	if err := s.eng.Policy().Authorize(ctx, pr, "signing.apply", scopes[:1]); err != nil {
		return nil, err
	}
	var in *store.Instance
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		org, err := store.GetOrganisation(ctx, tx, orgID)
		if err != nil {
			return notFound(err, "organisationId", "Organisationen finns inte. / The organisation does not exist.")
		}
		// Every bad field at once: the version and the declarations.
		var declared error
		if !d.RegionalPerspective || !d.DemocraticValues || (!d.Independent && org.Sector == registry.SectorIdeaBased) {
			declared = apperr.Invalid("declarations", "För att underteckna ska organisationen ha ett regionalt perspektiv, demokratiska värderingar och vara organisatoriskt oberoende av offentlig sektor; bekräfta alla tre. / To sign, the organisation must have a regional perspective, democratic values and be organisationally independent of the public sector; confirm all three.")
		}
		if err := apperr.Join(s.currentVersion(ctx, tx, versionID), declared); err != nil {
			return err
		}
		if _, err := store.CurrentSignatory(ctx, tx, versionID, orgID); err == nil {
			return apperr.New(apperr.Conflict, "%s har redan undertecknat den här versionen. / %s has already signed this version.", org.Name, org.Name)
		} else if !apperr.IsCode(err, apperr.NotFound) {
			return err
		}
		in, err = s.eng.StartTx(ctx, tx, workflows.StartParams{
			Kind: Kind, SubjectType: "organisation", SubjectID: orgID, Scopes: scopes, Actor: pr,
			Data: map[string]any{keyOrganisation: orgID.String(), keyVersion: versionID.String(), keyPublicBody: org.Sector == registry.SectorPublic},
			Input: map[string]any{inRegionalPerspective: d.RegionalPerspective, inDemocraticValues: d.DemocraticValues,
				inIndependent: d.Independent},
		})
		if apperr.IsCode(err, apperr.Conflict) {
			return apperr.New(apperr.Conflict, "%s har redan en pågående ansökan för den här versionen. / %s already has an open application for this version.", org.Name, org.Name)
		}
		return err
	})
	return in, err
}

// Scopes are the policy scopes of an organisation's signing.
func Scopes(orgID uuid.UUID) []string {
	return []string{authz.OrgScope(orgID), authz.ScopeRegion}
}

func (s *Service) currentVersion(ctx context.Context, tx pgx.Tx, versionID uuid.UUID) error {
	v, err := registry.VersionTx(ctx, tx, versionID)
	if err != nil {
		return err
	}
	versions, err := store.AgreementVersions(ctx, tx, v.AgreementID)
	if err != nil {
		return err
	}
	if versions[len(versions)-1].ID != v.ID {
		return apperr.Invalid("agreementVersionId", "Version %d har ersatts av en nyare; ansök om att underteckna den gällande versionen. / Version %d has been superseded; apply to sign the current version.", v.Number, v.Number)
	}
	return nil
}

func notFound(err error, field, msg string) error {
	if apperr.IsCode(err, apperr.NotFound) {
		return &apperr.Error{Code: apperr.NotFound, Field: field, Message: msg}
	}
	return err
}

// fire fires one of the signing transitions on an application.
func (s *Service) fire(ctx context.Context, pr authz.Principal, st workflows.Step, transition string, input map[string]any) (*store.Instance, error) {
	res, err := s.eng.Fire(ctx, workflows.FireParams{Kind: Kind, InstanceID: st.ID, Transition: transition, Actor: pr,
		ExpectedVersion: st.ExpectedVersion, Input: input, Reason: st.Reason})
	if err != nil {
		return nil, err
	}
	return res.Instance, nil
}

// StartReview: an official starts reviewing an application.
func (s *Service) StartReview(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tStartReview, nil)
}

// RequestInformation: the official asks the organisation for more; the
// reason says what.
func (s *Service) RequestInformation(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tRequestInformation, nil)
}

// ProvideInformation: the organisation answers a request for information.
func (s *Service) ProvideInformation(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tProvideInformation, nil)
}

// Eligibility is what the official has checked before approving.
type Eligibility struct {
	RegionalPerspective bool
	DemocraticValues    bool
	// Independent of the public sector; it does not apply to a public body.
	Independent bool
}

// Approve: the official approves an application, having checked each
// criterion that applies to the organisation.
func (s *Service) Approve(ctx context.Context, pr authz.Principal, st workflows.Step, e Eligibility) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tApprove, map[string]any{inRegionalPerspective: e.RegionalPerspective,
		inDemocraticValues: e.DemocraticValues, inIndependent: e.Independent})
}

// Reject: the official rejects an application with a reason.
func (s *Service) Reject(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tReject, nil)
}

// Reopen: the official takes a rejected application up again, with a reason.
func (s *Service) Reopen(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tReopen, nil)
}

// AttachToCeremony: an approved organisation will sign at a planned
// ceremony, on its date.
func (s *Service) AttachToCeremony(ctx context.Context, pr authz.Principal, st workflows.Step, ceremonyID uuid.UUID) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tAttachToCeremony, map[string]any{inCeremony: ceremonyID.String()})
}

// DetachFromCeremony: the organisation will not sign at the ceremony after
// all (a reason is required); it is approved again.
func (s *Service) DetachFromCeremony(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tDetachFromCeremony, nil)
}

// Sign: an approved organisation signs directly, today.
func (s *Service) Sign(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tSign, nil)
}

// Withdraw: the organisation withdraws its application or its signature,
// with a reason.
func (s *Service) Withdraw(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tWithdraw, nil)
}

// Confirm: a signatory confirms a new version of the agreement.
func (s *Service) Confirm(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tConfirm, nil)
}

// ReconfirmDeadline is the date by which a signatory must confirm a new
// version (false when the instance is no re-confirmation request).
func ReconfirmDeadline(in *store.Instance) (time.Time, bool) {
	return workflows.DataTime(in, keyReconfirmDeadline)
}

// CeremonyOf is the ceremony an application waits for (false when it waits
// for none).
func CeremonyOf(in *store.Instance) (uuid.UUID, bool) {
	if in.Kind != Kind || workflows.State(in.State) != AwaitingCeremony {
		return uuid.Nil, false
	}
	return workflows.DataUUID(in, keyCeremony)
}

// CeremonyInput describes a signing ceremony.
type CeremonyInput struct {
	AgreementVersionID uuid.UUID
	Title              string
	HeldOn             time.Time
	Place              string
}

// CreateCeremony plans a signing ceremony.
func (s *Service) CreateCeremony(ctx context.Context, pr authz.Principal, in CeremonyInput) (*store.Ceremony, error) {
	if err := s.eng.Policy().Authorize(ctx, pr, "ceremony.create", []string{authz.ScopeRegion}); err != nil {
		return nil, err
	}
	if err := validate.Text("title", in.Title, 1, 200); err != nil {
		return nil, err
	}
	if err := validate.Text("place", in.Place, 0, 200); err != nil {
		return nil, err
	}
	if err := validate.Date("heldOn", in.HeldOn); err != nil {
		return nil, err
	}
	now := s.eng.Clock().Now()
	if !ceremonyMoment(in.HeldOn).After(now) {
		return nil, apperr.Invalid("heldOn", "En ceremoni planeras för ett kommande datum. / A ceremony is planned for a future date.")
	}
	c := &store.Ceremony{AgreementVersionID: in.AgreementVersionID, Title: in.Title, HeldOn: in.HeldOn, Place: in.Place, CreatedAt: now}
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if err := s.currentVersion(ctx, tx, in.AgreementVersionID); err != nil {
			return err
		}
		return store.InsertCeremony(ctx, tx, c)
	})
	return c, err
}

// RequestReconfirmationTx asks a signatory of an old version to confirm a
// new one by deadline, inside the caller's (adoption) transaction.
func (s *Service) RequestReconfirmationTx(ctx context.Context, tx pgx.Tx, orgID, newVersionID uuid.UUID, deadline time.Time) (*store.Instance, error) {
	return s.eng.StartTx(ctx, tx, workflows.StartParams{
		Kind: Kind, SubjectType: "organisation", SubjectID: orgID, Scopes: Scopes(orgID), Actor: authz.SystemPrincipal,
		State: ReconfirmationRequested, Data: map[string]any{keyOrganisation: orgID.String(), keyVersion: newVersionID.String(),
			keyReconfirmDeadline: deadline.UTC().Format(time.RFC3339)},
	})
}

// MoveOpenApplicationsTx moves every application to from that is still
// open (applied, under review, waiting for information, rejected but
// reopenable, approved, waiting for a ceremony, or a re-confirmation not yet
// given) to the version adopted in its place, inside the adoption's
// transaction: each gets a history event saying so and its organisation a
// notice; ceremonies of from still to be held become ceremonies of to. A
// signature already given stays on from (its holder is asked to re-confirm).
// It reports how many applications moved.
func (s *Service) MoveOpenApplicationsTx(ctx context.Context, tx pgx.Tx, from, to *store.AgreementVersion) (int, error) {
	open, err := store.OpenInstancesWithData(ctx, tx, Kind, keyVersion, from.ID.String())
	if err != nil {
		return 0, err
	}
	def := Definition()
	moved := 0
	for _, in := range open {
		if in.State == string(Signed) {
			continue
		}
		_, err := s.eng.ActTx(ctx, tx, workflows.ActParams{InstanceID: in.ID, Kind: Kind, Actor: authz.SystemPrincipal},
			func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
				workflows.SetData(in, keyVersion, to.ID)
				org, _ := ids(in)
				if err := store.InsertNotification(ctx, tx, &store.Notification{
					DedupeKey: "moved:" + in.ID.String() + ":" + to.ID.String(), InstanceID: &in.ID, OrganisationID: &org,
					RecipientRole: authz.RoleSectorRepresentative, Kind: "notice",
					Subject: fmt.Sprintf("Er ansökan gäller nu version %d av överenskommelsen / Your application is now for version %d of the agreement", to.Number, to.Number),
					Body: fmt.Sprintf("Version %d har antagits och ersätter version %d. Er pågående ansökan gäller nu version %d; ni behöver inte ansöka igen. / Version %d has been adopted in place of version %d. Your open application is now for version %d; you need not apply again.",
						to.Number, from.Number, to.Number, to.Number, from.Number, to.Number),
					CreatedAt: now,
				}); err != nil {
					return workflows.Note{}, err
				}
				return workflows.Note{Kind: "moved_to_version", Input: map[string]any{"from": from.Number, "to": to.Number},
					Reason: fmt.Sprintf("Version %d antogs i stället för version %d. / Version %d was adopted in place of version %d.", to.Number, from.Number, to.Number, from.Number),
					Public: def.Public(in)}, nil
			})
		if err != nil {
			return moved, err
		}
		moved++
	}
	return moved, store.MovePlannedCeremonies(ctx, tx, from.ID, to.ID)
}

// Signatories pages a version's public list.
func (s *Service) Signatories(ctx context.Context, p store.SignatoryPage) ([]*store.Signatory, error) {
	return store.ListSignatories(ctx, s.db.Pool, p)
}

// CountSignatories counts a version's signatories.
func (s *Service) CountSignatories(ctx context.Context, versionID uuid.UUID) (int, error) {
	return store.CountSignatories(ctx, s.db.Pool, versionID)
}

// SignaturesOf lists an organisation's signatures, ended ones included.
func (s *Service) SignaturesOf(ctx context.Context, orgID uuid.UUID) ([]*store.Signatory, error) {
	return store.SignaturesOfOrganisation(ctx, s.db.Pool, orgID)
}

// Applications lists an organisation's signing instances, newest first.
func (s *Service) Applications(ctx context.Context, orgID uuid.UUID) ([]*store.Instance, error) {
	all, err := store.InstancesBySubject(ctx, s.db.Pool, "organisation", orgID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if in.Kind == Kind {
			out = append(out, in)
		}
	}
	return out, nil
}

// CeremoniesByIDs reads ceremonies.
func (s *Service) CeremoniesByIDs(ctx context.Context, ids []uuid.UUID) ([]*store.Ceremony, error) {
	return store.CeremoniesByIDs(ctx, s.db.Pool, ids)
}

// PlannedCeremonies reads the ceremonies still to be held, soonest first,
// for those who may plan them.
func (s *Service) PlannedCeremonies(ctx context.Context, pr authz.Principal) ([]*store.Ceremony, error) {
	if err := s.eng.Policy().Authorize(ctx, pr, "ceremony.create", []string{authz.ScopeRegion}); err != nil {
		return nil, err
	}
	return store.PlannedCeremonies(ctx, s.db.Pool)
}

// Ceremony reads one ceremony (nil when missing).
func (s *Service) Ceremony(ctx context.Context, id uuid.UUID) (*store.Ceremony, error) {
	c, err := store.GetCeremony(ctx, s.db.Pool, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, nil
	}
	return c, err
}

// SignaturesOfOrganisations reads many organisations' signatures (public).
func (s *Service) SignaturesOfOrganisations(ctx context.Context, orgIDs []uuid.UUID) ([]*store.Signatory, error) {
	return store.SignaturesOfOrganisations(ctx, s.db.Pool, orgIDs)
}

// FirstSignatoryPages reads the first limit signatories of many versions'
// public lists, in signing order, each with org of its organisation.
func (s *Service) FirstSignatoryPages(ctx context.Context, versionIDs []uuid.UUID, limit int, org store.OrganisationColumns) ([]*store.Signatory, error) {
	return store.SignatoriesFirstPages(ctx, s.db.Pool, versionIDs, limit, org)
}

// CountSignatoriesOf counts many versions' signatories.
func (s *Service) CountSignatoriesOf(ctx context.Context, versionIDs []uuid.UUID) ([]store.VersionCount, error) {
	return store.CountSignatoriesOf(ctx, s.db.Pool, versionIDs)
}

// VersionsWithSignatories reads versions with the same page of each one's
// public list (p without its VersionID), in one round trip.
func (s *Service) VersionsWithSignatories(ctx context.Context, ids []uuid.UUID, p store.SignatoryPage) ([]*store.AgreementVersion, []*store.Signatory, error) {
	return store.VersionsWithSignatories(ctx, s.db.Pool, ids, p)
}
