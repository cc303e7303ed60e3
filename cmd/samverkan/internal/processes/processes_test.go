// Package processes_test runs the real samverkan binary as separate
// processes against one database: the deployment topology (API and worker
// processes side by side), and what happens when a process is killed.
package processes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/internal/token"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "samverkan-bin-*")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "samverkan")
	build := exec.Command("go", "build", "-o", binary, "../..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building samverkan:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	testdb.Main(m)
}

// proc is a running samverkan process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	log  *bytes.Buffer
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects a process's output; it may be read (String) while
// the process writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs `samverkan <mode>` and waits until it is ready.
func start(t *testing.T, db *testdb.Database, dataDir, mode string, extra ...string) *proc {
	t.Helper()
	p := &proc{addr: freeAddr(t), log: &bytes.Buffer{}}
	args := append([]string{mode, "--database-url", db.AppURL, "--addr", p.addr, "--data-dir", dataDir,
		"--migrate=false", "--periodic-interval", "200ms", "--log-level", "warn"}, extra...)
	p.cmd = exec.Command(binary, args...)
	out := &syncBuffer{}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 30*time.Second, 50*time.Millisecond, "%s did not become ready: %s", mode, out)
	return p
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

func grant(t *testing.T, db *testdb.Database, dataDir, subject, role, scope string) {
	out, err := exec.Command(binary, "admin", "grant", "--database-url", db.URL, "--data-dir", dataDir,
		"--subject", subject, "--name", subject, "--role", role, "--scope", scope).CombinedOutput()
	require.NoError(t, err, string(out))
}

func tokenFor(t *testing.T, dataDir, subject string) string {
	keys, err := token.LoadOrCreateDevIssuer(filepath.Join(dataDir, "dev-issuer"))
	require.NoError(t, err)
	tok, err := keys.Sign(token.TokenRequest{Subject: subject, Name: subject, TTL: time.Hour})
	require.NoError(t, err)
	return tok
}

type gqlResponse struct {
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return "OK"
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func post(t *testing.T, addr, tok, query string, vars map[string]any) gqlResponse {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var r gqlResponse
	require.NoError(t, json.Unmarshal(b, &r), string(b))
	return r
}

// agreements stores n agreements adopted in 2018, each with a version whose
// follow-ups are due.
func agreements(t *testing.T, db *testdb.Database, n int) {
	ctx := context.Background()
	now := time.Now()
	body := &store.Organisation{Name: "Region Test", OrganisationNumber: "2321000156", LegalForm: "other", Sector: "public", CreatedAt: now}
	require.NoError(t, store.InsertOrganisation(ctx, db.Pool, body))
	for i := range n {
		a := &store.Agreement{ID: uuid.New(), Name: fmt.Sprintf("Överenskommelse %d", i), PublicBodyID: body.ID, CreatedAt: now}
		require.NoError(t, store.InsertAgreement(ctx, db.Pool, a))
		adopted := time.Date(2018, 1, 30, 0, 0, 0, 0, time.UTC)
		require.NoError(t, store.InsertAgreementVersion(ctx, db.Pool, &store.AgreementVersion{AgreementID: a.ID, Number: 1, Title: "v1",
			AdoptedOn: adopted, ValidFrom: adopted, RevisionDue: adopted.AddDate(5, 0, 0), Principles: []string{"Dialog"}, CreatedAt: now}))
	}
}

func count(t *testing.T, db *testdb.Database, sql string) int {
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), sql).Scan(&n))
	return n
}

const followUps = `SELECT count(*) FROM workflow_instances WHERE kind = 'annual_follow_up'`

// kill -9 of a worker in the middle of the yearly opening: after a restart
// every follow-up exists exactly once.
func TestWorkerKilledDuringFanOutOpensEachFollowUpOnce(t *testing.T) {
	db := testdb.New(t)
	dataDir := t.TempDir()
	const n = 600
	agreements(t, db, n)
	w := start(t, db, dataDir, "worker")
	require.Eventually(t, func() bool { return count(t, db, followUps) >= 20 }, 30*time.Second, 5*time.Millisecond)
	w.kill()
	opened := count(t, db, followUps)
	t.Logf("worker killed after opening %d of %d follow-ups", opened, n)
	require.Less(t, opened, n, "the worker was killed mid-run")

	start(t, db, dataDir, "worker")
	require.Eventually(t, func() bool { return count(t, db, followUps) == n }, 60*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second)
	require.Equal(t, n, count(t, db, followUps))
	require.Equal(t, n, count(t, db, `SELECT count(DISTINCT (subject_id, data->>'year')) FROM workflow_instances WHERE kind = 'annual_follow_up'`))
	require.Equal(t, n, count(t, db, `SELECT count(*) FROM history_events WHERE kind = 'started' AND workflow_kind = 'annual_follow_up'`),
		"no half-opened follow-up: each has its event")
}

// Two API processes and two worker processes on one database, as
// deploy/compose.yaml runs them.
func TestTwoAPIsAndTwoWorkersOnOneDatabase(t *testing.T) {
	db := testdb.New(t)
	dataDir := t.TempDir()
	agreements(t, db, 50)
	grant(t, db, dataDir, "admin", "admin", "*")
	grant(t, db, dataDir, "official", "region_official", "region")
	var api []*proc
	for range 2 {
		api = append(api, start(t, db, dataDir, "api"))
	}
	for range 2 {
		start(t, db, dataDir, "worker")
	}
	admin, official := tokenFor(t, dataDir, "admin"), tokenFor(t, dataDir, "official")

	// Periodic work is done once, whichever worker does it.
	require.Eventually(t, func() bool { return count(t, db, followUps) == 50 }, 30*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second)
	require.Equal(t, 50, count(t, db, followUps))

	// A role granted through one API holds on the other within a second.
	rep := "rep-" + uuid.NewString()[:8]
	repTok := tokenFor(t, dataDir, rep)
	r := post(t, api[0].addr, repTok, `{ viewer { user { id } } }`, nil)
	require.Equal(t, "OK", r.code())
	var v struct {
		Viewer struct{ User struct{ ID string } }
	}
	require.NoError(t, json.Unmarshal(r.Data, &v))
	require.Equal(t, "OK", post(t, api[0].addr, admin, `mutation($u: ID!) { assignRole(input: {userId: $u, role: REGION_OFFICIAL, scope: "region"}) {
		assignment { role } } }`, map[string]any{"u": v.Viewer.User.ID}).code())
	require.Eventually(t, func() bool {
		return strings.Contains(string(post(t, api[1].addr, repTok, `{ viewer { roles { role } } }`, nil).Data), "REGION_OFFICIAL")
	}, time.Second, 10*time.Millisecond)

	// Transitions on one instance through both APIs serialise: of 20
	// identical approvals split between them, exactly one is applied.
	reg := post(t, api[0].addr, official, `mutation { registerOrganisation(input: {organisation: {name: "Region Värmland",
		organisationNumber: "212000-1355", legalForm: OTHER, sector: PUBLIC}}) { organisation { id } } }`, nil)
	require.Equal(t, "OK", reg.code(), reg.Errors)
	var o struct {
		RegisterOrganisation struct{ Organisation struct{ ID string } }
	}
	require.NoError(t, json.Unmarshal(reg.Data, &o))
	ag := post(t, api[0].addr, official, `mutation($b: ID!) { createAgreement(input: {name: "Ö", publicBodyId: $b,
		firstVersion: {title: "v1", adoptedOn: "2026-01-10"}}) { agreement { currentVersion { id } } } }`, map[string]any{"b": o.RegisterOrganisation.Organisation.ID})
	require.Equal(t, "OK", ag.code(), ag.Errors)
	var agv struct {
		CreateAgreement struct {
			Agreement struct{ CurrentVersion struct{ ID string } }
		}
	}
	require.NoError(t, json.Unmarshal(ag.Data, &agv))
	open := post(t, api[1].addr, official, `mutation($v: ID!) { openRevision(input: {agreementVersionId: $v}) { instance { id } } }`,
		map[string]any{"v": agv.CreateAgreement.Agreement.CurrentVersion.ID})
	require.Equal(t, "OK", open.code(), open.Errors)
	var rev struct {
		OpenRevision struct{ Instance struct{ ID string } }
	}
	require.NoError(t, json.Unmarshal(open.Data, &rev))
	var wg sync.WaitGroup
	results := make(chan string, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- post(t, api[i%2].addr, official, `mutation($id: ID!) { advanceRevision(input: {instanceId: $id, expectedVersion: 1}) {
				instance { state } } }`, map[string]any{"id": rev.OpenRevision.Instance.ID}).code()
		}()
	}
	wg.Wait()
	close(results)
	got := map[string]int{}
	for c := range results {
		got[c]++
	}
	require.Equal(t, map[string]int{"OK": 1, "CONFLICT": 19}, got)
}
