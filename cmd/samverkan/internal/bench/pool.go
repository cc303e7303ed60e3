package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/token"
)

// The transition benchmarks fire each transition once on distinct
// instances, taken from pools of signing applications seeded before every
// run: in review (for approve) and approved (for attaching to a ceremony),
// one pool each for the service and for the raw-SQL baseline. After the
// run the instances that moved are withdrawn (a history event each, through
// the trigger) so that their organisations may apply again next run.

// poolSpec is a pool: the tag in the instances' data and the state its
// instances wait in.
type poolSpec struct {
	tag   string
	state string
}

var (
	poolApproveService = poolSpec{"approve-service", "under_review"}
	poolApproveRaw     = poolSpec{"approve-raw", "under_review"}
	poolAttachService  = poolSpec{"attach-service", "approved"}
	poolAttachRaw      = poolSpec{"attach-raw", "approved"}
	pools              = []poolSpec{poolApproveService, poolApproveRaw, poolAttachService, poolAttachRaw}
)

// poolItem is an instance ready for a transition.
type poolItem struct {
	id       uuid.UUID
	version  int
	ceremony uuid.UUID
}

// load reads the people, versions and ceremonies of an existing dataset.
func (s *seeder) load(ctx context.Context) error {
	if err := s.pool.QueryRow(ctx, `SELECT
			(SELECT id FROM users WHERE issuer = $1 AND subject = $2),
			(SELECT id FROM users WHERE issuer = $1 AND subject = $3)`, token.DevIssuer, officialSubject, politicianSubject).
		Scan(&s.official, &s.politician); err != nil {
		return fmt.Errorf("the dataset's people: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM users WHERE issuer = $1 AND subject LIKE 'bench-rep-%' ORDER BY subject`, token.DevIssuer)
	if err != nil {
		return err
	}
	if s.reps, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return err
	}
	if len(s.reps) == 0 {
		return fmt.Errorf("the dataset has no representatives")
	}
	return nil
}

// ceremonyByVersion maps each version to its planned ceremony.
func ceremonyByVersion(ctx context.Context, q store.Querier) (map[string]uuid.UUID, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (agreement_version_id) agreement_version_id::text, id FROM ceremonies
		WHERE status = 'planned' ORDER BY agreement_version_id, held_on DESC`)
	if err != nil {
		return nil, err
	}
	out := map[string]uuid.UUID{}
	var v string
	var id uuid.UUID
	_, err = pgx.ForEachRow(rows, []any{&v, &id}, func() error {
		out[v] = id
		return nil
	})
	return out, err
}

// poolSize is how many instances a pool holds: the raw baseline is
// faster, so its pools are half as big again.
func poolSize(p poolSpec, n int) int {
	if p == poolApproveRaw || p == poolAttachRaw {
		return n * 3 / 2
	}
	return n
}

// topUpPools makes every pool hold its size (see poolSize) and returns how
// many instances it created.
func (s *seeder) topUpPools(ctx context.Context, n int) (int, error) {
	ready := map[string]int{}
	rows, err := s.pool.Query(ctx, `SELECT data ->> 'benchPool', state, count(*) FROM workflow_instances
		WHERE kind = 'signing' AND NOT final AND data ? 'benchPool' GROUP BY 1, 2`)
	if err != nil {
		return 0, err
	}
	var tag, state string
	var count int
	if _, err := pgx.ForEachRow(rows, []any{&tag, &state, &count}, func() error {
		for _, p := range pools {
			if p.tag == tag && p.state == state {
				ready[tag] = count
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	type want struct {
		spec poolSpec
		n    int
	}
	var wants []want
	need := 0
	for _, p := range pools {
		if m := poolSize(p, n) - ready[p.tag]; m > 0 {
			wants = append(wants, want{p, m})
			need += m
		}
	}
	if need == 0 {
		return 0, nil
	}
	// Organisation and version pairs without an open application or a
	// signature (one open application per pair is a unique index).
	rows, err = s.pool.Query(ctx, `SELECT o.id, v.id FROM agreement_versions v CROSS JOIN organisations o
		WHERE o.sector = 'idea_based'
		  AND NOT EXISTS (SELECT 1 FROM workflow_instances w WHERE w.kind = 'signing' AND NOT w.final
			AND w.subject_id = o.id AND w.data ->> 'agreementVersionId' = v.id::text)
		  AND NOT EXISTS (SELECT 1 FROM signatories s WHERE s.agreement_version_id = v.id AND s.organisation_id = o.id
			AND s.ended_on IS NULL)
		ORDER BY o.organisation_number, v.id LIMIT $1`, need)
	if err != nil {
		return 0, err
	}
	type pair struct{ org, version uuid.UUID }
	var pairs []pair
	var p pair
	if _, err := pgx.ForEachRow(rows, []any{&p.org, &p.version}, func() error {
		pairs = append(pairs, p)
		return nil
	}); err != nil {
		return 0, err
	}
	if len(pairs) < need {
		return 0, fmt.Errorf("only %d free organisation/version pairs for %d pool instances; run with --reseed", len(pairs), need)
	}
	type item struct {
		id         uuid.UUID
		pair       pair
		spec       poolSpec
		orgOrdinal int
	}
	items := make([]item, 0, need)
	k := 0
	for _, w := range wants {
		for range w.n {
			items = append(items, item{id: s.id(), pair: pairs[k], spec: w.spec, orgOrdinal: k})
			k++
		}
	}
	t0 := s.now.Add(-48 * time.Hour)
	round := func(it item) int { // states entered
		if it.spec.state == "approved" {
			return 3
		}
		return 2
	}
	if err := s.copyRows(ctx, "workflow_instances", instanceColumns, "seeding transition pools", len(items), func(emit func([]any) bool) {
		for _, it := range items {
			data := mustJSON(map[string]any{"organisationId": it.pair.org.String(), "agreementVersionId": it.pair.version.String(),
				"publicBody": false, "benchPool": it.spec.tag})
			r := round(it)
			if !emit([]any{it.id, "signing", 1, "organisation", it.pair.org, []string{authz.OrgScope(it.pair.org), authz.ScopeRegion},
				it.spec.state, t0.Add(time.Duration(r) * time.Hour), r, data, r, false, t0, t0.Add(time.Duration(r) * time.Hour)}) {
				return
			}
		}
	}); err != nil {
		return 0, err
	}
	decl := jsonb(kv{"regionalPerspective", true}, kv{"democraticValues", true}, kv{"independent", true})
	events := 0
	for _, it := range items {
		events += round(it)
	}
	if err := s.copyRows(ctx, "history_events", eventColumns, "seeding transition pool history", events, func(emit func([]any) bool) {
		for _, it := range items {
			inst := it.id
			c := chain{stream: "instance:" + inst.String()}
			e := func(h int, actor *uuid.UUID, kind, transition, from, to, input string) []any {
				return c.row(event{at: t0.Add(time.Duration(h) * time.Hour), actor: actor, kind: kind, instance: &inst, wkind: "signing",
					transition: transition, from: from, to: to, input: input})
			}
			rep := &s.reps[it.orgOrdinal%len(s.reps)]
			if !emit(e(1, rep, "started", "", "", "applied", decl)) || !emit(e(2, &s.official, "transition", "start_review", "applied", "under_review", "")) {
				return
			}
			if it.spec.state == "approved" && !emit(e(3, &s.official, "transition", "approve", "under_review", "approved", decl)) {
				return
			}
		}
	}); err != nil {
		return 0, err
	}
	return len(items), nil
}

// takePool reads up to n instances of a pool.
func takePool(ctx context.Context, db store.Querier, spec poolSpec, n int) ([]poolItem, error) {
	ceremonies, err := ceremonyByVersion(ctx, db)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT id, version, data ->> 'agreementVersionId' FROM workflow_instances
		WHERE kind = 'signing' AND NOT final AND data ->> 'benchPool' = $1 AND state = $2 ORDER BY id LIMIT $3`, spec.tag, spec.state, n)
	if err != nil {
		return nil, err
	}
	var out []poolItem
	var it poolItem
	var version string
	_, err = pgx.ForEachRow(rows, []any{&it.id, &it.version, &version}, func() error {
		it.ceremony = ceremonies[version]
		out = append(out, it)
		return nil
	})
	return out, err
}

// retirePools withdraws the pool instances that moved (with their timers
// and timer jobs), a chunk per transaction, and returns how many.
func retirePools(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, now time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `WITH w AS (
					SELECT id, state FROM workflow_instances
					WHERE kind = 'signing' AND NOT final AND data ? 'benchPool'
					  AND ((data ->> 'benchPool' LIKE 'approve-%' AND state = 'approved')
					    OR (data ->> 'benchPool' LIKE 'attach-%' AND state = 'awaiting_ceremony'))
					ORDER BY id LIMIT 2000 FOR UPDATE
				), u AS (
					UPDATE workflow_instances i SET state = 'withdrawn', final = true, round = i.round + 1, version = i.version + 1,
						state_entered_at = $1, updated_at = $1
					FROM w WHERE i.id = w.id RETURNING i.id
				), t AS (
					UPDATE workflow_timers SET status = 'replaced', done_at = $1
					WHERE instance_id IN (SELECT id FROM w) AND status = 'pending' RETURNING id
				), j AS (
					DELETE FROM river_job WHERE kind = 'workflow_timer' AND (args ->> 'timer_id')::bigint IN (SELECT id FROM t) RETURNING 1
				), e AS (
					INSERT INTO history_events (stream, seq, occurred_at, kind, instance_id, workflow_kind, transition, from_state,
						to_state, reason, public, hash)
					SELECT 'instance:' || w.id, 0, $1, 'transition', w.id, 'signing', 'withdraw', w.state, 'withdrawn',
						'Mätningen är klar. / The benchmark is done.', true, ''
					FROM w ORDER BY w.id RETURNING 1
				)
				SELECT (SELECT count(*) FROM u) + 0 * ((SELECT count(*) FROM j) + (SELECT count(*) FROM e))`, now).Scan(&n)
		})
		if err != nil {
			return total, fmt.Errorf("withdraw the used pool instances: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}
