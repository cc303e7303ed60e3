package followup

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
	"github.com/samverkan/samverkan/workflows"
)

// Schedule says when follow-ups open: each year on Month/Day at Hour:Minute
// Europe/Stockholm, for the year just ended; reports are due ReportWindow
// after opening.
type Schedule struct {
	Month        time.Month
	Day          int
	Hour, Minute int
	ReportWindow time.Duration
}

// ScheduleFrom takes the follow-up schedule of a configuration (whose
// defaults are internal/config's: 15 January at 06:00, eight weeks to
// report).
func ScheduleFrom(c config.Config) (Schedule, error) {
	return ParseSchedule(c.FollowUpOpens, c.ReportWindow)
}

// ParseSchedule reads "MM-DD HH:MM", e.g. "01-15 06:00".
func ParseSchedule(s string, window time.Duration) (Schedule, error) {
	t, err := time.Parse("01-02 15:04", s)
	if err != nil {
		return Schedule{}, fmt.Errorf("follow-up schedule %q: want MM-DD HH:MM, e.g. 01-15 06:00", s)
	}
	return Schedule{Month: t.Month(), Day: t.Day(), Hour: t.Hour(), Minute: t.Minute(), ReportWindow: window}, nil
}

// opening is the moment follow-ups open in a calendar year.
func (s Schedule) opening(year int) time.Time {
	return time.Date(year, s.Month, s.Day, s.Hour, s.Minute, 0, 0, clock.Stockholm)
}

// DueYear is the year whose follow-up is due at now: the year just ended
// once this year's opening moment has passed, else the one before.
func (s Schedule) DueYear(now time.Time) int {
	y := now.In(clock.Stockholm).Year()
	if now.Before(s.opening(y)) {
		return y - 2
	}
	return y - 1
}

// Service runs annual follow-ups.
type Service struct {
	eng      *workflows.Engine
	db       *store.DB
	schedule Schedule
}

// NewService registers the definition and returns the service.
func NewService(eng *workflows.Engine, s Schedule) (*Service, error) {
	if err := eng.Register(Definition()); err != nil {
		return nil, err
	}
	return &Service{eng: eng, db: eng.DB(), schedule: s}, nil
}

// Open opens the follow-up of a version for a year by hand (officials and
// admins). A second opening of the same year is a CONFLICT.
func (s *Service) Open(ctx context.Context, pr authz.Principal, versionID uuid.UUID, year int) (*store.Instance, error) {
	if err := s.eng.Policy().Authorize(ctx, pr, "followup.open", []string{authz.ScopeRegion, authz.ScopeAll}); err != nil {
		return nil, err
	}
	if year < validate.MinYear || year > s.eng.Clock().Now().Year() {
		return nil, apperr.Invalid("year", "Året %d kan inte följas upp. / The year %d cannot be followed up.", year, year)
	}
	var in *store.Instance
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		v, err := registry.VersionTx(ctx, tx, versionID)
		if err != nil {
			return err
		}
		if v.AdoptedOn.Year() > year {
			return apperr.Invalid("year", "Version %d antogs %s, efter %d. / Version %d was adopted %s, after %d.",
				v.Number, v.AdoptedOn.Format("2006-01-02"), year, v.Number, v.AdoptedOn.Format("2006-01-02"), year)
		}
		in, err = s.startTx(ctx, tx, pr, versionID, year)
		if apperr.IsCode(err, apperr.Conflict) {
			return apperr.New(apperr.Conflict, "Uppföljningen av %d är redan öppnad. / The follow-up of %d is already open.", year, year)
		}
		return err
	})
	return in, err
}

func (s *Service) startTx(ctx context.Context, tx pgx.Tx, pr authz.Principal, versionID uuid.UUID, year int) (*store.Instance, error) {
	now := s.eng.Clock().Now()
	return s.eng.StartTx(ctx, tx, workflows.StartParams{
		Kind: Kind, SubjectType: "agreement_version", SubjectID: versionID, Scopes: Scopes, Actor: pr,
		Data: map[string]any{keyYear: year, keyVersion: versionID.String(),
			keyDeadline: now.Add(s.schedule.ReportWindow).UTC().Format(time.RFC3339)},
		Input: map[string]any{"year": year},
	})
}

// OpenDue opens every follow-up that is due and not yet open. It is what
// the periodic job runs; it is safe to run any number of times, at once in
// several processes, and after a crash: the unique index on (version, year)
// turns a second opening into a no-op.
func (s *Service) OpenDue(ctx context.Context) (int, error) {
	year := s.schedule.DueYear(s.eng.Clock().Now())
	due, err := store.DueFollowUps(ctx, s.db.Pool, year)
	if err != nil {
		return 0, err
	}
	return workflows.StartEach(ctx, s.eng, due, func(ctx context.Context, tx pgx.Tx, d store.DueFollowUp) error {
		_, err := s.startTx(ctx, tx, authz.SystemPrincipal, d.VersionID, d.Year)
		return err
	})
}

// ActivityInput describes a planned activity.
type ActivityInput struct {
	Title       string
	Description string
	Quarters    []int
	Responsible string
	Principles  []string
	Indicators  []IndicatorInput
}

// IndicatorInput describes an indicator.
type IndicatorInput struct {
	Name   string
	Unit   string
	Target *float64
}

// ValidateActivities checks planned activities.
func ValidateActivities(acts []ActivityInput) error {
	if len(acts) > 200 {
		return apperr.Invalid("activities", "Högst 200 aktiviteter. / At most 200 activities.")
	}
	for i, a := range acts {
		field := fmt.Sprintf("activities[%d]", i)
		if err := validate.Text(field+".title", a.Title, 1, 300); err != nil {
			return err
		}
		if err := validate.Text(field+".description", a.Description, 0, 5000); err != nil {
			return err
		}
		if len(a.Quarters) == 0 {
			return apperr.Invalid(field+".quarters", "Ange minst ett kvartal. / Give at least one quarter.")
		}
		for _, q := range a.Quarters {
			if q < 1 || q > 4 {
				return apperr.Invalid(field+".quarters", "Kvartal är 1–4, inte %d. / Quarters are 1–4, not %d.", q, q)
			}
		}
		if !slices.Contains([]string{"region", "sector", "both"}, a.Responsible) {
			return apperr.Invalid(field+".responsible", "Ansvarig part är region, sektor eller båda. / The responsible party is region, sector or both.")
		}
		for _, p := range a.Principles {
			if !slices.Contains(registry.Principles, p) {
				return apperr.Invalid(field+".principles", "Okänd princip %q. / Unknown principle %q.", p, p)
			}
		}
		for j, ind := range a.Indicators {
			if err := validate.Text(fmt.Sprintf("%s.indicators[%d].name", field, j), ind.Name, 1, 200); err != nil {
				return err
			}
			if err := validate.Text(fmt.Sprintf("%s.indicators[%d].unit", field, j), ind.Unit, 0, 100); err != nil {
				return err
			}
			if ind.Target != nil && !validNumber(*ind.Target) {
				return apperr.Invalid(field+".indicators.target", "Målvärdet måste vara ett tal mellan 0 och 10^12. / The target must be a number between 0 and 10^12.")
			}
		}
	}
	return nil
}

func validNumber(f float64) bool { return !math.IsNaN(f) && f >= 0 && f < 1e12 }

func insertPlan(ctx context.Context, tx pgx.Tx, versionID uuid.UUID, year int, acts []ActivityInput, instance *uuid.UUID, now time.Time) (*store.ActionPlan, error) {
	p := &store.ActionPlan{AgreementVersionID: versionID, Year: year, AdoptedOn: clock.Today(now), InstanceID: instance, CreatedAt: now}
	if err := store.InsertActionPlan(ctx, tx, p); err != nil {
		return nil, err
	}
	for i, a := range acts {
		quarters := make([]int32, len(a.Quarters))
		for j, q := range a.Quarters {
			quarters[j] = int32(q)
		}
		principles := a.Principles
		if principles == nil {
			principles = []string{}
		}
		act := &store.Activity{ActionPlanID: p.ID, Position: i + 1, Title: a.Title, Description: a.Description,
			Quarters: quarters, Responsible: a.Responsible, Principles: principles}
		var inds []*store.Indicator
		for _, in := range a.Indicators {
			inds = append(inds, &store.Indicator{Name: in.Name, Unit: in.Unit, Target: in.Target})
		}
		if err := store.InsertActivity(ctx, tx, act, inds); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// CreateActionPlan adopts a plan outside a follow-up (the first plan of a
// new agreement version).
func (s *Service) CreateActionPlan(ctx context.Context, pr authz.Principal, versionID uuid.UUID, year int, acts []ActivityInput) (*store.ActionPlan, error) {
	if err := s.eng.Policy().Authorize(ctx, pr, "followup.adopt_plan", Scopes); err != nil {
		return nil, err
	}
	if err := validate.Year("year", year); err != nil {
		return nil, err
	}
	if err := ValidateActivities(acts); err != nil {
		return nil, err
	}
	var p *store.ActionPlan
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := registry.VersionTx(ctx, tx, versionID); err != nil {
			return err
		}
		var err error
		p, err = insertPlan(ctx, tx, versionID, year, acts, nil, s.eng.Clock().Now())
		return err
	})
	return p, err
}

// ReportInput is a party's report on an activity.
type ReportInput struct {
	workflows.Step
	ActivityID      uuid.UUID
	Outcome         string
	Comments        string
	IndicatorValues map[uuid.UUID]float64
}

// SubmitReport records the reporter's party's report on an activity while
// reports are being collected. The party is the reporter's side: the
// Region's officials report for the Region, the council's sector members
// for the sector.
func (s *Service) SubmitReport(ctx context.Context, pr authz.Principal, r ReportInput) (*store.Instance, error) {
	if err := validate.Text("outcome", r.Outcome, 1, 10000); err != nil {
		return nil, err
	}
	if err := validate.Text("comments", r.Comments, 0, 10000); err != nil {
		return nil, err
	}
	for _, v := range r.IndicatorValues {
		if !validNumber(v) {
			return nil, apperr.Invalid("indicatorValues", "Ett mätvärde måste vara ett tal mellan 0 och 10^12. / A measured value must be a number between 0 and 10^12.")
		}
	}
	party := s.PartyOf(pr)
	return s.eng.Act(ctx, workflows.ActParams{InstanceID: r.ID, Kind: Kind, Actor: pr, Action: "followup.report",
		ExpectedVersion: r.ExpectedVersion, States: []workflows.State{CollectingReports}},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			act, err := store.GetActivity(ctx, tx, r.ActivityID)
			if err != nil {
				return workflows.Note{}, apperr.Invalid("activityId", "Aktiviteten finns inte. / The activity does not exist.")
			}
			plan, err := planOf(ctx, tx, in, Year(in))
			if err != nil {
				return workflows.Note{}, err
			}
			if plan == nil || act.ActionPlanID != plan.ID {
				return workflows.Note{}, apperr.Invalid("activityId", "Aktiviteten hör inte till årets handlingsplan. / The activity is not in this year's action plan.")
			}
			if !slices.Contains(partiesOf(act.Responsible), party) {
				return workflows.Note{}, apperr.Invalid("activityId", "Aktiviteten %q är inte din parts ansvar. / The activity %q is not your party's responsibility.", act.Title, act.Title)
			}
			if len(r.IndicatorValues) > 0 {
				inds, err := store.IndicatorsOf(ctx, tx, []uuid.UUID{act.ID})
				if err != nil {
					return workflows.Note{}, err
				}
				for id, v := range r.IndicatorValues {
					if !slices.ContainsFunc(inds, func(i *store.Indicator) bool { return i.ID == id }) {
						return workflows.Note{}, apperr.Invalid("indicatorValues", "Indikatorn hör inte till aktiviteten. / The indicator does not belong to the activity.")
					}
					if err := store.SetIndicatorValue(ctx, tx, id, Year(in), party, v, pr.UserID, now); err != nil {
						return workflows.Note{}, err
					}
				}
			}
			if err := store.UpsertActivityReport(ctx, tx, &store.ActivityReport{InstanceID: in.ID, ActivityID: act.ID, Party: party,
				Outcome: r.Outcome, Comments: r.Comments, ReportedBy: pr.UserID, ReportedAt: now}); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "report_submitted", Input: map[string]any{"activity": act.Title, "party": party}}, nil
		})
}

// ExtendDeadline moves the report deadline (before the reports go to the
// council); the reminders of the old one do not fire.
func (s *Service) ExtendDeadline(ctx context.Context, pr authz.Principal, st workflows.Step, to time.Time) (*store.Instance, error) {
	return s.eng.SetDeadline(ctx, workflows.DeadlineParams{InstanceID: st.ID, Kind: Kind, ExpectedVersion: st.ExpectedVersion,
		Key: keyDeadline, At: to, Actor: pr, Action: "followup.extend_deadline", Reason: st.Reason,
		States: deadlineStates})
}

func (s *Service) fire(ctx context.Context, pr authz.Principal, st workflows.Step, transition string, input map[string]any) (*store.Instance, error) {
	res, err := s.eng.Fire(ctx, workflows.FireParams{Kind: Kind, InstanceID: st.ID, Transition: transition, Actor: pr,
		ExpectedVersion: st.ExpectedVersion, Reason: st.Reason, Input: input})
	if err != nil {
		return nil, err
	}
	return res.Instance, nil
}

// StartCollecting starts the reporting (it starts by itself a week after
// opening); a deadline, when given, replaces the default one.
func (s *Service) StartCollecting(ctx context.Context, pr authz.Principal, st workflows.Step, deadline *time.Time) (*store.Instance, error) {
	var input map[string]any
	if deadline != nil {
		input = map[string]any{inDeadline: *deadline}
	}
	return s.fire(ctx, pr, st, tStartCollecting, input)
}

// SubmitToCouncil sends the reports to the council; with reports missing
// only when a reason says why.
func (s *Service) SubmitToCouncil(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tSubmitToCouncil, nil)
}

// SendBack: the council sends the follow-up back for more reports, with a
// reason.
func (s *Service) SendBack(ctx context.Context, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	return s.fire(ctx, pr, st, tSendBack, nil)
}

// PublishAnnualReport publishes the council's annual report (årsberättelse).
func (s *Service) PublishAnnualReport(ctx context.Context, pr authz.Principal, st workflows.Step, title, body string) (*store.Instance, error) {
	if err := validate.Text("title", title, 1, 300); err != nil {
		return nil, err
	}
	if err := validate.Text("body", body, 1, 200000); err != nil {
		return nil, err
	}
	if strings.TrimSpace(title) == "" || strings.TrimSpace(body) == "" {
		return nil, apperr.Invalid("body", "Årsberättelsen behöver en rubrik och en text. / The annual report needs a title and a text.")
	}
	return s.fire(ctx, pr, st, tPublishAnnualReport, map[string]any{inTitle: title, inBody: body})
}

// AdoptNextPlan adopts next year's activity plan and ends the follow-up.
func (s *Service) AdoptNextPlan(ctx context.Context, pr authz.Principal, st workflows.Step, acts []ActivityInput) (*store.Instance, error) {
	if err := ValidateActivities(acts); err != nil {
		return nil, err
	}
	if acts == nil {
		acts = []ActivityInput{}
	}
	return s.fire(ctx, pr, st, tAdoptNextPlan, map[string]any{inActivities: acts})
}

// Reports lists a follow-up's activity reports, for those who may read its
// private side (others get none).
func (s *Service) Reports(ctx context.Context, pr authz.Principal, in *store.Instance) ([]*store.ActivityReport, error) {
	if !s.eng.CanReadPrivate(ctx, pr, in) {
		return []*store.ActivityReport{}, nil
	}
	return store.ActivityReports(ctx, s.db.Pool, in.ID)
}

// MissingReports lists "activity (party)" for each report not yet in.
func (s *Service) MissingReports(ctx context.Context, in *store.Instance) ([]string, error) {
	m, err := Missing(ctx, s.db.Pool, in)
	if m == nil {
		m = []string{}
	}
	return m, err
}

// IsOverdue tells whether a follow-up's reports are late now.
func (s *Service) IsOverdue(in *store.Instance) bool { return IsOverdue(in, s.eng.Clock().Now()) }

// FollowUps lists a version's follow-ups, oldest year first.
func (s *Service) FollowUps(ctx context.Context, versionID uuid.UUID) ([]*store.Instance, error) {
	all, err := store.InstancesOfKind(ctx, s.db.Pool, Kind, &versionID)
	byYear(all)
	return all, err
}

// FollowUpsOf reads the follow-ups of many versions that pr may see (for
// batch loaders), each version's oldest year first.
func (s *Service) FollowUpsOf(ctx context.Context, pr authz.Principal, versionIDs []uuid.UUID) ([]*store.Instance, error) {
	all, err := s.eng.InstancesOfSubjects(ctx, pr, Kind, versionIDs)
	byYear(all)
	return all, err
}

// byYear orders follow-ups by the year they follow up (the order they were
// opened in need not be: a year may be opened late, by hand).
func byYear(all []*store.Instance) {
	slices.SortStableFunc(all, func(a, b *store.Instance) int { return Year(a) - Year(b) })
}

// Overdue lists follow-ups still collecting reports after their deadline.
func (s *Service) Overdue(ctx context.Context) ([]*store.Instance, error) {
	all, err := store.InstancesOfKind(ctx, s.db.Pool, Kind, nil)
	if err != nil {
		return nil, err
	}
	now := s.eng.Clock().Now()
	var out []*store.Instance
	for _, in := range all {
		if IsOverdue(in, now) {
			out = append(out, in)
		}
	}
	return out, nil
}

// IsOverdue tells whether reports are late.
func IsOverdue(in *store.Instance, now time.Time) bool {
	d, ok := ReportDeadline(in)
	return ok && in.State == string(CollectingReports) && now.After(d)
}

// AnnualReports lists a version's published annual reports (year 0: all).
func (s *Service) AnnualReports(ctx context.Context, versionID uuid.UUID, year int) ([]*store.AnnualReport, error) {
	return store.AnnualReportsOf(ctx, s.db.Pool, versionID, year)
}

// IndicatorSeries is an indicator's values over the years.
func (s *Service) IndicatorSeries(ctx context.Context, versionID uuid.UUID, name string) ([]store.IndicatorValue, error) {
	return store.IndicatorSeries(ctx, s.db.Pool, versionID, name)
}

// ActionPlans lists a version's plans.
func (s *Service) ActionPlans(ctx context.Context, versionID uuid.UUID) ([]*store.ActionPlan, error) {
	return store.ActionPlansOf(ctx, s.db.Pool, versionID)
}

// Activities lists a plan's activities.
func (s *Service) Activities(ctx context.Context, planID uuid.UUID) ([]*store.Activity, error) {
	return store.Activities(ctx, s.db.Pool, planID)
}

// Indicators lists activities' indicators.
func (s *Service) Indicators(ctx context.Context, activityIDs []uuid.UUID) ([]*store.Indicator, error) {
	return store.IndicatorsOf(ctx, s.db.Pool, activityIDs)
}

// IndicatorValues reads indicators' values.
func (s *Service) IndicatorValues(ctx context.Context, ids []uuid.UUID) ([]store.IndicatorValue, error) {
	return store.IndicatorValues(ctx, s.db.Pool, ids)
}

// PlanFor is the plan of a version for a year (nil if none).
func (s *Service) PlanFor(ctx context.Context, versionID uuid.UUID, year int) (*store.ActionPlan, error) {
	p, err := store.ActionPlanFor(ctx, s.db.Pool, versionID, year)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, nil
	}
	return p, err
}

// ActivitiesByIDs reads activities (public, as the plans are).
func (s *Service) ActivitiesByIDs(ctx context.Context, ids []uuid.UUID) ([]*store.Activity, error) {
	return store.ActivitiesByIDs(ctx, s.db.Pool, ids)
}

// PlansOfVersions reads many versions' action plans.
func (s *Service) PlansOfVersions(ctx context.Context, versionIDs []uuid.UUID) ([]*store.ActionPlan, error) {
	return store.PlansOfVersions(ctx, s.db.Pool, versionIDs)
}

// ActivitiesOfPlans reads many plans' activities.
func (s *Service) ActivitiesOfPlans(ctx context.Context, planIDs []uuid.UUID) ([]*store.Activity, error) {
	return store.ActivitiesOfPlans(ctx, s.db.Pool, planIDs)
}
