// Package publiccache keeps the answers to anonymous GraphQL queries in
// memory: an anonymous principal only ever sees public data, so the exact
// answer to one anonymous query is the answer to every other that sends
// the same normalised query and variables, until the data changes.
//
// What invalidates: the database counts every committed change to the
// service's data (the public generation, migration 00020: a statement
// trigger on every table an answer can read, bookkeeping excluded, and
// NOTIFY at commit). An answer is kept with the generation read before it
// was computed and served only while that is still the newest. By default
// the generation is read from the database on every hit (one one-row
// statement), so an answer never lags a commit on any process; with
// TrustNotifications the cache relies on the NOTIFYs it listens to, and
// reads the generation itself only when unsure (before it listens, after a
// reconnect, after a mutation through this process) — an answer may then
// lag a commit made elsewhere by the notification's delay.
//
// What is cached: a GET or POST with neither Authorization nor Cookie
// header whose operation the GraphQL layer reports (Report) as a query by
// the anonymous principal that answered 200 without errors. Answers are
// bounded in bytes (least recently used go first) and in age (MaxAge:
// a few answers depend on the date). Each carries an ETag; a GET with a
// matching If-None-Match gets 304, and GETs say Cache-Control "public,
// no-cache" so that a proxy in front may keep them but asks again.
package publiccache

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/internal/store"
)

// Options configure a Cache.
type Options struct {
	// MaxBytes bounds the answers kept (bodies and keys).
	MaxBytes int64
	// MaxAge is the longest an answer is kept whatever the generation.
	MaxAge time.Duration
	// TrustNotifications skips reading the generation on each hit.
	TrustNotifications bool
	Logger             *slog.Logger
	// Now is the clock for MaxAge (time.Now when nil).
	Now func() time.Time
}

// Stats counts the cache's answers.
type Stats struct {
	Hits, Misses, NotModified int64
	Entries                   int
	Bytes                     int64
	Generation                int64
}

type entry struct {
	key         [32]byte
	gen         int64
	at          time.Time
	body        []byte
	contentType string
	etag        string
}

func (e *entry) size() int64 { return int64(len(e.body)+len(e.contentType)+len(e.etag)) + 160 }

// Cache is the public-read cache of one process.
type Cache struct {
	pool *pgxpool.Pool
	o    Options

	mu        sync.Mutex
	ll        *list.List // front: most recently used
	items     map[[32]byte]*list.Element
	bytes     int64
	known     int64  // newest generation read or notified
	listening bool   // a LISTEN is established
	unsure    uint64 // bumped when a change may not have been notified
	checked   uint64 // the value of unsure when the generation was last read

	hits, misses, notModified atomic.Int64

	cancel context.CancelFunc
	done   chan struct{}
	ready  chan struct{}
}

// New starts the cache's listener; Close stops it.
func New(ctx context.Context, pool *pgxpool.Pool, o Options) *Cache {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAge <= 0 {
		o.MaxAge = time.Minute
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Cache{pool: pool, o: o, ll: list.New(), items: map[[32]byte]*list.Element{}, unsure: 1,
		cancel: cancel, done: make(chan struct{}), ready: make(chan struct{})}
	go c.run(ctx)
	return c
}

// Close stops listening.
func (c *Cache) Close() {
	c.cancel()
	<-c.done
}

// Ready is closed once the first LISTEN has succeeded.
func (c *Cache) Ready() <-chan struct{} { return c.ready }

// Stats reports the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), NotModified: c.notModified.Load(),
		Entries: c.ll.Len(), Bytes: c.bytes, Generation: c.known}
}

// changed says that a change may have committed that the listener has not
// yet heard of (a mutation through this process).
func (c *Cache) changed() {
	c.mu.Lock()
	c.unsure++
	c.mu.Unlock()
}

// generation is the generation an answer computed now is current for.
func (c *Cache) generation(ctx context.Context) (int64, error) {
	c.mu.Lock()
	if c.o.TrustNotifications && c.listening && c.checked == c.unsure {
		g := c.known
		c.mu.Unlock()
		return g, nil
	}
	u := c.unsure
	c.mu.Unlock()
	n, err := store.PublicGeneration(ctx, c.pool)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Every number up to known has committed before this answer's
	// statements start, so the larger one is as safe.
	c.known = max(c.known, n)
	if c.listening && c.unsure == u {
		c.checked = u
	}
	return c.known, nil
}

// knownGeneration is the newest generation read or notified: every
// number up to it has committed.
func (c *Cache) knownGeneration() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.known
}

func (c *Cache) get(key [32]byte, gen int64) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if age := c.o.Now().Sub(e.at); e.gen < gen || age < 0 || age > c.o.MaxAge {
		c.remove(el)
		return nil
	}
	c.ll.MoveToFront(el)
	return e
}

func (c *Cache) put(e *entry) {
	if e.size() > c.o.MaxBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.key]; ok {
		if el.Value.(*entry).gen > e.gen {
			return
		}
		c.remove(el)
	}
	c.items[e.key] = c.ll.PushFront(e)
	c.bytes += e.size()
	for c.bytes > c.o.MaxBytes {
		c.remove(c.ll.Back())
	}
}

func (c *Cache) remove(el *list.Element) {
	e := c.ll.Remove(el).(*entry)
	delete(c.items, e.key)
	c.bytes -= e.size()
}

func etagOf(body []byte) string {
	h := sha256.Sum256(body)
	return `"` + hex.EncodeToString(h[:12]) + `"`
}

func (c *Cache) run(ctx context.Context) {
	defer close(c.done)
	backoff := 100 * time.Millisecond
	for {
		ok, err := c.listen(ctx)
		c.mu.Lock()
		c.listening = false
		c.unsure++
		c.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if ok {
			backoff = 100 * time.Millisecond
			c.o.Logger.Warn("public-read cache lost its connection; reconnecting", "err", err)
		} else {
			c.o.Logger.Debug("public-read cache cannot listen; retrying", "err", err)
		}
		t := time.NewTimer(backoff/2 + rand.N(backoff/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !ok {
			backoff = min(2*backoff, 2*time.Second)
		}
	}
}

func (c *Cache) listen(ctx context.Context) (bool, error) {
	pc, err := c.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if err := store.ListenPublicChanges(ctx, conn); err != nil {
		return false, err
	}
	// Listening now, so every later commit is heard of; one read of the
	// generation (on the next request) covers what came before.
	c.mu.Lock()
	c.listening = true
	c.unsure++
	c.mu.Unlock()
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
	for {
		payload, err := waitForChange(ctx, conn)
		if err != nil {
			return true, err
		}
		n, perr := strconv.ParseInt(payload, 10, 64)
		c.mu.Lock()
		if perr != nil {
			c.unsure++
		} else {
			c.known = max(c.known, n)
		}
		c.mu.Unlock()
	}
}

func waitForChange(ctx context.Context, conn *pgx.Conn) (string, error) {
	for {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		payload, err := store.WaitForPublicChange(wctx, conn)
		cancel()
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
			return payload, err
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return "", err
		}
	}
}
