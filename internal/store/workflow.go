package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Instance is a stored workflow instance.
type Instance struct {
	ID                uuid.UUID
	Kind              string
	DefinitionVersion int
	SubjectType       string
	SubjectID         uuid.UUID
	Scopes            []string
	State             string
	StateEnteredAt    time.Time
	Round             int
	Data              map[string]any
	Version           int
	Final             bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

const instanceColumns = `id, kind, definition_version, subject_type, subject_id, scopes, state,
	state_entered_at, round, data, version, final, created_at, updated_at`

func scanInstance(row pgx.Row) (*Instance, error) {
	var in Instance
	var data []byte
	err := row.Scan(&in.ID, &in.Kind, &in.DefinitionVersion, &in.SubjectType, &in.SubjectID, &in.Scopes,
		&in.State, &in.StateEnteredAt, &in.Round, &data, &in.Version, &in.Final, &in.CreatedAt, &in.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if in.Data, err = decodeData(data); err != nil {
		return nil, err
	}
	if in.Data == nil {
		in.Data = map[string]any{}
	}
	return &in, nil
}

// InsertInstance stores a new instance.
func InsertInstance(ctx context.Context, q Querier, in *Instance) error {
	data, err := json.Marshal(in.Data)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO workflow_instances (id, kind, definition_version, subject_type, subject_id,
		scopes, state, state_entered_at, round, data, version, final, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
		in.ID, in.Kind, in.DefinitionVersion, in.SubjectType, in.SubjectID, in.Scopes, in.State,
		in.StateEnteredAt, in.Round, data, in.Version, in.Final, in.CreatedAt)
	if isUniqueViolation(err) {
		return conflictf("Det finns redan ett öppet ärende (%s) för detta. / An open %s for this subject already exists.", in.Kind, in.Kind)
	}
	return translate(err, "store workflow instance")
}

// GetInstance reads an instance.
func GetInstance(ctx context.Context, q Querier, id uuid.UUID) (*Instance, error) {
	in, err := scanInstance(q.QueryRow(ctx, `SELECT `+instanceColumns+` FROM workflow_instances WHERE id = $1`, id))
	return in, translate(err, "read workflow instance")
}

// LockInstance reads an instance and locks it until the transaction ends,
// so that transitions on one instance happen one after the other.
func LockInstance(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*Instance, error) {
	in, err := scanInstance(tx.QueryRow(ctx, `SELECT `+instanceColumns+` FROM workflow_instances WHERE id = $1 FOR UPDATE`, id))
	return in, translate(err, "lock workflow instance")
}

// InstancesByIDs reads several instances; missing ones are left out.
func InstancesByIDs(ctx context.Context, q Querier, ids []uuid.UUID) ([]*Instance, error) {
	rows, err := q.Query(ctx, `SELECT `+instanceColumns+` FROM workflow_instances WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, translate(err, "read workflow instances")
	}
	return collectInstances(rows)
}

// InstancesBySubject reads the instances about one subject, newest first.
func InstancesBySubject(ctx context.Context, q Querier, subjectType string, subjectID uuid.UUID) ([]*Instance, error) {
	rows, err := q.Query(ctx, `SELECT `+instanceColumns+` FROM workflow_instances
		WHERE subject_type = $1 AND subject_id = $2 ORDER BY created_at DESC, id`, subjectType, subjectID)
	if err != nil {
		return nil, translate(err, "read workflow instances")
	}
	return collectInstances(rows)
}

func collectInstances(rows pgx.Rows) ([]*Instance, error) {
	defer rows.Close()
	var out []*Instance
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, translate(err, "read workflow instance")
		}
		out = append(out, in)
	}
	return out, translate(rows.Err(), "read workflow instances")
}

// OpenInstancesWithData lists the instances of a kind not yet final whose
// data has value under key (the open applications to an agreement version),
// oldest first.
func OpenInstancesWithData(ctx context.Context, q Querier, kind, key, value string) ([]*Instance, error) {
	rows, err := q.Query(ctx, `SELECT `+instanceColumns+` FROM workflow_instances
		WHERE kind = $1 AND NOT final AND data->>$2 = $3 ORDER BY created_at, id`, kind, key, value)
	if err != nil {
		return nil, translate(err, "list workflow instances")
	}
	return collectInstances(rows)
}

// UpdateInstance writes the instance's state, round, data and flags and
// bumps its version, provided the version is still the one read.
func UpdateInstance(ctx context.Context, q Querier, in *Instance) error {
	data, err := json.Marshal(in.Data)
	if err != nil {
		return err
	}
	tag, err := q.Exec(ctx, `UPDATE workflow_instances
		SET state = $2, state_entered_at = $3, round = $4, data = $5, final = $6, updated_at = $7, version = version + 1
		WHERE id = $1 AND version = $8`,
		in.ID, in.State, in.StateEnteredAt, in.Round, data, in.Final, in.UpdatedAt, in.Version)
	if err != nil {
		return translate(err, "update workflow instance")
	}
	if tag.RowsAffected() != 1 {
		return conflictf("Ärendet (%s) ändrades av någon annan; läs om och försök igen. / The %s was changed by someone else; reload and try again.", in.Kind, in.Kind)
	}
	in.Version++
	return nil
}

// Approval is a recorded approval towards a quorum.
type Approval struct {
	ID          int64
	InstanceID  uuid.UUID
	Round       int
	Transition  string
	Requirement string
	ApproverID  uuid.UUID
	ApprovedAt  time.Time
	WithdrawnAt *time.Time
}

// InsertApproval records an approval; an approver counts once per round.
func InsertApproval(ctx context.Context, q Querier, a *Approval) error {
	err := q.QueryRow(ctx, `INSERT INTO workflow_approvals (instance_id, round, transition, requirement, approver_id, approved_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		a.InstanceID, a.Round, a.Transition, a.Requirement, a.ApproverID, a.ApprovedAt).Scan(&a.ID)
	if isUniqueViolation(err) {
		return conflictf("Du har redan godkänt detta. / You have already approved this.")
	}
	return translate(err, "record approval")
}

// WithdrawApproval withdraws the approver's live approval; it reports
// whether there was one.
func WithdrawApproval(ctx context.Context, q Querier, instanceID uuid.UUID, round int, transition string, approver uuid.UUID, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE workflow_approvals SET withdrawn_at = $5
		WHERE instance_id = $1 AND round = $2 AND transition = $3 AND approver_id = $4 AND withdrawn_at IS NULL`,
		instanceID, round, transition, approver, at)
	if err != nil {
		return false, translate(err, "withdraw approval")
	}
	return tag.RowsAffected() == 1, nil
}

// LiveApprovals are the approvals of the instance's current round that are
// not withdrawn.
func LiveApprovals(ctx context.Context, q Querier, instanceID uuid.UUID, round int) ([]Approval, error) {
	rows, err := q.Query(ctx, `SELECT id, instance_id, round, transition, requirement, approver_id, approved_at, withdrawn_at
		FROM workflow_approvals WHERE instance_id = $1 AND round = $2 AND withdrawn_at IS NULL ORDER BY id`, instanceID, round)
	if err != nil {
		return nil, translate(err, "read approvals")
	}
	out, err := pgx.CollectRows(rows, scanApproval)
	return out, translate(err, "read approvals")
}

// Timer is something due for an instance at a time.
type Timer struct {
	ID         int64
	InstanceID uuid.UUID
	Round      int
	Name       string
	FireAt     time.Time
	Transition string
	Reminder   string
	Status     string
	CreatedAt  time.Time
}

// InsertTimer stores a pending timer.
func InsertTimer(ctx context.Context, q Querier, t *Timer) error {
	err := q.QueryRow(ctx, `INSERT INTO workflow_timers (instance_id, round, name, fire_at, transition, reminder, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, status`,
		t.InstanceID, t.Round, t.Name, t.FireAt, t.Transition, t.Reminder, t.CreatedAt).Scan(&t.ID, &t.Status)
	return translate(err, "store timer")
}

// LockTimer reads a timer and locks it until the transaction ends.
func LockTimer(ctx context.Context, tx pgx.Tx, id int64) (*Timer, error) {
	var t Timer
	err := tx.QueryRow(ctx, `SELECT id, instance_id, round, name, fire_at, transition, reminder, status, created_at
		FROM workflow_timers WHERE id = $1 FOR UPDATE`, id).
		Scan(&t.ID, &t.InstanceID, &t.Round, &t.Name, &t.FireAt, &t.Transition, &t.Reminder, &t.Status, &t.CreatedAt)
	return &t, translate(err, "read timer")
}

// FinishTimer sets a timer's final status.
func FinishTimer(ctx context.Context, q Querier, id int64, status string, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE workflow_timers SET status = $2, done_at = $3 WHERE id = $1`, id, status, at)
	return translate(err, "finish timer")
}

// ReplacePendingTimers marks the instance's pending timers of a round as
// replaced (their jobs then do nothing) and returns how many there were.
func ReplacePendingTimers(ctx context.Context, q Querier, instanceID uuid.UUID, round int, at time.Time) (int64, error) {
	tag, err := q.Exec(ctx, `UPDATE workflow_timers SET status = 'replaced', done_at = $3
		WHERE instance_id = $1 AND round = $2 AND status = 'pending'`, instanceID, round, at)
	return tag.RowsAffected(), translate(err, "replace timers")
}

// PendingTimers lists the pending timers of the instance's current round.
func PendingTimers(ctx context.Context, q Querier, instanceID uuid.UUID, round int) ([]Timer, error) {
	rows, err := q.Query(ctx, `SELECT id, instance_id, round, name, fire_at, transition, reminder, status, created_at
		FROM workflow_timers WHERE instance_id = $1 AND round = $2 AND status = 'pending' ORDER BY fire_at, id`, instanceID, round)
	if err != nil {
		return nil, translate(err, "read timers")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Timer, error) {
		var t Timer
		err := r.Scan(&t.ID, &t.InstanceID, &t.Round, &t.Name, &t.FireAt, &t.Transition, &t.Reminder, &t.Status, &t.CreatedAt)
		return t, err
	})
	return out, translate(err, "read timers")
}

// Notification is a reminder or notice in the outbox.
type Notification struct {
	DedupeKey      string
	InstanceID     *uuid.UUID
	OrganisationID *uuid.UUID
	RecipientRole  string
	Kind           string
	Subject        string
	Body           string
	// DueOn is the date the notification is about, when it has one; empty,
	// the earliest pending timer of the instance after CreatedAt is taken.
	DueOn     *time.Time
	CreatedAt time.Time
}

// InsertNotification puts a notification in the outbox; one with the same
// dedupe key is written only once. In the same statement its recipients
// are resolved and one delivery, and one River job to send it, written per
// recipient (deliveryCTEs).
func InsertNotification(ctx context.Context, q Querier, n *Notification) error {
	var key *string
	if n.DedupeKey != "" {
		key = &n.DedupeKey
	}
	_, err := q.Exec(ctx, `WITH written AS (
			INSERT INTO notifications (dedupe_key, instance_id, organisation_id, recipient_role, kind, subject, body, due_on, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::date, (SELECT min(t.fire_at AT TIME ZONE 'Europe/Stockholm')::date
				FROM workflow_timers t WHERE t.instance_id = $2 AND t.status = 'pending' AND t.fire_at > $9)), $9)
			ON CONFLICT (dedupe_key) DO NOTHING
			RETURNING `+writtenColumns+`
		)`+deliveryCTEs+`
		SELECT count(*) FROM notified`,
		key, n.InstanceID, n.OrganisationID, n.RecipientRole, n.Kind, n.Subject, n.Body, n.DueOn, n.CreatedAt)
	return translate(err, "store notification")
}

// OpenInstancesInScopes reads the instances that have not ended and have
// one of scopes (every open instance when all), oldest change first: the
// candidates of a person's work queue.
func OpenInstancesInScopes(ctx context.Context, q Querier, scopes []string, all bool) ([]*Instance, error) {
	rows, err := q.Query(ctx, `SELECT `+instanceColumns+` FROM workflow_instances
		WHERE NOT final AND ($2 OR scopes && $1::text[]) ORDER BY updated_at, id`, scopes, all)
	if err != nil {
		return nil, translate(err, "read open workflow instances")
	}
	return collectInstances(rows)
}

// KindState is a state of one version of a workflow's definition.
type KindState struct {
	Kind    string
	Version int
	State   string
}

// OpenInstancesInStates is OpenInstancesInScopes limited to the instances
// in one of states, in the same order.
func OpenInstancesInStates(ctx context.Context, q Querier, scopes []string, all bool, states []KindState) ([]*Instance, error) {
	kinds, versions, names := make([]string, len(states)), make([]int32, len(states)), make([]string, len(states))
	for i, s := range states {
		kinds[i], versions[i], names[i] = s.Kind, int32(s.Version), s.State
	}
	rows, err := q.Query(ctx, `SELECT `+instanceColumns+` FROM workflow_instances
		WHERE NOT final AND ($2 OR scopes && $1::text[])
		AND (kind, definition_version, state) IN (SELECT * FROM unnest($3::text[], $4::int[], $5::text[]))
		ORDER BY updated_at, id`, scopes, all, kinds, versions, names)
	if err != nil {
		return nil, translate(err, "read open workflow instances")
	}
	return collectInstances(rows)
}

// TimerFired tells whether a timer of that name already fired in the
// instance's round.
func TimerFired(ctx context.Context, q Querier, instanceID uuid.UUID, round int, name string) (bool, error) {
	var fired bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM workflow_timers WHERE instance_id = $1 AND round = $2 AND name = $3 AND status = 'fired')`,
		instanceID, round, name).Scan(&fired)
	return fired, translate(err, "read timers")
}
