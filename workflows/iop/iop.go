// Package iop is the workflow of an idéburet offentligt partnerskap (IOP,
// idea-based public partnership): an agreement between one public body and
// one or more idea-based organisations to reach a public-benefit goal when
// neither a grant (bidrag) nor procurement (upphandling) fits.
//
// Either party takes the initiative; an official assesses whether an IOP
// fits (is it an economic activity with a market, could it be state aid, is
// the organisation idea-based?) and closes the case with a recommendation of
// a grant or procurement when it does not; the parties negotiate drafts of
// the agreement text; the public body's decision-maker and every idea-based
// party's board representative approve it, which activates it. While
// active, a follow-up report opens every year, a renewal opens some months
// before the end date, and the partnership ends on its end date unless it is
// renewed. Either party may terminate it with notice, and amendments need
// both parties' approval.
//
//	initiative ─→ assessment ─┬→ closed_not_suitable (grant / procurement)
//	                          └→ negotiation ⇄ decision ─(all parties approve)→ active
//	active ─(timer)→ renewal ─(all approve)→ active (new period)
//	active | renewal | amendment_proposed ─(end date, timer)→ ended
//	active ─→ amendment_proposed ─(all approve | rejected)→ active
//	active | renewal | amendment_proposed ─→ terminating ─(notice period, timer)→ terminated
//
// Amendments are a state of this workflow rather than a flow of their own:
// the engine's quorum (one approval per party, per round, withdrawable,
// shown by PendingApprovals) then works for them unchanged, only one
// amendment can be open at a time, and the end-date timer keeps running
// while one is open.
//
// Policy lines for internal/authz/policy.csv (to be appended by the owner
// of that file; the tests grant exactly these):
//
//	# IOP, idéburet offentligt partnerskap
//	p, sector_representative, org:*, partnership, propose
//	p, region_official, region, partnership, propose
//	p, region_official, region, partnership, assess
//	p, sector_representative, org:*, partnership, draft
//	p, region_official, region, partnership, draft
//	p, sector_representative, org:*, partnership, withdraw
//	p, region_official, region, partnership, withdraw
//	p, region_politician, region, partnership, approve
//	p, sector_representative, org:*, partnership, approve
//	p, sector_representative, org:*, partnership, report
//	p, region_official, region, partnership, report
//	p, sector_representative, org:*, partnership, renew
//	p, region_official, region, partnership, renew
//	p, sector_representative, org:*, partnership, amend
//	p, region_official, region, partnership, amend
//	p, sector_representative, org:*, partnership, terminate
//	p, region_official, region, partnership, terminate
//	p, region_politician, region, partnership, terminate
//	p, sector_representative, org:*, partnership, read_private
//	p, region_official, region, partnership, read_private
//	p, region_politician, region, partnership, read_private
//
// "draft" covers the negotiation: drafts, comments, editing the record,
// documents, internal notes and submitting for decision. "approve" is
// deciding: the activation, a renewal, an amendment, or sending a draft
// back to negotiation.
package iop

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
	"github.com/samverkan/samverkan/workflows"
)

// Kind is the workflow's kind.
const Kind = "partnership"

// The states.
const (
	Initiative        workflows.State = "initiative"
	Assessment        workflows.State = "assessment"
	ClosedNotSuitable workflows.State = "closed_not_suitable"
	Negotiation       workflows.State = "negotiation"
	Decision          workflows.State = "decision"
	Withdrawn         workflows.State = "withdrawn"
	Active            workflows.State = "active"
	AmendmentProposed workflows.State = "amendment_proposed"
	Renewal           workflows.State = "renewal"
	Ended             workflows.State = "ended"
	Terminating       workflows.State = "terminating"
	Terminated        workflows.State = "terminated"
)

// The transitions.
const (
	tStartAssessment      = "start_assessment"
	tAssessSuitable       = "assess_suitable"
	tAssessNotSuitable    = "assess_not_suitable"
	tSubmitForDecision    = "submit_for_decision"
	tSendBack             = "send_back"
	tApprove              = "approve"
	tWithdraw             = "withdraw"
	tOpenRenewal          = "open_renewal"
	tProposeRenewal       = "propose_renewal"
	tRenew                = "renew"
	tProposeAmendment     = "propose_amendment"
	tAdoptAmendment       = "adopt_amendment"
	tRejectAmendment      = "reject_amendment"
	tEnd                  = "end"
	tTerminate            = "terminate"
	tTerminationEffective = "termination_effective"
)

// Running are the states of an agreed partnership still in force.
var Running = []workflows.State{Active, AmendmentProposed, Renewal, Terminating}

// agreed are the states of a partnership that has been agreed.
var agreed = []workflows.State{Active, AmendmentProposed, Renewal, Terminating, Ended, Terminated}

// Data keys of a partnership instance.
const (
	keyPartnership = "partnershipId"
	keyPublicBody  = "publicBodyId"
	keyIdeaBased   = "ideaBasedPartyIds"
	keyPartyNames  = "partyNames"
	keyOwn         = "ownInitiative"
	keyActivated   = "activated"
	keyDraft       = "decisionDraftVersion"
	// KeyEndsAt is when the current period ends: the start of the day
	// after the end date, Stockholm time (RFC 3339).
	KeyEndsAt       = "endsAt"
	keyProposedEnd  = "proposedEndDate"
	keyTerminatesAt = "terminatesAt"
)

// Options are what an installation decides about its partnerships.
type Options struct {
	// RenewalLeadMonths is how long before the end date the renewal opens.
	RenewalLeadMonths int
	// ReminderDays is how many days before a report is due its reminder
	// goes out.
	ReminderDays int
	// BatchSize is how many partnerships the annual fan-out handles per
	// statement.
	BatchSize int
}

// OptionsFrom takes the partnership settings of a configuration (whose
// defaults are internal/config's).
func OptionsFrom(c config.Config) Options {
	return Options{RenewalLeadMonths: c.IOPRenewalLeadMonths, ReminderDays: c.IOPReminderDays, BatchSize: c.IOPFanOutBatch}
}

func (o Options) validate() error {
	if o.RenewalLeadMonths < 1 || o.ReminderDays < 1 || o.BatchSize < 1 {
		return fmt.Errorf("partnership options %+v: each must be at least 1", o)
	}
	return nil
}

// Scopes of a partnership: the public side and each idea-based party.
func Scopes(ideaBased []uuid.UUID) []string {
	out := []string{authz.ScopeRegion}
	for _, id := range ideaBased {
		out = append(out, authz.OrgScope(id))
	}
	return out
}

// IdeaBasedParties are the idea-based parties recorded on the instance.
func IdeaBasedParties(in *store.Instance) []uuid.UUID {
	var out []uuid.UUID
	list, _ := in.Data[keyIdeaBased].([]any)
	for _, v := range list {
		if id, err := uuid.Parse(stringOf(v)); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// PublicBody is the public party recorded on the instance.
func PublicBody(in *store.Instance) uuid.UUID {
	id, _ := uuid.Parse(stringOf(in.Data[keyPublicBody]))
	return id
}

// PartyQuorum is the decision between equals: the public body's
// decision-maker (a politician of the Region) and the board representative
// of every idea-based party. Each organisation decides for itself, so each
// is its own requirement.
func PartyQuorum(in *store.Instance) workflows.Quorum {
	q := workflows.Quorum{{Name: "public", Title: "Den offentliga parten (beslutsfattare) / The public body (decision-maker)",
		Roles: []string{authz.RoleRegionPolitician}, Scope: authz.ScopeRegion, Count: 1}}
	names, _ := in.Data[keyPartyNames].(map[string]any)
	for _, id := range IdeaBasedParties(in) {
		name := stringOf(names[id.String()])
		if name == "" {
			name = id.String()
		}
		q = append(q, workflows.Requirement{Name: authz.OrgScope(id),
			Title: name + " (styrelsens företrädare) / " + name + " (board representative)",
			Roles: []string{authz.RoleSectorRepresentative}, Scope: authz.OrgScope(id), Count: 1})
	}
	return q
}

// Definition is version 1 of the partnership workflow. The policy point
// checks that a party giving notice is represented by the actor.
func Definition(o Options, policy workflows.Policy) *workflows.Definition {
	endsAt := func(in *store.Instance) (time.Time, bool) { return workflows.DataTime(in, KeyEndsAt) }
	endTimer := workflows.Timer{Name: "slutdatum / end date", Fire: tEnd, At: endsAt}
	states := func(s ...workflows.State) []workflows.State { return s }
	return &workflows.Definition{
		Kind: Kind, Version: 1, Title: "IOP – idéburet offentligt partnerskap / Idea-based public partnership",
		Initial: Initiative,
		// That an IOP exists, with its parties, purpose and duration, is
		// public once the parties have agreed on it; the initiative, the
		// assessment and the negotiation are not.
		Public: func(in *store.Instance) bool { b, _ := in.Data[keyActivated].(bool); return b },
		States: []workflows.StateSpec{
			{Name: Initiative, Title: "initiativ / initiative"},
			{Name: Assessment, Title: "bedömning / assessment"},
			{Name: ClosedNotSuitable, Title: "avslutat, IOP passar inte / closed, an IOP does not fit", Final: true},
			{Name: Negotiation, Title: "förhandling / negotiation"},
			{Name: Decision, Title: "beslut / decision"},
			{Name: Withdrawn, Title: "återkallat / withdrawn", Final: true},
			{Name: Active, Title: "aktivt / active", Timers: []workflows.Timer{
				{Name: "förnyelse öppnar / renewal opens", Fire: tOpenRenewal, At: func(in *store.Instance) (time.Time, bool) {
					t, ok := endsAt(in)
					return t.In(clock.Stockholm).AddDate(0, -o.RenewalLeadMonths, 0), ok
				}},
				endTimer,
			}},
			{Name: AmendmentProposed, Title: "ändring föreslagen / amendment proposed", Timers: []workflows.Timer{endTimer}},
			{Name: Renewal, Title: "förnyelse / renewal", Timers: []workflows.Timer{
				{Name: "påminnelse om förnyelse / renewal reminder", Recipient: authz.RoleRegionOfficial,
					Reminder: "Partnerskapet upphör om en månad om det inte förnyas. / The partnership ends in a month unless it is renewed.",
					At: func(in *store.Instance) (time.Time, bool) {
						t, ok := endsAt(in)
						return t.In(clock.Stockholm).AddDate(0, -1, 0), ok
					}},
				endTimer,
			}},
			{Name: Ended, Title: "avslutat / ended", Final: true},
			{Name: Terminating, Title: "uppsagt, uppsägningstid löper / terminating, notice period running", Timers: []workflows.Timer{
				{Name: "uppsägningen träder i kraft / termination takes effect", Fire: tTerminationEffective,
					At: func(in *store.Instance) (time.Time, bool) { return workflows.DataTime(in, keyTerminatesAt) }},
			}},
			{Name: Terminated, Title: "uppsagt / terminated", Final: true},
		},
		Transitions: []*workflows.Transition{
			{Name: tStartAssessment, Title: "börja bedöma / start the assessment", From: states(Initiative), To: Assessment,
				Action: "partnership.assess"},
			{Name: tAssessSuitable, Title: "bedöma att IOP passar / assess that an IOP fits", From: states(Initiative, Assessment),
				To: Negotiation, Action: "partnership.assess", Guard: assessmentSays(true), Effect: storeAssessment},
			{Name: tAssessNotSuitable, Title: "bedöma att IOP inte passar / assess that an IOP does not fit",
				From: states(Initiative, Assessment), To: ClosedNotSuitable, Action: "partnership.assess",
				Guard: assessmentSays(false), Effect: storeAssessment},
			{Name: tSubmitForDecision, Title: "lämna utkastet för beslut / submit the draft for decision", From: states(Negotiation),
				To: Decision, Action: "partnership.draft", Guard: hasDraft},
			{Name: tSendBack, Title: "skicka tillbaka till förhandling / send back to negotiation", From: states(Decision),
				To: Negotiation, Action: "partnership.approve", RequireReason: true},
			{Name: tApprove, Title: "godkänna partnerskapet / approve the partnership", From: states(Decision), To: Active,
				Action: "partnership.approve", Quorum: PartyQuorum, Guard: notExpired, Effect: activate, Public: true},
			{Name: tWithdraw, Title: "återkalla / withdraw", From: states(Initiative, Assessment, Negotiation, Decision),
				To: Withdrawn, Action: "partnership.withdraw", RequireReason: true, Optional: true},
			{Name: tOpenRenewal, Title: "förnyelsen öppnar / the renewal opens", From: states(Active), To: Renewal, Public: true},
			{Name: tProposeRenewal, Title: "föreslå förnyelse / propose a renewal", From: states(Active, Renewal), To: Renewal,
				Action: "partnership.renew", OptionalFrom: states(Active), Guard: renewalValid, Effect: proposeRenewal},
			{Name: tRenew, Title: "förnya / renew", From: states(Renewal), To: Active, Action: "partnership.approve",
				Quorum: PartyQuorum, Guard: renewalProposed, Effect: renew, Public: true},
			{Name: tProposeAmendment, Title: "föreslå en ändring / propose an amendment", From: states(Active), To: AmendmentProposed,
				Action: "partnership.amend", Optional: true, Effect: proposeAmendment},
			{Name: tAdoptAmendment, Title: "anta ändringen / adopt the amendment", From: states(AmendmentProposed), To: Active,
				Action: "partnership.approve", Quorum: PartyQuorum, Effect: adoptAmendment, Public: true},
			{Name: tRejectAmendment, Title: "avvisa ändringen / reject the amendment", From: states(AmendmentProposed), To: Active,
				Action: "partnership.amend", RequireReason: true, Effect: decideAmendment("rejected")},
			{Name: tEnd, Title: "partnerskapet upphör / the partnership ends", From: states(Active, Renewal, AmendmentProposed),
				To: Ended, Effect: finish, Public: true},
			{Name: tTerminate, Title: "säga upp / terminate", From: states(Active, Renewal, AmendmentProposed), To: Terminating,
				Action: "partnership.terminate", RequireReason: true, Optional: true, Guard: terminatingParty(policy), Effect: terminate},
			{Name: tTerminationEffective, Title: "uppsägningen träder i kraft / the termination takes effect",
				From: states(Terminating), To: Terminated, Effect: finish, Public: true},
		},
	}
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// today is the date of t in Stockholm, as a date (UTC midnight).
func today(t time.Time) time.Time {
	s := t.In(clock.Stockholm)
	return time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
}

// dateOf drops the time of a date given as a time.
func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// midnight is the start of a date in Stockholm.
func midnight(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, clock.Stockholm)
}

// endMoment is when a period with the given end date is over: the start
// of the next day.
func endMoment(end time.Time) time.Time { return midnight(end.AddDate(0, 0, 1)) }

// ReportOpens is when the report on a year opens: 1 January of the next.
func ReportOpens(year int) time.Time {
	return time.Date(year+1, time.January, 1, 0, 0, 0, 0, clock.Stockholm)
}

// ReportDue is the due date of the report on a year: the follow-up plan's
// month and day of the next year (clamped to the month's last day).
func ReportDue(year, month, day int) time.Time {
	last := time.Date(year+1, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(year+1, time.Month(month), min(day, last), 0, 0, 0, 0, time.UTC)
}

// lastYear is the last year a partnership is in force: that of its end
// date, or of the day before its termination takes effect.
func lastYear(p *store.Partnership) int {
	if p.TerminatedOn != nil {
		return p.TerminatedOn.AddDate(0, 0, -1).Year()
	}
	return p.EndDate.Year()
}

func partnershipOf(ctx context.Context, q store.Querier, in *store.Instance) (*store.Partnership, error) {
	return store.GetPartnership(ctx, q, in.SubjectID)
}

// assessmentSays refuses the transition unless the recorded checklist
// leads to it.
func assessmentSays(suitable bool) func(context.Context, *workflows.Firing) error {
	return func(_ context.Context, f *workflows.Firing) error {
		a, ok := f.Input["assessment"].(AssessmentInput)
		if !ok {
			return apperr.Invalid("assessment", "Bedömningen görs med sin checklista. / The assessment is made with its checklist.")
		}
		if err := a.validate(); err != nil {
			return err
		}
		if a.Suitable() != suitable {
			if suitable {
				return apperr.New(apperr.InvalidTransition, "Enligt bedömningen passar IOP inte. / According to the assessment an IOP does not fit.")
			}
			return apperr.New(apperr.InvalidTransition, "Enligt bedömningen passar IOP. / According to the assessment an IOP fits.")
		}
		return nil
	}
}

func storeAssessment(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	a := f.Input["assessment"].(AssessmentInput)
	row := a.row(f.Instance.SubjectID)
	row.AssessedAt = f.Now
	if f.Actor.Authenticated() {
		row.AssessedBy = &f.Actor.UserID
	}
	f.Instance.Data["recommendation"] = row.Recommendation
	return store.InsertPartnershipAssessment(ctx, tx, row)
}

// hasDraft needs a draft to decide on and remembers which.
func hasDraft(ctx context.Context, f *workflows.Firing) error {
	v, err := store.LatestDraftVersion(ctx, f.Tx(), f.Instance.SubjectID)
	if err != nil {
		return err
	}
	if v == 0 {
		return apperr.New(apperr.InvalidTransition, "Det finns inget utkast att besluta om. / There is no draft to decide on.")
	}
	f.Instance.Data[keyDraft] = v
	return nil
}

// notExpired refuses to agree on a partnership whose end date has passed.
func notExpired(ctx context.Context, f *workflows.Firing) error {
	p, err := partnershipOf(ctx, f.Tx(), f.Instance)
	if err != nil {
		return err
	}
	if p.EndDate.Before(today(f.Now)) {
		return apperr.New(apperr.InvalidTransition, "Slutdatumet %s har passerat; skicka tillbaka till förhandling och ändra perioden. / The end date %s has passed; send it back to negotiation and change the period.",
			p.EndDate.Format(time.DateOnly), p.EndDate.Format(time.DateOnly))
	}
	return nil
}

// activate is the decision: the first period, the end-date timers (from
// the instance data) and one report-opening job per year.
func activate(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	p, err := partnershipOf(ctx, tx, f.Instance)
	if err != nil {
		return err
	}
	version, _ := f.Instance.Data[keyDraft].(float64)
	if v, ok := f.Instance.Data[keyDraft].(int); ok {
		version = float64(v)
	}
	if err := store.ActivatePartnership(ctx, tx, p.ID, f.Now, int(version)); err != nil {
		return err
	}
	if err := store.InsertPartnershipPeriod(ctx, tx, &store.PartnershipPeriod{PartnershipID: p.ID, StartDate: p.StartDate,
		EndDate: p.EndDate, CreatedAt: f.Now}); err != nil {
		return err
	}
	f.Instance.Data[keyActivated] = true
	f.Instance.Data[KeyEndsAt] = endMoment(p.EndDate).UTC().Format(time.RFC3339)
	enqueueReports(f, p.ID, p.StartDate.Year(), p.EndDate.Year())
	return nil
}

// enqueueReports schedules the opening of the reports on years from..to.
func enqueueReports(f *workflows.Firing, id uuid.UUID, from, to int) {
	for y := from; y <= to; y++ {
		args := OpenReportArgs{PartnershipID: id, Year: y}
		opts := args.InsertOpts()
		opts.ScheduledAt = ReportOpens(y)
		f.Enqueue(args, &opts)
	}
}

func parseDate(field, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, apperr.Invalid(field, "Ange ett datum som ÅÅÅÅ-MM-DD. / Give a date as YYYY-MM-DD.")
	}
	return d, validate.Date(field, d)
}

// renewalValid checks a proposed new end date: after the current one and
// within the longest duration.
func renewalValid(ctx context.Context, f *workflows.Firing) error {
	end, err := parseDate("endDate", stringOf(f.Input["endDate"]))
	if err != nil {
		return err
	}
	p, err := partnershipOf(ctx, f.Tx(), f.Instance)
	if err != nil {
		return err
	}
	if !end.After(p.EndDate) {
		return apperr.Invalid("endDate", "Det nya slutdatumet ska ligga efter det nuvarande (%s). / The new end date must be after the current one (%s).",
			p.EndDate.Format(time.DateOnly), p.EndDate.Format(time.DateOnly))
	}
	if end.After(p.EndDate.AddDate(MaxYears, 0, 0)) {
		return apperr.Invalid("endDate", "En period får vara högst %d år. / A period may last at most %d years.", MaxYears, MaxYears)
	}
	return nil
}

// proposeRenewal records the proposal; entering the renewal state again
// starts a new round, so approvals of an earlier proposal no longer count.
func proposeRenewal(_ context.Context, _ pgx.Tx, f *workflows.Firing) error {
	f.Instance.Data[keyProposedEnd] = stringOf(f.Input["endDate"])
	return nil
}

func renewalProposed(_ context.Context, f *workflows.Firing) error {
	if stringOf(f.Instance.Data[keyProposedEnd]) == "" {
		return apperr.New(apperr.InvalidTransition, "Ingen förnyelse är föreslagen ännu. / No renewal has been proposed yet.")
	}
	return nil
}

// renew starts the new period: the old periods stay as history.
func renew(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	p, err := partnershipOf(ctx, tx, f.Instance)
	if err != nil {
		return err
	}
	end, err := time.Parse(time.DateOnly, stringOf(f.Instance.Data[keyProposedEnd]))
	if err != nil || !end.After(p.EndDate) {
		return apperr.New(apperr.InvalidTransition, "Den föreslagna förnyelsen gäller inte längre. / The proposed renewal no longer applies.")
	}
	if err := store.InsertPartnershipPeriod(ctx, tx, &store.PartnershipPeriod{PartnershipID: p.ID,
		StartDate: p.EndDate.AddDate(0, 0, 1), EndDate: end, CreatedAt: f.Now}); err != nil {
		return err
	}
	if err := store.SetPartnershipEndDate(ctx, tx, p.ID, end, f.Now); err != nil {
		return err
	}
	delete(f.Instance.Data, keyProposedEnd)
	f.Instance.Data[KeyEndsAt] = endMoment(end).UTC().Format(time.RFC3339)
	enqueueReports(f, p.ID, p.EndDate.Year()+1, end.Year())
	return nil
}

func proposeAmendment(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	a, ok := f.Input["amendment"].(amendment)
	if !ok {
		return apperr.Invalid("amendment", "Ändringar föreslås med sitt eget formulär. / Amendments are proposed with their own form.")
	}
	row := &store.Amendment{PartnershipID: f.Instance.SubjectID, Description: a.Description, Changes: a.Changes, ProposedAt: f.Now}
	if f.Actor.Authenticated() {
		row.ProposedBy = &f.Actor.UserID
	}
	if err := store.InsertAmendment(ctx, tx, row); err != nil {
		return err
	}
	f.Instance.Data["amendmentVersion"] = row.Version
	return nil
}

func adoptAmendment(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	a, err := store.OpenAmendment(ctx, tx, f.Instance.SubjectID)
	if err != nil {
		return err
	}
	p, err := partnershipOf(ctx, tx, f.Instance)
	if err != nil {
		return err
	}
	if err := applyChanges(ctx, tx, p, a.Changes, f.Now); err != nil {
		return err
	}
	return store.DecideAmendment(ctx, tx, p.ID, "adopted", f.Now)
}

func decideAmendment(status string) func(context.Context, pgx.Tx, *workflows.Firing) error {
	return func(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
		return store.DecideAmendment(ctx, tx, f.Instance.SubjectID, status, f.Now)
	}
}

// terminatingParty checks that the party giving notice is one and that the
// actor represents it.
func terminatingParty(policy workflows.Policy) func(context.Context, *workflows.Firing) error {
	return func(ctx context.Context, f *workflows.Firing) error {
		party, err := uuid.Parse(stringOf(f.Input["partyId"]))
		if err != nil {
			return apperr.Invalid("partyId", "Ange vilken part som säger upp partnerskapet. / Say which party terminates the partnership.")
		}
		scope, ok := partyScope(f.Instance, party)
		if !ok {
			return apperr.Invalid("partyId", "Organisationen är inte part i partnerskapet. / The organisation is not a party to the partnership.")
		}
		if f.Actor.System {
			return nil
		}
		return policy.Authorize(ctx, f.Actor, "partnership.terminate", []string{scope})
	}
}

// terminate starts the notice period: the termination takes effect the
// notice period's months after today, or when the period ends if sooner.
func terminate(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	p, err := partnershipOf(ctx, tx, f.Instance)
	if err != nil {
		return err
	}
	party, _ := uuid.Parse(stringOf(f.Input["partyId"]))
	day := today(f.Now)
	effective := day.AddDate(0, p.NoticeMonths, 0)
	if after := p.EndDate.AddDate(0, 0, 1); effective.After(after) {
		effective = after
	}
	if err := store.SetPartnershipTermination(ctx, tx, p.ID, party, f.Reason, day, effective, f.Now); err != nil {
		return err
	}
	f.Instance.Data[keyTerminatesAt] = midnight(effective).UTC().Format(time.RFC3339)
	f.Instance.Data["terminatedBy"] = party.String()
	if f.From == AmendmentProposed {
		return store.DecideAmendment(ctx, tx, p.ID, "lapsed", f.Now)
	}
	return nil
}

// finish records the end; an amendment still open lapses.
func finish(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	if f.From == AmendmentProposed {
		if err := store.DecideAmendment(ctx, tx, f.Instance.SubjectID, "lapsed", f.Now); err != nil {
			return err
		}
	}
	return store.MarkPartnershipEnded(ctx, tx, f.Instance.SubjectID, f.Now)
}
