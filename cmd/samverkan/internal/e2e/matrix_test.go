package e2e_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
)

// The actors of the matrix. "rep" represents the organisation concerned,
// "other-rep" another organisation.
var actors = []string{"anonymous", "admin", "region_official", "region_politician", "council_region", "council_sector", "rep", "other-rep"}

// fixture is a fresh organisation with its representative and, where a
// case needs it, a signing instance in the state the mutation acts on.
type fixture struct {
	t        *testing.T
	s        *story
	org      string
	orgUUID  uuid.UUID
	rep      *apptest.User
	instance string
	vars     map[string]any
}

// matrixCase is one mutation: how to prepare, the operation, and who may.
type matrixCase struct {
	prepare func(t *testing.T, f *fixture)
	query   string
	allowed []string
	// loose: those allowed may still be refused for another reason (the
	// state does not fit them all), only never FORBIDDEN.
	loose bool
}

func (s *story) fixture(t *testing.T, n int) *fixture {
	rep := s.env.NewUser(fmt.Sprintf("Matrix Rep %d", n))
	var reg struct {
		RegisterOrganisation struct {
			Organisation        struct{ ID string }
			RepresentationClaim struct{ ID string }
		}
	}
	s.env.MustDo(rep, registerOrg, map[string]any{"o": map[string]any{"name": fmt.Sprintf("Matrisföreningen %03d", n),
		"organisationNumber": orgNumber(500 + n), "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}}, &reg)
	s.env.MustDo(s.official, `mutation($c: ID!) { confirmRepresentation(input: {claimId: $c}) { claim { id } } }`,
		map[string]any{"c": reg.RegisterOrganisation.RepresentationClaim.ID}, nil)
	f := &fixture{s: s, org: reg.RegisterOrganisation.Organisation.ID, rep: rep, vars: map[string]any{}}
	_, f.orgUUID, _ = parseGID(f.org)
	return f
}

// claim is a new person's request to represent the fixture's organisation.
func (f *fixture) claim(t *testing.T) string {
	var out struct {
		AskToRepresent struct{ Claim struct{ ID string } }
	}
	f.s.env.MustDo(f.s.env.NewUser("Sökande"), `mutation($o: ID!) { askToRepresent(input: {organisationId: $o}) { claim { id } } }`,
		map[string]any{"o": f.org}, &out)
	return out.AskToRepresent.Claim.ID
}

func (f *fixture) apply(t *testing.T) {
	var out struct {
		ApplyToSign struct{ Instance instanceData }
	}
	f.s.env.MustDo(f.rep, applyToSign, map[string]any{"org": f.org, "ver": f.s.version}, &out)
	f.instance = out.ApplyToSign.Instance.ID
	f.vars["id"] = f.instance
}

// to brings the fixture's application to a state by the usual path.
func (f *fixture) to(t *testing.T, state string) {
	f.apply(t)
	official, s := f.s.official, f.s
	path := map[string][]string{
		"applied":           {},
		"under_review":      {"startSigningReview"},
		"needs_information": {"startSigningReview", "requestSigningInformation"},
		"rejected":          {"startSigningReview", "rejectSigningApplication"},
		"approved":          {"startSigningReview", "approveSigningApplication"},
		"awaiting_ceremony": {"startSigningReview", "approveSigningApplication", "attachToSigningCeremony"},
		"signed":            {"startSigningReview", "approveSigningApplication", "signAgreement"},
	}[state]
	for _, m := range path {
		extra := `, reason: "matrix"`
		switch m {
		case "approveSigningApplication":
			extra = ", regionalPerspective: true, democraticValues: true, independent: true"
		case "attachToSigningCeremony":
			extra = fmt.Sprintf(", ceremonyId: %q", s.ceremony(t))
		}
		s.act(t, official, m, f.instance, extra)
	}
}

func (s *story) ceremony(t *testing.T) string {
	if s.ceremonyID == "" {
		var cer struct {
			CreateSigningCeremony struct{ Ceremony struct{ ID string } }
		}
		s.env.MustDo(s.official, `mutation($v: ID!) { createSigningCeremony(input: {agreementVersionId: $v, title: "Matrisceremoni",
			heldOn: "2019-06-01"}) { ceremony { id } } }`, map[string]any{"v": s.version}, &cer)
		s.ceremonyID = cer.CreateSigningCeremony.Ceremony.ID
	}
	return s.ceremonyID
}

func signingCase(state, mutation, extra string, allowed ...string) matrixCase {
	return matrixCase{
		prepare: func(t *testing.T, f *fixture) { f.to(t, state) },
		query:   fmt.Sprintf(`mutation($id: ID!) { %s(input: {instanceId: $id %s}) { instance { state } } }`, mutation, extra),
		allowed: allowed,
	}
}

func matrixCases() map[string]matrixCase {
	approveFields := ", regionalPerspective: true, democraticValues: true, independent: true"
	return map[string]matrixCase{
		"ping": {query: `mutation { ping }`, allowed: actors},
		"setNotificationPreferences": {
			query:   `mutation { setNotificationPreferences(input: {reminders: false, weeklyDigest: true}) { preferences { reminders } } }`,
			allowed: actors[1:],
		},
		"calendarUrl": {query: `mutation { calendarUrl(input: {}) { url } }`, allowed: actors[1:]},
		"resendDelivery": {
			prepare: func(t *testing.T, f *fixture) {
				var id uuid.UUID
				require.NoError(t, f.s.env.DB.Pool.QueryRow(context.Background(), `WITH n AS (
						INSERT INTO notifications (kind, subject, body, created_at) VALUES ('notice', 'Ämne / Subject', 'Text. / Text.', now())
						RETURNING id)
					INSERT INTO notification_deliveries (notification_id, address, state, attempts, last_error, created_at, failed_at)
					SELECT id, 'nobody@example.org', 'failed', 1, '550 5.1.1 No such user', now(), now() FROM n RETURNING id`).Scan(&id))
				f.vars["delivery"] = gid("Delivery", id)
			},
			query:   `mutation($delivery: ID!) { resendDelivery(input: {deliveryId: $delivery}) { deliveryId } }`,
			allowed: []string{"admin"},
		},
		"assignRole": {
			prepare: func(t *testing.T, f *fixture) { f.vars["user"] = userGID(f.s.env.NewUser("Target")) },
			query:   `mutation($user: ID!) { assignRole(input: {userId: $user, role: REGION_OFFICIAL, scope: "region"}) { assignment { role } } }`,
			allowed: []string{"admin"},
		},
		"revokeRole": {
			prepare: func(t *testing.T, f *fixture) {
				f.vars["user"] = userGID(f.s.env.NewUser("Target", "region_official@region"))
			},
			query:   `mutation($user: ID!) { revokeRole(input: {userId: $user, role: REGION_OFFICIAL, scope: "region"}) { assignment { role } } }`,
			allowed: []string{"admin"},
		},
		"registerOrganisation": {
			prepare: func(t *testing.T, f *fixture) {
				n := f.s.env.Count("SELECT count(*) FROM organisations")
				f.vars["number"] = orgNumber(900 + n)
				f.vars["name"] = fmt.Sprintf("Ny förening %d", n) // names that look alike are refused
			},
			query: `mutation($number: String!, $name: String!) { registerOrganisation(input: {organisation: {name: $name, organisationNumber: $number,
				legalForm: IDEELL_FORENING, sector: IDEA_BASED}}) { organisation { id } } }`,
			allowed: []string{"admin", "region_official", "region_politician", "council_region", "council_sector", "rep", "other-rep"},
		},
		"markNotificationRead": {
			// Anyone signed in marks their own; another's (here: none) does
			// not exist for them.
			prepare: func(t *testing.T, f *fixture) { f.vars["n"] = gid("Delivery", uuid.New()) },
			query:   `mutation($n: ID!) { markNotificationRead(input: {notificationId: $n}) { unreadCount } }`,
			allowed: []string{"admin", "region_official", "region_politician", "council_region", "council_sector", "rep", "other-rep"},
			loose:   true,
		},
		"askToRepresent": {
			prepare: func(t *testing.T, f *fixture) { f.vars["o"] = f.org },
			query:   `mutation($o: ID!) { askToRepresent(input: {organisationId: $o}) { claim { id } } }`,
			// The public side never represents an idea-based organisation;
			// the representative already does (CONFLICT).
			allowed: []string{"admin", "council_sector", "rep", "other-rep"},
			loose:   true,
		},
		"confirmRepresentation": {
			prepare: func(t *testing.T, f *fixture) { f.vars["c"] = f.claim(t) },
			query:   `mutation($c: ID!) { confirmRepresentation(input: {claimId: $c}) { claim { status } } }`,
			allowed: []string{"admin", "region_official"},
		},
		"declineRepresentation": {
			prepare: func(t *testing.T, f *fixture) { f.vars["c"] = f.claim(t) },
			query:   `mutation($c: ID!) { declineRepresentation(input: {claimId: $c, reason: "Okänd för föreningen"}) { claim { status } } }`,
			allowed: []string{"admin", "region_official"},
		},
		"updateOrganisation": {
			prepare: func(t *testing.T, f *fixture) {
				f.vars["id"] = f.org
				f.vars["name"] = "Nytt namn " + f.orgUUID.String()[:8] // names that look alike are refused
			},
			query:   `mutation($id: ID!, $name: String!) { updateOrganisation(input: {id: $id, name: $name, legalForm: IDEELL_FORENING}) { organisation { name } } }`,
			allowed: []string{"region_official", "rep"},
		},
		"createAgreement": {
			prepare: func(t *testing.T, f *fixture) { f.vars["body"] = f.s.publicBody },
			query: `mutation($body: ID!) { createAgreement(input: {name: "Överenskommelse", publicBodyId: $body,
				firstVersion: {title: "v1", adoptedOn: "2018-03-01"}}) { agreement { id } } }`,
			allowed: []string{"admin", "region_official"},
		},
		"createSigningCeremony": {
			prepare: func(t *testing.T, f *fixture) { f.vars["v"] = f.s.version },
			query:   `mutation($v: ID!) { createSigningCeremony(input: {agreementVersionId: $v, title: "C", heldOn: "2019-05-01"}) { ceremony { id } } }`,
			allowed: []string{"region_official"},
		},
		"applyToSign": {
			prepare: func(t *testing.T, f *fixture) { f.vars["org"], f.vars["ver"] = f.org, f.s.version },
			query:   applyToSign,
			allowed: []string{"rep"},
		},
		"startSigningReview":        signingCase("applied", "startSigningReview", "", "region_official"),
		"requestSigningInformation": signingCase("under_review", "requestSigningInformation", `, reason: "?"`, "region_official"),
		"provideSigningInformation": signingCase("needs_information", "provideSigningInformation", "", "rep"),
		"approveSigningApplication": signingCase("under_review", "approveSigningApplication", approveFields, "region_official"),
		"rejectSigningApplication":  signingCase("under_review", "rejectSigningApplication", `, reason: "no"`, "region_official"),
		"reopenSigningApplication":  signingCase("rejected", "reopenSigningApplication", `, reason: "again"`, "region_official"),
		"attachToSigningCeremony": {
			prepare: func(t *testing.T, f *fixture) { f.to(t, "approved"); f.vars["c"] = f.s.ceremony(t) },
			query:   `mutation($id: ID!, $c: ID!) { attachToSigningCeremony(input: {instanceId: $id, ceremonyId: $c}) { instance { state } } }`,
			allowed: []string{"region_official"},
		},
		"detachFromSigningCeremony": signingCase("awaiting_ceremony", "detachFromSigningCeremony", `, reason: "moved"`, "region_official"),
		"signAgreement":             signingCase("approved", "signAgreement", "", "rep", "region_official"),
		"withdrawSignature":         signingCase("signed", "withdrawSignature", `, reason: "bye"`, "rep"),
		"confirmAgreementVersion": {
			prepare: func(t *testing.T, f *fixture) {
				err := pgx.BeginFunc(context.Background(), f.s.env.DB.Pool, func(tx pgx.Tx) error {
					in, err := f.s.env.App.Services.Signing.RequestReconfirmationTx(context.Background(), tx, f.orgUUID,
						mustUUID(t, f.s.version), f.s.env.Clock.Now().AddDate(0, 2, 0))
					if err == nil {
						f.vars["id"] = gid("WorkflowInstance", in.ID)
					}
					return err
				})
				require.NoError(t, err)
			},
			query:   `mutation($id: ID!) { confirmAgreementVersion(input: {instanceId: $id}) { instance { state } } }`,
			allowed: []string{"rep"},
		},
		"approve": {
			prepare: func(t *testing.T, f *fixture) { f.followUpTo(t, "council_review") },
			query:   `mutation($id: ID!) { approve(input: {instanceId: $id, transition: "council_approve"}) { instance { state } } }`,
			allowed: []string{"council_region", "council_sector"},
		},
		// Withdrawing needs an approval of one's own: the allowed get
		// INVALID_TRANSITION here, the others FORBIDDEN.
		"withdrawApproval": {
			prepare: func(t *testing.T, f *fixture) { f.followUpTo(t, "council_review") },
			query:   `mutation($id: ID!) { withdrawApproval(input: {instanceId: $id, transition: "council_approve"}) { instance { state } } }`,
			allowed: []string{"council_region", "council_sector"},
		},
		"createActionPlan": {
			prepare: func(t *testing.T, f *fixture) { f.vars["v"] = f.newVersion(t) },
			query: `mutation($v: ID!) { createActionPlan(input: {agreementVersionId: $v, year: 2018, activities: [{title: "A", description: "Beskrivning", quarters: [1],
				responsible: BOTH, indicators: [{name: "Deltagare", unit: "personer", target: 10}]}]}) { actionPlan { year } } }`,
			allowed: []string{"region_official", "council_region", "council_sector"},
		},
		"openAnnualFollowUp": {
			prepare: func(t *testing.T, f *fixture) { f.vars["v"] = f.newVersion(t) },
			query:   `mutation($v: ID!) { openAnnualFollowUp(input: {agreementVersionId: $v, year: 2018}) { instance { state } } }`,
			allowed: []string{"admin", "region_official"},
		},
		"startCollectingReports": followUpCase("opened", `startCollectingReports(input: {instanceId: $id})`, "region_official"),
		"submitActivityReport": {
			prepare: func(t *testing.T, f *fixture) { f.followUpTo(t, "collecting_reports") },
			query: `mutation($id: ID!, $a: ID!) { submitActivityReport(input: {instanceId: $id, activityId: $a, outcome: "Klart"}) {
				instance { state } } }`,
			allowed: []string{"region_official", "council_sector"},
		},
		"extendReportDeadline": followUpCase("collecting_reports",
			`extendReportDeadline(input: {instanceId: $id, reportDeadline: "2019-12-01T10:00:00+01:00"})`, "region_official"),
		"submitFollowUpToCouncil": followUpCase("collecting_reports", `submitFollowUpToCouncil(input: {instanceId: $id, reason: "ok"})`, "region_official"),
		"sendFollowUpBack": followUpCase("council_review", `sendFollowUpBack(input: {instanceId: $id, reason: "mer"})`,
			"council_region", "council_sector"),
		"publishAnnualReport": followUpCase("approved", `publishAnnualReport(input: {instanceId: $id, title: "Å", body: "B"})`, "region_official"),
		"adoptNextActivityPlan": followUpCase("report_published", `adoptNextActivityPlan(input: {instanceId: $id, activities: [{title: "Nästa", description: "Beskrivning",
			quarters: [2], responsible: BOTH, indicators: [{name: "Deltagare", unit: "personer"}]}]})`,
			"region_official", "council_region", "council_sector"),
		"openRevision": {
			prepare: func(t *testing.T, f *fixture) { f.vars["v"] = f.newVersion(t) },
			query:   `mutation($v: ID!) { openRevision(input: {agreementVersionId: $v}) { instance { state } } }`,
			allowed: []string{"region_official"},
		},
		"advanceRevision": revisionCase("pre_phase", `advanceRevision(input: {instanceId: $id})`, "region_official"),
		"addRevisionDraft": {
			prepare: func(t *testing.T, f *fixture) { f.revisionTo(t, "drafting") },
			query:   `mutation($id: ID!) { addRevisionDraft(input: {instanceId: $id, title: "U", body: "Text"}) { draft { version } } }`,
			allowed: []string{"region_official"},
		},
		"openConsultationRound": revisionCase("drafting_with_draft",
			`openConsultationRound(input: {instanceId: $id, deadline: "2030-01-01T00:00:00Z"})`, "region_official"),
		"inviteToConsultation": {
			prepare: func(t *testing.T, f *fixture) { f.revisionTo(t, "consultation"); f.vars["o"] = f.org },
			query:   `mutation($id: ID!, $o: ID!) { inviteToConsultation(input: {instanceId: $id, organisationId: $o}) { instance { state } } }`,
			allowed: []string{"council_region", "council_sector"},
		},
		"submitConsultationComment": {
			prepare: func(t *testing.T, f *fixture) { f.revisionTo(t, "consultation"); f.vars["o"] = f.org },
			query: `mutation($id: ID!, $o: ID!) { submitConsultationComment(input: {instanceId: $id, organisationId: $o, section: "1",
				body: "Bra"}) { comment { id } } }`,
			allowed: []string{"rep"},
		},
		"respondToComment": {
			prepare: func(t *testing.T, f *fixture) { f.revisionTo(t, "commented") },
			query:   `mutation($c: ID!) { respondToComment(input: {commentId: $c, response: "Tack"}) { comment { response } } }`,
			allowed: []string{"council_region", "council_sector"},
		},
		"setRevisionDecision": revisionCase("drafting",
			`setRevisionDecision(input: {instanceId: $id, decisionReference: "RS 1"})`, "region_official"),
		"sendRevisionBack": revisionCase("decision", `sendRevisionBack(input: {instanceId: $id, reason: "Mer dialog"})`,
			"region_politician", "council_sector"),
		"proposePartnership": {
			prepare: func(t *testing.T, f *fixture) { f.vars["b"], f.vars["o"] = f.s.publicBody, f.org },
			query:   proposePartnership,
			allowed: []string{"rep", "region_official"},
		},
		"startPartnershipAssessment": partnershipCase("initiative", `startPartnershipAssessment(input: {partnershipId: $p})`, "region_official"),
		"assessPartnership": partnershipCase("assessment", `assessPartnership(input: {partnershipId: $p, economicActivity: false,
			economicActivityJustification: "Ingen", marketOrCompetition: false, marketOrCompetitionJustification: "Ingen",
			possibleStateAid: false, possibleStateAidJustification: "Nej", ideaBasedOrganisation: true,
			ideaBasedOrganisationJustification: "Stadgarna"})`, "region_official"),
		"updatePartnership": partnershipCase("negotiation", `updatePartnership(input: {partnershipId: $p, title: "Läxhjälp i Värmland",
			purpose: "Fler klarar skolan", startDate: "2018-07-01", endDate: "2020-12-31"})`, "rep", "region_official"),
		"commentOnPartnershipDraft": {
			prepare: func(t *testing.T, f *fixture) {
				f.partnershipTo(t, "with_draft")
				var out struct {
					Node struct{ Drafts []struct{ ID string } }
				}
				f.s.env.MustDo(f.rep, `query($p: ID!) { node(id: $p) { ... on Partnership { drafts { id } } } }`, f.vars, &out)
				require.Len(t, out.Node.Drafts, 1)
				f.vars["d"] = out.Node.Drafts[0].ID
			},
			query: `mutation($p: ID!, $d: ID!) { commentOnPartnershipDraft(input: {partnershipId: $p, draftId: $d, body: "Synpunkt"}) {
				comment { body } } }`,
			allowed: []string{"rep", "region_official"},
		},
		"addPartnershipNote": {
			prepare: func(t *testing.T, f *fixture) { f.partnershipTo(t, "negotiation") },
			query:   `mutation($p: ID!) { addPartnershipNote(input: {partnershipId: $p, body: "Anteckning"}) { note { body } } }`,
			allowed: []string{"rep", "region_official"},
		},
		"addPartnershipDraft": partnershipCase("negotiation", `addPartnershipDraft(input: {partnershipId: $p, body: "Utkast"})`,
			"rep", "region_official"),
		"attachPartnershipDocument": partnershipCase("negotiation", `attachPartnershipDocument(input: {partnershipId: $p, kind: INITIATIVE,
			title: "Initiativ", url: "https://example.org/initiativ.pdf"})`, "rep", "region_official"),
		"submitPartnershipForDecision": partnershipCase("with_draft", `submitPartnershipForDecision(input: {partnershipId: $p})`,
			"rep", "region_official"),
		"sendPartnershipBack": partnershipCase("decision", `sendPartnershipBack(input: {partnershipId: $p, reason: "Mer"})`,
			"rep", "region_politician"),
		"approvePartnership":  partnershipCase("decision", `approvePartnership(input: {partnershipId: $p})`, "rep", "region_politician"),
		"withdrawPartnership": partnershipCase("negotiation", `withdrawPartnership(input: {partnershipId: $p, reason: "Nej"})`, "rep", "region_official"),
		"submitPartnershipReport": {
			prepare: func(t *testing.T, f *fixture) { f.partnershipTo(t, "active") },
			query:   `mutation($p: ID!) { submitPartnershipReport(input: {partnershipId: $p, year: 2018, body: "Rapport"}) { partnership { state } } }`,
			allowed: []string{"rep", "region_official"},
			loose:   true,
		},
		"proposePartnershipRenewal": partnershipCase("active", `proposePartnershipRenewal(input: {partnershipId: $p, endDate: "2024-12-31"})`,
			"rep", "region_official"),
		"renewPartnership": partnershipCase("renewal", `renewPartnership(input: {partnershipId: $p})`, "rep", "region_politician"),
		"terminatePartnership": {
			prepare: func(t *testing.T, f *fixture) { f.partnershipTo(t, "active"); f.vars["o"] = f.org },
			query: `mutation($p: ID!, $o: ID!) { terminatePartnership(input: {partnershipId: $p, organisationId: $o, reason: "Slut"}) {
				partnership { state } } }`,
			allowed: []string{"rep"},
		},
		"proposePartnershipAmendment": partnershipCase("active", `proposePartnershipAmendment(input: {partnershipId: $p,
			description: "Ny målgrupp", changes: [{field: "targetGroup", value: "Unga vuxna"}]})`, "rep", "region_official"),
		"adoptPartnershipAmendment":  partnershipCase("amendment_proposed", `adoptPartnershipAmendment(input: {partnershipId: $p})`, "rep", "region_politician"),
		"rejectPartnershipAmendment": partnershipCase("amendment_proposed", `rejectPartnershipAmendment(input: {partnershipId: $p, reason: "Nej"})`, "rep", "region_official"),
	}
}

// Every mutation × every role, over HTTP: those allowed are not refused,
// the others get FORBIDDEN (UNAUTHENTICATED when anonymous) and change
// nothing. A mutation missing from the matrix fails the test.
func TestRoleMatrixCoversEveryMutation(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	s.env.AdvanceTo(time.Date(2018, 6, 1, 9, 0, 0, 0, clock.Stockholm))
	users := map[string]*apptest.User{
		"admin":             s.admin,
		"region_official":   s.official,
		"region_politician": s.env.NewUser("Pia Politiker", "region_politician@region"),
		"council_region":    s.env.NewUser("Rolf Råd", "council_member@region"),
		"council_sector":    s.env.NewUser("Sara Råd", "council_member@sector"),
	}
	s.council = council{region: users["council_region"], sector: users["council_sector"], politician: users["region_politician"]}

	var schema struct {
		Schema struct {
			MutationType struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	s.env.MustDo(nil, `{ __schema { mutationType { fields { name } } } }`, nil, &schema)
	cases := matrixCases()
	var names []string
	for _, f := range schema.Schema.MutationType.Fields {
		names = append(names, f.Name)
		require.Contains(t, cases, f.Name, "mutation %s is missing from the role matrix", f.Name)
	}
	sort.Strings(names)

	n := 0
	for _, name := range names {
		c := cases[name]
		for _, actor := range actors {
			n++
			f := s.fixture(t, n)
			if c.prepare != nil {
				c.prepare(t, f)
			}
			u := users[actor]
			switch actor {
			case "rep":
				u = f.rep
			case "other-rep":
				u = s.fixture(t, 1000+n).rep
			}
			// Whoever may not see the instance (or partnership) acted on is
			// told it does not exist, exactly as for an unknown id.
			hidden := false
			for _, key := range []string{"id", "p"} {
				id, ok := f.vars[key].(string)
				if !ok {
					continue
				}
				var seen struct{ Node *struct{ ID string } }
				s.env.MustDo(u, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &seen)
				hidden = hidden || seen.Node == nil
			}
			before := s.env.Count("SELECT count(*) FROM history_events")
			r := s.env.Do(u, c.query, f.vars)
			code := "OK"
			if len(r.Errors) > 0 {
				code = r.Errors[0].Code()
			}
			allowed := contains(c.allowed, actor)
			switch {
			case allowed:
				require.NotContains(t, []string{"FORBIDDEN", "UNAUTHENTICATED"}, code, "%s as %s should be allowed: %v", name, actor, r.Errors)
				if name != "withdrawApproval" && !c.loose {
					require.Equal(t, "OK", code, "%s as %s: %v", name, actor, r.Errors)
				}
			case hidden:
				require.Equal(t, "NOT_FOUND", code, "%s as %s, who cannot see it", name, actor)
			case actor == "anonymous":
				require.Equal(t, "UNAUTHENTICATED", code, "%s as %s", name, actor)
			default:
				require.Equal(t, "FORBIDDEN", code, "%s as %s", name, actor)
			}
			if !allowed {
				require.Equal(t, before, s.env.Count("SELECT count(*) FROM history_events"), "%s refused to %s changed the history", name, actor)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func followUpCase(state, call string, allowed ...string) matrixCase {
	return matrixCase{
		prepare: func(t *testing.T, f *fixture) { f.followUpTo(t, state) },
		query:   "mutation($id: ID!) { " + call + " { instance { state } } }",
		allowed: allowed,
	}
}

func revisionCase(state, call string, allowed ...string) matrixCase {
	return matrixCase{
		prepare: func(t *testing.T, f *fixture) { f.revisionTo(t, state) },
		query:   "mutation($id: ID!) { " + call + " { instance { state } } }",
		allowed: allowed,
	}
}

// newVersion creates an agreement of its own for the fixture, so that its
// follow-ups and revision do not meet another fixture's.
func (f *fixture) newVersion(t *testing.T) string {
	var ag struct {
		CreateAgreement struct {
			Agreement struct{ CurrentVersion struct{ ID string } }
		}
	}
	f.s.env.MustDo(f.s.official, `mutation($body: ID!) { createAgreement(input: {name: "Matrisavtal", publicBodyId: $body,
		firstVersion: {title: "v1", adoptedOn: "2018-03-01"}}) { agreement { currentVersion { id } } } }`,
		map[string]any{"body": f.s.publicBody}, &ag)
	return ag.CreateAgreement.Agreement.CurrentVersion.ID
}

func (f *fixture) followUpTo(t *testing.T, state string) {
	env, s := f.s.env, f.s
	v := f.newVersion(t)
	var plan struct {
		CreateActionPlan struct {
			ActionPlan struct {
				Activities []struct{ ID string }
			}
		}
	}
	env.MustDo(s.official, `mutation($v: ID!) { createActionPlan(input: {agreementVersionId: $v, year: 2018, activities: [{title: "A",
		quarters: [1], responsible: BOTH}]}) { actionPlan { activities { id } } } }`, map[string]any{"v": v}, &plan)
	f.vars["a"] = plan.CreateActionPlan.ActionPlan.Activities[0].ID
	var open struct {
		OpenAnnualFollowUp struct{ Instance instanceData }
	}
	env.MustDo(s.official, `mutation($v: ID!) { openAnnualFollowUp(input: {agreementVersionId: $v, year: 2018}) { instance { id state version } } }`,
		map[string]any{"v": v}, &open)
	id := open.OpenAnnualFollowUp.Instance.ID
	f.vars["id"] = id
	steps := []func(){
		func() {
			env.MustDo(s.official, `mutation($id: ID!) { startCollectingReports(input: {instanceId: $id}) { instance { state } } }`, f.vars, nil)
		},
		func() {
			env.MustDo(s.official, `mutation($id: ID!) { submitFollowUpToCouncil(input: {instanceId: $id, reason: "matris"}) { instance { state } } }`, f.vars, nil)
		},
		func() {
			s.approveAs(t, s.council.region, id, "council_approve")
			s.approveAs(t, s.council.sector, id, "council_approve")
		},
		func() {
			env.MustDo(s.official, `mutation($id: ID!) { publishAnnualReport(input: {instanceId: $id, title: "Å", body: "B"}) { instance { state } } }`, f.vars, nil)
		},
	}
	order := []string{"opened", "collecting_reports", "council_review", "approved", "report_published"}
	for i, st := range order {
		if st == state {
			return
		}
		steps[i]()
	}
	t.Fatalf("unknown follow-up state %s", state)
}

func (f *fixture) revisionTo(t *testing.T, state string) {
	env, s := f.s.env, f.s
	v := f.newVersion(t)
	// The fixture's organisation signs the version so that it may comment.
	var out struct {
		ApplyToSign struct{ Instance instanceData }
	}
	env.MustDo(f.rep, applyToSign, map[string]any{"org": f.org, "ver": v}, &out)
	app := out.ApplyToSign.Instance.ID
	s.act(t, s.official, "startSigningReview", app, "")
	s.act(t, s.official, "approveSigningApplication", app, ", regionalPerspective: true, democraticValues: true, independent: true")
	s.act(t, f.rep, "signAgreement", app, "")

	var open struct {
		OpenRevision struct{ Instance instanceData }
	}
	env.MustDo(s.official, `mutation($v: ID!) { openRevision(input: {agreementVersionId: $v}) { instance { id state version } } }`,
		map[string]any{"v": v}, &open)
	id := open.OpenRevision.Instance.ID
	f.vars["id"] = id
	if state == "pre_phase" {
		return
	}
	for range 3 {
		s.act(t, s.official, "advanceRevision", id, "")
	}
	if state == "drafting" {
		return
	}
	env.MustDo(s.official, `mutation($id: ID!) { addRevisionDraft(input: {instanceId: $id, title: "U", body: "Text"}) { draft { version } } }`, f.vars, nil)
	if state == "drafting_with_draft" {
		return
	}
	deadline := env.Clock.Now().Add(time.Minute)
	env.MustDo(s.official, `mutation($id: ID!, $d: DateTime!) { openConsultationRound(input: {instanceId: $id, deadline: $d}) { instance { state } } }`,
		map[string]any{"id": id, "d": deadline.Format(time.RFC3339)}, nil)
	if state == "consultation" {
		return
	}
	var c struct {
		SubmitConsultationComment struct{ Comment struct{ ID string } }
	}
	env.MustDo(f.rep, `mutation($id: ID!, $o: ID!) { submitConsultationComment(input: {instanceId: $id, organisationId: $o, section: "1",
		body: "Bra"}) { comment { id } } }`, map[string]any{"id": id, "o": f.org}, &c)
	f.vars = map[string]any{"c": c.SubmitConsultationComment.Comment.ID}
	if state == "commented" {
		return
	}
	env.AdvanceTo(deadline.Add(time.Second))
	f.vars = map[string]any{"id": id}
	if state == "decision" {
		return
	}
	t.Fatalf("unknown revision state %s", state)
}

const proposePartnership = `mutation($b: ID!, $o: ID!) { proposePartnership(input: {title: "Läxhjälp", purpose: "Fler klarar skolan",
	publicBodyId: $b, ideaBasedIds: [$o], startDate: "2018-07-01", endDate: "2020-12-31", noticeMonths: 3}) { partnership { id state } } }`

func partnershipCase(state, call string, allowed ...string) matrixCase {
	return matrixCase{
		prepare: func(t *testing.T, f *fixture) { f.partnershipTo(t, state) },
		query:   "mutation($p: ID!) { " + call + " { partnership { state } } }",
		allowed: allowed,
	}
}

// partnershipTo brings a partnership of the fixture's organisation and the
// story's public body to a state by the usual path.
func (f *fixture) partnershipTo(t *testing.T, state string) {
	env, s := f.s.env, f.s
	var out struct {
		ProposePartnership struct{ Partnership struct{ ID string } }
	}
	env.MustDo(f.rep, proposePartnership, map[string]any{"b": s.publicBody, "o": f.org}, &out)
	id := out.ProposePartnership.Partnership.ID
	f.vars = map[string]any{"p": id}
	do := func(u *apptest.User, call string) {
		env.MustDo(u, "mutation($p: ID!) { "+call+" { partnership { state } } }", map[string]any{"p": id}, nil)
	}
	steps := []struct {
		state string
		run   func()
	}{
		{"initiative", func() {}},
		{"assessment", func() { do(s.official, `startPartnershipAssessment(input: {partnershipId: $p})`) }},
		{"negotiation", func() {
			do(s.official, `assessPartnership(input: {partnershipId: $p, economicActivity: false, economicActivityJustification: "Ingen",
				marketOrCompetition: false, marketOrCompetitionJustification: "Ingen", possibleStateAid: false,
				possibleStateAidJustification: "Nej", ideaBasedOrganisation: true, ideaBasedOrganisationJustification: "Stadgarna"})`)
		}},
		{"with_draft", func() { do(f.rep, `addPartnershipDraft(input: {partnershipId: $p, body: "Utkast"})`) }},
		{"decision", func() { do(f.rep, `submitPartnershipForDecision(input: {partnershipId: $p})`) }},
		{"active", func() {
			do(s.council.politician, `approvePartnership(input: {partnershipId: $p})`)
			do(f.rep, `approvePartnership(input: {partnershipId: $p})`)
		}},
		{"renewal", func() { do(f.rep, `proposePartnershipRenewal(input: {partnershipId: $p, endDate: "2024-12-31"})`) }},
	}
	if state == "amendment_proposed" {
		f.partnershipToState(t, steps[:6], "active")
		do(f.rep, `proposePartnershipAmendment(input: {partnershipId: $p, description: "Ny målgrupp", changes: [{field: "targetGroup", value: "Unga"}]})`)
		return
	}
	f.partnershipToState(t, steps, state)
}

func (f *fixture) partnershipToState(t *testing.T, steps []struct {
	state string
	run   func()
}, state string) {
	for _, st := range steps {
		st.run()
		if st.state == state {
			return
		}
	}
	t.Fatalf("unknown partnership state %s", state)
}
