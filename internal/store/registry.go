package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/samverkan/samverkan/internal/orgnr"
)

// Organisation is an idea-based organisation or a public body.
type Organisation struct {
	ID                 uuid.UUID
	Name               string
	OrganisationNumber string // ten digits
	LegalForm          string
	Sector             string // idea_based or public
	Municipality       string
	Website            string
	Description        string
	ContactEmail       string
	ContactPhone       string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// NameSkeleton is the form of the name that names which look alike
	// share (registry.Skeleton); written, never read back.
	NameSkeleton string
}

// FormattedNumber is the organisation number as people write it,
// NNNNNN-NNNN (GraphQL's Organisation.organisationNumber, bound to it
// without a resolver).
func (o *Organisation) FormattedNumber() string { return orgnr.Number(o.OrganisationNumber).String() }

const orgColumns = `id, name, organisation_number, legal_form, sector, municipality, website, description,
	contact_email, contact_phone, created_at, updated_at`

func scanOrg(r pgx.Row) (*Organisation, error) {
	var o Organisation
	err := r.Scan(&o.ID, &o.Name, &o.OrganisationNumber, &o.LegalForm, &o.Sector, &o.Municipality, &o.Website,
		&o.Description, &o.ContactEmail, &o.ContactPhone, &o.CreatedAt, &o.UpdatedAt)
	return &o, err
}

// InsertOrganisation stores a new organisation; its number must be new.
func InsertOrganisation(ctx context.Context, q Querier, o *Organisation) error {
	if o.ID == uuid.Nil {
		o.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO organisations (`+orgColumns+`, name_skeleton) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)`,
		o.ID, o.Name, o.OrganisationNumber, o.LegalForm, o.Sector, o.Municipality, o.Website, o.Description,
		o.ContactEmail, o.ContactPhone, o.CreatedAt, o.NameSkeleton)
	if isUniqueViolation(err) {
		return conflictf("Organisationsnumret %s är redan registrerat. Be organisationens företrädare eller en administratör om behörighet. / Organisation number %s is already registered; ask its representative or an administrator for access.",
			o.OrganisationNumber[:6]+"-"+o.OrganisationNumber[6:], o.OrganisationNumber[:6]+"-"+o.OrganisationNumber[6:])
	}
	o.UpdatedAt = o.CreatedAt
	return translate(err, "store organisation")
}

// UpdateOrganisation writes an organisation's editable fields.
func UpdateOrganisation(ctx context.Context, q Querier, o *Organisation) error {
	_, err := q.Exec(ctx, `UPDATE organisations SET name = $2, legal_form = $3, municipality = $4, website = $5,
		description = $6, contact_email = $7, contact_phone = $8, updated_at = $9, name_skeleton = $10 WHERE id = $1`,
		o.ID, o.Name, o.LegalForm, o.Municipality, o.Website, o.Description, o.ContactEmail, o.ContactPhone, o.UpdatedAt, o.NameSkeleton)
	return translate(err, "update organisation")
}

// GetOrganisation reads one organisation.
func GetOrganisation(ctx context.Context, q Querier, id uuid.UUID) (*Organisation, error) {
	o, err := scanOrg(q.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE id = $1`, id))
	return o, translate(err, "read organisation")
}

// OrganisationNamedLike returns the name of another organisation (not
// except, and not one with the organisation number number, which is a
// conflict of its own) whose name has the skeleton, or "" when there is none: one
// lookup in the index of skeletons. It holds, until q's transaction ends,
// a lock on the skeleton, so that two confusable names registered at once
// do not both pass.
func OrganisationNamedLike(ctx context.Context, q Querier, skeleton string, except uuid.UUID, number string) (string, error) {
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('organisation name:' || $1, 0))`, skeleton); err != nil {
		return "", translate(err, "lock an organisation name")
	}
	var name string
	err := q.QueryRow(ctx, `SELECT name FROM organisations WHERE name_skeleton = $1 AND id <> $2 AND organisation_number <> $3
		ORDER BY created_at LIMIT 1`, skeleton, except, number).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, translate(err, "find a confusable organisation name")
}

// OrganisationByNumber reads the organisation with a number.
func OrganisationByNumber(ctx context.Context, q Querier, number string) (*Organisation, error) {
	o, err := scanOrg(q.QueryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE organisation_number = $1`, number))
	return o, translate(err, "read organisation")
}

// OrganisationsByIDs reads several organisations (for data loaders).
func OrganisationsByIDs(ctx context.Context, q Querier, ids []uuid.UUID) ([]*Organisation, error) {
	rows, err := q.Query(ctx, `SELECT `+orgColumns+` FROM organisations WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, translate(err, "read organisations")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Organisation, error) { return scanOrg(r) })
	return out, translate(err, "read organisations")
}

// OrganisationPage lists organisations by name after a cursor.
type OrganisationPage struct {
	Search    string
	AfterName string
	AfterID   uuid.UUID
	Limit     int
}

// ListOrganisations lists organisations ordered by name.
func ListOrganisations(ctx context.Context, q Querier, p OrganisationPage) ([]*Organisation, error) {
	rows, err := q.Query(ctx, `SELECT `+orgColumns+` FROM organisations
		WHERE ($1 = '' OR name ILIKE '%' || $1 || '%' OR organisation_number = $1)
		  AND (lower(name), id) > (lower($2), $3)
		ORDER BY lower(name), id LIMIT $4`, p.Search, p.AfterName, p.AfterID, p.Limit)
	if err != nil {
		return nil, translate(err, "list organisations")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Organisation, error) { return scanOrg(r) })
	return out, translate(err, "list organisations")
}

// CountOrganisations counts the organisations ListOrganisations lists for
// a search (every page together).
func CountOrganisations(ctx context.Context, q Querier, search string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM organisations
		WHERE ($1 = '' OR name ILIKE '%' || $1 || '%' OR organisation_number = $1)`, search).Scan(&n)
	return n, translate(err, "count organisations")
}

// Agreement is an Överenskommelse between a public body and the sector.
type Agreement struct {
	ID           uuid.UUID
	Name         string
	PublicBodyID uuid.UUID
	CreatedAt    time.Time
}

// InsertAgreement stores an agreement.
func InsertAgreement(ctx context.Context, q Querier, a *Agreement) error {
	if a.ID == uuid.Nil {
		a.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO agreements (id, name, public_body_id, created_at) VALUES ($1, $2, $3, $4)`,
		a.ID, a.Name, a.PublicBodyID, a.CreatedAt)
	return translate(err, "store agreement")
}

// GetAgreement reads an agreement.
func GetAgreement(ctx context.Context, q Querier, id uuid.UUID) (*Agreement, error) {
	var a Agreement
	err := q.QueryRow(ctx, `SELECT id, name, public_body_id, created_at FROM agreements WHERE id = $1`, id).
		Scan(&a.ID, &a.Name, &a.PublicBodyID, &a.CreatedAt)
	return &a, translate(err, "read agreement")
}

// ListAgreements lists all agreements, oldest first.
func ListAgreements(ctx context.Context, q Querier) ([]*Agreement, error) {
	rows, err := q.Query(ctx, `SELECT id, name, public_body_id, created_at FROM agreements ORDER BY created_at, id`)
	if err != nil {
		return nil, translate(err, "list agreements")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Agreement, error) {
		var a Agreement
		err := r.Scan(&a.ID, &a.Name, &a.PublicBodyID, &a.CreatedAt)
		return &a, err
	})
	return out, translate(err, "list agreements")
}

// AgreementVersion is one adopted version of an agreement.
type AgreementVersion struct {
	ID                uuid.UUID
	AgreementID       uuid.UUID
	Number            int
	Title             string
	Body              string
	DocumentURL       string
	AdoptedOn         time.Time
	DecisionReference string
	Principles        []string
	ValidFrom         time.Time
	RevisionDue       time.Time
	ScopeNote         string
	CreatedAt         time.Time
}

const versionColumns = `id, agreement_id, number, title, body, document_url, adopted_on, decision_reference,
	principles, valid_from, revision_due, scope_note, created_at`

func scanVersion(r pgx.Row) (*AgreementVersion, error) {
	var v AgreementVersion
	err := r.Scan(&v.ID, &v.AgreementID, &v.Number, &v.Title, &v.Body, &v.DocumentURL, &v.AdoptedOn,
		&v.DecisionReference, &v.Principles, &v.ValidFrom, &v.RevisionDue, &v.ScopeNote, &v.CreatedAt)
	return &v, err
}

// InsertAgreementVersion stores a version; its number must be new for the
// agreement.
func InsertAgreementVersion(ctx context.Context, q Querier, v *AgreementVersion) error {
	if v.ID == uuid.Nil {
		v.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO agreement_versions (`+versionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		v.ID, v.AgreementID, v.Number, v.Title, v.Body, v.DocumentURL, v.AdoptedOn, v.DecisionReference,
		v.Principles, v.ValidFrom, v.RevisionDue, v.ScopeNote, v.CreatedAt)
	if isUniqueViolation(err) {
		return conflictf("Version %d av överenskommelsen finns redan. / Version %d of the agreement already exists.", v.Number, v.Number)
	}
	return translate(err, "store agreement version")
}

// GetAgreementVersion reads a version.
func GetAgreementVersion(ctx context.Context, q Querier, id uuid.UUID) (*AgreementVersion, error) {
	v, err := scanVersion(q.QueryRow(ctx, `SELECT `+versionColumns+` FROM agreement_versions WHERE id = $1`, id))
	return v, translate(err, "read agreement version")
}

// VersionNumbers are a version's number and that of its agreement's newest
// version (the one in force).
type VersionNumbers struct {
	Number, Newest int
}

// VersionAndNewest reads a version's number and its agreement's newest, in
// one statement.
func VersionAndNewest(ctx context.Context, q Querier, id uuid.UUID) (VersionNumbers, error) {
	var n VersionNumbers
	err := q.QueryRow(ctx, `SELECT v.number, (SELECT max(number) FROM agreement_versions WHERE agreement_id = v.agreement_id)
		FROM agreement_versions v WHERE v.id = $1`, id).Scan(&n.Number, &n.Newest)
	return n, translate(err, "read agreement version")
}

// AgreementVersions lists an agreement's versions, oldest first.
func AgreementVersions(ctx context.Context, q Querier, agreementID uuid.UUID) ([]*AgreementVersion, error) {
	rows, err := q.Query(ctx, `SELECT `+versionColumns+` FROM agreement_versions WHERE agreement_id = $1 ORDER BY number`, agreementID)
	if err != nil {
		return nil, translate(err, "list agreement versions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*AgreementVersion, error) { return scanVersion(r) })
	return out, translate(err, "list agreement versions")
}

// AgreementVersionsByIDs reads several versions.
func AgreementVersionsByIDs(ctx context.Context, q Querier, ids []uuid.UUID) ([]*AgreementVersion, error) {
	rows, err := q.Query(ctx, `SELECT `+versionColumns+` FROM agreement_versions WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, translate(err, "read agreement versions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*AgreementVersion, error) { return scanVersion(r) })
	return out, translate(err, "read agreement versions")
}

// CurrentAgreementVersions are the newest version of every agreement: the
// ones in force.
func CurrentAgreementVersions(ctx context.Context, q Querier) ([]*AgreementVersion, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (agreement_id) `+versionColumns+`
		FROM agreement_versions ORDER BY agreement_id, number DESC`)
	if err != nil {
		return nil, translate(err, "list current agreement versions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*AgreementVersion, error) { return scanVersion(r) })
	return out, translate(err, "list current agreement versions")
}

// Ceremony is a signing ceremony.
type Ceremony struct {
	ID                 uuid.UUID
	AgreementVersionID uuid.UUID
	Title              string
	HeldOn             time.Time
	Place              string
	Status             string
	CreatedAt          time.Time
}

// InsertCeremony stores a ceremony.
func InsertCeremony(ctx context.Context, q Querier, c *Ceremony) error {
	if c.ID == uuid.Nil {
		c.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO ceremonies (id, agreement_version_id, title, held_on, place, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, c.AgreementVersionID, c.Title, c.HeldOn, c.Place, c.CreatedAt)
	c.Status = "planned"
	return translate(err, "store ceremony")
}

// GetCeremony reads a ceremony.
func GetCeremony(ctx context.Context, q Querier, id uuid.UUID) (*Ceremony, error) {
	var c Ceremony
	err := q.QueryRow(ctx, `SELECT id, agreement_version_id, title, held_on, place, status, created_at
		FROM ceremonies WHERE id = $1`, id).Scan(&c.ID, &c.AgreementVersionID, &c.Title, &c.HeldOn, &c.Place, &c.Status, &c.CreatedAt)
	return &c, translate(err, "read ceremony")
}

// CeremoniesByIDs reads several ceremonies.
func CeremoniesByIDs(ctx context.Context, q Querier, ids []uuid.UUID) ([]*Ceremony, error) {
	rows, err := q.Query(ctx, `SELECT id, agreement_version_id, title, held_on, place, status, created_at
		FROM ceremonies WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, translate(err, "read ceremonies")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Ceremony, error) {
		var c Ceremony
		err := r.Scan(&c.ID, &c.AgreementVersionID, &c.Title, &c.HeldOn, &c.Place, &c.Status, &c.CreatedAt)
		return &c, err
	})
	return out, translate(err, "read ceremonies")
}

// PlannedCeremonies reads the ceremonies still to be held, soonest first.
func PlannedCeremonies(ctx context.Context, q Querier) ([]*Ceremony, error) {
	rows, err := q.Query(ctx, `SELECT id, agreement_version_id, title, held_on, place, status, created_at
		FROM ceremonies WHERE status = 'planned' ORDER BY held_on, title`)
	if err != nil {
		return nil, translate(err, "read planned ceremonies")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Ceremony, error) {
		var c Ceremony
		err := r.Scan(&c.ID, &c.AgreementVersionID, &c.Title, &c.HeldOn, &c.Place, &c.Status, &c.CreatedAt)
		return &c, err
	})
	return out, translate(err, "read planned ceremonies")
}

// MovePlannedCeremonies moves the ceremonies of a version still to be held
// to another version (the one adopted in its place).
func MovePlannedCeremonies(ctx context.Context, q Querier, fromVersion, toVersion uuid.UUID) error {
	_, err := q.Exec(ctx, `UPDATE ceremonies SET agreement_version_id = $2 WHERE agreement_version_id = $1 AND status = 'planned'`,
		fromVersion, toVersion)
	return translate(err, "move ceremonies")
}

// MarkCeremonyHeld records that a ceremony took place.
func MarkCeremonyHeld(ctx context.Context, q Querier, id uuid.UUID) error {
	_, err := q.Exec(ctx, `UPDATE ceremonies SET status = 'held' WHERE id = $1`, id)
	return translate(err, "update ceremony")
}

// Signatory is an organisation's signature on an agreement version.
type Signatory struct {
	ID                 uuid.UUID
	AgreementVersionID uuid.UUID
	OrganisationID     uuid.UUID
	InstanceID         *uuid.UUID
	CeremonyID         *uuid.UUID
	SignedOn           time.Time
	How                string
	EndedOn            *time.Time
	EndedHow           *string
	CreatedAt          time.Time
	// Organisation is the signing organisation when the read took it along
	// (the public list's pages, SignatoryPage.Organisations); nil
	// otherwise. With OrganisationListing it holds only the listing's
	// columns.
	Organisation *Organisation
}

const signatoryColumns = `id, agreement_version_id, organisation_id, instance_id, ceremony_id, signed_on, how,
	ended_on, ended_how, created_at`

// qualifiedSignatoryColumns are signatoryColumns of the signatories table
// aliased s.
const qualifiedSignatoryColumns = `s.id, s.agreement_version_id, s.organisation_id, s.instance_id, s.ceremony_id, s.signed_on, s.how,
	s.ended_on, s.ended_how, s.created_at`

func scanSignatory(r pgx.Row) (*Signatory, error) {
	return newSignatoryScanner(NoOrganisation).scan(r)
}

// signatoryScanner scans rows of signatoryColumns followed by c's
// organisation columns. One scanner reads a whole result: its
// destinations are made once, the rows are allocated a chunk at a time,
// and the texts that repeat (how, legal form, sector, municipality) and
// the ceremonies are shared between rows.
type signatoryScanner struct {
	cur                    Signatory
	org                    Organisation
	withOrg                bool
	instanceID, ceremonyID pgtype.UUID
	endedOn                pgtype.Date
	endedHow               pgtype.Text
	dst                    []any
	rows                   slab[Signatory]
	orgs                   slab[Organisation]
	ids                    slab[uuid.UUID]
	ceremonies             map[[16]byte]*uuid.UUID
}

func newSignatoryScanner(c OrganisationColumns) *signatoryScanner {
	s := &signatoryScanner{withOrg: c != NoOrganisation, ceremonies: map[[16]byte]*uuid.UUID{}}
	r, t := &s.cur, newTexts()
	s.dst = []any{&r.ID, &r.AgreementVersionID, &r.OrganisationID, &s.instanceID, &s.ceremonyID, &r.SignedOn,
		t.into(&r.How), &s.endedOn, &s.endedHow, &r.CreatedAt}
	if s.withOrg {
		o := &s.org
		s.dst = append(s.dst, &o.ID, &o.Name, &o.OrganisationNumber, t.into(&o.LegalForm), t.into(&o.Sector), t.into(&o.Municipality))
		if c == OrganisationWhole {
			s.dst = append(s.dst, &o.Website, &o.Description, &o.ContactEmail, &o.ContactPhone, &o.CreatedAt, &o.UpdatedAt)
		}
	}
	return s
}

func (s *signatoryScanner) scan(row pgx.Row) (*Signatory, error) {
	s.cur, s.org = Signatory{}, Organisation{}
	if err := row.Scan(s.dst...); err != nil {
		return nil, err
	}
	r := s.rows.put(s.cur)
	if s.instanceID.Valid {
		r.InstanceID = s.ids.put(s.instanceID.Bytes)
	}
	if s.ceremonyID.Valid {
		c, ok := s.ceremonies[s.ceremonyID.Bytes]
		if !ok {
			c = s.ids.put(s.ceremonyID.Bytes)
			s.ceremonies[s.ceremonyID.Bytes] = c
		}
		r.CeremonyID = c
	}
	if s.endedOn.Valid {
		on := s.endedOn.Time
		r.EndedOn = &on
	}
	if s.endedHow.Valid {
		how := s.endedHow.String
		r.EndedHow = &how
	}
	if s.withOrg {
		r.Organisation = s.orgs.put(s.org)
	}
	return r, nil
}

// InsertSignatory puts an organisation on a version's list.
func InsertSignatory(ctx context.Context, q Querier, s *Signatory) error {
	if s.ID == uuid.Nil {
		s.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO signatories (id, agreement_version_id, organisation_id, instance_id, ceremony_id,
		signed_on, how, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		s.ID, s.AgreementVersionID, s.OrganisationID, s.InstanceID, s.CeremonyID, s.SignedOn, s.How, s.CreatedAt)
	if isUniqueViolation(err) {
		return conflictf("Organisationen har redan undertecknat den här versionen. / The organisation has already signed this version.")
	}
	return translate(err, "store signatory")
}

// EndSignatory takes an organisation off a version's list (withdrawn or
// dropped), keeping the row.
func EndSignatory(ctx context.Context, q Querier, versionID, orgID uuid.UUID, on time.Time, how string) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE signatories SET ended_on = $3, ended_how = $4
		WHERE agreement_version_id = $1 AND organisation_id = $2 AND ended_on IS NULL`, versionID, orgID, on, how)
	if err != nil {
		return false, translate(err, "end signatory")
	}
	return tag.RowsAffected() == 1, nil
}

// CurrentSignatory is the organisation's live signature on a version.
func CurrentSignatory(ctx context.Context, q Querier, versionID, orgID uuid.UUID) (*Signatory, error) {
	s, err := scanSignatory(q.QueryRow(ctx, `SELECT `+signatoryColumns+` FROM signatories
		WHERE agreement_version_id = $1 AND organisation_id = $2 AND ended_on IS NULL`, versionID, orgID))
	return s, translate(err, "read signatory")
}

// SignatoryPage pages a version's public list in signing order.
type SignatoryPage struct {
	VersionID uuid.UUID
	// AfterID is the last signatory of the page before (none: the first
	// page); the next page starts after its place in the order.
	AfterID uuid.UUID
	Limit   int
	// Organisations: which of the organisation's columns come along with
	// each signatory (Signatory.Organisation), in the same statement.
	Organisations OrganisationColumns
}

// OrganisationColumns choose what a read of signatories takes of their
// organisations.
type OrganisationColumns int

const (
	// NoOrganisation: the signatories only.
	NoOrganisation OrganisationColumns = iota
	// OrganisationListing: id, name, number, legal form, sector and
	// municipality; not website, description, contacts or timestamps.
	OrganisationListing
	// OrganisationWhole: every column, as scanOrg reads them.
	OrganisationWhole
)

// names are the organisations columns c takes.
func (c OrganisationColumns) names() []string {
	switch c {
	case OrganisationListing:
		return []string{"id", "name", "organisation_number", "legal_form", "sector", "municipality"}
	case OrganisationWhole:
		return []string{"id", "name", "organisation_number", "legal_form", "sector", "municipality", "website", "description",
			"contact_email", "contact_phone", "created_at", "updated_at"}
	}
	return nil
}

// columns are c's columns of the organisations table aliased o, each with
// a leading comma, named as they are or, with as, as+name.
func (c OrganisationColumns) columns(as string) string {
	var b strings.Builder
	for _, n := range c.names() {
		b.WriteString(", o." + n)
		if as != "" {
			b.WriteString(" AS " + as + n)
		}
	}
	return b.String()
}

// signingOrder is the public list's order, as users mean "signing order":
// the day of signing; then the moment of signing, which for everyone who
// signed at a ceremony is the ceremony's (the start of its day: they sign
// together, before anyone signs directly that day) and otherwise the moment
// the signature was recorded; then the organisation's name; the row's id
// only breaks a tie between equal names. s is the signatories row, o its
// organisation.
func signingOrder(s, o string) string {
	return s + `.signed_on, CASE WHEN ` + s + `.ceremony_id IS NULL THEN ` + s + `.created_at ELSE '-infinity'::timestamptz END, ` +
		o + `.name, ` + s + `.id`
}

// ListSignatories lists a version's current signatories in signing order.
// A page after a cursor starts its index scan at the cursor's day (the
// order's first key) rather than at the list's start, so that a late page
// costs what the first does.
func ListSignatories(ctx context.Context, q Querier, p SignatoryPage) ([]*Signatory, error) {
	var rows pgx.Rows
	var err error
	if p.AfterID == uuid.Nil {
		rows, err = q.Query(ctx, listSignatoriesSQL[p.Organisations].first, p.VersionID, p.Limit)
	} else {
		rows, err = q.Query(ctx, listSignatoriesSQL[p.Organisations].after, p.VersionID, p.AfterID, p.Limit)
	}
	if err != nil {
		return nil, translate(err, "list signatories")
	}
	return scanSignatories(rows, p.Organisations)
}

// listSignatoriesSQL are ListSignatories' statements for each choice of
// organisation columns.
var listSignatoriesSQL = func() (out [OrganisationWhole + 1]struct{ first, after string }) {
	for c := range out {
		cols := qualifiedSignatoryColumns + OrganisationColumns(c).columns("")
		out[c].first = `SELECT ` + cols + `
			FROM signatories s JOIN organisations o ON o.id = s.organisation_id
			WHERE s.agreement_version_id = $1 AND s.ended_on IS NULL
			ORDER BY ` + signingOrder("s", "o") + ` LIMIT $2`
		// The page's days lie between the cursor's and the day of the
		// limit-th signature after the cursor's day (counted in the
		// index): that many come after the cursor whatever their order
		// within a day. Bounding the scan so keeps it at about a page
		// wherever the page is.
		out[c].after = `WITH c AS (SELECT ` + signingOrder("a", "ao") + `
				FROM signatories a JOIN organisations ao ON ao.id = a.organisation_id WHERE a.id = $2)
			SELECT ` + cols + `
			FROM signatories s JOIN organisations o ON o.id = s.organisation_id
			WHERE s.agreement_version_id = $1 AND s.ended_on IS NULL
			  AND s.signed_on >= (SELECT signed_on FROM c)
			  AND s.signed_on <= coalesce((SELECT n.signed_on FROM signatories n
				WHERE n.agreement_version_id = $1 AND n.ended_on IS NULL AND n.signed_on > (SELECT signed_on FROM c)
				ORDER BY n.signed_on OFFSET $3 - 1 LIMIT 1), 'infinity')
			  AND (` + signingOrder("s", "o") + `) > (SELECT * FROM c)
			ORDER BY ` + signingOrder("s", "o") + ` LIMIT $3`
	}
	return out
}()

// CountSignatories counts a version's current signatories.
func CountSignatories(ctx context.Context, q Querier, versionID uuid.UUID) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM signatories WHERE agreement_version_id = $1 AND ended_on IS NULL`, versionID).Scan(&n)
	return n, translate(err, "count signatories")
}

// SignaturesOfOrganisation lists every signature an organisation has made,
// ended ones included, oldest first.
func SignaturesOfOrganisation(ctx context.Context, q Querier, orgID uuid.UUID) ([]*Signatory, error) {
	rows, err := q.Query(ctx, `SELECT `+signatoryColumns+` FROM signatories WHERE organisation_id = $1
		ORDER BY signed_on, created_at`, orgID)
	if err != nil {
		return nil, translate(err, "list signatures")
	}
	sc := newSignatoryScanner(NoOrganisation)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Signatory, error) { return sc.scan(r) })
	return out, translate(err, "list signatures")
}
