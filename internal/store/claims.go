package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Claim is a person's request to represent an organisation.
type Claim struct {
	ID             uuid.UUID
	OrganisationID uuid.UUID
	UserID         uuid.UUID
	Status         string // requested, confirmed or declined
	RequestedAt    time.Time
	DecidedBy      *uuid.UUID
	DecidedAt      *time.Time
	Reason         string
}

const claimColumns = `id, organisation_id, user_id, status, requested_at, decided_by, decided_at, reason`

func scanClaim(r pgx.Row) (*Claim, error) {
	c := &Claim{}
	err := r.Scan(&c.ID, &c.OrganisationID, &c.UserID, &c.Status, &c.RequestedAt, &c.DecidedBy, &c.DecidedAt, &c.Reason)
	return c, err
}

func collectClaims(rows pgx.Rows, err error) ([]*Claim, error) {
	if err != nil {
		return nil, translate(err, "read representation claims")
	}
	defer rows.Close()
	var out []*Claim
	for rows.Next() {
		c, err := scanClaim(rows)
		if err != nil {
			return nil, translate(err, "read representation claim")
		}
		out = append(out, c)
	}
	return out, translate(rows.Err(), "read representation claims")
}

// InsertClaim stores a request; a second open request of the same person
// for the same organisation is a CONFLICT.
func InsertClaim(ctx context.Context, q Querier, c *Claim) error {
	if c.ID == uuid.Nil {
		c.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO representation_claims (`+claimColumns+`) VALUES ($1, $2, $3, 'requested', $4, NULL, NULL, '')`,
		c.ID, c.OrganisationID, c.UserID, c.RequestedAt)
	if isUniqueViolation(err) {
		return conflictf("Du har redan bett om att få företräda organisationen; en tjänsteperson bekräftar det. / You have already asked to represent the organisation; an official will confirm it.")
	}
	c.Status = "requested"
	return translate(err, "store representation claim")
}

// LockClaim reads a claim for deciding it.
func LockClaim(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*Claim, error) {
	c, err := scanClaim(tx.QueryRow(ctx, `SELECT `+claimColumns+` FROM representation_claims WHERE id = $1 FOR UPDATE`, id))
	return c, translate(err, "read representation claim")
}

// DecideClaim records an official's decision on a claim.
func DecideClaim(ctx context.Context, tx pgx.Tx, id uuid.UUID, status string, by uuid.UUID, at time.Time, reason string) error {
	_, err := tx.Exec(ctx, `UPDATE representation_claims SET status = $2, decided_by = $3, decided_at = $4, reason = $5 WHERE id = $1`,
		id, status, by, at, reason)
	return translate(err, "decide representation claim")
}

// ClaimsOfUser lists a person's claims, newest first.
func ClaimsOfUser(ctx context.Context, q Querier, userID uuid.UUID) ([]*Claim, error) {
	rows, err := q.Query(ctx, `SELECT `+claimColumns+` FROM representation_claims WHERE user_id = $1 ORDER BY requested_at DESC, id`, userID)
	return collectClaims(rows, err)
}

// ClaimsOfOrganisations lists the claims on organisations, oldest first.
func ClaimsOfOrganisations(ctx context.Context, q Querier, orgIDs []uuid.UUID) ([]*Claim, error) {
	rows, err := q.Query(ctx, `SELECT `+claimColumns+` FROM representation_claims WHERE organisation_id = ANY($1) ORDER BY requested_at, id`, orgIDs)
	return collectClaims(rows, err)
}

// OpenClaims lists the requests still waiting for a decision, oldest first.
func OpenClaims(ctx context.Context, q Querier, limit int) ([]*Claim, error) {
	rows, err := q.Query(ctx, `SELECT `+claimColumns+` FROM representation_claims WHERE status = 'requested' ORDER BY requested_at, id LIMIT $1`, limit)
	return collectClaims(rows, err)
}
