package iop_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
)

func TestDefinition(t *testing.T) {
	def := iop.Definition(iop.Options{}, nil)
	require.NoError(t, def.Validate())
	m := def.Mermaid()
	for _, edge := range []string{
		"decision --> active: approve (quorum)",
		"active --> renewal: open_renewal (timer)",
		"renewal --> active: renew (quorum)",
		"amendment_proposed --> active: adopt_amendment (quorum)",
		"terminating --> terminated: termination_effective (timer)",
		"assessment --> closed_not_suitable: assess_not_suitable",
	} {
		require.Contains(t, m, edge)
	}
}

// The lines iop.go documents are the partnership lines of policy.csv, the
// policy the tests (and the service) run with.
func TestPolicyLinesDocumented(t *testing.T) {
	src, err := os.ReadFile("iop.go")
	require.NoError(t, err)
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^//\t(p, .*)$`).FindAllStringSubmatch(string(src), -1) {
		documented = append(documented, m[1])
	}
	var inPolicy []string
	for _, r := range authz.Policy() {
		if r.Resource == "partnership" {
			inPolicy = append(inPolicy, strings.Join([]string{"p", r.Role, r.Scope, r.Resource, r.Action}, ", "))
		}
	}
	require.Equal(t, inPolicy, documented)
}

func TestReportDue(t *testing.T) {
	require.Equal(t, day(2042, 3, 31), iop.ReportDue(2041, 3, 31))
	require.Equal(t, day(2043, 6, 30), iop.ReportDue(2042, 6, 31), "clamped to the month's last day")
	require.Equal(t, at(2042, 1, 1, 0), iop.ReportOpens(2041))
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1250": 125000, "1 250,50": 125050, "1250.5": 125050, "10000000000": iop.MaxAmount, "007": 700} {
		got, err := iop.ParseAmount("amount", in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "1.234", "1e5", "NaN", "10000000000.01", "99999999999999999999999", "1,2,3", "12a", ".5"} {
		_, err := iop.ParseAmount("amount", in)
		ae := requireCode(t, apperr.BadInput, err)
		require.Equal(t, "amount", ae.Field, in)
	}
	require.Equal(t, "1250.05", iop.FormatAmount(125005))
}

// The whole life of a partnership: an organisation's initiative, an
// assessment that finds an IOP fits, two drafts, approval by both parties,
// two yearly reports (one late), the renewal opening six months before the
// end and a new period.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Föreningen Gemenskap")
	rep := c.reps[0]

	// The organisation takes the initiative.
	in := c.proposal(day(2041, 3, 1), day(2043, 12, 31))
	p, inst, err := e.svc.Propose(ctx, rep, in)
	require.NoError(t, err)
	require.True(t, p.OwnInitiative, "the organisation's own initiative")
	require.Equal(t, string(iop.Initiative), inst.State)
	require.Equal(t, []string{authz.ScopeRegion, authz.OrgScope(c.orgs[0])}, inst.Scopes)
	_, err = e.svc.Get(ctx, authz.Anonymous, p.ID)
	requireCode(t, apperr.NotFound, err)

	// Assessment: an IOP fits.
	_, err = e.svc.StartAssessment(ctx, rep, workflows.Step{ID: p.ID})
	requireCode(t, apperr.Forbidden, err)
	_, err = e.svc.StartAssessment(ctx, c.official, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	_, a, err := e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID}, suitable())
	require.NoError(t, err)
	require.True(t, a.Suitable)
	require.Equal(t, "iop", a.Recommendation)
	require.Equal(t, string(iop.Negotiation), e.state(t, p.ID))

	// Negotiation: two drafts and a comment.
	_, err = e.svc.SubmitForDecision(ctx, rep, workflows.Step{ID: p.ID})
	requireCode(t, apperr.InvalidTransition, err)
	d1, err := e.svc.AddDraft(ctx, rep, workflows.Step{ID: p.ID}, "Utkast 1 / Draft 1")
	require.NoError(t, err)
	_, err = e.svc.CommentDraft(ctx, c.official, workflows.Step{ID: p.ID}, d1.ID, "Förtydliga målen. / Make the goals clearer.")
	require.NoError(t, err)
	d2, err := e.svc.AddDraft(ctx, c.official, workflows.Step{ID: p.ID}, "Utkast 2 med tydliga mål / Draft 2 with clear goals")
	require.NoError(t, err)
	require.Equal(t, []int{1, 2}, []int{d1.Version, d2.Version})
	repComment, err := e.svc.CommentDraft(ctx, rep, workflows.Step{ID: p.ID}, d2.ID, "Bra! / Good!")
	require.NoError(t, err)
	require.Equal(t, &c.orgs[0], repComment.OrganisationID, "a representative speaks for their organisation")
	drafts, err := e.svc.Drafts(ctx, rep, p.ID)
	require.NoError(t, err)
	require.Len(t, drafts, 2)
	_, err = e.svc.SubmitForDecision(ctx, rep, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	_, err = e.svc.AddDraft(ctx, rep, workflows.Step{ID: p.ID}, "Utkast 3")
	requireCode(t, apperr.InvalidTransition, err)

	// Decision: both parties approve.
	res, err := e.svc.Approve(ctx, c.politician, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	require.False(t, res.Moved)
	res, err = e.svc.Approve(ctx, rep, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	require.True(t, res.Moved)
	require.Equal(t, string(iop.Active), res.Instance.State)
	rec := e.record(t, p.ID)
	require.NotNil(t, rec.ActivatedAt)
	require.Equal(t, 2, *rec.DecisionDraftVersion)

	// In force, the partnership waits for no official: proposing a renewal
	// or an amendment is always possible but nobody's task.
	require.Nil(t, e.taskActions(t, c.official, p.ID), "an agreed partnership is not in the official's queue")

	// Now public: existence, parties, purpose, duration, public money.
	pub, err := e.svc.Get(ctx, authz.Anonymous, p.ID)
	require.NoError(t, err)
	require.False(t, pub.Private)
	require.Equal(t, in.Title, pub.Record.Title)
	require.Equal(t, in.Purpose, pub.Record.Purpose)
	require.Equal(t, day(2043, 12, 31), pub.Record.EndDate)
	require.Empty(t, pub.Record.Goals)
	require.Nil(t, pub.Contributions)
	require.Len(t, pub.Parties, 2)
	require.Equal(t, int64(3*500_000_00), pub.TotalPublicContribution)
	_, err = e.svc.Drafts(ctx, authz.Anonymous, p.ID)
	requireCode(t, apperr.Unauthenticated, err)
	events, _, err := e.eng.History(ctx, authz.Anonymous, pub.Instance, 0, 100)
	require.NoError(t, err)
	require.Len(t, events, 3, "only the decision is public so far: two approvals and the transition")
	for _, ev := range events {
		require.Equal(t, "approve", ev.Transition)
	}

	timers, err := e.eng.Timers(ctx, res.Instance)
	require.NoError(t, err)
	require.Len(t, timers, 2)
	require.True(t, timers[0].FireAt.Equal(at(2043, 7, 1, 0)), "renewal opens six months before the end: %v", timers[0].FireAt)
	require.True(t, timers[1].FireAt.Equal(at(2044, 1, 1, 0)), "ends after its end date: %v", timers[1].FireAt)
	require.Equal(t, 3, e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'partnership_open_report' AND state = 'scheduled'`))

	// The report on 2041 opens with the new year and is submitted in time.
	e.runDue(t, at(2041, 12, 31, 12))
	require.Zero(t, e.count(t, `SELECT count(*) FROM partnership_reports`))
	e.runDue(t, at(2042, 1, 1, 1))
	reports, err := e.svc.Reports(ctx, rep, p.ID)
	require.NoError(t, err)
	require.Len(t, reports, 1)
	require.Equal(t, day(2042, 3, 31), reports[0].DueOn)
	require.Equal(t, 2, e.count(t, `SELECT count(*) FROM notifications WHERE dedupe_key LIKE 'partnership_report:%:opened:%'`))
	e.runDue(t, at(2042, 2, 15, 10))
	r41, err := e.svc.SubmitReport(ctx, rep, workflows.Step{ID: p.ID}, 2041, "200 deltagare. / 200 participants.")
	require.NoError(t, err)
	require.False(t, r41.Late)
	_, err = e.svc.SubmitReport(ctx, rep, workflows.Step{ID: p.ID}, 2041, "igen / again")
	requireCode(t, apperr.Conflict, err)
	_, err = e.svc.SubmitReport(ctx, rep, workflows.Step{ID: p.ID}, 2042, "för tidigt / too early")
	requireCode(t, apperr.NotFound, err)
	e.runDue(t, at(2042, 4, 2, 10))
	require.Zero(t, e.count(t, `SELECT count(*) FROM notifications WHERE dedupe_key LIKE 'partnership_report:%:reminder:%'
		OR dedupe_key LIKE 'partnership_report:%:overdue:%'`), "a submitted report needs no reminder")

	// The report on 2042 is late: reminded, overdue, then submitted.
	e.runDue(t, at(2043, 1, 2, 10))
	e.runDue(t, at(2043, 3, 18, 10))
	require.Equal(t, 2, e.count(t, `SELECT count(*) FROM notifications WHERE dedupe_key LIKE 'partnership_report:%:reminder:%'`))
	e.runDue(t, at(2043, 4, 2, 10))
	reports, err = e.svc.Reports(ctx, c.official, p.ID)
	require.NoError(t, err)
	require.Len(t, reports, 2)
	require.False(t, reports[0].Overdue)
	require.True(t, reports[1].Overdue, "due 2043-03-31 and not submitted")
	require.Equal(t, 2, e.count(t, `SELECT count(*) FROM notifications WHERE dedupe_key LIKE 'partnership_report:%:overdue:%'`))
	overdue, err := store.OverdueReportCount(ctx, e.db.Pool, day(2043, 4, 2))
	require.NoError(t, err)
	require.Equal(t, 1, overdue)
	e.runDue(t, at(2043, 4, 10, 10))
	r42, err := e.svc.SubmitReport(ctx, rep, workflows.Step{ID: p.ID}, 2042, "Sent men klart. / Late but done.")
	require.NoError(t, err)
	require.True(t, r42.Late)
	require.False(t, r42.Overdue)

	// Six months before the end the renewal opens.
	e.runDue(t, at(2043, 6, 30, 12))
	require.Equal(t, string(iop.Active), e.state(t, p.ID))
	e.runDue(t, at(2043, 7, 1, 1))
	require.Equal(t, string(iop.Renewal), e.state(t, p.ID))
	require.Contains(t, e.taskActions(t, c.official, p.ID), "propose_renewal", "once the renewal opens, proposing one waits for the official")

	// Renewed: a new period, the old one kept.
	_, err = e.svc.Renew(ctx, c.politician, workflows.Step{ID: p.ID})
	requireCode(t, apperr.InvalidTransition, err)
	_, err = e.svc.ProposeRenewal(ctx, rep, workflows.Step{ID: p.ID}, day(2043, 6, 1))
	requireCode(t, apperr.BadInput, err)
	_, err = e.svc.ProposeRenewal(ctx, rep, workflows.Step{ID: p.ID}, day(2046, 12, 31))
	require.NoError(t, err)
	res, err = e.svc.Renew(ctx, c.politician, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	require.False(t, res.Moved)
	res, err = e.svc.Renew(ctx, rep, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	require.True(t, res.Moved)
	require.Equal(t, string(iop.Active), res.Instance.State)
	require.Equal(t, day(2046, 12, 31), e.record(t, p.ID).EndDate)
	periods, err := e.svc.Periods(ctx, authz.Anonymous, p.ID)
	require.NoError(t, err)
	require.Len(t, periods, 2)
	require.Equal(t, [2]time.Time{day(2041, 3, 1), day(2043, 12, 31)}, [2]time.Time{periods[0].StartDate, periods[0].EndDate})
	require.Equal(t, [2]time.Time{day(2044, 1, 1), day(2046, 12, 31)}, [2]time.Time{periods[1].StartDate, periods[1].EndDate})

	// The old end date passes without ending it; the report on 2043 opens.
	e.runDue(t, at(2044, 1, 2, 10))
	require.Equal(t, string(iop.Active), e.state(t, p.ID))
	reports, err = e.svc.Reports(ctx, rep, p.ID)
	require.NoError(t, err)
	require.Len(t, reports, 3)
	n, err := e.svc.OpenDueReports(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "the fan-out agrees with the per-year jobs")
}

// The organisation gives notice; the partnership ends when the notice
// period has passed, and no report opens for the years after.
func TestTerminatedEarly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Idrottsföreningen")
	id := e.agree(t, c, c.proposal(day(2041, 2, 1), day(2045, 12, 31)))

	e.runDue(t, at(2042, 5, 10, 10))
	_, err := e.svc.Terminate(ctx, c.reps[0], workflows.Step{ID: id, Reason: "Vi vill avsluta. / We want to end it."}, c.region)
	requireCode(t, apperr.Forbidden, err)
	_, err = e.svc.Terminate(ctx, c.reps[0], workflows.Step{ID: id, Reason: "Vi vill avsluta. / We want to end it."}, uuid.New())
	requireCode(t, apperr.BadInput, err)
	_, err = e.svc.Terminate(ctx, c.reps[0], workflows.Step{ID: id, Reason: ""}, c.orgs[0])
	requireCode(t, apperr.BadInput, err)
	inst, err := e.svc.Terminate(ctx, c.reps[0], workflows.Step{ID: id, Reason: "Föreningen läggs ned. / The association is closing down."}, c.orgs[0])
	require.NoError(t, err)
	require.Equal(t, string(iop.Terminating), inst.State)
	rec := e.record(t, id)
	require.Equal(t, day(2042, 8, 10), *rec.TerminatedOn, "three months' notice")
	require.Equal(t, c.orgs[0], *rec.TerminatedBy)

	e.runDue(t, at(2042, 8, 9, 12))
	require.Equal(t, string(iop.Terminating), e.state(t, id))
	e.runDue(t, at(2042, 8, 10, 1))
	require.Equal(t, string(iop.Terminated), e.state(t, id))
	require.NotNil(t, e.record(t, id).EndedAt)

	e.runDue(t, at(2044, 1, 2, 10))
	reports, err := e.svc.Reports(ctx, c.official, id)
	require.NoError(t, err)
	require.Len(t, reports, 2, "reports on 2041 and 2042, the last year it was in force")
	n, err := e.svc.OpenDueReports(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = e.svc.SubmitReport(ctx, c.reps[0], workflows.Step{ID: id}, 2042, "Slutrapport. / Final report.")
	require.NoError(t, err, "the final report may come after the end")
}

// An assessment that finds a market closes the case with a recommendation;
// nothing becomes active.
func TestAssessmentFindsMarket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Kooperativet")

	p, _, err := e.svc.Propose(ctx, c.official, c.proposal(day(2041, 3, 1), day(2042, 12, 31)))
	require.NoError(t, err)
	require.False(t, p.OwnInitiative, "the public body's initiative")
	a := suitable()
	a.EconomicActivity, a.MarketOrCompetition = true, true
	a.MarketOrCompetitionJustification = "Flera privata utförare finns. / Several private providers exist."
	_, _, err = e.svc.Assess(ctx, c.reps[0], workflows.Step{ID: p.ID}, a)
	requireCode(t, apperr.Forbidden, err)
	inst, row, err := e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID}, a)
	require.NoError(t, err)
	require.Equal(t, string(iop.ClosedNotSuitable), inst.State)
	require.True(t, inst.Final)
	require.False(t, row.Suitable)
	require.Equal(t, "procurement", row.Recommendation)

	_, err = e.svc.Approve(ctx, c.politician, workflows.Step{ID: p.ID})
	requireCode(t, apperr.InvalidTransition, err)
	_, err = e.svc.AddDraft(ctx, c.reps[0], workflows.Step{ID: p.ID}, "Utkast")
	requireCode(t, apperr.InvalidTransition, err)
	_, err = e.svc.Get(ctx, authz.Anonymous, p.ID)
	requireCode(t, apperr.NotFound, err)
	require.Zero(t, e.count(t, `SELECT count(*) FROM partnerships WHERE activated_at IS NOT NULL`))

	// Not idea-based and no market: a grant.
	p2, _, err := e.svc.Propose(ctx, c.official, c.proposal(day(2041, 3, 1), day(2042, 12, 31)))
	require.NoError(t, err)
	b := suitable()
	b.IdeaBasedOrganisation = false
	_, row, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p2.ID}, b)
	require.NoError(t, err)
	require.Equal(t, "grant", row.Recommendation)
	// An assessment without justifications is refused and changes nothing.
	p3, _, err := e.svc.Propose(ctx, c.official, c.proposal(day(2041, 3, 1), day(2042, 12, 31)))
	require.NoError(t, err)
	bad := suitable()
	bad.PossibleStateAidJustification = " "
	_, _, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p3.ID}, bad)
	ae := requireCode(t, apperr.BadInput, err)
	require.Equal(t, "possibleStateAidJustification", ae.Field)
	require.Equal(t, string(iop.Initiative), e.state(t, p3.ID))
}

// Approval by only some parties never activates the partnership; each
// organisation decides for itself.
func TestOnlyOnePartyApproves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Förening A", "Förening B")
	p, _, err := e.svc.Propose(ctx, c.reps[0], c.proposal(day(2041, 3, 1), day(2042, 12, 31)))
	require.NoError(t, err)
	_, _, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID}, suitable())
	require.NoError(t, err)
	_, err = e.svc.AddDraft(ctx, c.reps[1], workflows.Step{ID: p.ID}, "Utkast / Draft")
	require.NoError(t, err)
	_, err = e.svc.SubmitForDecision(ctx, c.reps[1], workflows.Step{ID: p.ID})
	require.NoError(t, err)

	_, err = e.svc.Approve(ctx, c.official, workflows.Step{ID: p.ID})
	requireCode(t, apperr.Forbidden, err) // officials do not decide
	res, err := e.svc.Approve(ctx, c.reps[0], workflows.Step{ID: p.ID})
	require.NoError(t, err)
	require.False(t, res.Moved)
	_, err = e.svc.Approve(ctx, c.reps[0], workflows.Step{ID: p.ID})
	requireCode(t, apperr.Conflict, err)
	res, err = e.svc.Approve(ctx, c.politician, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	require.False(t, res.Moved, "organisation B has not approved")

	pending, err := e.svc.Pending(ctx, c.official, p.ID)
	require.NoError(t, err)
	require.Len(t, pending, 3)
	for _, pr := range pending {
		if pr.Requirement.Name == authz.OrgScope(c.orgs[1]) {
			require.Empty(t, pr.Approvers)
		} else {
			require.Len(t, pr.Approvers, 1)
		}
	}
	e.runDue(t, at(2042, 6, 1, 10))
	require.Equal(t, string(iop.Decision), e.state(t, p.ID))
	require.Nil(t, e.record(t, p.ID).ActivatedAt)
	require.Zero(t, e.count(t, `SELECT count(*) FROM river_job WHERE kind = 'partnership_open_report'`))

	// Sending it back starts the decision afresh.
	_, err = e.svc.SendBack(ctx, c.politician, workflows.Step{ID: p.ID, Reason: "Budgeten behöver ses över. / The budget needs review."})
	require.NoError(t, err)
	_, err = e.svc.SubmitForDecision(ctx, c.reps[0], workflows.Step{ID: p.ID})
	require.NoError(t, err)
	pending, err = e.svc.Pending(ctx, c.official, p.ID)
	require.NoError(t, err)
	for _, pr := range pending {
		require.Empty(t, pr.Approvers)
	}
}

// A representative of an organisation that is not a party sees nothing
// private and cannot act.
func TestOutsider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Part", "Utomstående")
	outsider := c.reps[1]
	c.orgs, c.reps = c.orgs[:1], c.reps[:1]

	in := c.proposal(day(2041, 3, 1), day(2042, 12, 31))
	_, _, err := e.svc.Propose(ctx, outsider, in)
	requireCode(t, apperr.Forbidden, err)
	p, _, err := e.svc.Propose(ctx, c.reps[0], in)
	require.NoError(t, err)
	_, err = e.svc.Get(ctx, outsider, p.ID)
	requireCode(t, apperr.NotFound, err)
	_, _, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID}, suitable())
	require.NoError(t, err)
	d, err := e.svc.AddDraft(ctx, c.reps[0], workflows.Step{ID: p.ID}, "Utkast / Draft")
	require.NoError(t, err)

	for name, err := range map[string]error{
		"drafts":   second(e.svc.Drafts(ctx, outsider, p.ID)),
		"comments": second(e.svc.DraftComments(ctx, outsider, d.ID)),
		"draft":    second(e.svc.AddDraft(ctx, outsider, workflows.Step{ID: p.ID}, "Mitt utkast")),
		"comment":  second(e.svc.CommentDraft(ctx, outsider, workflows.Step{ID: p.ID}, d.ID, "Synpunkt")),
		"note":     second(e.svc.AddNote(ctx, outsider, workflows.Step{ID: p.ID}, "Anteckning")),
		"document": second(e.svc.AttachDocument(ctx, outsider, workflows.Step{ID: p.ID}, iop.DocumentInput{Kind: "other", Title: "X", URL: "https://example.org/x"})),
		"update":   second(e.svc.Update(ctx, outsider, workflows.Step{ID: p.ID}, in.Record)),
		"withdraw": second(e.svc.Withdraw(ctx, outsider, workflows.Step{ID: p.ID, Reason: "Nej"})),
		"notes":    second(e.svc.Notes(ctx, outsider, p.ID)),
		"sums":     second(e.svc.ContributionSums(ctx, outsider, p.ID)),
	} {
		// A partnership under negotiation is not public: to the outsider it
		// does not exist, whatever they try.
		require.Equal(t, apperr.NotFound, apperr.CodeOf(err), name)
	}
	_, err = e.svc.SubmitForDecision(ctx, c.reps[0], workflows.Step{ID: p.ID})
	require.NoError(t, err)
	_, err = e.svc.Approve(ctx, outsider, workflows.Step{ID: p.ID})
	requireCode(t, apperr.NotFound, err)

	_, err = e.svc.Approve(ctx, c.politician, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	_, err = e.svc.Approve(ctx, c.reps[0], workflows.Step{ID: p.ID})
	require.NoError(t, err)
	// Agreed: the outsider sees the public side only.
	v, err := e.svc.Get(ctx, outsider, p.ID)
	require.NoError(t, err)
	require.False(t, v.Private)
	require.Empty(t, v.Record.Background)
	own, err := e.svc.Get(ctx, c.reps[0], p.ID)
	require.NoError(t, err)
	require.True(t, own.Private)
	require.Equal(t, in.Background, own.Record.Background)
	require.Len(t, own.Contributions, 4)
	_, err = e.svc.Drafts(ctx, outsider, p.ID)
	requireCode(t, apperr.Forbidden, err)
	_, err = e.svc.Terminate(ctx, outsider, workflows.Step{ID: p.ID, Reason: "Nej"}, c.orgs[0])
	requireCode(t, apperr.Forbidden, err)
	_, _, err = e.svc.Amend(ctx, outsider, workflows.Step{ID: p.ID}, iop.AmendmentInput{Description: "Ändring", Fields: map[string]string{"goals": "Nya"}})
	requireCode(t, apperr.Forbidden, err)
}

func second[T any](_ T, err error) error { return err }

// Amendments need both parties; a rejected one changes nothing.
func TestAmendment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Studieförbundet")
	id := e.agree(t, c, c.proposal(day(2041, 3, 1), day(2043, 12, 31)))

	_, _, err := e.svc.Amend(ctx, c.official, workflows.Step{ID: id}, iop.AmendmentInput{Description: "Ingenting"})
	requireCode(t, apperr.BadInput, err)
	_, _, err = e.svc.Amend(ctx, c.official, workflows.Step{ID: id}, iop.AmendmentInput{Description: "Fel fält", Fields: map[string]string{"notice": "1"}})
	requireCode(t, apperr.BadInput, err)
	_, a, err := e.svc.Amend(ctx, c.official, workflows.Step{ID: id}, iop.AmendmentInput{
		Description: "Fler deltagare och mer pengar 2042. / More participants and more money in 2042.",
		Fields:      map[string]string{"goals": "300 deltagare per år. / 300 participants a year."},
		Budget:      "2 000 000",
		Contributions: []iop.ContributionInput{
			{OrganisationID: c.region, Year: 2042, Kind: "money", Amount: "700000"},
			{OrganisationID: c.orgs[0], Year: 2042, Kind: "staff_hours", Amount: "400"},
		},
	})
	require.NoError(t, err)
	require.Equal(t, 1, a.Version)
	require.Equal(t, string(iop.AmendmentProposed), e.state(t, id))
	_, _, err = e.svc.Amend(ctx, c.official, workflows.Step{ID: id}, iop.AmendmentInput{Description: "En till", Fields: map[string]string{"goals": "x"}})
	requireCode(t, apperr.InvalidTransition, err)

	res, err := e.svc.AdoptAmendment(ctx, c.politician, workflows.Step{ID: id})
	require.NoError(t, err)
	require.False(t, res.Moved)
	require.NotEqual(t, "300 deltagare per år. / 300 participants a year.", e.record(t, id).Goals)
	res, err = e.svc.AdoptAmendment(ctx, c.reps[0], workflows.Step{ID: id})
	require.NoError(t, err)
	require.True(t, res.Moved)
	rec := e.record(t, id)
	require.Equal(t, "300 deltagare per år. / 300 participants a year.", rec.Goals)
	require.Equal(t, int64(2_000_000_00), rec.Budget)
	sums, err := e.svc.ContributionSums(ctx, c.official, id)
	require.NoError(t, err)
	got := map[string]int64{}
	for _, s := range sums {
		got[s.OrganisationID.String()[:4]+"/"+itoa(s.Year)+"/"+s.Kind] = s.Amount
	}
	region, org := c.region.String()[:4], c.orgs[0].String()[:4]
	require.Equal(t, map[string]int64{
		region + "/2041/money": 500_000_00, region + "/2042/money": 700_000_00, region + "/2043/money": 500_000_00,
		org + "/2041/volunteer_hours": 2000_00, org + "/2042/staff_hours": 400_00, org + "/2043/volunteer_hours": 2000_00,
	}, got)
	v, err := e.svc.Get(ctx, authz.Anonymous, id)
	require.NoError(t, err)
	require.Equal(t, int64(1_700_000_00), v.TotalPublicContribution)

	_, _, err = e.svc.Amend(ctx, c.reps[0], workflows.Step{ID: id}, iop.AmendmentInput{Description: "Kortare mål", Fields: map[string]string{"goals": "10"}})
	require.NoError(t, err)
	_, err = e.svc.AdoptAmendment(ctx, c.reps[0], workflows.Step{ID: id})
	require.NoError(t, err)
	_, err = e.svc.RejectAmendment(ctx, c.official, workflows.Step{ID: id, Reason: "Vi står fast vid målen. / We keep the goals."})
	require.NoError(t, err)
	require.Equal(t, string(iop.Active), e.state(t, id))
	require.Equal(t, "300 deltagare per år. / 300 participants a year.", e.record(t, id).Goals)
	list, err := e.svc.Amendments(ctx, c.reps[0], id)
	require.NoError(t, err)
	require.Equal(t, []string{"adopted", "rejected"}, []string{list[0].Status, list[1].Status})

	// The end date still comes while an amendment is open.
	_, _, err = e.svc.Amend(ctx, c.reps[0], workflows.Step{ID: id}, iop.AmendmentInput{Description: "Sent", Fields: map[string]string{"goals": "11"}})
	require.NoError(t, err)
	e.runDue(t, at(2044, 1, 1, 1))
	require.Equal(t, string(iop.Ended), e.state(t, id))
	list, err = e.svc.Amendments(ctx, c.reps[0], id)
	require.NoError(t, err)
	require.Equal(t, "lapsed", list[2].Status)
}

func itoa(n int) string { return time.Date(n, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006") }

// Bad input is refused with the field at fault, and nothing is written.
func TestBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Föreningen")
	other := e.org(t, "Kommunen", "public")
	version := uuid.New()
	footprint := func() [5]int {
		var f [5]int
		require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM partnerships), (SELECT count(*) FROM partnership_parties),
			(SELECT count(*) FROM partnership_contributions), (SELECT count(*) FROM workflow_instances), (SELECT count(*) FROM history_events)`).
			Scan(&f[0], &f[1], &f[2], &f[3], &f[4]))
		return f
	}
	before := footprint()
	for name, tc := range map[string]struct {
		change func(*iop.ProposeInput)
		field  string
	}{
		"negative money":       {func(in *iop.ProposeInput) { in.Contributions[0].Amount = "-100" }, "contributions[0].amount"},
		"overflowing money":    {func(in *iop.ProposeInput) { in.Contributions[0].Amount = "123456789012345678" }, "contributions[0].amount"},
		"too many decimals":    {func(in *iop.ProposeInput) { in.Contributions[0].Amount = "1,005" }, "contributions[0].amount"},
		"unknown kind":         {func(in *iop.ProposeInput) { in.Contributions[0].Kind = "goodwill" }, "contributions[0].kind"},
		"year outside":         {func(in *iop.ProposeInput) { in.Contributions[0].Year = 2050 }, "contributions[0].year"},
		"from a non-party":     {func(in *iop.ProposeInput) { in.Contributions[0].OrganisationID = other }, "contributions[0].organisationId"},
		"negative budget":      {func(in *iop.ProposeInput) { in.Budget = "-1" }, "budget"},
		"end before start":     {func(in *iop.ProposeInput) { in.EndDate = day(2041, 2, 1) }, "endDate"},
		"end equals start":     {func(in *iop.ProposeInput) { in.EndDate = in.StartDate }, "endDate"},
		"no idea-based party":  {func(in *iop.ProposeInput) { in.IdeaBasedIDs = nil }, "ideaBasedIds"},
		"party twice":          {func(in *iop.ProposeInput) { in.IdeaBasedIDs = append(in.IdeaBasedIDs, in.IdeaBasedIDs[0]) }, "ideaBasedIds"},
		"not an organisation":  {func(in *iop.ProposeInput) { in.IdeaBasedIDs, in.Contributions = []uuid.UUID{uuid.New()}, nil }, "ideaBasedIds[0]"},
		"public as idea-based": {func(in *iop.ProposeInput) { in.IdeaBasedIDs, in.Contributions = []uuid.UUID{other}, nil }, "ideaBasedIds[0]"},
		"idea-based as public": {func(in *iop.ProposeInput) { in.PublicBodyID = c.orgs[0]; in.IdeaBasedIDs = nil }, "ideaBasedIds"},
		"public body missing":  {func(in *iop.ProposeInput) { in.PublicBodyID, in.Contributions = uuid.New(), nil }, "publicBodyId"},
		"no public body":       {func(in *iop.ProposeInput) { in.PublicBodyID = uuid.Nil }, "publicBodyId"},
		"empty title":          {func(in *iop.ProposeInput) { in.Title = "  " }, "title"},
		"control characters":   {func(in *iop.ProposeInput) { in.Goals = "a\x00b" }, "goals"},
		"30 February":          {func(in *iop.ProposeInput) { in.ReportDueMonth, in.ReportDueDay = 2, 30 }, "reportDueDay"},
		"month 13":             {func(in *iop.ProposeInput) { in.ReportDueMonth = 13 }, "reportDueMonth"},
		"long notice":          {func(in *iop.ProposeInput) { in.NoticeMonths = 40 }, "noticeMonths"},
		"forty years":          {func(in *iop.ProposeInput) { in.EndDate = day(2081, 1, 1) }, "endDate"},
	} {
		in := c.proposal(day(2041, 3, 1), day(2042, 12, 31))
		tc.change(&in)
		_, _, err := e.svc.Propose(ctx, c.official, in)
		ae := requireCode(t, apperr.BadInput, err)
		require.Equal(t, tc.field, ae.Field, name)
		require.Contains(t, ae.Message, " / ", "%s: Swedish, then English", name)
	}
	// An agreement version that does not exist is NOT_FOUND, on its field,
	// as wherever a version is named.
	in := c.proposal(day(2041, 3, 1), day(2042, 12, 31))
	in.ValueBaseVersionID = &version
	_, _, err := e.svc.Propose(ctx, c.official, in)
	ae := requireCode(t, apperr.NotFound, err)
	require.Equal(t, "valueBaseVersionId", ae.Field)
	// A public body given as the idea-based party's public body.
	in = c.proposal(day(2041, 3, 1), day(2042, 12, 31))
	in.PublicBodyID, in.IdeaBasedIDs = c.orgs[0], []uuid.UUID{e.org(t, "Annan förening", "idea_based")}
	in.Contributions = nil
	_, _, err = e.svc.Propose(ctx, c.official, in)
	ae = requireCode(t, apperr.BadInput, err)
	require.Equal(t, "publicBodyId", ae.Field)
	require.Equal(t, before, footprint())

	p, _, err := e.svc.Propose(ctx, c.official, c.proposal(day(2041, 3, 1), day(2042, 12, 31)))
	require.NoError(t, err)
	before = footprint()
	docs := func() int { return e.count(t, `SELECT count(*) FROM partnership_documents`) }
	for name, tc := range map[string]struct {
		doc   iop.DocumentInput
		field string
	}{
		"too large":     {iop.DocumentInput{Kind: "annual_accounts", Title: "Årsredovisning", Content: make([]byte, iop.MaxDocumentSize+1), MediaType: "application/pdf"}, "content"},
		"both":          {iop.DocumentInput{Kind: "other", Title: "X", URL: "https://example.org", Content: []byte("x"), MediaType: "text/plain"}, "content"},
		"neither":       {iop.DocumentInput{Kind: "other", Title: "X"}, "content"},
		"bad link":      {iop.DocumentInput{Kind: "other", Title: "X", URL: "javascript:alert(1)"}, "url"},
		"unknown kind":  {iop.DocumentInput{Kind: "selfie", Title: "X", URL: "https://example.org"}, "kind"},
		"html":          {iop.DocumentInput{Kind: "other", Title: "X", Content: []byte("<script>"), MediaType: "text/html"}, "mediaType"},
		"without title": {iop.DocumentInput{Kind: "other", URL: "https://example.org"}, "title"},
	} {
		_, err := e.svc.AttachDocument(ctx, c.official, workflows.Step{ID: p.ID}, tc.doc)
		ae := requireCode(t, apperr.BadInput, err)
		require.Equal(t, tc.field, ae.Field, name)
	}
	require.Zero(t, docs())
	pdf := make([]byte, iop.MaxDocumentSize)
	doc, err := e.svc.AttachDocument(ctx, c.reps[0], workflows.Step{ID: p.ID}, iop.DocumentInput{Kind: "annual_accounts", Title: "Årsredovisning 2040",
		Content: pdf, MediaType: "application/pdf; charset=binary"})
	require.NoError(t, err)
	require.Equal(t, "application/pdf", doc.MediaType)
	full, err := e.svc.Document(ctx, c.official, doc.ID)
	require.NoError(t, err)
	require.Len(t, full.Content, iop.MaxDocumentSize)
	list, err := e.svc.Documents(ctx, c.official, p.ID)
	require.NoError(t, err)
	require.Equal(t, iop.MaxDocumentSize, list[0].Size)
	require.Nil(t, list[0].Content)

	// Editing the record with bad input changes nothing either.
	rec := c.proposal(day(2041, 3, 1), day(2042, 12, 31)).Record
	rec.Contributions[0].Amount = "-1"
	_, err = e.svc.Update(ctx, c.official, workflows.Step{ID: p.ID}, rec)
	requireCode(t, apperr.BadInput, err)
	after := footprint()
	require.Equal(t, before[:3], after[:3])
	rec.Contributions[0].Amount = "1"
	rec.Goals = "Nya mål"
	_, err = e.svc.Update(ctx, c.reps[0], workflows.Step{ID: p.ID}, rec)
	require.NoError(t, err)
	require.Equal(t, "Nya mål", e.record(t, p.ID).Goals)
}

// Lists: an organisation's partnerships, by state, expiring soon — each
// shows what the viewer may see.
func TestQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Föreningen Ett")
	soon := e.agree(t, c, c.proposal(day(2041, 1, 1), day(2041, 3, 31)))
	later := e.agree(t, c, c.proposal(day(2041, 1, 1), day(2043, 12, 31)))
	draft, _, err := e.svc.Propose(ctx, c.reps[0], c.proposal(day(2041, 6, 1), day(2042, 12, 31)))
	require.NoError(t, err)
	stranger := e.user(t, "Främling", authz.RoleSectorRepresentative+"@"+authz.OrgScope(e.org(t, "Annan", "idea_based")))

	ids := func(vs []*iop.Partnership) []uuid.UUID {
		var out []uuid.UUID
		for _, v := range vs {
			out = append(out, v.Record.ID)
		}
		return out
	}
	mine, err := e.svc.OfOrganisation(ctx, c.reps[0], c.orgs[0])
	require.NoError(t, err)
	require.ElementsMatch(t, []uuid.UUID{soon, later, draft.ID}, ids(mine))
	theirs, err := e.svc.OfOrganisation(ctx, stranger, c.orgs[0])
	require.NoError(t, err)
	require.ElementsMatch(t, []uuid.UUID{soon, later}, ids(theirs), "the initiative is not public")
	for _, v := range theirs {
		require.False(t, v.Private)
	}
	public, err := e.svc.OfOrganisation(ctx, authz.Anonymous, c.region)
	require.NoError(t, err)
	require.Len(t, public, 2)

	e.runDue(t, e.clock.Now().Add(time.Minute))
	active, err := e.svc.ByState(ctx, c.official, store.PartnershipPage{State: string(iop.Active)})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{later}, ids(active))
	renewal, err := e.svc.ByState(ctx, c.official, store.PartnershipPage{State: string(iop.Renewal)})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{soon}, ids(renewal), "its renewal opened at once, less than six months before the end")
	initiatives, err := e.svc.ByState(ctx, stranger, store.PartnershipPage{State: string(iop.Initiative)})
	require.NoError(t, err)
	require.Empty(t, initiatives)

	expiring, err := e.svc.ExpiringWithin(ctx, c.official, 90, store.ExpiringPage{})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{soon}, ids(expiring))
	expiring, err = e.svc.ExpiringWithin(ctx, authz.Anonymous, 3*365, store.ExpiringPage{})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{soon, later}, ids(expiring))
	firstPage, err := e.svc.ExpiringWithin(ctx, authz.Anonymous, 3*365, store.ExpiringPage{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{soon}, ids(firstPage), "soonest first")
	last := firstPage[0].Record
	nextPage, err := e.svc.ExpiringWithin(ctx, authz.Anonymous, 3*365, store.ExpiringPage{AfterEnd: last.EndDate, AfterID: last.ID, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{later}, ids(nextPage), "the next page continues after the cursor")
	_, err = e.svc.ExpiringWithin(ctx, c.official, -1, store.ExpiringPage{})
	requireCode(t, apperr.BadInput, err)

	byIDs, err := e.svc.ByIDs(ctx, stranger, []uuid.UUID{soon, draft.ID, uuid.New()})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{soon}, ids(byIDs))
	contribs, err := e.svc.ContributionsByPartnershipIDs(ctx, c.reps[0], []uuid.UUID{soon, later})
	require.NoError(t, err)
	require.Len(t, contribs[soon], 2)
	contribs, err = e.svc.ContributionsByPartnershipIDs(ctx, stranger, []uuid.UUID{soon, later})
	require.NoError(t, err)
	require.Empty(t, contribs)

	in, err := e.eng.Instance(ctx, *e.record(t, soon).InstanceID)
	require.NoError(t, err)
	require.True(t, e.svc.CanSeePrivate(context.Background(), c.reps[0], in))
	require.True(t, e.svc.CanSeePrivate(context.Background(), c.politician, in))
	require.False(t, e.svc.CanSeePrivate(context.Background(), stranger, in))
	require.False(t, e.svc.CanSeePrivate(context.Background(), authz.Anonymous, in))
}

// The Region's council members and admins may read the private history
// (history.read_private), but a partnership's confidential side — its
// background, budget, contributions, drafts, documents, notes and
// assessment — only the parties and the officials read
// (partnership.read_private), also while it is being negotiated.
func TestConfidentialDataOnlyForPartiesAndOfficials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Part")
	council := e.user(t, "Rådsledamot Region", authz.RoleCouncilMember+"@"+authz.ScopeRegion)
	admin := e.user(t, "Administratör", authz.RoleAdmin+"@"+authz.ScopeAll)
	in := c.proposal(day(2041, 3, 1), day(2042, 12, 31))
	in.Background = "Förtroligt: föreningens ekonomi / Confidential: the association's finances"
	p, _, err := e.svc.Propose(ctx, c.reps[0], in)
	require.NoError(t, err)
	_, err = e.svc.StartAssessment(ctx, c.official, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	_, _, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID}, suitable())
	require.NoError(t, err)
	d, err := e.svc.AddDraft(ctx, c.reps[0], workflows.Step{ID: p.ID}, "Utkast / Draft")
	require.NoError(t, err)

	for who, pr := range map[string]authz.Principal{"council member": council, "admin": admin} {
		v, err := e.svc.Get(ctx, pr, p.ID)
		require.NoError(t, err, who)
		require.False(t, v.Private, who)
		require.Empty(t, v.Record.Background, who)
		require.Empty(t, v.Contributions, who)
		for name, err := range map[string]error{
			"drafts":     second(e.svc.Drafts(ctx, pr, p.ID)),
			"comments":   second(e.svc.DraftComments(ctx, pr, d.ID)),
			"documents":  second(e.svc.Documents(ctx, pr, p.ID)),
			"notes":      second(e.svc.Notes(ctx, pr, p.ID)),
			"assessment": second(e.svc.Assessment(ctx, pr, p.ID)),
			"sums":       second(e.svc.ContributionSums(ctx, pr, p.ID)),
		} {
			require.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%s reads %s", who, name)
		}
	}
	// The parties and the officials do.
	for who, pr := range map[string]authz.Principal{"party": c.reps[0], "official": c.official} {
		v, err := e.svc.Get(ctx, pr, p.ID)
		require.NoError(t, err, who)
		require.True(t, v.Private, who)
		require.Equal(t, in.Background, v.Record.Background, who)
		_, err = e.svc.Drafts(ctx, pr, p.ID)
		require.NoError(t, err, who)
	}
}
