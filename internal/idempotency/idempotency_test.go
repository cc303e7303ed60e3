package idempotency_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/idempotency"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const lease = 16 * time.Second

type testBundle struct {
	db    *testdb.Database
	clock *clock.Test
	srv   *httptest.Server
	// hold, when set, is where the next request stops: after its
	// mutation committed (afterCommit) or before it (beforeCommit).
	beforeCommit, afterCommit chan chan struct{}
}

// setup serves a mutation that inserts one row into effects per request,
// behind the middleware.
func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{db: testdb.New(t), clock: clock.NewTest(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)),
		beforeCommit: make(chan chan struct{}, 1), afterCommit: make(chan chan struct{}, 1)}
	_, err := b.db.Pool.Exec(context.Background(), `CREATE TABLE effects (body text)`)
	require.NoError(t, err)
	db := store.New(b.db.Pool)
	keys := idempotency.New(db, 24*time.Hour, lease, b.clock, slog.New(slog.DiscardHandler))
	mutation := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := db.InTx(r.Context(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(r.Context(), `INSERT INTO effects VALUES ($1)`, string(body)); err != nil {
				return err
			}
			wait(b.beforeCommit)
			return nil
		})
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"errors":[{"message":"`+err.Error()+`","extensions":{"code":"CONFLICT"}}]}`)
			return
		}
		wait(b.afterCommit)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"done":`+string(body)+`}}`)
	})
	b.srv = httptest.NewServer(keys.Middleware(mutation))
	t.Cleanup(b.srv.Close)
	return b
}

// wait stops the request while the test holds the stop channel, as a
// process does that was killed at that point (until the test lets it go).
func wait(stop chan chan struct{}) {
	select {
	case ch := <-stop:
		<-ch
	default:
	}
}

type answer struct {
	status int
	code   string
	reason string
	body   string
}

func (b *testBundle) post(t *testing.T, key, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(idempotency.Header, key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var r struct {
		Errors []struct {
			Extensions struct{ Code, Idempotency string }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &r), string(raw))
	a := answer{status: resp.StatusCode, code: "OK", body: string(raw)}
	if len(r.Errors) > 0 {
		a.code, a.reason = r.Errors[0].Extensions.Code, r.Errors[0].Extensions.Idempotency
	}
	return a
}

func (b *testBundle) effects(t *testing.T) int {
	var n int
	require.NoError(t, b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM effects`).Scan(&n))
	return n
}

// stopNext makes the next request stop at point and returns what lets it
// go on, once it has stopped there.
func (b *testBundle) stopNext(t *testing.T, point chan chan struct{}, key, body string) (release func() answer) {
	ch := make(chan struct{})
	point <- ch
	done := make(chan answer, 1)
	go func() { done <- b.post(t, key, body) }()
	require.Eventually(t, func() bool { return len(point) == 0 }, 5*time.Second, time.Millisecond, "the request reached its stop")
	return func() answer { close(ch); return <-done }
}

// A holder that died before its mutation committed: within the lease a
// retry is told to wait; after it the retry takes the key over and does the
// work, once. The dead holder, should it wake, cannot commit any more.
func TestRetryRedoesTheUncommittedWorkOfADeadHolder(t *testing.T) {
	b := setup(t)
	wake := b.stopNext(t, b.beforeCommit, "k1", `1`)

	early := b.post(t, "k1", `1`)
	require.Equal(t, "CONFLICT", early.code)
	require.Equal(t, "in_progress", early.reason)

	b.clock.Advance(lease)
	retry := b.post(t, "k1", `1`)
	require.Equal(t, "OK", retry.code, retry.body)
	require.JSONEq(t, `{"data":{"done":1}}`, retry.body)
	require.Equal(t, 1, b.effects(t))

	late := wake()
	require.Equal(t, "CONFLICT", late.code, "the old holder lost the key: %s", late.body)
	require.Equal(t, 1, b.effects(t), "its work was rolled back")
	again := b.post(t, "k1", `1`)
	require.JSONEq(t, `{"data":{"done":1}}`, again.body, "the retry's response is the key's")
}

// A holder that died after its mutation committed but before its response
// was stored: a retry after the lease is not redone and is told it was done;
// should the holder finish after all, its response is the key's.
func TestRetryOfCommittedWorkIsNotRedone(t *testing.T) {
	b := setup(t)
	wake := b.stopNext(t, b.afterCommit, "k2", `2`)
	require.Equal(t, 1, b.effects(t))

	b.clock.Advance(lease)
	retry := b.post(t, "k2", `2`)
	require.Equal(t, http.StatusConflict, retry.status)
	require.Equal(t, "CONFLICT", retry.code)
	require.Equal(t, "done_response_lost", retry.reason, retry.body)
	require.Contains(t, retry.body, "genomfördes")
	require.Equal(t, 1, b.effects(t), "not done twice")

	first := wake()
	require.Equal(t, "OK", first.code)
	replay := b.post(t, "k2", `2`)
	require.JSONEq(t, `{"data":{"done":2}}`, replay.body)
	require.Equal(t, 1, b.effects(t))
}

// A different body under a key whose holder died with nothing committed is
// a new request: nothing was done under the key.
func TestAbandonedUncommittedKeyIsFree(t *testing.T) {
	b := setup(t)
	wake := b.stopNext(t, b.beforeCommit, "k3", `3`)
	b.clock.Advance(lease)
	r := b.post(t, "k3", `4`)
	require.Equal(t, "OK", r.code, r.body)
	require.Equal(t, "CONFLICT", wake().code)
	require.Equal(t, 1, b.effects(t))
	other := b.post(t, "k3", `5`)
	require.Equal(t, "CONFLICT", other.code, "a key done is bound to its body")
	require.Empty(t, other.reason)
}
