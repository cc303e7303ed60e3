package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// runDue moves the test clock to at and waits until River has worked every
// job due by then. River's scheduler would make those jobs available by
// itself, but only every 5 s; retrying them through River's client does the
// same at once, and River still fetches them by the test clock.
func (e *env) runDue(t *testing.T, at time.Time) {
	t.Helper()
	e.clock.AdvanceTo(at)
	require.Empty(t, jobstest.RunDue(t, e.db.Pool, e.river, e.clock.Now(), 5*time.Second), "a job failed")
}

// timers are the instance's timers by name and status, in creation order.
func (e *env) timers(t *testing.T, in *store.Instance) [][2]string {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(),
		`SELECT name, status FROM workflow_timers WHERE instance_id = $1 ORDER BY id`, in.ID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var s [2]string
		return s, r.Scan(&s[0], &s[1])
	})
	require.NoError(t, err)
	return out
}

const reminderText = "The report is due in a week."

// report is due on the date in its data; a week before, the organisation
// is reminded, and on the date an unsubmitted report expires.
func reportDef() *workflows.Definition {
	deadline := func(in *store.Instance) (time.Time, bool) { return workflows.DataTime(in, "deadline") }
	return &workflows.Definition{
		Kind: "report", Version: 1, Title: "Report", Initial: "open",
		// Visible to all: these tests are about firing, not reading.
		Public: func(*store.Instance) bool { return true },
		States: []workflows.StateSpec{
			{Name: "open", Timers: []workflows.Timer{
				{Name: "reminder", Reminder: reminderText, Recipient: authz.RoleSectorRepresentative,
					At: func(in *store.Instance) (time.Time, bool) {
						d, ok := deadline(in)
						return d.AddDate(0, 0, -7), ok
					}},
				{Name: "deadline", Fire: "expire", At: deadline},
			}},
			{Name: "submitted", Final: true},
			{Name: "expired", Final: true},
		},
		Transitions: []*workflows.Transition{
			{Name: "submit", From: []workflows.State{"open"}, To: "submitted", Action: "report.submit"},
			{Name: "expire", From: []workflows.State{"open"}, To: "expired"},
		},
	}
}

var reportActions = map[string][]string{
	"report.submit": {authz.RoleSectorRepresentative},
	"report.extend": {authz.RoleRegionOfficial},
}

func (e *env) startReport(t *testing.T, due time.Time) *store.Instance {
	t.Helper()
	return e.start(t, workflows.StartParams{Kind: "report", Scopes: toyScopes,
		Data: map[string]any{"deadline": due.Format(time.RFC3339)}})
}

var due = time.Date(2041, 3, 1, 0, 0, 0, 0, time.UTC)

func TestTimerRemindsThenFires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, reportActions, reportDef())
	in := e.startReport(t, due)
	ctx := context.Background()

	// Each timer's job is scheduled at the timer's moment.
	pending, err := e.eng.Timers(ctx, in)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	require.Equal(t, "reminder", pending[0].Name)
	require.True(t, pending[0].FireAt.Equal(due.AddDate(0, 0, -7)))
	require.True(t, pending[1].FireAt.Equal(due))
	require.Equal(t, 2, e.count(t, `SELECT count(*) FROM river_job j JOIN workflow_timers w ON w.id = (j.args->>'timer_id')::bigint
		WHERE j.kind = 'workflow_timer' AND j.state = 'scheduled' AND j.scheduled_at = w.fire_at`))

	e.runDue(t, due.AddDate(0, 0, -6))
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM notifications
		WHERE instance_id = $1 AND kind = 'reminder' AND body = $2 AND recipient_role = $3`,
		in.ID, reminderText, authz.RoleSectorRepresentative))
	require.Equal(t, "open", e.instance(t, in.ID).State, "the deadline has not passed")

	// A job may run again (River guarantees at least once): no second notice.
	for range 2 {
		require.NoError(t, e.worker.Work(ctx, &river.Job[workflows.TimerArgs]{Args: workflows.TimerArgs{TimerID: pending[0].ID}}))
	}
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM notifications WHERE instance_id = $1`, in.ID))
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM history_events WHERE instance_id = $1 AND kind = 'reminder'`, in.ID))

	e.runDue(t, due.Add(time.Minute))
	got := e.instance(t, in.ID)
	require.Equal(t, "expired", got.State)
	require.True(t, got.Final)
	events := e.history(t, got)
	last := events[len(events)-1]
	require.Equal(t, "transition", last.Kind)
	require.Equal(t, "expire", last.Transition)
	require.Nil(t, last.ActorID, "moved by the system")
	require.True(t, last.OccurredAt.After(due))
	require.Equal(t, [][2]string{{"reminder", "fired"}, {"deadline", "fired"}}, e.timers(t, in))
}

func TestDeadlineExtended(t *testing.T) {
	t.Parallel()
	e := newEnv(t, reportActions, reportDef())
	official := e.user(t, "Olle", authz.RoleRegionOfficial+"@region")
	in := e.startReport(t, due)
	later := due.AddDate(0, 1, 0)

	_, err := e.eng.SetDeadline(context.Background(), workflows.DeadlineParams{InstanceID: in.ID, Key: "deadline", At: later,
		Actor: official, Action: "report.extend", Reason: "The board meets in March."})
	require.NoError(t, err)
	got := e.instance(t, in.ID)
	require.Equal(t, later.Format(time.RFC3339), got.Data["deadline"])
	require.Equal(t, [][2]string{{"reminder", "replaced"}, {"deadline", "replaced"}, {"reminder", "pending"}, {"deadline", "pending"}},
		e.timers(t, in))
	events := e.history(t, got)
	require.Equal(t, "deadline_changed", events[len(events)-1].Kind)
	require.Equal(t, official.UserID, *events[len(events)-1].ActorID)

	// The old reminder and deadline pass: their jobs run and do nothing.
	e.runDue(t, due.Add(24*time.Hour))
	require.Equal(t, "open", e.instance(t, in.ID).State)
	require.Zero(t, e.count(t, `SELECT count(*) FROM notifications WHERE instance_id = $1`, in.ID))
	require.Equal(t, [][2]string{{"reminder", "replaced"}, {"deadline", "replaced"}, {"reminder", "pending"}, {"deadline", "pending"}},
		e.timers(t, in))

	e.runDue(t, later.AddDate(0, 0, -6))
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM notifications WHERE instance_id = $1`, in.ID))
	e.runDue(t, later.Add(time.Minute))
	require.Equal(t, "expired", e.instance(t, in.ID).State)
	require.Equal(t, [][2]string{{"reminder", "replaced"}, {"deadline", "replaced"}, {"reminder", "fired"}, {"deadline", "fired"}},
		e.timers(t, in))
}

func TestTimerSkippedAfterMovingOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, reportActions, reportDef())
	rep := e.user(t, "Ann", authz.RoleSectorRepresentative+"@org:1")
	in := e.startReport(t, due)
	e.fire(t, workflows.FireParams{InstanceID: in.ID, Transition: "submit", Actor: rep})
	before := len(e.history(t, in))

	e.runDue(t, due.Add(time.Minute))
	require.Equal(t, "submitted", e.instance(t, in.ID).State)
	require.Equal(t, [][2]string{{"reminder", "skipped"}, {"deadline", "skipped"}}, e.timers(t, in))
	require.Zero(t, e.count(t, `SELECT count(*) FROM notifications WHERE instance_id = $1`, in.ID))
	require.Len(t, e.history(t, in), before, "nothing happened")
}

func TestDeadlineExtendedAfterReminderSent(t *testing.T) {
	t.Parallel()
	def := reportDef()
	def.States[0].Timers = append(def.States[0].Timers,
		workflows.Timer{Name: "welcome", After: 24 * time.Hour, Reminder: "Remember the report.", Recipient: authz.RoleSectorRepresentative})
	e := newEnv(t, reportActions, def)
	official := e.user(t, "Olle", authz.RoleRegionOfficial+"@region")
	in := e.startReport(t, due)
	e.runDue(t, t0.AddDate(0, 0, 2))
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM notifications WHERE instance_id = $1`, in.ID))

	// Changing the deadline reschedules the state's timers; a reminder
	// that was already sent must not be sent again.
	_, err := e.eng.SetDeadline(context.Background(), workflows.DeadlineParams{InstanceID: in.ID, Key: "deadline", At: due.AddDate(0, 1, 0),
		Actor: official, Action: "report.extend"})
	require.NoError(t, err)
	e.runDue(t, e.clock.Now())
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM notifications WHERE instance_id = $1`, in.ID))
	require.Equal(t, [][2]string{{"reminder", "replaced"}, {"deadline", "replaced"}, {"welcome", "fired"}, {"reminder", "pending"}, {"deadline", "pending"}},
		e.timers(t, in))
}
