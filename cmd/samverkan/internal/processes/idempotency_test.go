package processes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/testdb"
)

const registerOrg = `mutation($o: OrganisationInput!) { registerOrganisation(input: {organisation: $o}) { organisation { id } } }`

type keyed struct {
	status int
	code   string
	reason string
	body   string
}

// postKeyed sends the n-th registration with its Idempotency-Key, as its
// own person; err is the transport's (the process is gone).
func postKeyed(addr, tok string, n int) (keyed, error) {
	number := orgnr.Complete(fmt.Sprintf("8021%05d", n)).String()
	body, _ := json.Marshal(map[string]any{"query": registerOrg, "variables": map[string]any{"o": map[string]any{
		"name": "Nyckelföreningen " + number, "organisationNumber": number, "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}}})
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		return keyed{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Idempotency-Key", fmt.Sprintf("register-%d", n))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return keyed{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return keyed{}, err
	}
	var r struct {
		Errors []struct {
			Extensions struct{ Code, Idempotency string }
		}
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return keyed{}, fmt.Errorf("%w: %s", err, raw)
	}
	k := keyed{status: resp.StatusCode, code: "OK", body: string(raw)}
	if len(r.Errors) > 0 {
		k.code, k.reason = r.Errors[0].Extensions.Code, r.Errors[0].Extensions.Idempotency
	}
	return k, nil
}

// kill -9 in the middle of keyed mutations: after a restart and the lease
// (the request timeout and a second), every key's retry gets its answer:
// the stored response, the work done now, or, for work that committed but
// whose response was lost, CONFLICT saying so. None is "in progress", and
// every organisation exists exactly once.
func TestKeysOfAKilledProcessCanBeRetried(t *testing.T) {
	db := testdb.New(t)
	dataDir := t.TempDir()
	p := start(t, db, dataDir, "serve", "--request-timeout", "2s")
	const lease = 3 * time.Second
	tokens := make([]string, 2000)
	for i := range tokens {
		tokens[i] = tokenFor(t, dataDir, fmt.Sprintf("keyed-%d", i))
	}

	var (
		next, acked atomic.Int64
		wg          sync.WaitGroup
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n >= len(tokens) {
					return
				}
				if _, err := postKeyed(p.addr, tokens[n], n); err != nil {
					return // killed
				}
				acked.Add(1)
			}
		}()
	}
	require.Eventually(t, func() bool { return acked.Load() >= 150 }, 60*time.Second, time.Millisecond)
	p.kill()
	killed := time.Now()
	wg.Wait()
	// Keys 1..sent were sent (or were about to be when the process died).
	sent := min(int(next.Load()), len(tokens)-1)
	stuck := count(t, db, `SELECT count(*) FROM idempotency_keys WHERE status <> 'done'`)
	t.Logf("killed after %d answered of %d sent; %d keys not done", acked.Load(), sent, stuck)
	require.Positive(t, stuck, "the kill left keys behind (the case to retry)")

	p = start(t, db, dataDir, "serve", "--request-timeout", "2s")
	time.Sleep(time.Until(killed.Add(lease)))
	outcomes := map[string]int{}
	for n := 1; n <= sent; n++ {
		r, err := postKeyed(p.addr, tokens[n], n)
		require.NoError(t, err)
		switch {
		case r.code == "OK":
			outcomes["OK"]++
		case r.code == "CONFLICT" && r.reason == "done_response_lost":
			outcomes["done, response lost"]++
		default:
			t.Fatalf("retry of key %d: %d %s", n, r.status, r.body)
		}
	}
	t.Logf("retries after the lease: %v", outcomes)
	require.Equal(t, sent, count(t, db, `SELECT count(*) FROM organisations WHERE name LIKE 'Nyckelföreningen %'`),
		"every key's organisation exists, once")
	require.Equal(t, sent, count(t, db, `SELECT count(*) FROM history_events WHERE kind = 'organisation_registered'`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM idempotency_keys WHERE status = 'in_progress'`))
}
