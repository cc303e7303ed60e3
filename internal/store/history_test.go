package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

// The first pages of several streams come in one statement: each stream's
// newest events, newest first, at most limit of them, only the public ones
// when asked, each stream once however often it is named.
func TestStreamsPageGivesEachStreamsNewestEvents(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	at := time.Date(2041, 3, 1, 9, 0, 0, 0, time.UTC)
	appendEvents := func(stream string, public ...bool) {
		for i, p := range public {
			e := &store.Event{Stream: stream, OccurredAt: at.Add(time.Duration(i) * time.Minute), Kind: "note_added",
				WorkflowKind: "partnership", Reason: stream, Public: p}
			require.NoError(t, store.AppendEvent(ctx, db.Pool, e))
		}
	}
	appendEvents("instance:a", true, false, true, true, false)
	appendEvents("instance:b", false, true)
	appendEvents("instance:c", true)

	seqs := func(events []store.Event) map[string][]int {
		out := map[string][]int{}
		for _, e := range events {
			out[e.Stream] = append(out[e.Stream], e.Seq)
		}
		return out
	}
	all, err := store.StreamsPage(ctx, db.Pool, []string{"instance:a", "instance:b", "instance:a", "instance:none"}, false, 3, store.HistoryColumns{})
	require.NoError(t, err)
	require.Equal(t, map[string][]int{"instance:a": {5, 4, 3}, "instance:b": {2, 1}}, seqs(all))

	public, err := store.StreamsPage(ctx, db.Pool, []string{"instance:a", "instance:b", "instance:c"}, true, 2, store.HistoryColumns{Payload: true, Actors: true})
	require.NoError(t, err)
	require.Equal(t, map[string][]int{"instance:a": {4, 3}, "instance:b": {2}, "instance:c": {1}}, seqs(public))
}
