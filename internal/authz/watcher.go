package authz

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/internal/store"
)

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
	// pingInterval: a connection that stays quiet this long is pinged, so
	// that a half-open one (no reset after a failover or network change) is
	// noticed instead of waited on forever.
	pingInterval = 30 * time.Second
)

// ReconnectedPayload is what the callback receives when the watcher listens
// again after losing its connection: changes may have been missed
// meanwhile, so the policy must be reloaded.
const ReconnectedPayload = "reconnected"

// Watcher tells this instance when the policy in the database has changed:
// it LISTENs on store.PolicyChannel on a connection of its own and calls
// the update callback with each notification's payload, one at a time and
// in order. A lost connection is re-established with backoff.
//
// Casbin's SetWatcher installs a callback that bypasses a synced enforcer's
// lock and cache; call SetUpdateCallback(ReloadCallback(e, log)) after it.
type Watcher struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	mu       sync.Mutex
	callback func(string)

	ready  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

var _ persist.Watcher = (*Watcher)(nil)

// NewWatcher starts listening in the background; Ready tells when it does.
// The watcher runs until Close is called or ctx is done, so ctx must not be
// a short start-up context.
func NewWatcher(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*Watcher, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{
		pool:   pool,
		log:    log,
		ready:  make(chan struct{}),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go w.run(ctx)
	return w, nil
}

// Ready is closed once the first LISTEN has succeeded: every change
// committed after that reaches the callback, so load the policy after it.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// SetUpdateCallback sets the function called on every notification. It
// runs on the watcher's goroutine and must not call Close.
func (w *Watcher) SetUpdateCallback(fn func(string)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.callback = fn
	return nil
}

// ReloadCallback returns an update callback that reloads e's policy. It
// holds e's write lock throughout: e.LoadPolicy reads the rules before
// taking the lock, so a reload that raced with one of e's own changes would
// put back the policy from before it, and e would, for instance, refuse to
// remove a rule it had just added.
func ReloadCallback(e *casbin.SyncedEnforcer, log *slog.Logger) func(string) {
	return func(string) {
		lock := e.GetLock()
		lock.Lock()
		defer lock.Unlock()
		if err := e.Enforcer.LoadPolicy(); err != nil {
			log.Error("reload the authorization policy", "err", err)
		}
	}
}

// Update announces a policy change to every instance, this one included.
func (w *Watcher) Update() error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return store.NotifyPolicyChanged(ctx, w.pool, "Update")
}

// Close stops listening and closes the connection; once it returns the
// callback is not called again. It may be called more than once.
func (w *Watcher) Close() {
	w.cancel()
	<-w.done
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	listened := false // whether a LISTEN has succeeded before
	backoff := minBackoff
	failures := 0 // attempts in a row that did not get to LISTEN
	for {
		ok, err := w.listen(ctx, listened)
		if ctx.Err() != nil {
			return
		}
		if ok {
			listened = true
			backoff = minBackoff
			failures = 0
			w.log.Warn("policy watcher lost its connection; reconnecting", "err", err)
		} else {
			failures++
			// Warn once per outage; retries every two seconds would flood the log.
			level := slog.LevelDebug
			if failures == 1 {
				level = slog.LevelWarn
			}
			w.log.Log(ctx, level, "policy watcher cannot listen; retrying", "err", err, "attempt", failures)
		}
		// Jitter keeps many instances from reconnecting in lockstep.
		t := time.NewTimer(backoff/2 + rand.N(backoff/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !ok {
			backoff = min(2*backoff, maxBackoff)
		}
	}
}

// listen takes a connection out of the pool, LISTENs on it and delivers
// notifications until it fails. ok tells whether LISTEN succeeded.
func (w *Watcher) listen(ctx context.Context, reconnect bool) (ok bool, err error) {
	pc, err := w.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	// Hijacked, the connection never returns to the pool still subscribed,
	// and the pool does not wait for it when it closes.
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if err := store.ListenPolicyChanges(ctx, conn); err != nil {
		return false, err
	}
	if reconnect {
		w.log.Info("policy watcher listens again")
		w.deliver(ReconnectedPayload)
	} else {
		close(w.ready)
	}
	for {
		payload, err := wait(ctx, conn)
		if err != nil {
			return true, err
		}
		w.deliver(payload)
	}
}

// wait returns the next notification's payload, pinging the connection
// whenever it has been quiet for pingInterval.
func wait(ctx context.Context, conn *pgx.Conn) (string, error) {
	for {
		wctx, cancel := context.WithTimeout(ctx, pingInterval)
		payload, err := store.WaitForPolicyChange(wctx, conn)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return payload, err
		}
		// A timed-out wait leaves the connection usable.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return "", err
		}
	}
}

// deliver calls the callback, surviving its panics: one bad reload must not
// stop all later ones.
func (w *Watcher) deliver(payload string) {
	w.mu.Lock()
	fn := w.callback
	w.mu.Unlock()
	if fn == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("policy watcher: update callback panicked", "panic", r, "payload", payload)
		}
	}()
	fn(payload)
}
