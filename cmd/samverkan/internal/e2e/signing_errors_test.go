package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
)

// Each refused request gets its code and a message a person understands,
// and leaves every table exactly as it was.
func TestSigningRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	a := s.apply(t, 1)
	b := s.apply(t, 2)
	s.act(t, s.official, "startSigningReview", a.instance, "")
	approved := s.apply(t, 3)
	s.approve(t, approved)

	var inst struct {
		Node struct{ Version int }
	}
	s.env.MustDo(s.official, `query($id: ID!) { node(id: $id) { ... on WorkflowInstance { version } } }`, map[string]any{"id": a.instance}, &inst)

	register := func(number string) (string, map[string]any) {
		return registerOrg, map[string]any{"o": map[string]any{"name": "Testföreningen", "organisationNumber": number,
			"legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}}
	}
	cases := []struct {
		name, code, says string
		run              func() (string, map[string]any)
		as               string
	}{
		{name: "wrong check digit", code: "BAD_INPUT", says: "check digit", run: func() (string, map[string]any) { return register("556036-0794") }},
		{name: "too short", code: "BAD_INPUT", says: "ten digits", run: func() (string, map[string]any) { return register("55603607") }},
		{name: "personal identity number", code: "BAD_INPUT", says: "at least 20", run: func() (string, map[string]any) { return register("851015-1234") }},
		{name: "letters", code: "BAD_INPUT", says: "only contain digits", run: func() (string, map[string]any) { return register("55603A-0793") }},
		{name: "already registered", code: "CONFLICT", says: "already registered", run: func() (string, map[string]any) { return register(orgNumber(1)) }},
		{name: "representative applying for another organisation", code: "FORBIDDEN", as: "rep-a", run: func() (string, map[string]any) {
			return applyToSign, map[string]any{"org": b.org, "ver": s.version}
		}},
		{name: "applying twice", code: "CONFLICT", says: "already has an open application", as: "rep-a", run: func() (string, map[string]any) {
			return applyToSign, map[string]any{"org": a.org, "ver": s.version}
		}},
		{name: "approving twice", code: "INVALID_TRANSITION", as: "official", run: func() (string, map[string]any) {
			return `mutation($id: ID!) { approveSigningApplication(input: {instanceId: $id, regionalPerspective: true, democraticValues: true,
				independent: true}) { instance { state } } }`, map[string]any{"id": approved.instance}
		}},
		{name: "transition from a wrong state", code: "INVALID_TRANSITION", says: "Cannot", as: "rep-b", run: func() (string, map[string]any) {
			return `mutation($id: ID!) { signAgreement(input: {instanceId: $id}) { instance { state } } }`, map[string]any{"id": b.instance}
		}},
		{name: "stale version", code: "CONFLICT", says: "changed since you read it", as: "official", run: func() (string, map[string]any) {
			return `mutation($id: ID!, $v: Int) { rejectSigningApplication(input: {instanceId: $id, expectedVersion: $v, reason: "x"}) { instance { state } } }`,
				map[string]any{"id": a.instance, "v": inst.Node.Version - 1}
		}},
		{name: "approval without the criteria", code: "BAD_INPUT", says: "democratic values", as: "official", run: func() (string, map[string]any) {
			return `mutation($id: ID!) { approveSigningApplication(input: {instanceId: $id, regionalPerspective: true, democraticValues: false,
				independent: true}) { instance { state } } }`, map[string]any{"id": a.instance}
		}},
		{name: "rejection without a reason", code: "BAD_INPUT", says: "reason", as: "official", run: func() (string, map[string]any) {
			return `mutation($id: ID!) { rejectSigningApplication(input: {instanceId: $id}) { instance { state } } }`, map[string]any{"id": a.instance}
		}},
		{name: "unknown instance", code: "NOT_FOUND", as: "official", run: func() (string, map[string]any) {
			return `mutation($id: ID!) { startSigningReview(input: {instanceId: $id}) { instance { state } } }`,
				map[string]any{"id": gid("WorkflowInstance", mustUUID(t, s.version))}
		}},
		{name: "an ID of another type", code: "BAD_INPUT", says: "not a WorkflowInstance", as: "official", run: func() (string, map[string]any) {
			return `mutation($id: ID!) { startSigningReview(input: {instanceId: $id}) { instance { state } } }`, map[string]any{"id": a.org}
		}},
		{name: "a ceremony in the past", code: "BAD_INPUT", says: "future date", as: "official", run: func() (string, map[string]any) {
			return `mutation($v: ID!) { createSigningCeremony(input: {agreementVersionId: $v, title: "Sent", heldOn: "2017-12-01"}) { ceremony { id } } }`,
				map[string]any{"v": s.version}
		}},
	}
	users := map[string]*apptest.User{"": a.rep, "rep-a": a.rep, "rep-b": b.rep, "official": s.official}
	for _, c := range cases {
		before := s.env.Checksums()
		q, vars := c.run()
		e := s.env.MustFail(users[c.as], c.code, q, vars)
		if c.says != "" {
			require.Contains(t, e.Message, c.says, c.name)
		}
		require.Equal(t, before, s.env.Checksums(), "%s changed the database", c.name)
	}
}
