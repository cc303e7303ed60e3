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

// A page read with its actors gives each event its own texts and its own
// actor (the scanner shares equal texts and each actor's row between
// events; none may leak into another).
func TestStreamsPageGivesEachEventItsOwnTextsAndActor(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	at := time.Date(2041, 3, 1, 9, 0, 0, 0, time.UTC)
	ann := &store.User{Issuer: "test", Subject: "ann", Name: "Ann Åberg", Email: "ann@example.org"}
	bo := &store.User{Issuer: "test", Subject: "bo", Name: "Bo", Email: "bo@example.org"}
	for _, u := range []*store.User{ann, bo} {
		require.NoError(t, store.UpsertUser(ctx, db.Pool, u))
	}
	actors := []*store.User{ann, bo, nil, ann, bo, ann}
	kinds := []string{"transition", "note_added", "started", "transition", "transition", "approved"}
	for i := range actors {
		e := &store.Event{Stream: "instance:a", OccurredAt: at.Add(time.Duration(i) * time.Minute), Kind: kinds[i],
			WorkflowKind: "partnership", FromState: kinds[(i+1)%len(kinds)], Reason: "reason " + kinds[i], Public: true}
		if actors[i] != nil {
			e.ActorID = &actors[i].ID
		}
		require.NoError(t, store.AppendEvent(ctx, db.Pool, e))
	}
	events, err := store.StreamsPage(ctx, db.Pool, []string{"instance:a"}, false, 10, store.HistoryColumns{Actors: true})
	require.NoError(t, err)
	require.Len(t, events, len(actors))
	for _, e := range events {
		i := e.Seq - 1
		require.Equal(t, "instance:a", e.Stream)
		require.Equal(t, kinds[i], e.Kind, "event %d", e.Seq)
		require.Equal(t, kinds[(i+1)%len(kinds)], e.FromState, "event %d", e.Seq)
		require.Equal(t, "reason "+kinds[i], e.Reason, "event %d", e.Seq)
		if actors[i] == nil {
			require.Nil(t, e.Actor, "event %d", e.Seq)
			require.Nil(t, e.ActorID, "event %d", e.Seq)
			require.Equal(t, "", e.ActorName)
			continue
		}
		require.NotNil(t, e.Actor, "event %d", e.Seq)
		require.Equal(t, actors[i].ID, *e.ActorID)
		require.Equal(t, actors[i].ID, e.Actor.ID)
		require.Equal(t, actors[i].Name, e.Actor.Name)
		require.Equal(t, actors[i].Name, e.ActorName)
		require.Equal(t, actors[i].Email, e.Actor.Email)
		require.Equal(t, actors[i].Subject, e.Actor.Subject)
	}
}
