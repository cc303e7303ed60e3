package authz_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

// newWatcher returns a watcher on db that is listening.
func newWatcher(t *testing.T, db *testdb.Database) *authz.Watcher {
	t.Helper()
	return startWatcher(t.Context(), t, db)
}

func startWatcher(ctx context.Context, t *testing.T, db *testdb.Database) *authz.Watcher {
	t.Helper()
	w, err := authz.NewWatcher(ctx, db.Pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(w.Close)
	select {
	case <-w.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not start listening")
	}
	return w
}

// recorder is an update callback that keeps the payloads it got.
type recorder struct {
	mu       sync.Mutex
	payloads []string
}

func (r *recorder) add(payload string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payloads = append(r.payloads, payload)
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.payloads)
}

func (r *recorder) has(payload string) bool { return slices.Contains(r.got(), payload) }

func notify(t *testing.T, db *testdb.Database, payload string) {
	t.Helper()
	require.NoError(t, store.NotifyPolicyChanged(context.Background(), db.Pool, payload))
}

func TestWatcherPropagatesChangesBetweenEnforcers(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	// Listen first, then load: nothing committed in between is missed.
	wa, wb := newWatcher(t, db), newWatcher(t, db)
	a, b := newEnforcer(t, db), newEnforcer(t, db)
	require.NoError(t, a.SetWatcher(wa))
	require.NoError(t, b.SetWatcher(wb))
	log := slog.New(slog.DiscardHandler)
	require.NoError(t, wa.SetUpdateCallback(authz.ReloadCallback(a, log)))
	require.NoError(t, wb.SetUpdateCallback(authz.ReloadCallback(b, log)))
	// Only the adapter's notification, sent in its transaction, is needed.
	a.EnableAutoNotifyWatcher(false)
	b.EnableAutoNotifyWatcher(false)

	changed(t)(a.AddPolicy("admin", "org1", "doc", "write"))
	changed(t)(a.AddGroupingPolicy("alice", "admin", "org1"))
	require.Eventually(t, func() bool { return allowed(t, b, "alice", "org1", "doc", "write") },
		time.Second, 10*time.Millisecond, "b never saw the grant")

	changed(t)(a.RemoveGroupingPolicy("alice", "admin", "org1"))
	require.Eventually(t, func() bool { return !allowed(t, b, "alice", "org1", "doc", "write") },
		time.Second, 10*time.Millisecond, "b still allows after the role was taken away")
}

// Each change also reaches the instance that made it; reloading must not
// undo a change of its own made meanwhile.
func TestReloadCallbackKeepsOwnChanges(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	w := newWatcher(t, db)
	e := newEnforcer(t, db)
	require.NoError(t, e.SetWatcher(w))
	require.NoError(t, w.SetUpdateCallback(authz.ReloadCallback(e, slog.New(slog.DiscardHandler))))
	e.EnableAutoNotifyWatcher(false)
	changed(t)(e.AddPolicy("admin", "org1", "doc", "write"))

	for range 30 {
		changed(t)(e.AddGroupingPolicy("alice", "admin", "org1"))
		require.True(t, allowed(t, e, "alice", "org1", "doc", "write"))
		changed(t)(e.RemoveGroupingPolicy("alice", "admin", "org1"))
	}
}

func TestWatcherDeliversOnlyCommittedNotifications(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	w := newWatcher(t, db)
	var rec recorder
	require.NoError(t, w.SetUpdateCallback(rec.add))
	sdb := store.New(db.Pool)

	errRollback := errors.New("roll back")
	err := sdb.InTx(t.Context(), func(tx pgx.Tx) error {
		require.NoError(t, store.NotifyPolicyChanged(t.Context(), tx, "rolled back"))
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)

	err = sdb.InTx(t.Context(), func(tx pgx.Tx) error {
		require.NoError(t, store.NotifyPolicyChanged(t.Context(), tx, "committed"))
		time.Sleep(200 * time.Millisecond)
		require.Empty(t, rec.got(), "delivered before the commit")
		return nil
	})
	require.NoError(t, err)

	require.Eventually(t, func() bool { return rec.has("committed") }, time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"committed"}, rec.got())
}

func TestWatcherDeliversInOrderAndSurvivesPanics(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	w := newWatcher(t, db)
	var rec recorder
	require.NoError(t, w.SetUpdateCallback(func(p string) {
		rec.add(p)
		if p == "panic" {
			panic("callback failed")
		}
	}))

	var want []string
	for i := range 10 {
		p := fmt.Sprint(i)
		if i == 5 {
			p = "panic"
		}
		want = append(want, p)
		notify(t, db, p)
	}

	require.Eventually(t, func() bool { return len(rec.got()) >= len(want) }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, want, rec.got())
}

func TestWatcherUpdateReachesEveryInstance(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	wa, wb := newWatcher(t, db), newWatcher(t, db)
	var reca, recb recorder
	require.NoError(t, wa.SetUpdateCallback(reca.add))
	require.NoError(t, wb.SetUpdateCallback(recb.add))

	require.NoError(t, wa.Update())

	require.Eventually(t, func() bool { return len(reca.got()) > 0 && len(recb.got()) > 0 }, time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"Update"}, reca.got())
	require.Equal(t, []string{"Update"}, recb.got())
}

func TestWatcherReconnectsAfterItsConnectionIsKilled(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	w := newWatcher(t, db)
	var rec recorder
	require.NoError(t, w.SetUpdateCallback(rec.add))

	before := listeners(t, db)
	require.Len(t, before, 1)
	_, err := db.Pool.Exec(t.Context(), `SELECT pg_terminate_backend($1)`, before[0])
	require.NoError(t, err)

	// Changes made while it was away are unknown, so it asks for a reload.
	require.Eventually(t, func() bool { return rec.has(authz.ReconnectedPayload) }, 5*time.Second, 10*time.Millisecond)
	after := listeners(t, db)
	require.Len(t, after, 1)
	require.NotEqual(t, before, after)

	notify(t, db, "after the reconnect")
	require.Eventually(t, func() bool { return rec.has("after the reconnect") }, time.Second, 10*time.Millisecond)
}

// listeners returns the backends of db that have LISTENed.
func listeners(t *testing.T, db *testdb.Database) []int32 {
	t.Helper()
	rows, err := db.Pool.Query(t.Context(), `
		SELECT pid FROM pg_stat_activity
		WHERE query ILIKE 'LISTEN%' AND datname = current_database()`)
	require.NoError(t, err)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	return pids
}

// watcherLoops counts the goroutines running a watcher's loop.
func watcherLoops() int {
	buf := make([]byte, 1<<22)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "authz.(*Watcher).run(")
}

// Not parallel: it counts every watcher goroutine of the test binary, and
// parallel tests are paused while it runs.
func TestWatcherStopsOnCloseOrCancel(t *testing.T) {
	db := testdb.New(t)
	w := newWatcher(t, db)
	var rec recorder
	require.NoError(t, w.SetUpdateCallback(rec.add))
	notify(t, db, "before")
	require.Eventually(t, func() bool { return rec.has("before") }, time.Second, 10*time.Millisecond)
	require.Equal(t, 1, watcherLoops())

	w.Close()
	w.Close()

	require.Eventually(t, func() bool { return watcherLoops() == 0 }, time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(listeners(t, db)) == 0 }, time.Second, 10*time.Millisecond,
		"the listening connection is still open")
	notify(t, db, "after")
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, []string{"before"}, rec.got())

	ctx, cancel := context.WithCancel(t.Context())
	startWatcher(ctx, t, db)
	require.Equal(t, 1, watcherLoops())
	cancel()
	require.Eventually(t, func() bool { return watcherLoops() == 0 }, time.Second, 10*time.Millisecond)
}
