package graph

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recorder is a fetch function that remembers each batch it was sent.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	err     error
}

func (r *recorder) fetch(_ context.Context, keys []int) (map[int]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, slices.Clone(keys))
	if r.err != nil {
		return nil, r.err
	}
	out := map[int]string{}
	for _, k := range keys {
		if k >= 0 { // negative keys are "not found"
			out[k] = string(rune('a' + k%26))
		}
	}
	return out, nil
}

func (r *recorder) calls() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func loadAll(t *testing.T, l *Loader[int, string], keys []int) []string {
	t.Helper()
	out := make([]string, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := l.Load(context.Background(), k)
			require.NoError(t, err)
			out[i] = v
		}()
	}
	wg.Wait()
	return out
}

func TestLoaderBatchesKeysAskedTogether(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	l := NewLoader(r.fetch)
	// "Together" is within the pause the loader waits for; a loaded test
	// machine starts 500 goroutines well within a fifth of a second.
	l.idle, l.max = 200*time.Millisecond, 10*time.Second
	keys := make([]int, 500)
	for i := range keys {
		keys[i] = i
	}
	got := loadAll(t, l, keys)
	require.Equal(t, "a", got[0])
	require.Equal(t, "b", got[27])
	require.Len(t, r.calls(), 1, "500 keys asked for at once are one fetch")
	require.Len(t, r.calls()[0], 500)
}

func TestLoaderCachesWithinARequest(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	l := NewLoader(r.fetch)
	loadAll(t, l, []int{1, 2, 3})
	loadAll(t, l, []int{2, 3, 4})
	calls := r.calls()
	require.Len(t, calls, 2)
	require.Equal(t, []int{4}, calls[1], "keys already loaded are not fetched again")
}

func TestLoaderGivesZeroForMissingKeys(t *testing.T) {
	t.Parallel()
	l := NewLoader((&recorder{}).fetch)
	v, err := l.Load(context.Background(), -1)
	require.NoError(t, err)
	require.Empty(t, v)
}

func TestLoaderHandsTheErrorToEveryWaiter(t *testing.T) {
	t.Parallel()
	boom := errors.New("database unavailable")
	l := NewLoader((&recorder{err: boom}).fetch)
	var wg sync.WaitGroup
	for k := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.Load(context.Background(), k)
			require.ErrorIs(t, err, boom)
		}()
	}
	wg.Wait()
}

func TestLoaderSplitsAtCapacity(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	l := NewLoader(r.fetch)
	l.capacity = 100
	l.idle, l.max = 200*time.Millisecond, 10*time.Second // only capacity splits
	keys := make([]int, 250)
	for i := range keys {
		keys[i] = i
	}
	loadAll(t, l, keys)
	total := 0
	for _, b := range r.calls() {
		require.LessOrEqual(t, len(b), 100)
		total += len(b)
	}
	require.Equal(t, 250, total)
	require.Len(t, r.calls(), 3)
}

func TestLoaderPrimeSendsAtOnceAndFeedsLoads(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	l := NewLoader(r.fetch)
	l.idle = time.Hour // only Prime may send the batch
	var primed []map[int]string
	l.after = func(_ context.Context, values map[int]string) { primed = append(primed, values) }
	l.Prime(context.Background(), 1, 2, 3)
	done := make(chan string)
	go func() {
		v, _ := l.Load(context.Background(), 2)
		done <- v
	}()
	select {
	case v := <-done:
		require.Equal(t, "c", v)
	case <-time.After(5 * time.Second):
		t.Fatal("a primed key waited for the idle timer")
	}
	require.Len(t, r.calls(), 1)
	require.Len(t, primed, 1, "after sees the batch to prime the next level")
	require.Len(t, primed[0], 3)
}

func TestLoaderSendsALoneKeyAfterAPause(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	l := NewLoader(r.fetch)
	start := time.Now()
	v, err := l.Load(context.Background(), 7)
	require.NoError(t, err)
	require.Equal(t, "h", v)
	require.Less(t, time.Since(start), time.Second)
}

// Values read along with something else are served with no fetch, a key
// already asked for keeps its own, and after sees them as it sees a
// fetched batch.
func TestLoaderPutAllServesWithoutFetchingAndPrimesTheNextLevel(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	l := NewLoader(r.fetch)
	var primed []map[int]string
	l.after = func(_ context.Context, values map[int]string) { primed = append(primed, values) }
	l.Prime(context.Background(), 2)
	require.Equal(t, []string{"c"}, loadAll(t, l, []int{2}))
	l.PutAll(context.Background(), map[int]string{1: "along", 2: "other"})
	require.Equal(t, []string{"along", "c"}, loadAll(t, l, []int{1, 2}), "a key already asked for keeps its value")
	require.Len(t, r.calls(), 1, "only the primed key was fetched")
	require.Len(t, primed, 2)
	require.Equal(t, map[int]string{1: "along", 2: "other"}, primed[1])
}
