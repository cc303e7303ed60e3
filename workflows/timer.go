package workflows

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
)

// TimerArgs is the River job of one timer. The job is inserted in the same
// transaction as the state change that started the timer and scheduled at
// the timer's time.
type TimerArgs struct {
	TimerID int64 `json:"timer_id"`
}

// Kind is the job kind.
func (TimerArgs) Kind() string { return "workflow_timer" }

// scheduleTimers starts the timers of the instance's (new) state.
func (e *Engine) scheduleTimers(ctx context.Context, tx pgx.Tx, def *Definition, in *store.Instance, f *Firing) error {
	spec, _ := def.State(State(in.State))
	for _, tm := range spec.Timers {
		at := in.StateEnteredAt.Add(tm.After)
		if tm.At != nil {
			var ok bool
			if at, ok = tm.At(in); !ok {
				continue
			}
		}
		// A reminder whose moment has passed goes out at once while the
		// deadline it warns of is still ahead and it has not gone out this
		// round; otherwise it is not worth sending late, nor again when
		// SetDeadline reschedules the state's timers.
		if tm.Reminder != "" && at.Before(f.Now) {
			due, ok := time.Time{}, false
			if tm.Due != nil {
				due, ok = tm.Due(in)
			}
			if !ok || !due.After(f.Now) {
				continue
			}
			sent, err := store.TimerFired(ctx, tx, in.ID, in.Round, tm.Name)
			if err != nil {
				return err
			}
			if sent {
				continue
			}
			at = f.Now
		}
		row := &store.Timer{InstanceID: in.ID, Round: in.Round, Name: tm.Name, FireAt: at,
			Transition: tm.Fire, Reminder: tm.Reminder, CreatedAt: f.Now}
		if err := store.InsertTimer(ctx, tx, row); err != nil {
			return err
		}
		f.Enqueue(TimerArgs{TimerID: row.ID}, &river.InsertOpts{ScheduledAt: at})
	}
	return nil
}

// TimerWorker runs timer jobs.
type TimerWorker struct {
	river.WorkerDefaults[TimerArgs]
	Engine *Engine
}

// Work fires the timer's transition or writes its reminder, unless the
// instance has moved on or the timer was replaced, in which case it does
// nothing and says so.
func (w *TimerWorker) Work(ctx context.Context, job *river.Job[TimerArgs]) error {
	e := w.Engine
	return e.db.InTx(ctx, func(tx pgx.Tx) error {
		tm, err := store.LockTimer(ctx, tx, job.Args.TimerID)
		if err != nil {
			return err
		}
		now := e.clock.Now()
		if tm.Status != "pending" {
			e.log.InfoContext(ctx, "timer not fired: it was "+tm.Status, "timer", tm.Name, "instance", tm.InstanceID)
			return nil
		}
		in, err := store.LockInstance(ctx, tx, tm.InstanceID)
		if err != nil {
			return err
		}
		if in.Round != tm.Round {
			e.log.InfoContext(ctx, "timer not fired: the instance has moved on", "timer", tm.Name,
				"instance", in.ID, "state", in.State)
			return store.FinishTimer(ctx, tx, tm.ID, "skipped", now)
		}
		if tm.Transition != "" {
			if _, err := e.FireTx(ctx, tx, FireParams{InstanceID: in.ID, Transition: tm.Transition, Actor: authz.SystemPrincipal}); err != nil {
				return fmt.Errorf("timer %s on %s: %w", tm.Name, in.ID, err)
			}
		} else if err := e.remind(ctx, tx, in, tm, now); err != nil {
			return err
		}
		return store.FinishTimer(ctx, tx, tm.ID, "fired", now)
	})
}

func (e *Engine) remind(ctx context.Context, tx pgx.Tx, in *store.Instance, tm *store.Timer, now time.Time) error {
	def, err := e.Definition(in.Kind, in.DefinitionVersion)
	if err != nil {
		return err
	}
	spec, _ := def.State(State(in.State))
	recipient := ""
	for _, t := range spec.Timers {
		if t.Name == tm.Name {
			recipient = t.Recipient
		}
	}
	id := in.ID
	if err := store.InsertNotification(ctx, tx, &store.Notification{
		DedupeKey: fmt.Sprintf("timer:%d", tm.ID), InstanceID: &id, RecipientRole: recipient,
		Kind: "reminder", Subject: def.Title + ": " + tm.Name, Body: tm.Reminder, CreatedAt: now,
	}); err != nil {
		return err
	}
	return e.appendEvent(ctx, tx, in, authz.SystemPrincipal, now, Event{Kind: "reminder", From: State(in.State), To: State(in.State),
		Input: map[string]any{"timer": tm.Name, "recipient": recipient, "text": tm.Reminder}})
}

// DeadlineParams change a date in the instance's data that its timers are
// computed from (e.g. a report deadline).
type DeadlineParams struct {
	InstanceID uuid.UUID
	// Kind, when set, is the workflow the caller acts on (as in FireParams).
	Kind            string
	ExpectedVersion int
	// Key is the data field holding the date.
	Key    string
	At     time.Time
	Actor  authz.Principal
	Action string
	// States the instance must be in; empty means any that is not final.
	States []State
	Reason string
}

// SetDeadline changes a deadline: the pending timers of the current state
// are replaced (their jobs will do nothing) and the state's timers are
// scheduled again from the new date, all in one transaction.
func (e *Engine) SetDeadline(ctx context.Context, p DeadlineParams) (*store.Instance, error) {
	if err := validate.Text("reason", p.Reason, 0, MaxReason); err != nil {
		return nil, err
	}
	return e.write(ctx, writeTarget{InstanceID: p.InstanceID, Kind: p.Kind, ExpectedVersion: p.ExpectedVersion, Actor: p.Actor}, fixedAction(p.Action),
		func(tx pgx.Tx, in *store.Instance, def *Definition) error {
			if in.Final {
				return apperr.New(apperr.InvalidTransition, "Ärendet är avslutat. / The instance has ended.")
			}
			if len(p.States) > 0 && !slices.Contains(p.States, State(in.State)) {
				return apperr.New(apperr.InvalidTransition, "Tidsfristen kan inte ändras när ärendet är i läget %q. / The deadline cannot change while the instance is %q.",
					def.StateTitle(State(in.State)), in.State)
			}
			now := e.clock.Now()
			if !p.At.After(now) {
				return apperr.Invalid("deadline", "Den nya tidsfristen måste ligga i framtiden. / The new deadline must be in the future.")
			}
			old := DataString(in, p.Key)
			if _, err := store.ReplacePendingTimers(ctx, tx, in.ID, in.Round, now); err != nil {
				return err
			}
			SetData(in, p.Key, p.At)
			in.UpdatedAt = now
			if err := store.UpdateInstance(ctx, tx, in); err != nil {
				return err
			}
			if err := e.appendEvent(ctx, tx, in, p.Actor, now, Event{Kind: "deadline_changed", From: State(in.State), To: State(in.State),
				Input: map[string]any{"field": p.Key, "from": old, "to": in.Data[p.Key]}, Reason: p.Reason, Public: true}); err != nil {
				return err
			}
			f := &Firing{Instance: in, Definition: def, Actor: p.Actor, Now: now}
			if err := e.scheduleTimers(ctx, tx, def, in, f); err != nil {
				return err
			}
			return e.insertJobs(ctx, tx, f.jobs)
		})
}
