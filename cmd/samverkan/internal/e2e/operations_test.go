package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	// The timer's job is no longer waiting (whether River's cleaner has
	// already removed the completed row depends on when it last ran).
	require.NotContains(t, body, `samverkan_river_jobs{kind="workflow_timer",state="scheduled"}`)
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
