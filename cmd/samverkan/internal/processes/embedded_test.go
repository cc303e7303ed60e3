package processes_test

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startEmbedded runs `samverkan serve` on its own embedded cluster in
// dataDir and waits until it is ready.
func startEmbedded(t *testing.T, dataDir string, extra ...string) (*proc, *syncBuffer) {
	t.Helper()
	p := &proc{addr: freeAddr(t)}
	args := append([]string{"serve", "--addr", p.addr, "--data-dir", dataDir, "--periodic-interval", "200ms", "--log-level", "info"}, extra...)
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
	}, 90*time.Second, 50*time.Millisecond, "serve did not become ready: %s", out)
	return p, out
}

// embeddedDataDir is a data directory the cluster's unprivileged user can
// reach (t.TempDir is not, when the tests run as root).
func embeddedDataDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "samverkan-embedded-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func embeddedPostmaster(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)
	return pid
}

// kill -9 of the embedded postmaster: requests are answered UNAVAILABLE
// while the service starts the cluster again, then succeed; the process
// lives on and counts the restart.
func TestKilledEmbeddedDatabaseIsRestarted(t *testing.T) {
	dataDir := embeddedDataDir(t)
	p, out := startEmbedded(t, dataDir)
	tok := tokenFor(t, dataDir, "someone")
	const q = `{ viewer { user { id } } }`
	require.Equal(t, "OK", post(t, p.addr, tok, q, nil).code())

	pid := embeddedPostmaster(t, dataDir)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	killed := time.Now()
	codes := map[string]int{}
	var recovered time.Duration
	for time.Since(killed) < 30*time.Second {
		c := post(t, p.addr, tok, q, nil).code()
		codes[c]++
		if c == "OK" && codes["UNAVAILABLE"] > 0 {
			recovered = time.Since(killed)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("answers after kill -9 of the postmaster: %v; recovered after %s", codes, recovered)
	require.NotZero(t, recovered, "requests succeed again within 30 s; log:\n%s", out)
	for c := range codes {
		require.Contains(t, []string{"OK", "UNAVAILABLE"}, c)
	}
	require.NotEqual(t, pid, embeddedPostmaster(t, dataDir), "a new postmaster runs")
	require.Nil(t, p.cmd.ProcessState, "samverkan is still running")
	require.NoError(t, syscall.Kill(p.cmd.Process.Pid, 0))

	r := post(t, p.addr, tok, `mutation { registerOrganisation(input: {organisation: {name: "Efter omstarten", organisationNumber: "802100-0008",
		legalForm: IDEELL_FORENING, sector: IDEA_BASED}}) { organisation { id } } }`, nil)
	require.Equal(t, "OK", r.code(), "a mutation with its history event after the restart: %v", r.Errors)
	require.Eventually(t, func() bool { return metric(t, p.addr, "samverkan_embedded_postgres_restarts_total") == "1" },
		5*time.Second, 20*time.Millisecond, "the restart is counted")
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 10*time.Second, 50*time.Millisecond, "ready again")
}

// metric reads one unlabelled metric's value from /metrics.
func metric(t *testing.T, addr, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}
