package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// InboxItem is a notification as delivered to one person.
type InboxItem struct {
	DeliveryID     uuid.UUID
	NotificationID int64
	Kind           string // reminder or notice
	Subject        string
	Body           string
	InstanceID     *uuid.UUID
	OrganisationID *uuid.UUID
	RecipientRole  string
	CreatedAt      time.Time
	ReadAt         *time.Time
}

// InboxCursor is where the previous page of an inbox ended.
type InboxCursor struct {
	CreatedAt  time.Time
	DeliveryID uuid.UUID
}

// Inbox lists the notifications delivered to a person, newest first
// (after, when set, pages on past it).
func Inbox(ctx context.Context, q Querier, userID uuid.UUID, after *InboxCursor, limit int) ([]*InboxItem, error) {
	var at *time.Time
	var id uuid.UUID
	if after != nil {
		at, id = &after.CreatedAt, after.DeliveryID
	}
	rows, err := q.Query(ctx, `SELECT d.id, n.id, n.kind, n.subject, n.body, n.instance_id, n.organisation_id, n.recipient_role,
			n.created_at, d.read_at
		FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
		WHERE d.user_id = $1 AND ($2::timestamptz IS NULL OR (n.created_at, d.id) < ($2, $3))
		ORDER BY n.created_at DESC, d.id DESC LIMIT $4`, userID, at, id, limit)
	if err != nil {
		return nil, translate(err, "read notifications")
	}
	defer rows.Close()
	var out []*InboxItem
	for rows.Next() {
		it := &InboxItem{}
		if err := rows.Scan(&it.DeliveryID, &it.NotificationID, &it.Kind, &it.Subject, &it.Body, &it.InstanceID, &it.OrganisationID,
			&it.RecipientRole, &it.CreatedAt, &it.ReadAt); err != nil {
			return nil, translate(err, "read notification")
		}
		out = append(out, it)
	}
	return out, translate(rows.Err(), "read notifications")
}

// InboxItemOf reads one of a person's deliveries; nil when the person has
// no such delivery.
func InboxItemOf(ctx context.Context, q Querier, userID, deliveryID uuid.UUID) (*InboxItem, error) {
	it := &InboxItem{}
	err := q.QueryRow(ctx, `SELECT d.id, n.id, n.kind, n.subject, n.body, n.instance_id, n.organisation_id, n.recipient_role,
			n.created_at, d.read_at
		FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
		WHERE d.user_id = $1 AND d.id = $2`, userID, deliveryID).Scan(&it.DeliveryID, &it.NotificationID, &it.Kind, &it.Subject,
		&it.Body, &it.InstanceID, &it.OrganisationID, &it.RecipientRole, &it.CreatedAt, &it.ReadAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return it, translate(err, "read notification")
}

// CountUnread counts a person's unread notifications.
func CountUnread(ctx context.Context, q Querier, userID uuid.UUID) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM notification_deliveries WHERE user_id = $1 AND read_at IS NULL`, userID).Scan(&n)
	return n, translate(err, "count unread notifications")
}

// MarkRead marks one of a person's deliveries read (once: a second mark
// keeps the first time); false when the person has no such delivery.
func MarkRead(ctx context.Context, q Querier, userID, deliveryID uuid.UUID, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE notification_deliveries SET read_at = coalesce(read_at, $3) WHERE id = $2 AND user_id = $1`,
		userID, deliveryID, at)
	if err != nil {
		return false, translate(err, "mark notification read")
	}
	return tag.RowsAffected() == 1, nil
}

// RecipientNames lists who a notification was delivered to (names, or the
// address for an organisation's contact address).
func RecipientNames(ctx context.Context, q Querier, notificationID int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT coalesce(nullif(name, ''), address) FROM notification_deliveries
		WHERE notification_id = $1 ORDER BY name, address`, notificationID)
	if err != nil {
		return nil, translate(err, "read recipients")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, translate(err, "read recipient")
		}
		out = append(out, s)
	}
	return out, translate(rows.Err(), "read recipients")
}
