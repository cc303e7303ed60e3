package graph

import (
	"context"
	"sync"
	"time"
)

// Loader batches the lookups of one request: keys asked for close together
// are fetched with one statement. A batch is sent once no new key has come
// for idle (so a lone lookup waits about a millisecond), or when it is
// capacity keys big, or max after its first key.
//
// gqlgen resolves a list's items in goroutines that reach a loader spread
// over some milliseconds on a busy machine; a loader that sent its batch a
// fixed time after the first key (as dataloadgen does) would split a list of
// a thousand into dozens of statements. Waiting for a pause instead keeps it
// at one.
type Loader[K comparable, V any] struct {
	fetch    func(ctx context.Context, keys []K) (map[K]V, error)
	idle     time.Duration
	max      time.Duration
	capacity int

	// after, when set, sees each batch's values before they are handed
	// out, to prime the loaders of the next level.
	after func(ctx context.Context, values map[K]V)

	mu      sync.Mutex
	cache   map[K]*loaded[V]
	pending *batch[K, V]
}

type loaded[V any] struct {
	done chan struct{}
	v    V
	err  error
}

type batch[K comparable, V any] struct {
	ctx     context.Context
	keys    []K
	results map[K]*loaded[V]
	started time.Time
	timer   *time.Timer
}

// NewLoader makes a loader; fetch returns the values found (missing keys
// get the zero value).
func NewLoader[K comparable, V any](fetch func(context.Context, []K) (map[K]V, error)) *Loader[K, V] {
	return &Loader[K, V]{fetch: fetch, idle: time.Millisecond, max: 100 * time.Millisecond, capacity: 2000, cache: map[K]*loaded[V]{}}
}

// Load returns the value of key, batched with the other keys asked for now.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	l.mu.Lock()
	r, ok := l.cache[key]
	if !ok {
		r = &loaded[V]{done: make(chan struct{})}
		l.cache[key] = r
		l.add(ctx, key, r)
	}
	l.mu.Unlock()
	<-r.done
	return r.v, r.err
}

// Prime asks for keys without waiting for them: a list's resolver primes
// its items' loaders so that every item's own lookup is already in one
// batch, however the items' resolvers are scheduled. The list knows all the
// keys it will need, so the batch is sent at once rather than after a pause.
func (l *Loader[K, V]) Prime(ctx context.Context, keys ...K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, key := range keys {
		if _, ok := l.cache[key]; ok {
			continue
		}
		r := &loaded[V]{done: make(chan struct{})}
		l.cache[key] = r
		l.add(ctx, key, r)
	}
	if b := l.pending; b != nil {
		b.timer.Stop()
		l.pending = nil
		go l.run(b)
	}
}

// Put gives the loader a value already read elsewhere (a user read with
// the history page that names them), so that a Load of key needs no
// statement; a key already asked for keeps its pending or loaded value.
func (l *Loader[K, V]) Put(key K, v V) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.put(key, v)
}

// PutAll gives the loader values read along with something else (an
// instance's approvals and history page, a version's page of signatories)
// as if it had fetched them as a batch: after sees them, to prime the
// next level; keys already asked for keep their values.
func (l *Loader[K, V]) PutAll(ctx context.Context, values map[K]V) {
	l.mu.Lock()
	for k, v := range values {
		l.put(k, v)
	}
	l.mu.Unlock()
	if l.after != nil {
		l.after(ctx, values)
	}
}

// put caches a loaded value unless key was asked for; l.mu is held.
func (l *Loader[K, V]) put(key K, v V) {
	if _, ok := l.cache[key]; ok {
		return
	}
	r := &loaded[V]{done: make(chan struct{}), v: v}
	close(r.done)
	l.cache[key] = r
}

// add puts a key in the pending batch; l.mu is held.
func (l *Loader[K, V]) add(ctx context.Context, key K, r *loaded[V]) {
	b := l.pending
	if b == nil {
		b = &batch[K, V]{ctx: ctx, results: map[K]*loaded[V]{}, started: time.Now()}
		l.pending = b
		b.timer = time.AfterFunc(l.idle, func() { l.flush(b) })
	} else if time.Since(b.started) < l.max {
		b.timer.Reset(l.idle)
	}
	b.keys = append(b.keys, key)
	b.results[key] = r
	if len(b.keys) >= l.capacity {
		b.timer.Stop()
		l.pending = nil
		go l.run(b)
	}
}

// flush sends b if it is still the pending batch.
func (l *Loader[K, V]) flush(b *batch[K, V]) {
	l.mu.Lock()
	if l.pending != b {
		l.mu.Unlock()
		return
	}
	l.pending = nil
	l.mu.Unlock()
	l.run(b)
}

func (l *Loader[K, V]) run(b *batch[K, V]) {
	values, err := l.fetch(b.ctx, b.keys)
	if err == nil && l.after != nil {
		l.after(b.ctx, values)
	}
	for k, r := range b.results {
		r.v, r.err = values[k], err
		close(r.done)
	}
}
