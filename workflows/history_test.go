package workflows_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/workflows"
)

func TestHistoryIsAppendOnlyAndChained(t *testing.T) {
	t.Parallel()
	e := newEnv(t, toyActions, toyV1())
	author := e.user(t, "Ann", authz.RoleSectorRepresentative+"@org:1")
	official := e.user(t, "Olle", authz.RoleRegionOfficial+"@region")
	// Two instances, so two streams written in turns.
	a := e.start(t, workflows.StartParams{Kind: "toy", Scopes: toyScopes, Actor: author})
	b := e.start(t, workflows.StartParams{Kind: "toy", Scopes: toyScopes, Actor: author})
	e.fire(t, workflows.FireParams{InstanceID: a.ID, Transition: "submit", Actor: author})
	e.fire(t, workflows.FireParams{InstanceID: b.ID, Transition: "submit", Actor: author})
	e.fire(t, workflows.FireParams{InstanceID: a.ID, Transition: "reject", Actor: official, Reason: "Incomplete."})
	e.fire(t, workflows.FireParams{InstanceID: a.ID, Transition: "submit", Actor: author})
	e.fire(t, workflows.FireParams{InstanceID: b.ID, Transition: "accept", Actor: official})
	ctx := context.Background()

	for _, sql := range []string{
		`UPDATE history_events SET reason = 'Rewritten.' WHERE seq = 3`,
		`DELETE FROM history_events WHERE seq = 3`,
		`TRUNCATE history_events`,
	} {
		_, err := e.db.Pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "%s must be refused, got %v", sql, err)
		require.Equal(t, "42501", pgErr.Code, sql) // insufficient_privilege
		require.Contains(t, pgErr.Message, "append-only")
	}
	// All seven events are still there as written.
	require.Equal(t, 7, e.count(t, `SELECT count(*) FROM history_events`))
	require.Equal(t, "Incomplete.", e.history(t, a)[2].Reason)

	rows, err := e.db.Pool.Query(ctx, `SELECT stream, seq, prev_hash, hash FROM history_events ORDER BY stream, seq`)
	require.NoError(t, err)
	type link struct {
		Stream         string
		Seq            int
		PrevHash, Hash []byte
	}
	links, err := pgx.CollectRows(rows, pgx.RowToStructByPos[link])
	require.NoError(t, err)
	seqs := map[string][]int{}
	for i, l := range links {
		seqs[l.Stream] = append(seqs[l.Stream], l.Seq)
		if l.Seq == 1 {
			require.Nil(t, l.PrevHash, "a stream's first event has no predecessor")
		} else {
			require.True(t, bytes.Equal(links[i-1].Hash, l.PrevHash), "event %d of %s chains to event %d", l.Seq, l.Stream, l.Seq-1)
		}
	}
	require.Equal(t, map[string][]int{"instance:" + a.ID.String(): {1, 2, 3, 4}, "instance:" + b.ID.String(): {1, 2, 3}}, seqs)

	require.Equal(t, 7, e.count(t, `SELECT count(*) FROM history_events e WHERE hash = history_event_hash(e)`),
		"every hash is what the canonical SQL function computes")
}
