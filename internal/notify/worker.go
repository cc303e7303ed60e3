// Package notify delivers the notification outbox by e-mail: one River job
// per delivery (written with the notification by internal/store) sends it
// once, and records the server's acceptance, or its refusal, on the
// delivery.
package notify

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/mail"
	"github.com/samverkan/samverkan/internal/store"
)

// DeliveryArgs is the job that sends one delivery.
type DeliveryArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
}

// Kind is the job kind (store writes these jobs in SQL).
func (DeliveryArgs) Kind() string { return store.DeliveryJobKind }

// InsertOpts puts the job in the mail queue.
func (DeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: store.DeliveryQueue}
}

// Observer counts delivery outcomes (observe.Metrics).
type Observer interface{ Delivery(outcome string) }

// Worker sends deliveries.
//
// Once per delivery: the job locks the pending delivery row for the whole
// send (a second job for it skips), sends it with the delivery's id as
// Message-ID and, when the server has accepted it, records that in the
// same transaction, committed before River marks the job completed. A job
// that runs again (a retry, River's rescue of a job whose worker died)
// finds the delivery sent and does nothing. What remains at-least-once is
// the moment between the server's acceptance and that commit: a worker
// that dies there sends the message again on the next attempt, with the
// same Message-ID.
type Worker struct {
	river.WorkerDefaults[DeliveryArgs]
	DB        *store.DB
	Sender    mail.Sender
	From      string
	PublicURL string
	Clock     clock.Clock
	Log       *slog.Logger
	Observer  Observer

	// afterAccepted and afterRecorded are test hooks: after the server
	// accepted the message (before it is recorded), and after it is
	// recorded (before the job completes).
	afterAccepted func(uuid.UUID)
	afterRecorded func(uuid.UUID)
}

// Work sends one delivery.
func (w *Worker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	id := job.Args.DeliveryID
	err := w.DB.InTx(ctx, func(tx pgx.Tx) error {
		d, err := store.LockPendingDelivery(ctx, tx, id)
		if err != nil || d == nil {
			return err
		}
		msg, err := mail.Compose(w.From, w.Message(d))
		if err != nil {
			return w.fail(ctx, tx, d, "compose: "+err.Error())
		}
		sendErr := w.Sender.Send(ctx, msg)
		if sendErr == nil {
			if w.afterAccepted != nil {
				w.afterAccepted(id)
			}
			if _, err := store.MarkDeliverySent(ctx, tx, id, w.Clock.Now()); err != nil {
				return err
			}
			w.observe("sent")
			return nil
		}
		var se *mail.SendError
		if errors.As(sendErr, &se) && !se.Temporary || job.Attempt >= job.MaxAttempts {
			return w.fail(ctx, tx, d, sendErr.Error())
		}
		w.Log.WarnContext(ctx, "mail delivery failed, will retry", "delivery", id, "to", d.Address, "attempt", job.Attempt, "answer", sendErr.Error())
		return &retry{err: sendErr}
	})
	var r *retry
	switch {
	case errors.As(err, &r):
		// Recorded after the lock is released; River retries with backoff.
		if err := store.MarkDeliveryRetry(ctx, w.DB.Pool, id, r.err.Error()); err != nil {
			return err
		}
		w.observe("retried")
		return r.err
	case err != nil:
		return err
	}
	if w.afterRecorded != nil {
		w.afterRecorded(id)
	}
	return nil
}

// retry carries a temporary failure out of the transaction (nothing in it
// to keep).
type retry struct{ err error }

func (r *retry) Error() string { return r.err.Error() }

func (w *Worker) fail(ctx context.Context, tx pgx.Tx, d *store.Delivery, answer string) error {
	if _, err := store.MarkDeliveryFailed(ctx, tx, d.ID, answer, w.Clock.Now()); err != nil {
		return err
	}
	w.observe("failed")
	w.Log.ErrorContext(ctx, "mail delivery failed for good", "delivery", d.ID, "to", d.Address, "answer", answer)
	return nil
}

func (w *Worker) observe(outcome string) {
	if w.Observer != nil {
		w.Observer.Delivery(outcome)
	}
}

// Message is what a delivery says: its notification's texts, the page
// where the person acts and, for reminders, where to turn them off: the
// settings page in the text, and the one-click URL in List-Unsubscribe for
// a reminder to a person (an organisation's address has no settings).
func (w *Worker) Message(d *store.Delivery) mail.Message {
	base := strings.TrimRight(w.PublicURL, "/")
	m := mail.Message{
		ID: d.ID.String(), To: d.Address, Name: d.Name, Subject: d.Subject, Body: d.Body, DueOn: d.DueOn,
		Link: base + ActionPath(d), Reminder: d.Kind == "reminder", UnsubscribeLink: base + SettingsPath,
		Date: w.Clock.Now(),
	}
	if m.Reminder && d.UserID != nil {
		m.OneClickUnsubscribe = base + UnsubscribePath(d)
	}
	return m
}

// The web pages the messages link to (internal/web serves them; its tests
// open every one).
const (
	// SettingsPath is the page of a person's notification settings.
	SettingsPath = "/settings/notifications"
	// InstancePath is the page of a case: InstancePath<instance id>.
	InstancePath = "/instances/"
	// TasksPath is the person's work queue.
	TasksPath = "/tasks"
	// PartnershipsPath is the public register of partnerships.
	PartnershipsPath = "/partnerships"
	// UnsubscribePrefix is where one-click unsubscribe URLs are served:
	// UnsubscribePrefix<delivery id>/<secret>.
	UnsubscribePrefix = "/unsubscribe/"
)

// UnsubscribePath is a delivery's one-click unsubscribe URL's path.
func UnsubscribePath(d *store.Delivery) string {
	return UnsubscribePrefix + d.ID.String() + "/" + d.UnsubscribeSecret.String()
}

// ActionPath is the web page where the recipient acts on a delivery's
// notification: the page of the case it is about (a signing application,
// a follow-up, a revision, a partnership and its reports); for a
// partnership without a case of its own (imported), the register of
// partnerships; else the person's work queue.
func ActionPath(d *store.Delivery) string {
	switch {
	case d.InstanceID != nil:
		return InstancePath + d.InstanceID.String()
	case d.PartnershipID != nil || d.InstanceKind == "partnership":
		return PartnershipsPath
	}
	return TasksPath
}
