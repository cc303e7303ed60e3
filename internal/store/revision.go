package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Draft is a versioned text of a revised agreement.
type Draft struct {
	ID         uuid.UUID
	InstanceID uuid.UUID
	Version    int
	Title      string
	Body       string
	CreatedBy  *uuid.UUID
	CreatedAt  time.Time
}

// InsertDraft stores the next draft version of a revision.
func InsertDraft(ctx context.Context, q Querier, d *Draft) error {
	if d.ID == uuid.Nil {
		d.ID = uuid.New()
	}
	err := q.QueryRow(ctx, `INSERT INTO revision_drafts (id, instance_id, version, title, body, created_by, created_at)
		VALUES ($1, $2, (SELECT coalesce(max(version), 0) + 1 FROM revision_drafts WHERE instance_id = $2), $3, $4, $5, $6)
		RETURNING version`, d.ID, d.InstanceID, d.Title, d.Body, d.CreatedBy, d.CreatedAt).Scan(&d.Version)
	return translate(err, "store draft")
}

// Drafts lists a revision's drafts, oldest first.
func Drafts(ctx context.Context, q Querier, instanceID uuid.UUID) ([]*Draft, error) {
	rows, err := q.Query(ctx, `SELECT id, instance_id, version, title, body, created_by, created_at FROM revision_drafts
		WHERE instance_id = $1 ORDER BY version`, instanceID)
	if err != nil {
		return nil, translate(err, "list drafts")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Draft, error) {
		var d Draft
		err := r.Scan(&d.ID, &d.InstanceID, &d.Version, &d.Title, &d.Body, &d.CreatedBy, &d.CreatedAt)
		return &d, err
	})
	return out, translate(err, "list drafts")
}

// InviteToConsultation adds an organisation to the round's invitees.
func InviteToConsultation(ctx context.Context, q Querier, instanceID, orgID uuid.UUID) error {
	_, err := q.Exec(ctx, `INSERT INTO consultation_invitees (instance_id, organisation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, instanceID, orgID)
	return translate(err, "invite organisation")
}

// IsInvited tells whether an organisation was invited to the round.
func IsInvited(ctx context.Context, q Querier, instanceID, orgID uuid.UUID) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM consultation_invitees WHERE instance_id = $1 AND organisation_id = $2)`,
		instanceID, orgID).Scan(&ok)
	return ok, translate(err, "read invitees")
}

// Comment is a consultation comment with the council's response.
type Comment struct {
	ID             uuid.UUID
	InstanceID     uuid.UUID
	DraftID        uuid.UUID
	Section        string
	Body           string
	OrganisationID uuid.UUID
	AuthorID       uuid.UUID
	SubmittedAt    time.Time
	Response       *string
	RespondedBy    *uuid.UUID
	RespondedAt    *time.Time
}

const commentColumns = `id, instance_id, draft_id, section, body, organisation_id, author_id, submitted_at, response, responded_by, responded_at`

func scanComment(r pgx.Row) (*Comment, error) {
	var c Comment
	err := r.Scan(&c.ID, &c.InstanceID, &c.DraftID, &c.Section, &c.Body, &c.OrganisationID, &c.AuthorID, &c.SubmittedAt,
		&c.Response, &c.RespondedBy, &c.RespondedAt)
	return &c, err
}

// InsertComment stores a consultation comment.
func InsertComment(ctx context.Context, q Querier, c *Comment) error {
	if c.ID == uuid.Nil {
		c.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO consultation_comments (id, instance_id, draft_id, section, body, organisation_id, author_id, submitted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.ID, c.InstanceID, c.DraftID, c.Section, c.Body, c.OrganisationID, c.AuthorID, c.SubmittedAt)
	return translate(err, "store comment")
}

// GetComment reads a comment.
func GetComment(ctx context.Context, q Querier, id uuid.UUID) (*Comment, error) {
	c, err := scanComment(q.QueryRow(ctx, `SELECT `+commentColumns+` FROM consultation_comments WHERE id = $1`, id))
	return c, translate(err, "read comment")
}

// RespondToComment records the council's response.
func RespondToComment(ctx context.Context, q Querier, id uuid.UUID, response string, by uuid.UUID, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE consultation_comments SET response = $2, responded_by = $3, responded_at = $4 WHERE id = $1`,
		id, response, by, at)
	return translate(err, "respond to comment")
}

// Comments lists a revision's comments in the order they came.
func Comments(ctx context.Context, q Querier, instanceID uuid.UUID) ([]*Comment, error) {
	rows, err := q.Query(ctx, `SELECT `+commentColumns+` FROM consultation_comments WHERE instance_id = $1 ORDER BY submitted_at, id`, instanceID)
	if err != nil {
		return nil, translate(err, "list comments")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Comment, error) { return scanComment(r) })
	return out, translate(err, "list comments")
}

// CurrentSignatoryOrganisations lists the organisations on a version's list.
func CurrentSignatoryOrganisations(ctx context.Context, q Querier, versionID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := q.Query(ctx, `SELECT organisation_id FROM signatories WHERE agreement_version_id = $1 AND ended_on IS NULL
		ORDER BY signed_on, id`, versionID)
	if err != nil {
		return nil, translate(err, "list signatories")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return out, translate(err, "list signatories")
}
