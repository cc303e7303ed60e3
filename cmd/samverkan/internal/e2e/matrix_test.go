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
}

func (s *story) fixture(t *testing.T, n int) *fixture {
	rep := s.env.NewUser(fmt.Sprintf("Matrix Rep %d", n))
	var reg struct {
		RegisterOrganisation struct{ Organisation struct{ ID string } }
	}
	s.env.MustDo(rep, registerOrg, map[string]any{"o": map[string]any{"name": fmt.Sprintf("Matrisföreningen %03d", n),
		"organisationNumber": orgNumber(500 + n), "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}}, &reg)
	f := &fixture{s: s, org: reg.RegisterOrganisation.Organisation.ID, rep: rep, vars: map[string]any{}}
	_, f.orgUUID, _ = parseGID(f.org)
	return f
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
				f.vars["number"] = orgNumber(900 + f.s.env.Count("SELECT count(*) FROM organisations"))
			},
			query: `mutation($number: String!) { registerOrganisation(input: {organisation: {name: "Ny förening", organisationNumber: $number,
				legalForm: IDEELL_FORENING, sector: IDEA_BASED}}) { organisation { id } } }`,
			allowed: []string{"admin", "region_official", "region_politician", "council_region", "council_sector", "rep", "other-rep"},
		},
		"updateOrganisation": {
			prepare: func(t *testing.T, f *fixture) { f.vars["id"] = f.org },
			query:   `mutation($id: ID!) { updateOrganisation(input: {id: $id, name: "Nytt namn", legalForm: IDEELL_FORENING}) { organisation { name } } }`,
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
		// The generic approval is for decisions taken by a quorum; on any
		// other transition those allowed to fire it get BAD_INPUT.
		"approve": {
			prepare: func(t *testing.T, f *fixture) { f.to(t, "under_review") },
			query:   `mutation($id: ID!) { approve(input: {instanceId: $id, transition: "approve"}) { instance { state } } }`,
			allowed: []string{"region_official"},
		},
		"withdrawApproval": {
			prepare: func(t *testing.T, f *fixture) { f.to(t, "under_review") },
			query:   `mutation($id: ID!) { withdrawApproval(input: {instanceId: $id, transition: "approve"}) { instance { state } } }`,
			allowed: []string{"region_official"},
		},
	}
}

// Every mutation × every role, over HTTP: those allowed are not refused,
// the others get FORBIDDEN (UNAUTHENTICATED when anonymous) and change
// nothing. A mutation missing from the matrix fails the test.
func TestRoleMatrixCoversEveryMutation(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	s.env.AdvanceTo(time.Date(2018, 2, 1, 9, 0, 0, 0, clock.Stockholm))
	users := map[string]*apptest.User{
		"admin":             s.admin,
		"region_official":   s.official,
		"region_politician": s.env.NewUser("Pia Politiker", "region_politician@region"),
		"council_region":    s.env.NewUser("Rolf Råd", "council_member@region"),
		"council_sector":    s.env.NewUser("Sara Råd", "council_member@sector"),
	}

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
				if name != "approve" && name != "withdrawApproval" {
					require.Equal(t, "OK", code, "%s as %s: %v", name, actor, r.Errors)
				}
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
