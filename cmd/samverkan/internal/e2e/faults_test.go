package e2e_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/pgembed"
	"github.com/samverkan/samverkan/internal/token"
	"github.com/samverkan/samverkan/workflows"
)

// PostgreSQL stopped and started again under a steady load of mutations:
// while it is down requests fail fast with UNAVAILABLE, the service
// recovers by itself, and every mutation the client saw acknowledged is in
// the database.
func TestDatabaseRestartUnderLoadLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "samverkan-fault-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	pgdir := filepath.Join(dir, "pg")
	cluster, err := pgembed.Start(ctx, pgembed.Config{DataDir: pgdir, Database: "samverkan", Settings: map[string]string{"fsync": "on"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cluster.Stop() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg, err := config.Defaults()
	require.NoError(t, err)
	cfg.DatabaseURL, cfg.DataDir, cfg.Migrate, cfg.Workers = cluster.DSN("samverkan"), dir, true, 5
	cfg.RegistrationsPerHour = 0 // one person makes the load: no rate limit
	a, err := app.Open(ctx, app.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler), Listener: ln})
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Close() })
	env := &apptest.Env{T: t, App: a, URL: "http://" + a.Addr()}
	keys, err := a.DevKeys()
	require.NoError(t, err)
	env.Keys = keys
	u := loadUser(t, a, env)

	var (
		mu       sync.Mutex
		acked    []string
		codes    = map[string]int{}
		slowFail atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		next     atomic.Int64
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := int(next.Add(1))
				number := orgNumber(n)
				start := time.Now()
				r := env.Do(u, registerOrg, map[string]any{"o": map[string]any{"name": "Last " + number, "organisationNumber": number,
					"legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}})
				mu.Lock()
				if len(r.Errors) == 0 {
					acked = append(acked, number)
					codes["OK"]++
				} else {
					codes[r.Errors[0].Code()]++
					if time.Since(start) > 3*time.Second {
						slowFail.Add(1)
					}
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, cluster.Stop())
	time.Sleep(1500 * time.Millisecond)
	cluster, err = pgembed.Start(ctx, pgembed.Config{DataDir: pgdir, Port: cluster.Port(), Settings: map[string]string{"fsync": "on"}})
	require.NoError(t, err)
	okBefore := func() int { mu.Lock(); defer mu.Unlock(); return codes["OK"] }()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return codes["OK"] > okBefore+20 },
		20*time.Second, 50*time.Millisecond, "the service recovers by itself")
	close(stop)
	wg.Wait()

	t.Logf("outcomes: %v", codes)
	require.Greater(t, codes["UNAVAILABLE"], 0, "requests while the database is down say UNAVAILABLE")
	for code := range codes {
		require.Contains(t, []string{"OK", "UNAVAILABLE"}, code, "no other failure while the database restarts")
	}
	require.Zero(t, slowFail.Load(), "failures are fast")
	stored := map[string]bool{}
	rows, err := a.Pool.Query(ctx, `SELECT organisation_number FROM organisations`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		stored[n] = true
	}
	require.NoError(t, rows.Err())
	for _, number := range acked {
		require.True(t, stored[number[:6]+number[7:]], "acknowledged %s is in the database", number)
	}
}

// loadUser makes a signed-in user on a service started without apptest.
func loadUser(t *testing.T, a *app.App, env *apptest.Env) *apptest.User {
	_, err := a.Grant(context.Background(), "load-user", "Lars Last", "region_official", "region")
	require.NoError(t, err)
	tok, err := env.Keys.Sign(token.TokenRequest{Subject: "load-user", Name: "Lars Last", TTL: time.Hour})
	require.NoError(t, err)
	return &apptest.User{Subject: "load-user", Token: tok}
}

// A job that always fails is retried with backoff, then discarded and
// visible to admins; it never holds up other jobs.
func TestFailingJobIsRetriedThenDiscardedWithoutBlockingOthers(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	env := s.env
	// A timer job for a timer that does not exist fails every time.
	_, err := env.App.River.Insert(context.Background(), workflows.TimerArgs{TimerID: 987654321}, nil)
	require.NoError(t, err)
	a := s.apply(t, 1)
	s.approve(t, a)
	s.act(t, s.official, "attachToSigningCeremony", a.instance, fmt.Sprintf(", ceremonyId: %q", s.ceremony(t)))

	// The clock moves on until the job is discarded.
	day := env.Clock.Now()
	var state string
	var attempts int
	for range 12 {
		day = day.Add(60 * 24 * time.Hour)
		env.AdvanceTo(day)
		require.NoError(t, env.DB.Pool.QueryRow(context.Background(),
			`SELECT state::text, attempt FROM river_job WHERE kind = 'workflow_timer' AND args->>'timer_id' = '987654321'`).Scan(&state, &attempts))
		if state == "discarded" {
			break
		}
	}
	require.Equal(t, "discarded", state)
	require.Equal(t, 10, attempts, "retried up to the attempt limit")
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM signatories`), "the ceremony's timer ran meanwhile")

	status, body := getAs(t, s.admin, env.URL+"/riverui/api/jobs?state=discarded&limit=10")
	require.Equal(t, 200, status)
	require.Contains(t, body, "987654321", "admins see the discarded job")
}
