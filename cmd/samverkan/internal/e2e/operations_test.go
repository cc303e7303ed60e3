package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
)

func getAs(t *testing.T, u *apptest.User, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// After a short story /metrics shows every family an operator relies on.
func TestMetricsAfterAStory(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	a := s.apply(t, 1)
	s.approve(t, a)
	b := s.apply(t, 2)
	s.approve(t, b)
	s.act(t, s.official, "attachToSigningCeremony", b.instance, fmt.Sprintf(", ceremonyId: %q", s.ceremony(t)))
	s.env.Do(s.official, `mutation($id: ID!) { signAgreement(input: {instanceId: $id}) { instance { state } } }`, map[string]any{"id": "bad"})
	_, before := get(t, s.env.URL+"/metrics")
	require.Contains(t, before, `samverkan_river_jobs{kind="workflow_timer",state="scheduled"} 1`)
	s.env.AdvanceTo(time.Date(2019, 6, 2, 9, 0, 0, 0, clock.Stockholm))
	status, body := get(t, s.env.URL+"/metrics")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{
		`samverkan_http_requests_total{route="graphql",status="200"}`,
		`samverkan_http_request_duration_seconds_bucket{route="graphql"`,
		`samverkan_graphql_operations_total{code="OK",operation="anonymous"}`,
		`samverkan_graphql_operations_total{code="BAD_INPUT",operation="anonymous"}`,
		`samverkan_graphql_operation_duration_seconds_bucket{operation="anonymous"`,
		`samverkan_workflow_transitions_total{kind="signing",result="moved",transition="approve"}`,
		`samverkan_river_jobs{kind="workflow_timer",state="completed"} 1`,
		`samverkan_river_jobs_worked_total{kind="workflow_timer",result="ok"} 1`,
		`samverkan_workflow_transitions_total{kind="signing",result="moved",transition="sign_at_ceremony"} 1`,
		`samverkan_workflow_open_instances{kind="signing",state="approved"} 1`,
		`samverkan_followups_overdue 0`,
		`samverkan_db_pool_max_conns`,
		`samverkan_db_pool_acquired_conns`,
		`go_goroutines`,
	} {
		require.Contains(t, body, want)
	}
	// The ceremony's timer is no longer scheduled (a follow-up the periodic
	// opener may have opened meanwhile has timers of its own).
	require.Zero(t, s.env.Count(`SELECT count(*) FROM river_job WHERE kind = 'workflow_timer' AND state = 'scheduled'
		AND (args->>'timer_id')::bigint IN (SELECT id FROM workflow_timers WHERE name = 'ceremony')`))
}

func TestRequestsCarryACorrelationID(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	r := env.DoWithHeaders(nil, `{ serverInfo { version } }`, nil, map[string]string{"X-Request-ID": "abc123"})
	require.Equal(t, "abc123", r.Header.Get("X-Request-ID"))
	r = env.Do(nil, `{ serverInfo { version } }`, nil)
	require.Len(t, r.Header.Get("X-Request-ID"), 16)
}

func TestRiverUIIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	admin := env.NewUser("Ada Admin", "admin@*")
	official := env.NewUser("Olle Official", "region_official@region")
	status, _ := getAs(t, nil, env.URL+"/riverui/")
	require.Equal(t, http.StatusUnauthorized, status)
	status, _ = getAs(t, official, env.URL+"/riverui/")
	require.Equal(t, http.StatusForbidden, status)
	status, body := getAs(t, admin, env.URL+"/riverui/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, strings.ToLower(body), "<html")
	status, body = getAs(t, admin, env.URL+"/riverui/api/jobs?state=completed&limit=5")
	require.Equal(t, http.StatusOK, status, body)
	status, _ = getAs(t, official, env.URL+"/riverui/api/jobs?state=completed&limit=5")
	require.Equal(t, http.StatusForbidden, status)
}

// An admin with only a browser signs in to River UI by pasting a token into
// a form; the cookie it gets works for River UI only.
func TestRiverUISignInFromABrowser(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	admin := env.NewUser("Ada Admin", "admin@*")
	official := env.NewUser("Olle Official", "region_official@region")
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values, cookie *http.Cookie) *http.Response {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, env.URL+path, body)
		require.NoError(t, err)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := browser.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	read := func(resp *http.Response) string {
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}

	resp := do(http.MethodGet, "/riverui/", nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, read(resp), `<form method="post" action="/riverui/signin">`, "a browser is offered the sign-in form")

	signedIn := func(resp *http.Response) bool {
		for _, c := range resp.Cookies() {
			if c.Value != "" && c.MaxAge >= 0 {
				return true
			}
		}
		return false
	}
	resp = do(http.MethodPost, "/riverui/signin", url.Values{"token": {"not-a-token"}}, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.False(t, signedIn(resp))
	resp = do(http.MethodPost, "/riverui/signin", url.Values{"token": {official.Token}}, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "an official's token does not open River UI")
	require.False(t, signedIn(resp))

	resp = do(http.MethodPost, "/riverui/signin", url.Values{"token": {admin.Token}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/riverui/", resp.Header.Get("Location"))
	require.Len(t, resp.Cookies(), 1)
	cookie := resp.Cookies()[0]
	require.Equal(t, "/riverui", cookie.Path, "the cookie is sent to River UI only")
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, cookie.SameSite, "no other site can make the browser send it")

	resp = do(http.MethodGet, "/riverui/", nil, cookie)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, strings.ToLower(read(resp)), "<html")
	resp = do(http.MethodGet, "/riverui/api/jobs?state=completed&limit=5", nil, cookie)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp = do(http.MethodGet, "/riverui/", nil, &http.Cookie{Name: cookie.Name, Value: "expired-or-forged"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, read(resp), "sign in again")
	require.Equal(t, -1, resp.Cookies()[0].MaxAge, "a bad cookie is cleared")

	resp = do(http.MethodPost, "/riverui/signout", url.Values{}, cookie)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, -1, resp.Cookies()[0].MaxAge)
}

func TestSchemaIsServedAsSDL(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	status, body := get(t, env.URL+"/graphql/schema.graphql")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "type WorkflowInstance implements Node")
	require.Contains(t, body, "applyToSign(input: ApplyToSignInput!): WorkflowPayload!")
}

// With an OTLP endpoint, traces of requests reach it.
func TestTracesAreExportedOverOTLP(t *testing.T) {
	t.Parallel()
	var received atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			b, _ := io.ReadAll(r.Body)
			if len(b) > 0 {
				received.Add(1)
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	env := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.OTLPEndpoint = collector.URL }})
	env.MustDo(nil, `{ agreements { name } }`, nil, nil)
	require.NoError(t, env.App.Close(), "shutdown flushes the exporter")
	require.Eventually(t, func() bool { return received.Load() > 0 }, 5*time.Second, 50*time.Millisecond)
}
