package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
)

// badCase is one hostile or broken request and the code it must get.
type badCase struct {
	name string
	code string
	// as: "" anonymous, "rep", "official", "admin", "expired", "basic".
	as string
	// Either a raw body (with its content type) or a query with variables.
	contentType string
	raw         []byte
	query       string
	vars        map[string]any
	headers     map[string]string
	// says is a part of the message a person should read.
	says string
}

func deepQuery(levels int) string {
	var b strings.Builder
	b.WriteString("{ agreements { publicBody { ")
	for range levels {
		b.WriteString("signatures { organisation { ")
	}
	b.WriteString("name")
	for range levels {
		b.WriteString(" } }")
	}
	b.WriteString(" } } }")
	return b.String()
}

func aliasBomb(n int) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: serverInfo { version } ", i)
	}
	b.WriteString("}")
	return b.String()
}

func fragmentBomb() string {
	// F10 expands to 2^10 copies of F0: small to send, huge to run.
	var b strings.Builder
	b.WriteString("query { ...F10 }\n")
	b.WriteString("fragment F0 on Query { serverInfo { version databaseVersion } }\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d s%d: serverInfo { version } }\n", i, i-1, i-1, i)
	}
	return b.String()
}

// expensiveQuery asks n times for 100 organisations with their signatures'
// organisations' signatures: each alias costs about 800.
func expensiveQuery(n int) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := range n {
		fmt.Fprintf(&b, "a%d: organisations(first: 100) { edges { node { signatures { organisation { signatures { organisation { name } } } } } } } ", i)
	}
	b.WriteString("}")
	return b.String()
}

func manyTokens(n int) string {
	var b strings.Builder
	b.WriteString("{ serverInfo { ")
	for range n {
		b.WriteString("version ")
	}
	b.WriteString("} }")
	return b.String()
}

func badCatalogue(f *fixture, s *story) []badCase {
	reg := func(field string, value any) map[string]any {
		o := map[string]any{"name": "Förening", "organisationNumber": orgNumber(700), "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}
		o[field] = value
		return map[string]any{"o": o}
	}
	const startReview = `mutation($id: ID!) { startSigningReview(input: {instanceId: $id}) { instance { state } } }`
	const ceremony = `mutation($v: ID!, $d: Date!) { createSigningCeremony(input: {agreementVersionId: $v, title: "C", heldOn: $d}) { ceremony { id } } }`
	const plan = `mutation($v: ID!, $a: [ActivityInput!]!) { createActionPlan(input: {agreementVersionId: $v, year: 2019, activities: $a}) { actionPlan { year } } }`
	const list = `query($v: ID!, $n: Int) { node(id: $v) { ... on AgreementVersion { signatories(first: $n) { totalCount } } } }`
	huge := strings.Repeat("x", 10<<20)
	cases := []badCase{
		// Transport and format
		{name: "malformed JSON", code: "BAD_INPUT", contentType: "application/json", raw: []byte(`{"query": "{ serverInfo`), says: "JSON object"},
		{name: "JSON array", code: "BAD_INPUT", contentType: "application/json", raw: []byte(`[{"query": "{ serverInfo { version } }"}]`)},
		{name: "empty body", code: "BAD_INPUT", contentType: "application/json", raw: []byte(``)},
		{name: "JSON without query", code: "BAD_INPUT", contentType: "application/json", raw: []byte(`{"operationName": "x"}`)},
		{name: "query not a string", code: "BAD_INPUT", contentType: "application/json", raw: []byte(`{"query": 42}`)},
		{name: "variables not an object", code: "BAD_INPUT", contentType: "application/json", raw: []byte(`{"query": "{ serverInfo { version } }", "variables": "x"}`)},
		{name: "invalid UTF-8", code: "BAD_INPUT", contentType: "application/json", raw: []byte("{\"query\": \"{ serverInfo { version } }\", \"x\": \"\xff\xfe\"}"), says: "UTF-8"},
		{name: "text/plain (CSRF)", code: "BAD_INPUT", contentType: "text/plain", raw: []byte(`{"query": "mutation { ping }"}`), says: "application/json"},
		{name: "form post (CSRF)", code: "BAD_INPUT", contentType: "application/x-www-form-urlencoded", raw: []byte(`query=mutation+%7B+ping+%7D`)},
		{name: "multipart (CSRF)", code: "BAD_INPUT", contentType: "multipart/form-data; boundary=x", raw: []byte("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--")},
		{name: "10 MB body", code: "BAD_INPUT", contentType: "application/json", raw: []byte(`{"query": "{ serverInfo { version } }", "variables": {"x": "` + huge + `"}}`), says: "too large"},
		{name: "deeply nested JSON variables", code: "GRAPHQL_VALIDATION_FAILED", as: "rep", query: registerOrg,
			vars: map[string]any{"o": json.RawMessage(strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat(`}`, 500))}},
		// Query shape
		{name: "deeply nested query", code: "BAD_INPUT", query: deepQuery(15), says: "nested too deeply"},
		{name: "alias bomb", code: "BAD_INPUT", query: aliasBomb(200), says: "aliases"},
		{name: "fragment bomb", code: "BAD_INPUT", query: fragmentBomb(), says: "too many fields"},
		{name: "fragment cycle", code: "GRAPHQL_VALIDATION_FAILED", query: "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"},
		{name: "token flood", code: "GRAPHQL_PARSE_FAILED", query: manyTokens(20000)},
		{name: "too complex", code: "COMPLEXITY_LIMIT_EXCEEDED", query: expensiveQuery(9)},
		{name: "syntax error", code: "GRAPHQL_PARSE_FAILED", query: "{ serverInfo { version }"},
		{name: "unknown field", code: "GRAPHQL_VALIDATION_FAILED", query: "{ serverInfo { password } }"},
		{name: "unknown argument", code: "GRAPHQL_VALIDATION_FAILED", query: "{ agreements(limit: 5) { name } }"},
		{name: "unknown operation name", code: "GRAPHQL_VALIDATION_FAILED", contentType: "application/json",
			raw: []byte(`{"query": "query A { serverInfo { version } }", "operationName": "B"}`)},
		{name: "two operations without a name", code: "GRAPHQL_VALIDATION_FAILED", query: "query A { serverInfo { version } } query B { agreements { name } }"},
		{name: "null for a non-null input", code: "GRAPHQL_VALIDATION_FAILED", as: "rep", query: registerOrg, vars: map[string]any{"o": nil}},
		{name: "wrong enum literal", code: "GRAPHQL_VALIDATION_FAILED", as: "admin",
			query: `mutation { assignRole(input: {userId: "x", role: SUPERUSER, scope: "*"}) { assignment { role } } }`},
		{name: "wrong enum in variables", code: "GRAPHQL_VALIDATION_FAILED", as: "rep", query: registerOrg, vars: reg("legalForm", "AKTIEBOLAG")},
		{name: "wrong type in variables", code: "BAD_INPUT", says: "A string was expected, not a number", as: "rep", query: registerOrg, vars: reg("name", 12)},
		{name: "huge first", code: "BAD_INPUT", query: list, vars: map[string]any{"v": s.version, "n": 99999999999}},
		{name: "first above 100", code: "BAD_INPUT", query: list, vars: map[string]any{"v": s.version, "n": 101}, says: "between 0 and 100"},
		{name: "negative first", code: "BAD_INPUT", query: list, vars: map[string]any{"v": s.version, "n": -1}},
		{name: "garbage cursor", code: "BAD_INPUT", query: `query($v: ID!) { node(id: $v) { ... on AgreementVersion { signatories(after: "%%%") { totalCount } } } }`,
			vars: map[string]any{"v": s.version}},
		{name: "garbage cursor of expiring partnerships", code: "BAD_INPUT", query: `{ partnershipsExpiring(withinDays: 90, after: "%%%") { pageInfo { hasNextPage } } }`},
		{name: "expiring-partnership cursor without a date", code: "BAD_INPUT", query: `{ partnershipsExpiring(withinDays: 90, after: "eHx5") { pageInfo { hasNextPage } } }`, says: "Invalid cursor"},
		{name: "expiring partnerships beyond ten years", code: "BAD_INPUT", query: `{ partnershipsExpiring(withinDays: 4000) { pageInfo { hasNextPage } } }`, says: "0–3650"},
		{name: "first above 100 for expiring partnerships", code: "BAD_INPUT", query: `{ partnershipsExpiring(withinDays: 90, first: 101) { pageInfo { hasNextPage } } }`, says: "between 0 and 100"},
		{name: "mutation over GET is refused (as POST with GET semantics)", code: "GRAPHQL_VALIDATION_FAILED", query: "mutation { nothing }"},
		// Global IDs
		{name: "malformed global ID", code: "BAD_INPUT", as: "official", query: startReview, vars: map[string]any{"id": "!!!not-base64"}, says: "not a valid ID"},
		{name: "global ID without a type", code: "BAD_INPUT", as: "official", query: startReview, vars: map[string]any{"id": "Zm9v"}},
		{name: "foreign global ID", code: "BAD_INPUT", as: "official", query: startReview, vars: map[string]any{"id": f.org}, says: "not a WorkflowInstance"},
		{name: "global ID of nothing", code: "NOT_FOUND", as: "official", query: startReview, vars: map[string]any{"id": gid("WorkflowInstance", mustUUID(f.t, f.org))}},
		{name: "global ID with a SQL tail", code: "BAD_INPUT", as: "official", query: startReview, vars: map[string]any{"id": f.org + "' OR 1=1 --"}},
		// Dates and numbers
		{name: "date out of range", code: "BAD_INPUT", as: "official", query: ceremony, vars: map[string]any{"v": s.version, "d": "1850-01-01"}, says: "1990–2200"},
		{name: "date far future", code: "BAD_INPUT", as: "official", query: ceremony, vars: map[string]any{"v": s.version, "d": "3000-01-01"}},
		{name: "impossible date", code: "BAD_INPUT", as: "official", query: ceremony, vars: map[string]any{"v": s.version, "d": "2018-02-30"}, says: "not a valid date"},
		{name: "date in another format", code: "BAD_INPUT", as: "official", query: ceremony, vars: map[string]any{"v": s.version, "d": "30/01/2019"}},
		{name: "date as a number", code: "BAD_INPUT", as: "official", query: ceremony, vars: map[string]any{"v": s.version, "d": 20190130}},
		{name: "bad DateTime", code: "BAD_INPUT", as: "official",
			query: `mutation($d: DateTime!) { extendReportDeadline(input: {instanceId: "x", reportDeadline: $d}) { instance { state } } }`,
			vars:  map[string]any{"d": "tomorrow"}},
		{name: "negative indicator target", code: "BAD_INPUT", as: "official", query: plan, vars: map[string]any{"v": s.version,
			"a": []map[string]any{{"title": "A", "quarters": []int{1}, "responsible": "BOTH", "indicators": []map[string]any{{"name": "x", "target": -5}}}}}},
		{name: "overflowing indicator target", code: "BAD_INPUT", as: "official", query: plan, vars: map[string]any{"v": s.version,
			"a": []map[string]any{{"title": "A", "quarters": []int{1}, "responsible": "BOTH", "indicators": []map[string]any{{"name": "x", "target": 1e300}}}}}},
		{name: "quarter 5", code: "BAD_INPUT", as: "official", query: plan, vars: map[string]any{"v": s.version,
			"a": []map[string]any{{"title": "A", "quarters": []int{5}, "responsible": "BOTH"}}}, says: "1–4"},
		{name: "no quarter", code: "BAD_INPUT", as: "official", query: plan, vars: map[string]any{"v": s.version,
			"a": []map[string]any{{"title": "A", "quarters": []int{}, "responsible": "BOTH"}}}},
		// Organisation numbers and text
		{name: "orgnr check digit", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("organisationNumber", "556036-0794"), says: "check digit"},
		{name: "orgnr too short", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("organisationNumber", "5560360"), says: "ten digits"},
		{name: "orgnr personnummer", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("organisationNumber", "850709-9805"), says: "at least 20"},
		{name: "orgnr letters", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("organisationNumber", "ABCDEF-GHIJ")},
		{name: "orgnr 12 digits not 16", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("organisationNumber", "195560360793"), says: "starts with 16"},
		{name: "orgnr SQL injection", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("organisationNumber", "1'; DROP TABLE organisations; --")},
		{name: "orgnr script", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("organisationNumber", "<script>alert(1)</script>")},
		{name: "control character in name", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("name", "Förening\u0007"), says: "control characters"},
		{name: "NUL in name", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("name", "Förening\u0000X")},
		{name: "empty name", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("name", "   "), says: "Enter the organisation's name"},
		{name: "overlong name", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("name", strings.Repeat("Å", 301)), says: "at most 300"},
		{name: "javascript: website", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("website", "javascript:alert(1)")},
		{name: "bad e-mail", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("contactEmail", "anna at example")},
		{name: "overlong search", code: "BAD_INPUT", query: `query($s: String) { organisations(search: $s) { edges { node { name } } } }`,
			vars: map[string]any{"s": strings.Repeat("a", 201)}},
		{name: "control character in reason", code: "BAD_INPUT", as: "official",
			query: `mutation($id: ID!) { rejectSigningApplication(input: {instanceId: $id, reason: "nej\u001b[31m"}) { instance { state } } }`,
			vars:  map[string]any{"id": f.instance}},
		{name: "overlong reason", code: "BAD_INPUT", as: "official",
			query: `mutation($id: ID!, $r: String) { rejectSigningApplication(input: {instanceId: $id, reason: $r}) { instance { state } } }`,
			vars:  map[string]any{"id": f.instance, "r": strings.Repeat("x", 2001)}},
		{name: "role scope garbage", code: "BAD_INPUT", as: "admin",
			query: `mutation($u: ID!) { assignRole(input: {userId: $u, role: SECTOR_REPRESENTATIVE, scope: "org:'; DROP TABLE users; --"}) { assignment { role } } }`,
			vars:  map[string]any{"u": userGID(f.rep)}},
		{name: "unknown transition", code: "BAD_INPUT", as: "official",
			query: `mutation($id: ID!) { approve(input: {instanceId: $id, transition: "delete_everything"}) { instance { state } } }`,
			vars:  map[string]any{"id": f.instance}},
		// Who is asking
		{name: "anonymous mutation", code: "UNAUTHENTICATED", query: registerOrg, vars: reg("name", "X")},
		{name: "expired token", code: "UNAUTHENTICATED", as: "expired", query: `{ viewer { user { name } } }`},
		{name: "Basic auth", code: "UNAUTHENTICATED", as: "basic", query: `{ viewer { user { name } } }`},
		{name: "Idempotency-Key too long", code: "BAD_INPUT", as: "rep", query: registerOrg, vars: reg("organisationNumber", "556036-0794"),
			headers: map[string]string{"Idempotency-Key": strings.Repeat("k", 201)}},
	}
	return cases
}

// The catalogue of hostile and broken requests: each gets its stable code,
// the server stays up, and no table changes.
func TestBadInputCatalogue(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	f := s.fixture(t, 1)
	f.t = t
	f.to(t, "under_review")
	expired := &apptest.User{Token: "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln"}
	users := map[string]*apptest.User{"": nil, "rep": f.rep, "official": s.official, "admin": s.admin, "expired": expired}
	cases := badCatalogue(f, s)
	require.GreaterOrEqual(t, len(cases), 60)
	// Each person's first request records their name and e-mail from the
	// token; make it before taking the fingerprint.
	for _, u := range []*apptest.User{f.rep, s.official, s.admin} {
		s.env.MustDo(u, `{ viewer { user { name } } }`, nil, nil)
	}
	before := s.env.Checksums()
	for _, c := range cases {
		var r apptest.Response
		headers := c.headers
		if c.as == "basic" {
			headers = map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}
		}
		if c.raw != nil {
			r = s.env.RawWithHeaders(users[c.as], c.contentType, c.raw, headers)
		} else {
			r = s.env.DoWithHeaders(users[c.as], c.query, c.vars, headers)
		}
		require.NotEmpty(t, r.Errors, "%s: no error; data %s", c.name, r.Data)
		require.Equal(t, c.code, r.Errors[0].Code(), "%s: %s", c.name, r.Errors[0].Message)
		require.NotContains(t, r.Errors[0].Message, "SQLSTATE", c.name)
		require.NotContains(t, r.Errors[0].Message, "/work/", c.name)
		if c.says != "" {
			require.Contains(t, r.Errors[0].Message, c.says, c.name)
		}
		status, _ := get(t, s.env.URL+"/healthz")
		require.Equal(t, http.StatusOK, status, "the server is up after %s", c.name)
	}
	require.Equal(t, before, s.env.Checksums(), "the catalogue changed the database")
	t.Logf("%d hostile requests refused, database unchanged", len(cases))
}

// Injection and script strings in valid input are stored as they are and
// come back as JSON strings, never interpreted.
func TestInjectionStringsAreStoredLiterally(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	u := env.NewUser("Rita Rep")
	for i, name := range []string{
		`Robert'); DROP TABLE organisations; --`,
		`<script>alert("x")</script>`,
		`" OR 1=1 --`,
		`Föreningen {{7*7}} ${jndi:ldap://x}`,
	} {
		var out struct {
			RegisterOrganisation struct{ Organisation struct{ ID, Name string } }
		}
		env.MustDo(u, registerOrg, map[string]any{"o": map[string]any{"name": name, "organisationNumber": orgNumber(800 + i),
			"legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED", "description": name}}, &out)
		require.Equal(t, name, out.RegisterOrganisation.Organisation.Name)
		var read struct {
			Node struct{ Name, Description string }
		}
		env.MustDo(nil, `query($id: ID!) { node(id: $id) { ... on Organisation { name description } } }`,
			map[string]any{"id": out.RegisterOrganisation.Organisation.ID}, &read)
		require.Equal(t, name, read.Node.Name)
		require.Equal(t, name, read.Node.Description)
	}
	require.Equal(t, 4, env.Count(`SELECT count(*) FROM organisations`))
	var search struct {
		Organisations struct {
			Edges []struct{ Node struct{ Name string } }
		}
	}
	env.MustDo(nil, `{ organisations(search: "' OR '1'='1") { edges { node { name } } } }`, nil, &search)
	require.Empty(t, search.Organisations.Edges, "a search for an injection finds nothing")
}
