// Package registry keeps the organisations and the agreements they sign:
// registering and editing organisations, creating agreements and reading
// their versions. The workflows build on it.
package registry

import (
	"context"
	"log/slog"
	"net/mail"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/ratelimit"
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
	// registrations bounds how many organisations one person registers.
	registrations *ratelimit.Limiter
}

// DefaultRegistrationsPerHour is how many organisations one person may
// register in an hour unless configured otherwise.
const DefaultRegistrationsPerHour = 20

// Option configures the registry.
type Option func(*Service)

// WithRegistrationsPerHour sets how many organisations one person may
// register in any hour; 0 or less allows any number.
func WithRegistrationsPerHour(n int) Option {
	return func(s *Service) { s.registrations.Max = n }
}

// New returns the registry service.
func New(db *store.DB, policy *authz.PolicyEnforcer, clk clock.Clock, log *slog.Logger, opts ...Option) *Service {
	s := &Service{db: db, policy: policy, clock: clk, log: log, registrations: ratelimit.New(ratelimit.Limit{
		Action: "organisation.register", Max: DefaultRegistrationsPerHour, Window: time.Hour,
		WhatSV: "registrerade organisationer", WhatEN: "organisations registered"})}
	for _, o := range opts {
		o(s)
	}
	return s
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
	// AskToRepresent, on registration: whether the registrant asks to
	// represent the organisation (nil: yes, unless they hold a role on the
	// public side).
	AskToRepresent *bool
}

// RegisterOrganisation registers an organisation. Registering grants
// nothing: the person registering an idea-based organisation asks, with it,
// to represent it (unless they hold a role on the public side, or say no),
// and an official confirms that before they may act on its behalf. Public
// bodies are registered by officials and admins. One person registers at
// most so many organisations an hour (RATE_LIMITED beyond, and nothing is
// written).
func (s *Service) RegisterOrganisation(ctx context.Context, pr authz.Principal, in OrganisationInput) (*store.Organisation, *store.Claim, error) {
	action := "organisation.register"
	if in.Sector == SectorPublic {
		action = "organisation.register_public_body"
	}
	if err := s.policy.Authorize(ctx, pr, action, []string{authz.ScopeAll, authz.ScopeRegion}); err != nil {
		return nil, nil, err
	}
	if err := s.registrations.Refused(pr.UserID, s.clock.Now()); err != nil {
		return nil, nil, err
	}
	if err := validateOrganisation(&in, true); err != nil {
		return nil, nil, err
	}
	num, err := orgnr.Parse(in.OrganisationNumber)
	if err != nil {
		return nil, nil, err
	}
	ask := in.AskToRepresent == nil || *in.AskToRepresent
	if in.AskToRepresent != nil && *in.AskToRepresent && (in.Sector != SectorIdeaBased || s.publicSide(pr)) {
		return nil, nil, errPublicSideClaim()
	}
	ask = ask && in.Sector == SectorIdeaBased && pr.Authenticated() && !s.publicSide(pr)
	now := s.clock.Now()
	o := &store.Organisation{Name: in.Name, OrganisationNumber: string(num), LegalForm: in.LegalForm, Sector: in.Sector,
		Municipality: in.Municipality, Website: in.Website, Description: in.Description,
		ContactEmail: in.ContactEmail, ContactPhone: in.ContactPhone, CreatedAt: now, NameSkeleton: Skeleton(in.Name)}
	var claim *store.Claim
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		if err := s.registrations.TakeTx(ctx, tx, pr.UserID, now); err != nil {
			return err
		}
		if err := nameUnlike(ctx, tx, o.NameSkeleton, uuid.Nil, o.OrganisationNumber); err != nil {
			return err
		}
		if err := store.InsertOrganisation(ctx, tx, o); err != nil {
			return err
		}
		if err := store.AppendEvent(ctx, tx, &store.Event{Stream: OrganisationStream(o.ID), OccurredAt: now, ActorID: actorID(pr),
			Kind: "organisation_registered", Input: store.MarshalInput(map[string]string{"name": o.Name, "organisationNumber": num.String()}),
			Public: true}); err != nil {
			return err
		}
		if !ask {
			return nil
		}
		claim, err = s.claimTx(ctx, tx, pr, o.ID, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return o, claim, nil
}

// publicSide tells whether pr holds a role on the public side (an official,
// a politician, the council's Region side): such a person never represents
// an idea-based organisation unless an admin assigns it explicitly.
func (s *Service) publicSide(pr authz.Principal) bool {
	for _, a := range s.policy.Assignments(pr) {
		if p, ok := a.Party(); ok && p == authz.PartyRegion {
			return true
		}
	}
	return false
}

func errPublicSideClaim() error {
	return apperr.New(apperr.Forbidden, "Den som har en roll på den offentliga sidan företräder inte en idéburen organisation; en administratör kan tilldela rollen uttryckligen. / Someone with a role on the public side does not represent an idea-based organisation; an administrator may assign the role explicitly.")
}

func (s *Service) claimTx(ctx context.Context, tx pgx.Tx, pr authz.Principal, orgID uuid.UUID, now time.Time) (*store.Claim, error) {
	c := &store.Claim{OrganisationID: orgID, UserID: pr.UserID, RequestedAt: now}
	if err := store.InsertClaim(ctx, tx, c); err != nil {
		return nil, err
	}
	return c, store.AppendEvent(ctx, tx, &store.Event{Stream: OrganisationStream(orgID), OccurredAt: now, ActorID: actorID(pr),
		Kind: "representation_requested", Input: store.MarshalInput(map[string]string{"claim": c.ID.String(), "person": pr.UserID.String()})})
}

// AskToRepresent asks to represent an organisation already registered
// (whoever registered it first holds no privilege over a later, genuine
// representative). An official confirms or declines the request.
func (s *Service) AskToRepresent(ctx context.Context, pr authz.Principal, orgID uuid.UUID) (*store.Claim, error) {
	if err := s.policy.Authorize(ctx, pr, "organisation.claim", []string{authz.ScopeAll, authz.ScopeRegion}); err != nil {
		return nil, err
	}
	if s.publicSide(pr) {
		return nil, errPublicSideClaim()
	}
	var c *store.Claim
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		o, err := store.GetOrganisation(ctx, tx, orgID)
		if apperr.IsCode(err, apperr.NotFound) {
			return &apperr.Error{Code: apperr.NotFound, Field: "organisationId", Message: "Organisationen finns inte. / The organisation does not exist."}
		}
		if err != nil {
			return err
		}
		if o.Sector != SectorIdeaBased {
			return apperr.Invalid("organisationId", "Bara idéburna organisationer har företrädare här; offentliga parter företräds av tjänstepersoner. / Only idea-based organisations have representatives here; public bodies act through officials.")
		}
		if s.policy.Can(pr, "signing.apply", authz.OrgScope(orgID)) {
			return apperr.New(apperr.Conflict, "Du företräder redan %s. / You already represent %s.", o.Name, o.Name)
		}
		c, err = s.claimTx(ctx, tx, pr, orgID, s.clock.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ConfirmRepresentation: an official (or an admin) confirms that the person
// represents the organisation; they become its representative, recorded in
// the organisation's history in the same transaction, with the official's
// optional note.
func (s *Service) ConfirmRepresentation(ctx context.Context, pr authz.Principal, claimID uuid.UUID, note string) (*store.Claim, error) {
	if err := validate.Text("reason", note, 0, 2000); err != nil {
		return nil, err
	}
	var grant authz.Assignment
	c, err := s.decide(ctx, pr, claimID, "confirmed", note, func(tx pgx.Tx, c *store.Claim, now time.Time) error {
		if s.publicSide(authz.Principal{UserID: c.UserID}) {
			return errPublicSideClaim()
		}
		grant = authz.Assignment{UserID: c.UserID, Role: authz.RoleSectorRepresentative, Scope: authz.OrgScope(c.OrganisationID)}
		return authz.GrantTx(ctx, tx, pr, grant, now)
	})
	if err != nil {
		return nil, err
	}
	s.policy.Remember(grant)
	return c, nil
}

// DeclineRepresentation: an official declines a request, with a reason the
// person sees.
func (s *Service) DeclineRepresentation(ctx context.Context, pr authz.Principal, claimID uuid.UUID, reason string) (*store.Claim, error) {
	if err := validate.Text("reason", reason, 1, 2000); err != nil {
		return nil, err
	}
	return s.decide(ctx, pr, claimID, "declined", reason, func(pgx.Tx, *store.Claim, time.Time) error { return nil })
}

func (s *Service) decide(ctx context.Context, pr authz.Principal, claimID uuid.UUID, status, reason string,
	effect func(tx pgx.Tx, c *store.Claim, now time.Time) error) (*store.Claim, error) {
	if err := s.policy.Authorize(ctx, pr, "organisation.confirm_representation", []string{authz.ScopeAll, authz.ScopeRegion}); err != nil {
		return nil, err
	}
	var c *store.Claim
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = store.LockClaim(ctx, tx, claimID)
		if apperr.IsCode(err, apperr.NotFound) {
			return &apperr.Error{Code: apperr.NotFound, Field: "claimId", Message: "Begäran finns inte. / The request does not exist."}
		}
		if err != nil {
			return err
		}
		if c.Status != "requested" {
			return apperr.New(apperr.InvalidTransition, "Begäran är redan avgjord. / The request has already been decided.")
		}
		if c.UserID == pr.UserID {
			return apperr.New(apperr.Forbidden, "Ingen avgör sin egen begäran. / Nobody decides their own request.")
		}
		now := s.clock.Now()
		if err := effect(tx, c, now); err != nil {
			return err
		}
		if err := store.DecideClaim(ctx, tx, c.ID, status, pr.UserID, now, reason); err != nil {
			return err
		}
		c.Status, c.DecidedBy, c.DecidedAt, c.Reason = status, &pr.UserID, &now, reason
		return store.AppendEvent(ctx, tx, &store.Event{Stream: OrganisationStream(c.OrganisationID), OccurredAt: now, ActorID: actorID(pr),
			Kind: "representation_" + status, Input: store.MarshalInput(map[string]string{"claim": c.ID.String(), "person": c.UserID.String()}),
			Reason: reason})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ClaimsOf lists pr's own requests to represent organisations.
func (s *Service) ClaimsOf(ctx context.Context, pr authz.Principal) ([]*store.Claim, error) {
	if !pr.Authenticated() {
		return []*store.Claim{}, nil
	}
	return store.ClaimsOfUser(ctx, s.db.Pool, pr.UserID)
}

// OpenClaims lists the requests waiting for a decision, oldest first, for
// those who decide them.
func (s *Service) OpenClaims(ctx context.Context, pr authz.Principal) ([]*store.Claim, error) {
	if err := s.policy.Authorize(ctx, pr, "organisation.confirm_representation", []string{authz.ScopeAll, authz.ScopeRegion}); err != nil {
		return nil, err
	}
	return store.OpenClaims(ctx, s.db.Pool, 500)
}

// ClaimsOfOrganisation lists the requests to represent an organisation, for
// those who decide them (others see none).
func (s *Service) ClaimsOfOrganisation(ctx context.Context, pr authz.Principal, orgID uuid.UUID) ([]*store.Claim, error) {
	if s.policy.Authorize(ctx, pr, "organisation.confirm_representation", []string{authz.ScopeAll, authz.ScopeRegion}) != nil {
		return []*store.Claim{}, nil
	}
	return store.ClaimsOfOrganisations(ctx, s.db.Pool, []uuid.UUID{orgID})
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
		o.NameSkeleton = Skeleton(in.Name)
		if err := nameUnlike(ctx, tx, o.NameSkeleton, o.ID, o.OrganisationNumber); err != nil {
			return err
		}
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

// nameUnlike refuses a name whose skeleton another organisation's name
// (not except's) has; registering a number already registered is the
// store's CONFLICT instead.
func nameUnlike(ctx context.Context, tx pgx.Tx, skeleton string, except uuid.UUID, number string) error {
	existing, err := store.OrganisationNamedLike(ctx, tx, skeleton, except, number)
	if err != nil {
		return err
	}
	if existing != "" {
		return errConfusable(existing)
	}
	return nil
}

func actorID(pr authz.Principal) *uuid.UUID {
	if pr.Authenticated() {
		return &pr.UserID
	}
	return nil
}

// validateOrganisation checks every field of in (in the order the form
// shows them) and reports every bad one at once (apperr.Join).
func validateOrganisation(in *OrganisationInput, registering bool) error {
	name, nameErr := checkName(in.Name)
	if nameErr == nil {
		in.Name = name
	}
	errs := []error{nameErr}
	if registering {
		_, err := orgnr.Parse(in.OrganisationNumber)
		errs = append(errs, err)
	}
	if !slices.Contains(LegalForms, in.LegalForm) {
		errs = append(errs, apperr.Invalid("legalForm", "Okänd organisationsform %q. / Unknown legal form %q.", validate.Clip(in.LegalForm), validate.Clip(in.LegalForm)))
	}
	if registering && in.Sector != SectorIdeaBased && in.Sector != SectorPublic {
		errs = append(errs, apperr.Invalid("sector", "Sektorn ska vara idéburen eller offentlig. / The sector must be idea-based or public."))
	}
	errs = append(errs, validate.Text("municipality", in.Municipality, 0, 100))
	if in.ContactEmail != "" {
		if a, err := mail.ParseAddress(in.ContactEmail); err != nil || a.Address != in.ContactEmail || len(in.ContactEmail) > 254 {
			errs = append(errs, apperr.Invalid("contactEmail", "%q är ingen giltig e-postadress. / %q is not a valid e-mail address.", validate.Clip(in.ContactEmail), validate.Clip(in.ContactEmail)))
		}
	}
	errs = append(errs, validate.Text("contactPhone", in.ContactPhone, 0, 40),
		validate.URL("website", in.Website),
		validate.Text("description", in.Description, 0, 5000))
	return apperr.Join(errs...)
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

// CountOrganisations counts the organisations ListOrganisations lists for
// a search, over all its pages (the register is public).
func (s *Service) CountOrganisations(ctx context.Context, search string) (int, error) {
	return store.CountOrganisations(ctx, s.db.Pool, search)
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
