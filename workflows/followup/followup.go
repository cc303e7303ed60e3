// Package followup is the annual follow-up (årlig uppföljning) of an
// agreement's action plan. Every year, after the opening moment (by default
// 15 January 06:00 Europe/Stockholm), a River job opens one follow-up per
// agreement version in force for the year just ended: each party reports on
// its activities and indicators by a deadline, the council reviews and
// approves (one member from each side), the annual report (årsberättelse)
// is published and next year's activity plan adopted.
package followup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// Kind is the workflow's kind.
const Kind = "annual_follow_up"

// The states.
const (
	Opened            workflows.State = "opened"
	CollectingReports workflows.State = "collecting_reports"
	CouncilReview     workflows.State = "council_review"
	Approved          workflows.State = "approved"
	ReportPublished   workflows.State = "report_published"
	PlanAdopted       workflows.State = "plan_adopted"
)

// Data keys.
const (
	keyYear     = "year"
	keyVersion  = "agreementVersionId"
	keyDeadline = "reportDeadline"
)

// Input keys of transitions.
const (
	inDeadline   = "reportDeadline"
	inTitle      = "title"
	inBody       = "body"
	inActivities = "activities"
)

// The transitions; the Service's typed commands fire them.
const (
	tStartCollecting     = "start_collecting"
	tSubmitToCouncil     = "submit_to_council"
	tSendBack            = "send_back"
	tCouncilApprove      = "council_approve"
	tPublishAnnualReport = "publish_annual_report"
	tAdoptNextPlan       = "adopt_next_plan"
)

// Scopes of a follow-up: both sides of the agreement.
var Scopes = []string{authz.ScopeRegion, authz.ScopeSector}

// CouncilQuorum is the council's approval: one member from each side.
func CouncilQuorum(*store.Instance) workflows.Quorum {
	return workflows.Quorum{
		{Name: "region", Title: "Rådet, Regionens sida / The council, Region side", Roles: []string{authz.RoleCouncilMember}, Scope: authz.ScopeRegion, Count: 1},
		{Name: "sector", Title: "Rådet, sektorns sida / The council, sector side", Roles: []string{authz.RoleCouncilMember}, Scope: authz.ScopeSector, Count: 1},
	}
}

// Definition is version 1 of the annual follow-up.
func Definition() *workflows.Definition {
	deadline := ReportDeadline
	return &workflows.Definition{
		Kind: Kind, Version: 1, Title: "Årlig uppföljning / Annual follow-up", Initial: Opened, PublicStart: true, Resource: "followup",
		// A past year's follow-up done before the installation is imported
		// as finished.
		Entry:  []workflows.State{PlanAdopted},
		Public: func(*store.Instance) bool { return true },
		Duties: []workflows.Duty{{Action: "followup.report", Title: "rapportera om era aktiviteter / report on your activities",
			States: []workflows.State{CollectingReports}}},
		Deadline: func(in *store.Instance) (time.Time, bool) {
			if in.State != string(CollectingReports) {
				return time.Time{}, false
			}
			return ReportDeadline(in)
		},
		States: []workflows.StateSpec{
			{Name: Opened, Title: "öppnad / opened", Timers: []workflows.Timer{
				// Reports start being collected by themselves a week after
				// opening unless an official starts earlier.
				{Name: "start collecting", After: 7 * 24 * time.Hour, Fire: tStartCollecting},
			}},
			{Name: CollectingReports, Title: "rapportering pågår / collecting reports", Timers: []workflows.Timer{
				{Name: "report reminder", Recipient: authz.RoleCouncilMember, Due: deadline,
					Reminder: "Påminnelse: rapporteringen för den årliga uppföljningen ska vara klar före tidsfristen. / Reminder: reports for the annual follow-up are due by the deadline.",
					At: func(in *store.Instance) (time.Time, bool) {
						t, ok := deadline(in)
						return t.AddDate(0, 0, -14), ok
					}},
				{Name: "report deadline passed", Recipient: authz.RoleRegionOfficial, At: deadline,
					Reminder: "Tidsfristen för rapporteringen har passerats; rapporter saknas. / The report deadline has passed; reports are missing."},
			}},
			{Name: CouncilReview, Title: "rådets granskning / council review"},
			{Name: Approved, Title: "godkänd av rådet / approved by the council"},
			{Name: ReportPublished, Title: "årsberättelsen publicerad / annual report published"},
			{Name: PlanAdopted, Title: "nästa års aktivitetsplan antagen / next year's activity plan adopted", Final: true},
		},
		Transitions: []*workflows.Transition{
			{Name: tStartCollecting, Title: "starta rapporteringen / start collecting reports", From: []workflows.State{Opened},
				To: CollectingReports, Action: "followup.start", Effect: setDeadline, Public: true},
			{Name: tSubmitToCouncil, Title: "lämna till rådet / submit to the council", From: []workflows.State{CollectingReports},
				To: CouncilReview, Action: "followup.submit", Guard: reportsComplete, Public: true},
			{Name: tSendBack, Title: "skicka tillbaka för komplettering / send back for more reports", From: []workflows.State{CouncilReview},
				To: CollectingReports, Action: "followup.send_back", RequireReason: true, Public: true},
			{Name: tCouncilApprove, Title: "rådet godkänner / the council approves", From: []workflows.State{CouncilReview},
				To: Approved, Action: "followup.approve", Quorum: CouncilQuorum, Public: true},
			{Name: tPublishAnnualReport, Title: "publicera årsberättelsen / publish the annual report", From: []workflows.State{Approved},
				To: ReportPublished, Action: "followup.publish", Effect: publishReport, Public: true},
			{Name: tAdoptNextPlan, Title: "anta nästa års aktivitetsplan / adopt next year's activity plan", From: []workflows.State{ReportPublished},
				To: PlanAdopted, Action: "followup.adopt_plan", Effect: adoptPlan, Public: true},
		},
	}
}

// Year is the year a follow-up is about.
func Year(in *store.Instance) int {
	y, _ := workflows.DataInt(in, keyYear)
	return y
}

// ReportDeadline is when the parties' reports are due.
func ReportDeadline(in *store.Instance) (time.Time, bool) {
	return workflows.DataTime(in, keyDeadline)
}

func setDeadline(_ context.Context, _ pgx.Tx, f *workflows.Firing) error {
	t, ok := f.Input[inDeadline].(time.Time)
	if !ok {
		return nil
	}
	if !t.After(f.Now) {
		return apperr.Invalid("reportDeadline", "Tidsfristen ska vara en tidpunkt i framtiden. / The deadline must be a moment in the future.")
	}
	workflows.SetData(f.Instance, keyDeadline, t)
	return nil
}

// reportsComplete lets the follow-up go to the council when every
// responsible party has reported on every activity, or when the official
// says why not.
func reportsComplete(ctx context.Context, f *workflows.Firing) error {
	missing, err := Missing(ctx, f.Tx(), f.Instance)
	if err != nil || len(missing) == 0 || f.Reason != "" {
		return err
	}
	return apperr.New(apperr.InvalidTransition,
		"Rapporter saknas (%s); ange ett skäl för att ändå lämna till rådet. / Reports are missing (%s); give a reason to submit anyway.",
		strings.Join(missing, ", "), strings.Join(missing, ", "))
}

// Missing lists "activity (party)" for each report not yet in.
func Missing(ctx context.Context, q store.Querier, in *store.Instance) ([]string, error) {
	plan, err := planOf(ctx, q, in, Year(in))
	if err != nil || plan == nil {
		return nil, err
	}
	acts, err := store.Activities(ctx, q, plan.ID)
	if err != nil {
		return nil, err
	}
	reports, err := store.ActivityReports(ctx, q, in.ID)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, r := range reports {
		have[r.ActivityID.String()+r.Party] = true
	}
	var missing []string
	for _, a := range acts {
		if a.Status == "cancelled" {
			continue
		}
		for _, party := range partiesOf(a.Responsible) {
			if !have[a.ID.String()+party] {
				missing = append(missing, fmt.Sprintf("%s (%s)", a.Title, party))
			}
		}
	}
	return missing, nil
}

func partiesOf(responsible string) []string {
	if responsible == "both" {
		return []string{"region", "sector"}
	}
	return []string{responsible}
}

func planOf(ctx context.Context, q store.Querier, in *store.Instance, year int) (*store.ActionPlan, error) {
	p, err := store.ActionPlanFor(ctx, q, in.SubjectID, year)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, nil
	}
	return p, err
}

func publishReport(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	title, _ := f.Input[inTitle].(string)
	body, _ := f.Input[inBody].(string)
	return store.InsertAnnualReport(ctx, tx, &store.AnnualReport{AgreementVersionID: f.Instance.SubjectID, Year: Year(f.Instance),
		InstanceID: f.Instance.ID, Title: title, Body: body, PublishedOn: clock.Today(f.Now)})
}

func adoptPlan(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	acts, ok := f.Input[inActivities].([]ActivityInput)
	if !ok {
		return fmt.Errorf("follow-up %s: adopt_next_plan fired without its activities", f.Instance.ID)
	}
	_, err := insertPlan(ctx, tx, f.Instance.SubjectID, Year(f.Instance)+1, acts, &f.Instance.ID, f.Now)
	return err
}
