package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ActionPlan is an agreement version's plan for a year.
type ActionPlan struct {
	ID                 uuid.UUID
	AgreementVersionID uuid.UUID
	Year               int
	AdoptedOn          time.Time
	InstanceID         *uuid.UUID
	CreatedAt          time.Time
}

// Activity is a planned activity.
type Activity struct {
	ID           uuid.UUID
	ActionPlanID uuid.UUID
	Position     int
	Title        string
	Description  string
	Quarters     []int32
	Responsible  string
	Principles   []string
	Status       string
}

// Indicator measures an activity.
type Indicator struct {
	ID         uuid.UUID
	ActivityID uuid.UUID
	Name       string
	Unit       string
	Target     *float64
}

// InsertActionPlan stores a plan; one per version and year.
func InsertActionPlan(ctx context.Context, q Querier, p *ActionPlan) error {
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO action_plans (id, agreement_version_id, year, adopted_on, instance_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, p.ID, p.AgreementVersionID, p.Year, p.AdoptedOn, p.InstanceID, p.CreatedAt)
	if isUniqueViolation(err) {
		return conflictf("Det finns redan en handlingsplan för %d. / There is already an action plan for %d.", p.Year, p.Year)
	}
	return translate(err, "store action plan")
}

// InsertActivity stores an activity with its indicators.
func InsertActivity(ctx context.Context, q Querier, a *Activity, indicators []*Indicator) error {
	if a.ID == uuid.Nil {
		a.ID = uuid.New()
	}
	if a.Status == "" {
		a.Status = "planned"
	}
	if _, err := q.Exec(ctx, `INSERT INTO activities (id, action_plan_id, position, title, description, quarters, responsible, principles, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, a.ID, a.ActionPlanID, a.Position, a.Title, a.Description, a.Quarters,
		a.Responsible, a.Principles, a.Status); err != nil {
		return translate(err, "store activity")
	}
	for _, in := range indicators {
		in.ID, in.ActivityID = uuid.New(), a.ID
		if _, err := q.Exec(ctx, `INSERT INTO indicators (id, activity_id, name, unit, target) VALUES ($1, $2, $3, $4, $5)`,
			in.ID, in.ActivityID, in.Name, in.Unit, in.Target); err != nil {
			return translate(err, "store indicator")
		}
	}
	return nil
}

// ActionPlanFor reads a version's plan for a year.
func ActionPlanFor(ctx context.Context, q Querier, versionID uuid.UUID, year int) (*ActionPlan, error) {
	var p ActionPlan
	err := q.QueryRow(ctx, `SELECT id, agreement_version_id, year, adopted_on, instance_id, created_at FROM action_plans
		WHERE agreement_version_id = $1 AND year = $2`, versionID, year).
		Scan(&p.ID, &p.AgreementVersionID, &p.Year, &p.AdoptedOn, &p.InstanceID, &p.CreatedAt)
	return &p, translate(err, "read action plan")
}

// ActionPlansOf lists a version's plans by year.
func ActionPlansOf(ctx context.Context, q Querier, versionID uuid.UUID) ([]*ActionPlan, error) {
	rows, err := q.Query(ctx, `SELECT id, agreement_version_id, year, adopted_on, instance_id, created_at FROM action_plans
		WHERE agreement_version_id = $1 ORDER BY year`, versionID)
	if err != nil {
		return nil, translate(err, "list action plans")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*ActionPlan, error) {
		var p ActionPlan
		err := r.Scan(&p.ID, &p.AgreementVersionID, &p.Year, &p.AdoptedOn, &p.InstanceID, &p.CreatedAt)
		return &p, err
	})
	return out, translate(err, "list action plans")
}

// Activities lists a plan's activities in order.
func Activities(ctx context.Context, q Querier, planID uuid.UUID) ([]*Activity, error) {
	rows, err := q.Query(ctx, `SELECT id, action_plan_id, position, title, description, quarters, responsible, principles, status
		FROM activities WHERE action_plan_id = $1 ORDER BY position`, planID)
	if err != nil {
		return nil, translate(err, "list activities")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Activity, error) {
		var a Activity
		err := r.Scan(&a.ID, &a.ActionPlanID, &a.Position, &a.Title, &a.Description, &a.Quarters, &a.Responsible, &a.Principles, &a.Status)
		return &a, err
	})
	return out, translate(err, "list activities")
}

// GetActivity reads an activity.
func GetActivity(ctx context.Context, q Querier, id uuid.UUID) (*Activity, error) {
	var a Activity
	err := q.QueryRow(ctx, `SELECT id, action_plan_id, position, title, description, quarters, responsible, principles, status
		FROM activities WHERE id = $1`, id).
		Scan(&a.ID, &a.ActionPlanID, &a.Position, &a.Title, &a.Description, &a.Quarters, &a.Responsible, &a.Principles, &a.Status)
	return &a, translate(err, "read activity")
}

// SetActivityStatus updates an activity's status.
func SetActivityStatus(ctx context.Context, q Querier, id uuid.UUID, status string) error {
	_, err := q.Exec(ctx, `UPDATE activities SET status = $2 WHERE id = $1`, id, status)
	return translate(err, "update activity")
}

// IndicatorsOf lists the indicators of activities.
func IndicatorsOf(ctx context.Context, q Querier, activityIDs []uuid.UUID) ([]*Indicator, error) {
	rows, err := q.Query(ctx, `SELECT id, activity_id, name, unit, target FROM indicators WHERE activity_id = ANY($1) ORDER BY name, id`, activityIDs)
	if err != nil {
		return nil, translate(err, "list indicators")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Indicator, error) {
		var i Indicator
		err := r.Scan(&i.ID, &i.ActivityID, &i.Name, &i.Unit, &i.Target)
		return &i, err
	})
	return out, translate(err, "list indicators")
}

// IndicatorValue is a measured value: one party's for a year, or, in a
// series, the year's sum of the parties' values (Party "", ReportedBy nil).
type IndicatorValue struct {
	IndicatorID uuid.UUID
	Year        int
	// Party is "region" or "sector".
	Party      string
	Value      float64
	ReportedBy uuid.UUID
}

// SetIndicatorValue records a party's measured value for a year; a later
// report of the same party and year replaces it, and leaves the other
// party's value alone.
func SetIndicatorValue(ctx context.Context, q Querier, indicatorID uuid.UUID, year int, party string, value float64, by uuid.UUID, at time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO indicator_values (indicator_id, year, party, value, reported_by, reported_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (indicator_id, year, party) DO UPDATE SET value = EXCLUDED.value, reported_by = EXCLUDED.reported_by, reported_at = EXCLUDED.reported_at`,
		indicatorID, year, party, value, by, at)
	return translate(err, "store indicator value")
}

// IndicatorSeries is an indicator's values over the years, found by name
// across a version's plans (activities are planned anew each year): one
// value a year, the sum of the parties' values.
func IndicatorSeries(ctx context.Context, q Querier, versionID uuid.UUID, name string) ([]IndicatorValue, error) {
	rows, err := q.Query(ctx, `SELECT v.indicator_id, v.year, sum(v.value)::float8 FROM indicator_values v
		JOIN indicators i ON i.id = v.indicator_id
		JOIN activities a ON a.id = i.activity_id
		JOIN action_plans p ON p.id = a.action_plan_id
		WHERE p.agreement_version_id = $1 AND i.name = $2 GROUP BY v.indicator_id, v.year ORDER BY v.year, v.indicator_id`, versionID, name)
	if err != nil {
		return nil, translate(err, "read indicator series")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (IndicatorValue, error) {
		var v IndicatorValue
		err := r.Scan(&v.IndicatorID, &v.Year, &v.Value)
		return v, err
	})
	return out, translate(err, "read indicator series")
}

// IndicatorValues reads the values of indicators, each party's, by year
// (the Region's first).
func IndicatorValues(ctx context.Context, q Querier, ids []uuid.UUID) ([]IndicatorValue, error) {
	rows, err := q.Query(ctx, `SELECT indicator_id, year, party, value::float8, coalesce(reported_by, '00000000-0000-0000-0000-000000000000'::uuid)
		FROM indicator_values WHERE indicator_id = ANY($1) ORDER BY year, party`, ids)
	if err != nil {
		return nil, translate(err, "read indicator values")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (IndicatorValue, error) {
		var v IndicatorValue
		err := r.Scan(&v.IndicatorID, &v.Year, &v.Party, &v.Value, &v.ReportedBy)
		return v, err
	})
	return out, translate(err, "read indicator values")
}

// ActivityReport is a party's report on an activity.
type ActivityReport struct {
	ID         uuid.UUID
	InstanceID uuid.UUID
	ActivityID uuid.UUID
	Party      string
	Outcome    string
	Comments   string
	ReportedBy uuid.UUID
	ReportedAt time.Time
}

// UpsertActivityReport records a party's report; a new one replaces it.
func UpsertActivityReport(ctx context.Context, q Querier, r *ActivityReport) error {
	err := q.QueryRow(ctx, `INSERT INTO activity_reports (instance_id, activity_id, party, outcome, comments, reported_by, reported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (instance_id, activity_id, party) DO UPDATE SET outcome = EXCLUDED.outcome, comments = EXCLUDED.comments,
			reported_by = EXCLUDED.reported_by, reported_at = EXCLUDED.reported_at
		RETURNING id`, r.InstanceID, r.ActivityID, r.Party, r.Outcome, r.Comments, r.ReportedBy, r.ReportedAt).Scan(&r.ID)
	return translate(err, "store activity report")
}

// ActivityReports lists a follow-up's reports.
func ActivityReports(ctx context.Context, q Querier, instanceID uuid.UUID) ([]*ActivityReport, error) {
	rows, err := q.Query(ctx, `SELECT id, instance_id, activity_id, party, outcome, comments, reported_by, reported_at
		FROM activity_reports WHERE instance_id = $1 ORDER BY reported_at, id`, instanceID)
	if err != nil {
		return nil, translate(err, "list activity reports")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*ActivityReport, error) {
		var a ActivityReport
		err := r.Scan(&a.ID, &a.InstanceID, &a.ActivityID, &a.Party, &a.Outcome, &a.Comments, &a.ReportedBy, &a.ReportedAt)
		return &a, err
	})
	return out, translate(err, "list activity reports")
}

// AnnualReport is a published årsberättelse.
type AnnualReport struct {
	ID                 uuid.UUID
	AgreementVersionID uuid.UUID
	Year               int
	InstanceID         uuid.UUID
	Title              string
	Body               string
	PublishedOn        time.Time
	// DocumentURL links to the published document ("" for none).
	DocumentURL string
}

// InsertAnnualReport publishes an annual report.
func InsertAnnualReport(ctx context.Context, q Querier, r *AnnualReport) error {
	if r.ID == uuid.Nil {
		r.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO annual_reports (id, agreement_version_id, year, instance_id, title, body, published_on, document_url)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.ID, r.AgreementVersionID, r.Year, r.InstanceID, r.Title, r.Body, r.PublishedOn, r.DocumentURL)
	if isUniqueViolation(err) {
		return conflictf("Årsberättelsen för %d är redan publicerad. / The annual report for %d is already published.", r.Year, r.Year)
	}
	return translate(err, "store annual report")
}

// AnnualReportsOf lists a version's annual reports (year 0: all).
func AnnualReportsOf(ctx context.Context, q Querier, versionID uuid.UUID, year int) ([]*AnnualReport, error) {
	rows, err := q.Query(ctx, `SELECT id, agreement_version_id, year, instance_id, title, body, published_on, document_url FROM annual_reports
		WHERE agreement_version_id = $1 AND ($2 = 0 OR year = $2) ORDER BY year`, versionID, year)
	if err != nil {
		return nil, translate(err, "list annual reports")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*AnnualReport, error) {
		var a AnnualReport
		err := r.Scan(&a.ID, &a.AgreementVersionID, &a.Year, &a.InstanceID, &a.Title, &a.Body, &a.PublishedOn, &a.DocumentURL)
		return &a, err
	})
	return out, translate(err, "list annual reports")
}

// InstancesOfKind lists the instances of a kind about a subject (all
// subjects when subjectID is nil), oldest first.
func InstancesOfKind(ctx context.Context, q Querier, kind string, subjectID *uuid.UUID) ([]*Instance, error) {
	rows, err := q.Query(ctx, `SELECT `+instanceColumns+` FROM workflow_instances
		WHERE kind = $1 AND ($2::uuid IS NULL OR subject_id = $2) ORDER BY created_at, id`, kind, subjectID)
	if err != nil {
		return nil, translate(err, "list workflow instances")
	}
	return collectInstances(rows)
}

// DueFollowUp is an agreement version and a year whose follow-up is due.
type DueFollowUp struct {
	VersionID uuid.UUID
	Year      int
}

// DueFollowUps lists, for every agreement version in force, the year just
// ended when its follow-up is due (the opening moment of the year after
// has passed) and not opened yet. Follow-ups already opened are what keeps
// this from repeating, so a restart, a rerun or a missed schedule moment
// all end in exactly one follow-up per version and year.
func DueFollowUps(ctx context.Context, q Querier, year int) ([]DueFollowUp, error) {
	rows, err := q.Query(ctx, `SELECT v.id, $1::int FROM (
			SELECT DISTINCT ON (agreement_id) id, adopted_on FROM agreement_versions ORDER BY agreement_id, number DESC
		) v
		WHERE extract(year FROM v.adopted_on) <= $1
		  AND NOT EXISTS (SELECT 1 FROM workflow_instances w WHERE w.kind = 'annual_follow_up'
			AND w.subject_id = v.id AND w.data ->> 'year' = $1::text)`, year)
	if err != nil {
		return nil, translate(err, "list due follow-ups")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueFollowUp, error) {
		var d DueFollowUp
		err := r.Scan(&d.VersionID, &d.Year)
		return d, err
	})
	return out, translate(err, "list due follow-ups")
}

// DueRevisions lists the agreement versions in force whose revision is due
// to open (revision_due - lead <= today) and has not been opened.
func DueRevisions(ctx context.Context, q Querier, openBy time.Time) ([]uuid.UUID, error) {
	rows, err := q.Query(ctx, `SELECT v.id FROM (
			SELECT DISTINCT ON (agreement_id) id, revision_due FROM agreement_versions ORDER BY agreement_id, number DESC
		) v
		WHERE v.revision_due <= $1::date
		  AND NOT EXISTS (SELECT 1 FROM workflow_instances w WHERE w.kind = 'revision' AND w.subject_id = v.id)`, openBy)
	if err != nil {
		return nil, translate(err, "list due revisions")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return out, translate(err, "list due revisions")
}
