package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/pgembed"
	"github.com/samverkan/samverkan/internal/testdb"
)

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// The service on its own cluster: it answers GraphQL over HTTP, and /readyz
// follows the database going away and coming back.
func TestServerAnswersAndReadinessFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "samverkan-e2e-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	pgdir := filepath.Join(dir, "pg")
	cluster, err := pgembed.Start(ctx, pgembed.Config{DataDir: pgdir, Database: "samverkan", Settings: testdb.TestSettings})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cluster.Stop() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := config.MustDefaults()
	cfg.DatabaseURL, cfg.DataDir, cfg.Migrate, cfg.Dev, cfg.GraphiQL = cluster.DSN("samverkan"), dir, true, true, true
	cfg.Workers, cfg.ShutdownTimeout, cfg.LogFormat = 5, 5*time.Second, "text"
	a, err := app.Open(ctx, app.Options{Config: cfg, Version: "e2e", Logger: slog.New(slog.DiscardHandler), Listener: ln})
	require.NoError(t, err)
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Close() })
	base := "http://" + a.Addr()

	status, body := get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, status, body)
	status, body = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, status, body)
	status, body = get(t, base+"/graphiql/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `src="assets/graphiql.min.js"`, "the explorer is served at /graphiql/ from its embedded assets")
	require.NotContains(t, body, "https://", "the explorer loads nothing from another origin")
	status, body = get(t, base+"/graphiql/assets/graphiql.min.js")
	require.Equal(t, http.StatusOK, status)
	require.Greater(t, len(body), 100000)
	status, body = get(t, base+"/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `<html lang="sv">`, "the start page is served at /")

	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ serverInfo { version databaseVersion } }"}`))
	require.NoError(t, err)
	var out struct {
		Data struct {
			ServerInfo struct{ Version, DatabaseVersion string }
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	require.Equal(t, "e2e", out.Data.ServerInfo.Version)
	require.Regexp(t, `^\d+\.\d+`, out.Data.ServerInfo.DatabaseVersion)

	// A query over GET works; a mutation over GET is refused.
	status, body = get(t, base+"/graphql?query="+url.QueryEscape("{ serverInfo { version } }"))
	require.Equal(t, http.StatusOK, status, body)
	status, body = get(t, base+"/graphql?query="+url.QueryEscape("mutation { ping }"))
	require.NotEqual(t, http.StatusOK, status, body)
	require.Contains(t, body, "GET")

	require.NoError(t, cluster.Stop())
	require.Eventually(t, func() bool { s, _ := get(t, base+"/readyz"); return s == http.StatusServiceUnavailable },
		10*time.Second, 50*time.Millisecond, "/readyz goes unready without the database")
	status, _ = get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, status, "the process is still alive")

	cluster, err = pgembed.Start(ctx, pgembed.Config{DataDir: pgdir, Port: cluster.Port(), Settings: testdb.TestSettings})
	require.NoError(t, err)
	require.Eventually(t, func() bool { s, _ := get(t, base+"/readyz"); return s == http.StatusOK },
		20*time.Second, 100*time.Millisecond, "/readyz is ready again when the database is back")
	resp, err = http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ serverInfo { databaseVersion } }"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// The demo story loads through the real services and only once.
func TestSeedDemoIsIdempotent(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	var out struct {
		Agreements []struct {
			Name           string
			CurrentVersion struct {
				AdoptedOn   string
				Signatories struct{ TotalCount int }
			}
		}
	}
	loaded, err := seed(env)
	require.NoError(t, err)
	require.True(t, loaded)
	loaded, err = seed(env)
	require.NoError(t, err)
	require.False(t, loaded, "a second seed does nothing")
	env.MustDo(nil, `{ agreements { name currentVersion { adoptedOn signatories { totalCount } } } }`, nil, &out)
	require.Len(t, out.Agreements, 1)
	require.Equal(t, "2018-01-30", out.Agreements[0].CurrentVersion.AdoptedOn)
	require.Equal(t, 49, out.Agreements[0].CurrentVersion.Signatories.TotalCount, "50 signed in 2018, one withdrew")
}
