package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/mail"
	"github.com/samverkan/samverkan/internal/store"
)

// DigestArgs is the periodic job that sends the weekly digests.
type DigestArgs struct{}

// Kind is the job kind.
func (DigestArgs) Kind() string { return "notification_digest" }

// InsertOpts puts the job in the mail queue.
func (DigestArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: store.DeliveryQueue} }

// DigestCutoff is the start of the week's digest: the latest Monday 07:00
// (Europe/Stockholm) at or before now. Reminders kept before it go out in
// that week's digest.
func DigestCutoff(now time.Time) time.Time {
	t := now.In(clock.Stockholm)
	day := time.Date(t.Year(), t.Month(), t.Day(), 7, 0, 0, 0, clock.Stockholm)
	back := (int(t.Weekday()) + 6) % 7 // days since Monday
	cut := day.AddDate(0, 0, -back)
	if cut.After(t) {
		cut = cut.AddDate(0, 0, -7)
	}
	return cut
}

// DigestWorker sends, to each person who chose the weekly digest, one
// e-mail with the reminders kept for them before this week's cutoff. It
// runs often (periodic); a person's digest is sent once: their deliveries
// are locked while it is sent and marked sent in the same transaction, and
// the Message-ID is the person's and the week's.
type DigestWorker struct {
	river.WorkerDefaults[DigestArgs]
	Worker *Worker
}

// Work sends the digests due.
func (d *DigestWorker) Work(ctx context.Context, _ *river.Job[DigestArgs]) error {
	w := d.Worker
	cutoff := DigestCutoff(w.Clock.Now())
	users, err := store.DigestRecipients(ctx, w.DB.Pool, cutoff)
	if err != nil {
		return err
	}
	var failed error
	for _, u := range users {
		if err := d.send(ctx, u, cutoff); err != nil {
			w.Log.WarnContext(ctx, "weekly digest failed, will retry", "user", u, "err", err)
			failed = err
		}
	}
	return failed
}

func (d *DigestWorker) send(ctx context.Context, userID uuid.UUID, cutoff time.Time) error {
	w := d.Worker
	return w.DB.InTx(ctx, func(tx pgx.Tx) error {
		items, err := store.LockDigest(ctx, tx, userID, cutoff)
		if err != nil || len(items) == 0 {
			return err
		}
		base := strings.TrimRight(w.PublicURL, "/")
		dg := mail.Digest{ID: fmt.Sprintf("digest-%s-%s", userID, cutoff.Format(time.DateOnly)), To: items[0].Address,
			Name: items[0].Name, UnsubscribeLink: base + SettingsPath, OneClickUnsubscribe: base + UnsubscribePath(items[0]), Date: w.Clock.Now()}
		ids := make([]uuid.UUID, len(items))
		for i, it := range items {
			ids[i] = it.ID
			dg.Items = append(dg.Items, w.Message(it))
		}
		msg, err := mail.ComposeDigest(w.From, dg)
		if err != nil {
			return err
		}
		if err := w.Sender.Send(ctx, msg); err != nil {
			var se *mail.SendError
			if errors.As(err, &se) && !se.Temporary {
				w.observe("failed")
				w.Log.ErrorContext(ctx, "weekly digest refused for good", "user", userID, "answer", err.Error())
				return store.MarkDigestFailed(ctx, tx, ids, err.Error(), w.Clock.Now())
			}
			w.observe("retried")
			return err
		}
		w.observe("sent")
		w.Log.InfoContext(ctx, "weekly digest sent", "user", userID, "reminders", len(items))
		return store.MarkDigestSent(ctx, tx, ids, w.Clock.Now())
	})
}
