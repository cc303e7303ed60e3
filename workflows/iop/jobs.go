package iop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// The yearly follow-up reports. Each report is on one year and opens on 1
// January of the next; it is due on the follow-up plan's month and day of
// that next year. Two ways open them, and the UNIQUE (partnership, year)
// constraint makes them agree:
//
//   - OpenReportArgs, one job per partnership and year, inserted when the
//     partnership is activated or renewed and scheduled at the opening; it
//     writes the history event and schedules the reminder and overdue
//     notices (ReportNoticeArgs).
//   - OpenDueReportsArgs, the annual fan-out: a periodic job that opens
//     every report due, across all partnerships, in set-based batches, and
//     writes the reminders and overdue notices for all of them at once.

// errNothing ends a job's transaction without writing.
var errNothing = errors.New("nothing to do")

// OpenReportArgs opens one partnership's report on one year.
type OpenReportArgs struct {
	PartnershipID uuid.UUID `json:"partnership_id"`
	Year          int       `json:"year"`
}

// Kind is the job kind.
func (OpenReportArgs) Kind() string { return "partnership_open_report" }

// InsertOpts make one job per partnership and year.
func (OpenReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// OpenReportWorker runs OpenReportArgs.
type OpenReportWorker struct {
	river.WorkerDefaults[OpenReportArgs]
	Service *Service
}

// Work opens the report.
func (w *OpenReportWorker) Work(ctx context.Context, job *river.Job[OpenReportArgs]) error {
	_, err := w.Service.OpenReport(ctx, job.Args.PartnershipID, job.Args.Year)
	return err
}

// ReportNoticeArgs reminds the parties of a report before it is due
// ("reminder") or tells them it is overdue ("overdue"), unless it has been
// submitted.
type ReportNoticeArgs struct {
	PartnershipID uuid.UUID `json:"partnership_id"`
	Year          int       `json:"year"`
	Notice        string    `json:"notice"`
}

// Kind is the job kind.
func (ReportNoticeArgs) Kind() string { return "partnership_report_notice" }

// InsertOpts make one job per report and notice.
func (ReportNoticeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ReportNoticeWorker runs ReportNoticeArgs.
type ReportNoticeWorker struct {
	river.WorkerDefaults[ReportNoticeArgs]
	Service *Service
}

// Work writes the notice.
func (w *ReportNoticeWorker) Work(ctx context.Context, job *river.Job[ReportNoticeArgs]) error {
	return w.Service.reportNotice(ctx, job.Args)
}

// OpenDueReportsArgs is the periodic annual fan-out.
type OpenDueReportsArgs struct{}

// Kind is the job kind.
func (OpenDueReportsArgs) Kind() string { return "partnership_open_due_reports" }

// InsertOpts make the job unique while it waits or runs, so that a backlog
// of ticks collapses into one run.
func (OpenDueReportsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{rivertype.JobStateAvailable,
		rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled}}}
}

// OpenDueReportsWorker runs OpenDueReportsArgs.
type OpenDueReportsWorker struct {
	river.WorkerDefaults[OpenDueReportsArgs]
	Service *Service
}

// Work opens what is due and sends the reminders and overdue notices.
func (w *OpenDueReportsWorker) Work(ctx context.Context, _ *river.Job[OpenDueReportsArgs]) error {
	if _, err := w.Service.OpenDueReports(ctx); err != nil {
		return err
	}
	_, err := w.Service.NotifyReports(ctx)
	return err
}

// Timeout gives the fan-out more than River's default minute.
func (w *OpenDueReportsWorker) Timeout(*river.Job[OpenDueReportsArgs]) time.Duration {
	return 30 * time.Minute
}

// AddWorkers registers the partnership jobs' workers.
func (s *Service) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &OpenReportWorker{Service: s})
	river.AddWorker(w, &ReportNoticeWorker{Service: s})
	river.AddWorker(w, &OpenDueReportsWorker{Service: s})
}

// PeriodicJobs run the fan-out at start and then every interval (it opens
// nothing twice, so running it often only makes it prompt).
func PeriodicJobs(interval time.Duration) []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return OpenDueReportsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}

// OpenReport opens a partnership's report on a year unless it is open, or
// not due (the partnership is not agreed, the year is outside its period,
// or has not ended). It tells whether it opened it.
func (s *Service) OpenReport(ctx context.Context, id uuid.UUID, year int) (bool, error) {
	p, err := store.GetPartnership(ctx, s.db.Pool, id)
	if apperr.IsCode(err, apperr.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := s.eng.Clock().Now()
	if p.ActivatedAt == nil || p.InstanceID == nil || year < p.StartDate.Year() || year > lastYear(p) ||
		year >= now.In(clock.Stockholm).Year() {
		return false, nil
	}
	_, err = s.eng.Act(ctx, workflows.ActParams{InstanceID: *p.InstanceID, Actor: authz.SystemPrincipal, Action: "partnership.report"},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			due := ReportDue(year, p.ReportDueMonth, p.ReportDueDay)
			opened, err := store.OpenPartnershipReport(ctx, tx, id, year, due, now)
			if err != nil {
				return workflows.Note{}, err
			}
			if !opened {
				return workflows.Note{}, errNothing
			}
			if err := s.notify(ctx, tx, in, "opened", year, due, now); err != nil {
				return workflows.Note{}, err
			}
			if err := s.scheduleNotices(ctx, tx, id, year, due, now); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "report_opened", Input: map[string]any{"year": year, "dueOn": due.Format(time.DateOnly)}}, nil
		})
	if errors.Is(err, errNothing) {
		return false, nil
	}
	return err == nil, err
}

// scheduleNotices inserts the report's reminder and overdue jobs when it
// runs as a job (River's client is then in ctx).
func (s *Service) scheduleNotices(ctx context.Context, tx pgx.Tx, id uuid.UUID, year int, due, now time.Time) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return nil
	}
	var params []river.InsertManyParams
	add := func(notice string, at time.Time) {
		args := ReportNoticeArgs{PartnershipID: id, Year: year, Notice: notice}
		opts := args.InsertOpts()
		opts.ScheduledAt = at
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: &opts})
	}
	if remind := midnight(due).AddDate(0, 0, -s.opts.ReminderDays); remind.After(now) {
		add("reminder", remind)
	}
	add("overdue", endMoment(due))
	_, err = client.InsertManyTx(ctx, tx, params)
	return err
}

// reportNotice writes a reminder or overdue notice for a report not yet
// submitted.
func (s *Service) reportNotice(ctx context.Context, a ReportNoticeArgs) error {
	p, err := store.GetPartnership(ctx, s.db.Pool, a.PartnershipID)
	if apperr.IsCode(err, apperr.NotFound) || (err == nil && p.InstanceID == nil) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.eng.Act(ctx, workflows.ActParams{InstanceID: *p.InstanceID, Actor: authz.SystemPrincipal, Action: "partnership.report"},
		func(ctx context.Context, tx pgx.Tx, in *store.Instance, now time.Time) (workflows.Note, error) {
			r, err := store.GetPartnershipReport(ctx, tx, a.PartnershipID, a.Year, today(now))
			if apperr.IsCode(err, apperr.NotFound) {
				return workflows.Note{}, errNothing
			}
			if err != nil {
				return workflows.Note{}, err
			}
			if r.SubmittedAt != nil || (a.Notice == "overdue" && !r.Overdue) {
				return workflows.Note{}, errNothing
			}
			if err := s.notify(ctx, tx, in, a.Notice, a.Year, r.DueOn, now); err != nil {
				return workflows.Note{}, err
			}
			return workflows.Note{Kind: "report_" + a.Notice, Input: map[string]any{"year": a.Year, "dueOn": r.DueOn.Format(time.DateOnly)}}, nil
		})
	if errors.Is(err, errNothing) {
		return nil
	}
	return err
}

// notify writes a notice about a report to each idea-based party and to
// the officials, once each (the keys are the fan-out's too).
func (s *Service) notify(ctx context.Context, tx pgx.Tx, in *store.Instance, notice string, year int, due, now time.Time) error {
	kind, subject, body := "notice", "", ""
	d := due.Format(time.DateOnly)
	switch notice {
	case "opened":
		subject = fmt.Sprintf("IOP: årlig uppföljning %d / IOP: annual follow-up %d", year, year)
		body = fmt.Sprintf("Uppföljningsrapporten för %d är öppen och ska lämnas senast %s. / The follow-up report for %d is open and due on %s.", year, d, year, d)
	case "reminder":
		kind = "reminder"
		subject = fmt.Sprintf("IOP: påminnelse om uppföljningsrapporten för %d / IOP: reminder of the follow-up report for %d", year, year)
		body = fmt.Sprintf("Rapporten skulle lämnas senast %s. / The report is due on %s.", d, d)
	case "overdue":
		subject = fmt.Sprintf("IOP: uppföljningsrapporten för %d är försenad / IOP: the follow-up report for %d is overdue", year, year)
		body = fmt.Sprintf("Rapporten skulle lämnas senast %s. / The report is due on %s.", d, d)
	default:
		return fmt.Errorf("unknown report notice %q", notice)
	}
	key := fmt.Sprintf("partnership_report:%s:%d:%s:", in.SubjectID, year, notice)
	for _, org := range IdeaBasedParties(in) {
		if err := store.InsertNotification(ctx, tx, &store.Notification{DedupeKey: key + org.String(), InstanceID: &in.ID,
			OrganisationID: &org, RecipientRole: authz.RoleSectorRepresentative, Kind: kind, Subject: subject, Body: body,
			CreatedAt: now}); err != nil {
			return err
		}
	}
	return store.InsertNotification(ctx, tx, &store.Notification{DedupeKey: key + "region", InstanceID: &in.ID,
		RecipientRole: authz.RoleRegionOfficial, Kind: kind, Subject: subject, Body: body, CreatedAt: now})
}

// OpenDueReports is the annual fan-out: it opens every report due across
// all partnerships, in batches of Options.BatchSize partnerships, each one
// set-based statement in its own short transaction, and returns how many it
// opened. Running it again opens nothing more; it is safe in several
// processes at once.
func (s *Service) OpenDueReports(ctx context.Context) (int, error) {
	now := s.eng.Clock().Now()
	year := now.In(clock.Stockholm).Year()
	var after uuid.UUID
	opened := 0
	for {
		var b store.ReportBatch
		err := s.db.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			b, err = store.OpenDueReportsBatch(ctx, tx, after, s.opts.BatchSize, year, now)
			return err
		})
		if err != nil {
			return opened, err
		}
		opened += b.Opened
		if b.Scanned < s.opts.BatchSize {
			return opened, nil
		}
		after = b.LastID
	}
}

// NotifyReports writes, across all partnerships, the reminders of reports
// due within Options.ReminderDays and the notices of reports that fell
// overdue in the last 30 days, each once, in batches; it returns how many
// it wrote.
func (s *Service) NotifyReports(ctx context.Context) (int, error) {
	now := s.eng.Clock().Now()
	var after *store.ReportCursor
	written := 0
	for {
		var scanned, n int
		var cur store.ReportCursor
		err := s.db.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			scanned, cur, n, err = store.NotifyReportsBatch(ctx, tx, after, s.opts.BatchSize, today(now), s.opts.ReminderDays, now)
			return err
		})
		if err != nil {
			return written, err
		}
		written += n
		if scanned < s.opts.BatchSize {
			return written, nil
		}
		after = &cur
	}
}
