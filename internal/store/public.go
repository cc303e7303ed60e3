package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The reads behind the public web pages: each is one statement whatever the
// length of the list it returns.

// SignatoryFilter selects a version's current signatories for the public
// list: by name (case-insensitive substring), municipality and legal form,
// in name order, one page at an offset.
type SignatoryFilter struct {
	VersionID    uuid.UUID
	Search       string
	Municipality string
	LegalForm    string
	Offset       int
	// Limit 0 means no limit (the downloads).
	Limit int
}

// SignatoryListing is a signature with its organisation.
type SignatoryListing struct {
	Signatory    *Signatory
	Organisation *Organisation
}

// SearchSignatories lists one page of the filtered signatories and counts
// all that match.
func SearchSignatories(ctx context.Context, q Querier, f SignatoryFilter) ([]SignatoryListing, int, error) {
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	rows, err := q.Query(ctx, `SELECT s.id, s.agreement_version_id, s.organisation_id, s.instance_id, s.ceremony_id, s.signed_on,
			s.how, s.ended_on, s.ended_how, s.created_at,
			o.id, o.name, o.organisation_number, o.legal_form, o.sector, o.municipality, o.website, o.description,
			o.contact_email, o.contact_phone, o.created_at, o.updated_at, count(*) OVER ()
		FROM signatories s JOIN organisations o ON o.id = s.organisation_id
		WHERE s.agreement_version_id = $1 AND s.ended_on IS NULL
		  AND ($2 = '' OR o.name ILIKE '%' || $2 || '%')
		  AND ($3 = '' OR o.municipality = $3)
		  AND ($4 = '' OR o.legal_form = $4)
		ORDER BY lower(o.name), o.id OFFSET $5 LIMIT $6`, f.VersionID, likeEscape(f.Search), f.Municipality, f.LegalForm, f.Offset, limit)
	if err != nil {
		return nil, 0, translate(err, "search signatories")
	}
	total := 0
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SignatoryListing, error) {
		var s Signatory
		var o Organisation
		err := r.Scan(&s.ID, &s.AgreementVersionID, &s.OrganisationID, &s.InstanceID, &s.CeremonyID, &s.SignedOn,
			&s.How, &s.EndedOn, &s.EndedHow, &s.CreatedAt,
			&o.ID, &o.Name, &o.OrganisationNumber, &o.LegalForm, &o.Sector, &o.Municipality, &o.Website, &o.Description,
			&o.ContactEmail, &o.ContactPhone, &o.CreatedAt, &o.UpdatedAt, &total)
		return SignatoryListing{Signatory: &s, Organisation: &o}, err
	})
	return out, total, translate(err, "search signatories")
}

// likeEscape makes s match literally inside an ILIKE pattern.
func likeEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

// SignatoryFacets are the municipalities and legal forms found among a
// version's current signatories, for the list's filters.
func SignatoryFacets(ctx context.Context, q Querier, versionID uuid.UUID) (municipalities, legalForms []string, err error) {
	err = q.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT o.municipality) FILTER (WHERE o.municipality <> ''), '{}'),
			coalesce(array_agg(DISTINCT o.legal_form), '{}')
		FROM signatories s JOIN organisations o ON o.id = s.organisation_id
		WHERE s.agreement_version_id = $1 AND s.ended_on IS NULL`, versionID).Scan(&municipalities, &legalForms)
	return municipalities, legalForms, translate(err, "read signatory facets")
}

// PublicEvents reads a page of the whole public history, newest first,
// before the event with id beforeID (0: from the newest).
func PublicEvents(ctx context.Context, q Querier, beforeID int64, limit int) ([]Event, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := q.Query(ctx, `SELECT `+eventColumns+` FROM history_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.public AND e.id < $1 ORDER BY e.id DESC LIMIT $2`, beforeID, limit)
	if err != nil {
		return nil, translate(err, "read public history")
	}
	sc := newEventScanner(false)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) { return sc.scan(r) })
	return out, translate(err, "read public history")
}

// IndicatorPoint is one year's value of a named indicator.
type IndicatorPoint struct {
	Name  string
	Unit  string
	Year  int
	Value float64
}

// IndicatorHistory is every indicator value recorded under a version's
// action plans, by indicator name and year (activities are planned anew
// each year, so an indicator is followed by its name).
func IndicatorHistory(ctx context.Context, q Querier, versionID uuid.UUID) ([]IndicatorPoint, error) {
	rows, err := q.Query(ctx, `SELECT i.name, max(i.unit), v.year, sum(v.value)::float8 FROM indicator_values v
		JOIN indicators i ON i.id = v.indicator_id
		JOIN activities a ON a.id = i.activity_id
		JOIN action_plans p ON p.id = a.action_plan_id
		WHERE p.agreement_version_id = $1 GROUP BY i.name, v.year ORDER BY i.name, v.year`, versionID)
	if err != nil {
		return nil, translate(err, "read indicator history")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (IndicatorPoint, error) {
		var p IndicatorPoint
		err := r.Scan(&p.Name, &p.Unit, &p.Year, &p.Value)
		return p, err
	})
	return out, translate(err, "read indicator history")
}
