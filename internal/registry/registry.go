// Package registry keeps the organisations and the agreements they sign:
// registering and editing organisations, creating agreements and reading
// their versions. The workflows build on it.
package registry

import (
	"context"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
)

// Legal forms an organisation may have.
var LegalForms = []string{"ideell_forening", "ekonomisk_forening", "stiftelse", "trossamfund", "natverk", "kooperativ", "other"}

// Principles are the agreement's five principles; Dialog is the portal
// principle.
var Principles = []string{"Dialog", "Kvalitet", "Mångfald", "Självständighet", "Öppenhet"}

// Sectors.
const (
	SectorIdeaBased = "idea_based"
	SectorPublic    = "public"
)

// Service is the registry.
type Service struct {
	db     *store.DB
	policy *authz.PolicyEnforcer
	clock  clock.Clock
	log    *slog.Logger
}

// New returns the registry service.
func New(db *store.DB, policy *authz.PolicyEnforcer, clk clock.Clock, log *slog.Logger) *Service {
	return &Service{db: db, policy: policy, clock: clk, log: log}
}

// OrganisationInput is what registering or editing an organisation takes.
type OrganisationInput struct {
	Name               string
	OrganisationNumber string
	LegalForm          string
	Sector             string
	Municipality       string
	Website            string
	Description        string
	ContactEmail       string
	ContactPhone       string
}

// RegisterOrganisation registers an organisation. The person registering an
// idea-based organisation becomes its representative (officials check its
// eligibility when it applies to sign). Public bodies are registered by
// officials and admins.
func (s *Service) RegisterOrganisation(ctx context.Context, pr authz.Principal, in OrganisationInput) (*store.Organisation, error) {
	action := "organisation.register"
	if in.Sector == SectorPublic {
		action = "organisation.register_public_body"
	}
	if err := s.policy.Authorize(ctx, pr, action, []string{authz.ScopeAll, authz.ScopeRegion}); err != nil {
		return nil, err
	}
	num, err := orgnr.Parse(in.OrganisationNumber)
	if err != nil {
		return nil, err
	}
	if err := validateOrganisation(&in, true); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	o := &store.Organisation{Name: in.Name, OrganisationNumber: string(num), LegalForm: in.LegalForm, Sector: in.Sector,
		Municipality: in.Municipality, Website: in.Website, Description: in.Description,
		ContactEmail: in.ContactEmail, ContactPhone: in.ContactPhone, CreatedAt: now}
	grant := authz.Assignment{UserID: pr.UserID, Role: authz.RoleSectorRepresentative}
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.InsertOrganisation(ctx, tx, o); err != nil {
			return err
		}
		if err := store.AppendEvent(ctx, tx, &store.Event{Stream: OrganisationStream(o.ID), OccurredAt: now, ActorID: actorID(pr),
			Kind: "organisation_registered", Input: store.MarshalInput(map[string]string{"name": o.Name, "organisationNumber": num.String()}),
			Public: true}); err != nil {
			return err
		}
		if in.Sector != SectorIdeaBased || !pr.Authenticated() {
			return nil
		}
		grant.Scope = authz.OrgScope(o.ID)
		return authz.GrantTx(ctx, tx, pr, grant, now)
	})
	if err != nil {
		return nil, err
	}
	if grant.Scope != "" {
		s.policy.Remember(grant)
	}
	return o, nil
}

// OrganisationStream is the history stream of an organisation's record.
func OrganisationStream(id uuid.UUID) string { return "organisation:" + id.String() }

// UpdateOrganisation edits an organisation's description and contact
// details; its number and sector do not change.
func (s *Service) UpdateOrganisation(ctx context.Context, pr authz.Principal, id uuid.UUID, in OrganisationInput) (*store.Organisation, error) {
	scopes := []string{authz.OrgScope(id), authz.ScopeRegion}
	if err := s.policy.Authorize(ctx, pr, "organisation.update", scopes); err != nil {
		return nil, err
	}
	if err := validateOrganisation(&in, false); err != nil {
		return nil, err
	}
	var o *store.Organisation
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if o, err = store.GetOrganisation(ctx, tx, id); err != nil {
			return err
		}
		o.Name, o.LegalForm, o.Municipality, o.Website = in.Name, in.LegalForm, in.Municipality, in.Website
		o.Description, o.ContactEmail, o.ContactPhone = in.Description, in.ContactEmail, in.ContactPhone
		o.UpdatedAt = s.clock.Now()
		if err := store.UpdateOrganisation(ctx, tx, o); err != nil {
			return err
		}
		return store.AppendEvent(ctx, tx, &store.Event{Stream: OrganisationStream(o.ID), OccurredAt: o.UpdatedAt,
			ActorID: actorID(pr), Kind: "organisation_updated", Input: store.MarshalInput(map[string]string{"name": o.Name})})
	})
	return o, err
}

func actorID(pr authz.Principal) *uuid.UUID {
	if pr.Authenticated() {
		return &pr.UserID
	}
	return nil
}

func validateOrganisation(in *OrganisationInput, registering bool) error {
	in.Name = strings.TrimSpace(in.Name)
	if err := validate.Text("name", in.Name, 1, 300); err != nil {
		return err
	}
	if !slices.Contains(LegalForms, in.LegalForm) {
		return apperr.Invalid("legalForm", "Okänd organisationsform %q. / Unknown legal form %q.", validate.Clip(in.LegalForm), validate.Clip(in.LegalForm))
	}
	if registering && in.Sector != SectorIdeaBased && in.Sector != SectorPublic {
		return apperr.Invalid("sector", "Sektorn ska vara idéburen eller offentlig. / The sector must be idea-based or public.")
	}
	if err := validate.Text("municipality", in.Municipality, 0, 100); err != nil {
		return err
	}
	if err := validate.Text("description", in.Description, 0, 5000); err != nil {
		return err
	}
	if err := validate.Text("contactPhone", in.ContactPhone, 0, 40); err != nil {
		return err
	}
	if err := validate.URL("website", in.Website); err != nil {
		return err
	}
	if in.ContactEmail != "" {
		if a, err := mail.ParseAddress(in.ContactEmail); err != nil || a.Address != in.ContactEmail || len(in.ContactEmail) > 254 {
			return apperr.Invalid("contactEmail", "%q är ingen giltig e-postadress. / %q is not a valid e-mail address.", validate.Clip(in.ContactEmail), validate.Clip(in.ContactEmail))
		}
	}
	return nil
}

// Organisation reads one organisation.
func (s *Service) Organisation(ctx context.Context, id uuid.UUID) (*store.Organisation, error) {
	o, err := store.GetOrganisation(ctx, s.db.Pool, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, nil
	}
	return o, err
}

// OrganisationsByIDs reads several organisations.
func (s *Service) OrganisationsByIDs(ctx context.Context, ids []uuid.UUID) ([]*store.Organisation, error) {
	return store.OrganisationsByIDs(ctx, s.db.Pool, ids)
}

// ListOrganisations pages through organisations by name.
func (s *Service) ListOrganisations(ctx context.Context, p store.OrganisationPage) ([]*store.Organisation, error) {
	return store.ListOrganisations(ctx, s.db.Pool, p)
}

// CanSeePrivate tells whether pr may see an organisation's contact details.
func (s *Service) CanSeePrivate(pr authz.Principal, orgID uuid.UUID) bool {
	return s.policy.Can(pr, "organisation.read_private", authz.OrgScope(orgID), authz.ScopeRegion)
}

// VersionInput describes an adopted agreement version.
type VersionInput struct {
	Title             string
	Body              string
	DocumentURL       string
	AdoptedOn         time.Time
	DecisionReference string
	Principles        []string
	ValidFrom         time.Time
	ScopeNote         string
}

// Validate checks a version's fields.
func (in *VersionInput) Validate() error {
	if err := validate.Text("title", in.Title, 1, 300); err != nil {
		return err
	}
	if err := validate.Text("body", in.Body, 0, 200000); err != nil {
		return err
	}
	if err := validate.Text("decisionReference", in.DecisionReference, 0, 200); err != nil {
		return err
	}
	if err := validate.Text("scopeNote", in.ScopeNote, 0, 2000); err != nil {
		return err
	}
	if err := validate.URL("documentUrl", in.DocumentURL); err != nil {
		return err
	}
	if err := validate.Date("adoptedOn", in.AdoptedOn); err != nil {
		return err
	}
	if in.ValidFrom.IsZero() {
		in.ValidFrom = in.AdoptedOn
	}
	if err := validate.Date("validFrom", in.ValidFrom); err != nil {
		return err
	}
	if len(in.Principles) == 0 {
		in.Principles = Principles
	}
	for _, p := range in.Principles {
		if !slices.Contains(Principles, p) {
			return apperr.Invalid("principles", "Okänd princip %q. / Unknown principle %q.", validate.Clip(p), validate.Clip(p))
		}
	}
	return nil
}

// CreateAgreement creates an agreement with its first adopted version.
func (s *Service) CreateAgreement(ctx context.Context, pr authz.Principal, name string, publicBodyID uuid.UUID, v VersionInput) (*store.Agreement, *store.AgreementVersion, error) {
	if err := s.policy.Authorize(ctx, pr, "agreement.create", []string{authz.ScopeAll, authz.ScopeRegion}); err != nil {
		return nil, nil, err
	}
	if err := validate.Text("name", name, 1, 300); err != nil {
		return nil, nil, err
	}
	if err := v.Validate(); err != nil {
		return nil, nil, err
	}
	now := s.clock.Now()
	a := &store.Agreement{Name: name, PublicBodyID: publicBodyID, CreatedAt: now}
	var ver *store.AgreementVersion
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		body, err := store.GetOrganisation(ctx, tx, publicBodyID)
		if err != nil {
			if apperr.IsCode(err, apperr.NotFound) {
				return apperr.Invalid("publicBodyId", "Den offentliga parten finns inte. / The public body does not exist.")
			}
			return err
		}
		if body.Sector != SectorPublic {
			return apperr.Invalid("publicBodyId", "%s är ingen offentlig aktör. / %s is not a public body.", body.Name, body.Name)
		}
		if err := store.InsertAgreement(ctx, tx, a); err != nil {
			return err
		}
		ver, err = InsertVersionTx(ctx, tx, pr, a.ID, 1, v, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return a, ver, nil
}

// InsertVersionTx stores an adopted version (revision due five years after
// adoption) with its public history event.
func InsertVersionTx(ctx context.Context, tx pgx.Tx, pr authz.Principal, agreementID uuid.UUID, number int, v VersionInput, now time.Time) (*store.AgreementVersion, error) {
	ver := &store.AgreementVersion{AgreementID: agreementID, Number: number, Title: v.Title, Body: v.Body,
		DocumentURL: v.DocumentURL, AdoptedOn: v.AdoptedOn, DecisionReference: v.DecisionReference,
		Principles: v.Principles, ValidFrom: v.ValidFrom, RevisionDue: v.AdoptedOn.AddDate(5, 0, 0),
		ScopeNote: v.ScopeNote, CreatedAt: now}
	if err := store.InsertAgreementVersion(ctx, tx, ver); err != nil {
		return nil, err
	}
	err := store.AppendEvent(ctx, tx, &store.Event{Stream: "agreement:" + agreementID.String(), OccurredAt: now,
		ActorID: actorID(pr), Kind: "version_adopted", Public: true,
		Input: store.MarshalInput(map[string]any{"number": number, "title": v.Title, "adoptedOn": v.AdoptedOn.Format("2006-01-02"),
			"decisionReference": v.DecisionReference})})
	return ver, err
}

// Agreements lists the agreements.
func (s *Service) Agreements(ctx context.Context) ([]*store.Agreement, error) {
	return store.ListAgreements(ctx, s.db.Pool)
}

// Agreement reads an agreement (nil when missing).
func (s *Service) Agreement(ctx context.Context, id uuid.UUID) (*store.Agreement, error) {
	a, err := store.GetAgreement(ctx, s.db.Pool, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, nil
	}
	return a, err
}

// Versions lists an agreement's versions.
func (s *Service) Versions(ctx context.Context, agreementID uuid.UUID) ([]*store.AgreementVersion, error) {
	return store.AgreementVersions(ctx, s.db.Pool, agreementID)
}

// Version reads a version (nil when missing).
func (s *Service) Version(ctx context.Context, id uuid.UUID) (*store.AgreementVersion, error) {
	v, err := store.GetAgreementVersion(ctx, s.db.Pool, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, nil
	}
	return v, err
}

// VersionsByIDs reads several versions.
func (s *Service) VersionsByIDs(ctx context.Context, ids []uuid.UUID) ([]*store.AgreementVersion, error) {
	return store.AgreementVersionsByIDs(ctx, s.db.Pool, ids)
}

// VersionTx reads an agreement version that a command names; a version
// that does not exist is NOT_FOUND on the field agreementVersionId, with
// the same message wherever it is asked for.
func VersionTx(ctx context.Context, q store.Querier, id uuid.UUID) (*store.AgreementVersion, error) {
	v, err := store.GetAgreementVersion(ctx, q, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, &apperr.Error{Code: apperr.NotFound, Field: "agreementVersionId",
			Message: "Versionen av överenskommelsen finns inte. / The agreement version does not exist."}
	}
	return v, err
}

// AgreementsByIDs reads agreements (public).
func (s *Service) AgreementsByIDs(ctx context.Context, ids []uuid.UUID) ([]*store.Agreement, error) {
	return store.AgreementsByIDs(ctx, s.db.Pool, ids)
}

// VersionsOfAgreements reads many agreements' versions, oldest first.
func (s *Service) VersionsOfAgreements(ctx context.Context, ids []uuid.UUID) ([]*store.AgreementVersion, error) {
	return store.VersionsOfAgreements(ctx, s.db.Pool, ids)
}
