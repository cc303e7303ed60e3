package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DeliveryJobKind is the River job kind that sends one delivery; its args
// are {"delivery_id": "<uuid>"}, with 10 attempts like every River job of
// the service (internal/jobs). The jobs are inserted here in SQL (in the
// statement that writes the notification) so that a set-based fan-out stays
// one statement; internal/notify's worker has the same kind and args.
const DeliveryJobKind = "notification_delivery"

// DeliveryQueue is the River queue of the delivery jobs: only processes
// that send mail work it, with their own number of workers, so that a slow
// SMTP server never holds up the workflows' timers.
const DeliveryQueue = "mail"

// writtenColumns is what a statement that writes notifications returns
// from its `written` CTE for deliveryCTEs to resolve.
const writtenColumns = `id, instance_id, organisation_id, recipient_role, kind, created_at`

// deliveryCTEs follows a CTE named `written` (writtenColumns) and, in the
// same statement: resolves each notification's recipient role and scope to
// the people who hold that role there now (Casbin's g lines; an assignment
// in "*" holds everywhere) and to the organisation's contact address, writes
// one delivery per address (state by the person's preferences: reminders
// off, or kept for the weekly digest) and one River job per pending
// delivery, and wakes River's producers. The scope is the notification's
// organisation for an organisation's representatives, else the instance's
// scopes. The statement must reference `notified` for the wake-up to run.
const deliveryCTEs = `, scoped AS (
		SELECT w.id, w.kind, w.created_at, w.recipient_role AS role, w.organisation_id,
			CASE WHEN w.organisation_id IS NOT NULL AND w.recipient_role = 'sector_representative'
				THEN ARRAY['org:' || w.organisation_id] ELSE coalesce(i.scopes, '{}') END AS scopes
		FROM written w LEFT JOIN workflow_instances i ON i.id = w.instance_id
	), recipients AS (
		SELECT s.id, s.kind, s.created_at, u.id AS user_id, u.email AS address, u.name
		FROM scoped s
		JOIN casbin_rule g ON g.ptype = 'g' AND g.v1 = s.role AND (g.v2 = ANY (s.scopes) OR g.v2 = '*')
		JOIN users u ON 'user:' || u.id = g.v0
		WHERE s.role <> '' AND u.email <> ''
		UNION ALL
		SELECT s.id, s.kind, s.created_at, NULL, o.contact_email, o.name
		FROM scoped s JOIN organisations o ON o.id = s.organisation_id
		WHERE o.contact_email <> ''
	), delivered AS (
		INSERT INTO notification_deliveries (notification_id, user_id, address, name, state, created_at)
		SELECT r.id, r.user_id, r.address, r.name,
			CASE WHEN r.kind <> 'reminder' OR p.user_id IS NULL THEN 'pending'
				WHEN NOT p.reminders THEN 'off' WHEN p.weekly_digest THEN 'digest' ELSE 'pending' END,
			r.created_at
		FROM recipients r LEFT JOIN notification_preferences p ON p.user_id = r.user_id
		ON CONFLICT (notification_id, lower(address)) DO NOTHING
		RETURNING id, state, created_at
	), enqueued AS (
		INSERT INTO river_job (args, kind, max_attempts, queue, scheduled_at, created_at)
		SELECT jsonb_build_object('delivery_id', d.id), '` + DeliveryJobKind + `', 10, '` + DeliveryQueue + `', d.created_at, d.created_at
		FROM delivered d WHERE d.state = 'pending'
		RETURNING id
	), notified AS (
		SELECT pg_notify(current_schema() || '.river_insert', '{"queue": "` + DeliveryQueue + `"}')
		WHERE EXISTS (SELECT 1 FROM enqueued)
	)`

// Delivery is one notification to one address, with what the message needs.
type Delivery struct {
	ID             uuid.UUID
	NotificationID int64
	UserID         *uuid.UUID
	Address        string
	Name           string
	State          string
	Attempts       int
	LastError      string
	CreatedAt      time.Time
	SentAt         *time.Time
	FailedAt       *time.Time

	Kind          string // reminder or notice
	Subject       string
	Body          string
	DueOn         *time.Time
	InstanceID    *uuid.UUID
	InstanceKind  string
	SubjectID     *uuid.UUID
	RecipientRole string
	// PartnershipID is the partnership of a report notice (its dedupe key
	// is partnership_report:<partnership>:<year>:..., see
	// NotifyReportsBatch).
	PartnershipID *uuid.UUID
	// UnsubscribeSecret is the secret of the delivery's one-click
	// unsubscribe URL (migration 00021).
	UnsubscribeSecret uuid.UUID
}

const deliveryColumns = `d.id, d.notification_id, d.user_id, d.address, d.name, d.state, d.attempts, d.last_error,
	d.created_at, d.sent_at, d.failed_at, n.kind, n.subject, n.body, n.due_on, n.instance_id,
	coalesce(i.kind, ''), i.subject_id, n.recipient_role,
	CASE WHEN n.dedupe_key LIKE 'partnership_report:%' THEN split_part(n.dedupe_key, ':', 2)::uuid END, d.unsubscribe_secret`

const deliveryFrom = ` FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
	LEFT JOIN workflow_instances i ON i.id = n.instance_id`

func scanDelivery(r pgx.Row) (*Delivery, error) {
	var d Delivery
	err := r.Scan(&d.ID, &d.NotificationID, &d.UserID, &d.Address, &d.Name, &d.State, &d.Attempts, &d.LastError,
		&d.CreatedAt, &d.SentAt, &d.FailedAt, &d.Kind, &d.Subject, &d.Body, &d.DueOn, &d.InstanceID,
		&d.InstanceKind, &d.SubjectID, &d.RecipientRole, &d.PartnershipID, &d.UnsubscribeSecret)
	return &d, err
}

// GetDelivery reads a delivery with its notification.
func GetDelivery(ctx context.Context, q Querier, id uuid.UUID) (*Delivery, error) {
	d, err := scanDelivery(q.QueryRow(ctx, `SELECT `+deliveryColumns+deliveryFrom+` WHERE d.id = $1`, id))
	return d, translate(err, "read delivery")
}

// DeliveriesByDedupeKey lists the deliveries of the notification with the
// dedupe key, by address.
func DeliveriesByDedupeKey(ctx context.Context, q Querier, key string) ([]*Delivery, error) {
	return queryDeliveries(ctx, q, `SELECT `+deliveryColumns+deliveryFrom+` WHERE n.dedupe_key = $1 ORDER BY d.address`, key)
}

// FailedDeliveries lists the deliveries refused for good, latest first.
func FailedDeliveries(ctx context.Context, q Querier, limit int) ([]*Delivery, error) {
	return queryDeliveries(ctx, q, `SELECT `+deliveryColumns+deliveryFrom+` WHERE d.state = 'failed' ORDER BY d.failed_at DESC, d.id LIMIT $1`, limit)
}

func queryDeliveries(ctx context.Context, q Querier, sql string, args ...any) ([]*Delivery, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(err, "list deliveries")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Delivery, error) { return scanDelivery(r) })
	return out, translate(err, "list deliveries")
}

// MarkDeliverySent records that the SMTP server accepted a pending
// delivery; false: it was not pending (already sent or failed).
func MarkDeliverySent(ctx context.Context, q Querier, id uuid.UUID, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE notification_deliveries SET state = 'sent', sent_at = $2, attempts = attempts + 1
		WHERE id = $1 AND state = 'pending'`, id, at)
	if err != nil {
		return false, translate(err, "record delivery sent")
	}
	return tag.RowsAffected() == 1, nil
}

// MarkDeliveryRetry records a temporary failure of a pending delivery.
func MarkDeliveryRetry(ctx context.Context, q Querier, id uuid.UUID, answer string) error {
	_, err := q.Exec(ctx, `UPDATE notification_deliveries SET attempts = attempts + 1, last_error = $2
		WHERE id = $1 AND state = 'pending'`, id, answer)
	return translate(err, "record delivery attempt")
}

// MarkDeliveryFailed records a permanent failure of a pending delivery with
// the server's answer.
func MarkDeliveryFailed(ctx context.Context, q Querier, id uuid.UUID, answer string, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE notification_deliveries SET state = 'failed', failed_at = $3, attempts = attempts + 1, last_error = $2
		WHERE id = $1 AND state = 'pending'`, id, answer, at)
	if err != nil {
		return false, translate(err, "record delivery failed")
	}
	return tag.RowsAffected() == 1, nil
}

// RequeueDelivery makes a failed delivery pending again with a new River
// job, in one statement; false: it was not failed.
func RequeueDelivery(ctx context.Context, q Querier, id uuid.UUID, at time.Time) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `WITH again AS (
			UPDATE notification_deliveries SET state = 'pending', failed_at = NULL
			WHERE id = $1 AND state = 'failed' RETURNING id
		), enqueued AS (
			INSERT INTO river_job (args, kind, max_attempts, queue, scheduled_at, created_at)
			SELECT jsonb_build_object('delivery_id', a.id), '`+DeliveryJobKind+`', 10, '`+DeliveryQueue+`', $2, $2 FROM again a
			RETURNING id
		), notified AS (
			SELECT pg_notify(current_schema() || '.river_insert', '{"queue": "`+DeliveryQueue+`"}') WHERE EXISTS (SELECT 1 FROM enqueued)
		)
		SELECT (SELECT count(*) FROM enqueued) + 0 * (SELECT count(*) FROM notified)`, id, at).Scan(&n)
	return n == 1, translate(err, "resend delivery")
}

// LockPendingDelivery locks a pending delivery for sending in tx and reads
// it with its notification, in one statement; nil: it is not pending (sent,
// failed, or gone), or another worker is sending it right now.
func LockPendingDelivery(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*Delivery, error) {
	d, err := scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryColumns+deliveryFrom+`
		WHERE d.id = $1 AND d.state = 'pending' FOR UPDATE OF d SKIP LOCKED`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return d, translate(err, "lock delivery")
}

// NotificationPreferences are a person's choices; the zero row (none
// stored) is reminders on, no digest, no calendar.
type NotificationPreferences struct {
	UserID        uuid.UUID
	Reminders     bool
	WeeklyDigest  bool
	CalendarToken string
	UpdatedAt     time.Time
}

// GetNotificationPreferences reads a person's preferences, the defaults
// when none are stored.
func GetNotificationPreferences(ctx context.Context, q Querier, userID uuid.UUID) (*NotificationPreferences, error) {
	p := &NotificationPreferences{UserID: userID, Reminders: true}
	err := q.QueryRow(ctx, `SELECT reminders, weekly_digest, coalesce(calendar_token, ''), updated_at
		FROM notification_preferences WHERE user_id = $1`, userID).Scan(&p.Reminders, &p.WeeklyDigest, &p.CalendarToken, &p.UpdatedAt)
	if err == pgx.ErrNoRows {
		return p, nil
	}
	return p, translate(err, "read notification preferences")
}

// SetNotificationPreferences stores a person's reminder and digest choices.
func SetNotificationPreferences(ctx context.Context, q Querier, p *NotificationPreferences) error {
	_, err := q.Exec(ctx, `INSERT INTO notification_preferences (user_id, reminders, weekly_digest, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET reminders = EXCLUDED.reminders, weekly_digest = EXCLUDED.weekly_digest,
			updated_at = EXCLUDED.updated_at`, p.UserID, p.Reminders, p.WeeklyDigest, p.UpdatedAt)
	return translate(err, "store notification preferences")
}

// UnsubscribeUser is the person a delivery's one-click unsubscribe URL
// speaks for: the delivery's person when secret is the delivery's; false
// for a wrong secret, an unknown delivery or one to an organisation's
// address.
func UnsubscribeUser(ctx context.Context, q Querier, deliveryID, secret uuid.UUID) (uuid.UUID, bool, error) {
	var userID uuid.UUID
	err := q.QueryRow(ctx, `SELECT user_id FROM notification_deliveries
		WHERE id = $1 AND unsubscribe_secret = $2 AND user_id IS NOT NULL`, deliveryID, secret).Scan(&userID)
	if err == pgx.ErrNoRows {
		return uuid.Nil, false, nil
	}
	return userID, err == nil, translate(err, "read unsubscribe secret")
}

// SetCalendarToken gives a person a (new) secret calendar token.
func SetCalendarToken(ctx context.Context, q Querier, userID uuid.UUID, token string, at time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO notification_preferences (user_id, calendar_token, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET calendar_token = EXCLUDED.calendar_token, updated_at = EXCLUDED.updated_at`,
		userID, token, at)
	return translate(err, "store calendar token")
}

// UserByCalendarToken finds whose calendar a token opens.
func UserByCalendarToken(ctx context.Context, q Querier, token string) (uuid.UUID, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, `SELECT user_id FROM notification_preferences WHERE calendar_token = $1`, token).Scan(&id)
	return id, translate(err, "read calendar token")
}

// CalendarEvent is a deadline in a person's calendar. UID stays the same
// when the deadline moves.
type CalendarEvent struct {
	UID          string
	InstanceID   *uuid.UUID
	InstanceKind string
	// SubjectID is the instance's subject; for a report, its partnership.
	SubjectID *uuid.UUID
	Version   int
	Name      string
	At        time.Time
	AllDay    bool
}

// CalendarEvents lists the deadlines ahead of a person: the pending timers
// of open workflow instances in the scopes where the person holds a role
// (all of them for a role held in "*"), and the unsubmitted reports of the
// partnerships of the organisations the person represents.
func CalendarEvents(ctx context.Context, q Querier, userID uuid.UUID, from time.Time) ([]CalendarEvent, error) {
	rows, err := q.Query(ctx, `WITH scopes AS (
			SELECT v2 AS scope FROM casbin_rule WHERE ptype = 'g' AND v0 = 'user:' || $1::text
		)
		SELECT 'timer-' || i.id || '-' || t.round || '-' || md5(t.name), i.id, i.kind, i.subject_id, i.definition_version, t.name, t.fire_at, false
		FROM workflow_timers t JOIN workflow_instances i ON i.id = t.instance_id
		WHERE t.status = 'pending' AND NOT i.final AND t.fire_at >= $2
		  AND (EXISTS (SELECT 1 FROM scopes WHERE scope = '*') OR i.scopes && ARRAY(SELECT scope FROM scopes))
		UNION ALL
		SELECT 'report-' || r.partnership_id || '-' || r.year, p.instance_id, 'partnership_report', r.partnership_id, 0,
			p.title || ' ' || r.year, r.due_on::timestamp AT TIME ZONE 'UTC', true
		FROM partnership_reports r JOIN partnerships p ON p.id = r.partnership_id
		JOIN partnership_parties pp ON pp.partnership_id = r.partnership_id
		WHERE r.submitted_at IS NULL AND r.due_on >= $2::date
		  AND 'org:' || pp.organisation_id IN (SELECT scope FROM scopes)
		ORDER BY 7, 1`, userID, from)
	if err != nil {
		return nil, translate(err, "read calendar")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CalendarEvent, error) {
		var e CalendarEvent
		err := r.Scan(&e.UID, &e.InstanceID, &e.InstanceKind, &e.SubjectID, &e.Version, &e.Name, &e.At, &e.AllDay)
		return e, err
	})
	return out, translate(err, "read calendar")
}

// DigestRecipients are the people with reminders kept for their digest
// from before cutoff.
func DigestRecipients(ctx context.Context, q Querier, cutoff time.Time) ([]uuid.UUID, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT user_id FROM notification_deliveries
		WHERE state = 'digest' AND created_at < $1 AND user_id IS NOT NULL`, cutoff)
	if err != nil {
		return nil, translate(err, "read digests")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return out, translate(err, "read digests")
}

// LockDigest locks a person's reminders kept for the digest from before
// cutoff, oldest first; none when another worker is sending them.
func LockDigest(ctx context.Context, tx pgx.Tx, userID uuid.UUID, cutoff time.Time) ([]*Delivery, error) {
	return queryDeliveries(ctx, tx, `SELECT `+deliveryColumns+deliveryFrom+`
		WHERE d.user_id = $1 AND d.state = 'digest' AND d.created_at < $2
		ORDER BY d.created_at, d.id FOR UPDATE OF d SKIP LOCKED`, userID, cutoff)
}

// MarkDigestSent records that the digest with these deliveries was
// accepted by the server.
func MarkDigestSent(ctx context.Context, q Querier, ids []uuid.UUID, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE notification_deliveries SET state = 'sent', sent_at = $2, attempts = attempts + 1
		WHERE id = ANY($1) AND state = 'digest'`, ids, at)
	return translate(err, "record digest sent")
}

// MarkDigestFailed records that the server refused the digest with these
// deliveries for good.
func MarkDigestFailed(ctx context.Context, q Querier, ids []uuid.UUID, answer string, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE notification_deliveries SET state = 'failed', failed_at = $3, attempts = attempts + 1, last_error = $2
		WHERE id = ANY($1) AND state = 'digest'`, ids, answer, at)
	return translate(err, "record digest failed")
}
