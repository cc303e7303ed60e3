// Package apptest boots the real service for end-to-end tests: a fresh
// database from the test harness, the real River client, a test clock, and
// the HTTP server on a free port. Tests talk to it over HTTP the way
// clients do.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/idempotency"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
	"github.com/samverkan/samverkan/internal/notify"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/internal/token"
	"github.com/samverkan/samverkan/internal/web"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
)

// Env is a running service.
type Env struct {
	T     testing.TB
	App   *app.App
	URL   string
	Clock *clock.Test
	DB    *testdb.Database
	Keys  *token.DevIssuerKeys
	seq   atomic.Int64
}

// Options tune the service under test.
type Options struct {
	// Start is the test clock's starting moment (default 2018-01-01 Stockholm).
	Start time.Time
	Mode  app.Mode
	// DB reuses a database (several processes on one database).
	DB *testdb.Database
	// DataDir shares dev keys between instances.
	DataDir string
	// Configure adjusts the configuration before the service starts.
	Configure func(*config.Config)
	// QueryTracer sees the service's SQL statements.
	QueryTracer pgx.QueryTracer
	// DevPeople are offered on the web sign-in page.
	DevPeople []web.DevPerson
}

// Start boots the service and stops it when the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Start.IsZero() {
		o.Start = time.Date(2018, 1, 1, 9, 0, 0, 0, clock.Stockholm)
	}
	db := o.DB
	if db == nil {
		db = testdb.New(t)
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	clk := clock.NewTest(o.Start)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	level := slog.LevelWarn
	if os.Getenv("SAMVERKAN_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := config.Defaults()
	require.NoError(t, err)
	// The service's role in production, not the superuser.
	cfg.DatabaseURL, cfg.DataDir, cfg.Addr = db.AppURL, o.DataDir, ln.Addr().String()
	cfg.Migrate, cfg.Workers, cfg.ShutdownTimeout, cfg.PeriodicInterval = false, 20, 10*time.Second, 100*time.Millisecond
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	ctx := context.Background()
	a, err := app.Open(ctx, app.Options{Config: cfg, Mode: o.Mode, Version: "test", Logger: log, Clock: clk, Listener: ln,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond, QueryTracer: o.QueryTracer,
		DevPeople: o.DevPeople})
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Close() })
	keys, err := a.DevKeys()
	require.NoError(t, err)
	return &Env{T: t, App: a, URL: "http://" + a.Addr(), Clock: clk, DB: db, Keys: keys}
}

// User is a person with a dev token.
type User struct {
	ID      uuid.UUID
	Subject string
	Name    string
	Token   string
}

// NewUser makes a person holding the given roles ("role@scope"); the token
// is valid for 20 years of test time.
func (e *Env) NewUser(name string, roles ...string) *User {
	e.T.Helper()
	subject := fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(name, " ", "-")), e.seq.Add(1))
	u := &User{Subject: subject, Name: name}
	id, err := e.App.EnsureUser(context.Background(), subject, name)
	require.NoError(e.T, err)
	u.ID = id
	for _, r := range roles {
		role, scope, _ := strings.Cut(r, "@")
		_, err := e.App.Grant(context.Background(), subject, name, role, scope)
		require.NoError(e.T, err)
	}
	tok, err := e.Keys.Sign(token.TokenRequest{Subject: subject, Name: name, Email: subject + "@example.org",
		TTL: 20 * 365 * 24 * time.Hour, Now: e.Clock.Now()})
	require.NoError(e.T, err)
	u.Token = tok
	return u
}

// Response is a GraphQL response.
type Response struct {
	Status int
	Header http.Header
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Error is a GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e Error) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Do sends a GraphQL request as u (nil: anonymous).
func (e *Env) Do(u *User, query string, vars map[string]any) Response {
	e.T.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(e.T, err)
	return e.Raw(u, "application/json", body)
}

// DoWithHeaders sends a GraphQL request with extra headers.
func (e *Env) DoWithHeaders(u *User, query string, vars map[string]any, headers map[string]string) Response {
	e.T.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(e.T, err)
	return e.RawWithHeaders(u, "application/json", body, headers)
}

// Raw posts a body to /graphql.
func (e *Env) Raw(u *User, contentType string, body []byte) Response {
	e.T.Helper()
	return e.RawWithHeaders(u, contentType, body, nil)
}

// RawWithHeaders posts a body to /graphql with extra headers.
func (e *Env) RawWithHeaders(u *User, contentType string, body []byte, headers map[string]string) Response {
	e.T.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+"/graphql", bytes.NewReader(body))
	require.NoError(e.T, err)
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.T, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.T, err)
	var r Response
	require.NoError(e.T, json.Unmarshal(b, &r), "response: %s", b)
	r.Status, r.Header = resp.StatusCode, resp.Header
	return r
}

// MustDo sends a request that must succeed and decodes its data into out.
func (e *Env) MustDo(u *User, query string, vars map[string]any, out any) {
	e.T.Helper()
	r := e.Do(u, query, vars)
	require.Empty(e.T, r.Errors, "query %s", firstLine(query))
	if out != nil {
		require.NoError(e.T, json.Unmarshal(r.Data, out))
	}
}

// MustFail sends a request that must fail with code.
func (e *Env) MustFail(u *User, code, query string, vars map[string]any) Error {
	e.T.Helper()
	r := e.Do(u, query, vars)
	require.NotEmpty(e.T, r.Errors, "query %s should have failed with %s; data %s", firstLine(query), code, r.Data)
	require.Equal(e.T, code, r.Errors[0].Code(), "message: %s", r.Errors[0].Message)
	return r.Errors[0]
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

// AdvanceTo moves the clock and waits until the jobs due by then have run.
// River's scheduler would make due jobs available within its 5-second
// interval; the test asks River to run them now instead (JobRetry), so a
// story spanning years does not wait 5 s at every step.
func (e *Env) AdvanceTo(t time.Time) {
	e.T.Helper()
	e.Clock.AdvanceTo(t)
	jobstest.RunDue(e.T, e.DB.Pool, e.App.River, e.Clock.Now(), 30*time.Second)
}

// WaitForJobs waits until no job is due (available or running, or
// scheduled at or before the test clock's now).
func (e *Env) WaitForJobs() {
	e.T.Helper()
	jobstest.Wait(e.T, e.DB.Pool, e.App.River, e.Clock.Now(), 30*time.Second)
}

// Count runs a counting query against the service's database.
func (e *Env) Count(sql string, args ...any) int {
	e.T.Helper()
	var n int
	require.NoError(e.T, e.DB.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// Checksums fingerprints every table's contents, so that a test can show a
// refused request changed nothing. River's own bookkeeping of leaders,
// queues and clients changes by itself and is left out; its jobs are not.
func (e *Env) Checksums() map[string]string {
	e.T.Helper()
	ctx := context.Background()
	rows, err := e.DB.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
		  AND table_name NOT IN ('river_leader', 'river_queue', 'river_client', 'river_client_queue')
		ORDER BY 1`)
	require.NoError(e.T, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(e.T, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(e.T, rows.Err())
	// The periodic jobs enqueue themselves on their own schedule; every
	// other job is someone's doing.
	periodic := []string{workflows.OpenDueArgs{}.Kind(), idempotency.CleanupArgs{}.Kind(), iop.OpenDueReportsArgs{}.Kind(),
		notify.DigestArgs{}.Kind()}
	sums := map[string]string{}
	for _, t := range tables {
		var sum *string
		where := ""
		if t == "river_job" {
			where = " WHERE kind <> ALL($1)"
		}
		var args []any
		if where != "" {
			args = append(args, periodic)
		}
		require.NoError(e.T, e.DB.Pool.QueryRow(ctx, fmt.Sprintf(
			`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM %q t%s`, t, where), args...).Scan(&sum))
		if sum != nil {
			sums[t] = *sum
		} else {
			sums[t] = "empty"
		}
	}
	return sums
}
