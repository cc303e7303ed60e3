package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/publiccache"
)

// cachedListRead is the read the public-read cache may answer, which has a
// target of its own (see readGoal).
const cachedListRead = "signatory list public, cached"

// The GraphQL operations of the benchmark, as a client would send them.
const (
	querySignatories = `query Signatories($id: ID!, $after: String) { node(id: $id) { ... on AgreementVersion {
  signatories(first: 100, after: $after) { edges { node { signedOn organisation { name organisationNumber municipality } } }
    pageInfo { hasNextPage endCursor } } } } }`
	queryInstance = `query Instance($id: ID!) { node(id: $id) { ... on WorkflowInstance { state availableActions { name }
  history(first: 50) { edges { node { sequence at kind transition fromState toState reason actor { name } } } } } } }`
	queryExpiring = `query Expiring { partnershipsExpiring(withinDays: 90, first: 100) { edges { node { title publicBody { name }
  ideaBasedParties { name } contributions { amount kind organisation { name } } } } pageInfo { hasNextPage endCursor } } }`
	mutationApprove = `mutation Approve($id: ID!, $v: Int) { approveSigningApplication(input: {instanceId: $id, expectedVersion: $v,
  regionalPerspective: true, democraticValues: true, independent: true}) { instance { id state version } } }`
	mutationAttach = `mutation Attach($id: ID!, $c: ID!, $v: Int) { attachToSigningCeremony(input: {instanceId: $id, ceremonyId: $c,
  expectedVersion: $v}) { instance { id state version } } }`
)

func globalID(typ string, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id.String()))
}

// client sends GraphQL requests with the official's token.
type client struct {
	http  *http.Client
	url   string
	token string
	bufs  sync.Pool
	// public counts the anonymous requests and the public-read cache's
	// hits among them.
	public, hits atomic.Int64
}

func newClient(url, token string, conc int) *client {
	tr := &http.Transport{MaxIdleConns: 2 * conc, MaxIdleConnsPerHost: 2 * conc, IdleConnTimeout: time.Minute,
		DisableCompression: true}
	return &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: url + "/graphql", token: token,
		bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
}

// do posts a query and fails on a non-200 answer or GraphQL errors; the
// answer is read whole (and into out, when given).
func (c *client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	return c.send(ctx, query, vars, out, asOfficial)
}

// how a request is sent: with the official's token, or anonymously (the
// public-read cache may answer), or anonymously asking the cache not to
// answer (Cache-Control: no-cache).
type how int

const (
	asOfficial how = iota
	asPublic
	asPublicUncached
)

func (c *client) send(ctx context.Context, query string, vars map[string]any, out any, as how) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	switch as {
	case asOfficial:
		req.Header.Set("Authorization", "Bearer "+c.token)
	case asPublicUncached:
		req.Header.Set("Cache-Control", "no-cache")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if as != asOfficial {
		c.public.Add(1)
		if resp.Header.Get(publiccache.HitHeader) == "hit" {
			c.hits.Add(1)
		}
	}
	buf := c.bufs.Get().(*bytes.Buffer)
	defer c.bufs.Put(buf)
	buf.Reset()
	if _, err := io.Copy(buf, resp.Body); err != nil {
		return err
	}
	b := buf.Bytes()
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors":`)) {
		return fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// targets are what the reads ask for: random choices among them.
type targets struct {
	versions []uuid.UUID
	// cursors[v][k] is the cursor after page k (page 0 has none).
	cursors   [][]pageCursor
	instances []uuid.UUID
}

type pageCursor struct {
	signed time.Time
	id     uuid.UUID
	text   string
}

func loadTargets(ctx context.Context, db *pgxpool.Pool) (*targets, error) {
	t := &targets{}
	rows, err := db.Query(ctx, `SELECT agreement_version_id, signed_on, id,
			row_number() OVER (PARTITION BY agreement_version_id ORDER BY signed_on, id) AS n
		FROM signatories WHERE ended_on IS NULL ORDER BY agreement_version_id, signed_on, id`)
	if err != nil {
		return nil, err
	}
	var v, id uuid.UUID
	var signed time.Time
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&v, &signed, &id, &n}, func() error {
		if len(t.versions) == 0 || t.versions[len(t.versions)-1] != v {
			t.versions = append(t.versions, v)
			t.cursors = append(t.cursors, []pageCursor{{}})
		}
		if n%100 == 0 {
			c := &t.cursors[len(t.cursors)-1]
			*c = append(*c, pageCursor{signed: signed, id: id,
				text: signatoryCursor(id)})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for i := range t.cursors { // the cursor after the last page leads nowhere
		if len(t.cursors[i]) > 1 {
			t.cursors[i] = t.cursors[i][:len(t.cursors[i])-1]
		}
	}
	rows, err = db.Query(ctx, `SELECT id FROM workflow_instances WHERE kind = 'partnership' AND version > 50 ORDER BY id`)
	if err != nil {
		return nil, err
	}
	if t.instances, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return nil, err
	}
	if len(t.versions) == 0 || len(t.instances) == 0 {
		return nil, errors.New("the dataset has no signatories or no instances with a long history")
	}
	return t, nil
}

// signatoryCursor is the service's cursor after a signatory (graph/relay.go:
// the JSON list of its parts, base64url).
func signatoryCursor(id uuid.UUID) string {
	raw, _ := json.Marshal([]string{id.String()})
	return base64.RawURLEncoding.EncodeToString(raw)
}

// rngs gives each worker its own random source.
func rngs(n int) []*rand.Rand {
	out := make([]*rand.Rand, n)
	for i := range out {
		out[i] = rand.New(rand.NewPCG(uint64(i)+1, 42))
	}
	return out
}

// read is one of the read workloads: the request through the service and
// the same rows read straight from the database.
type read struct {
	name    string
	service func(ctx context.Context, r *rand.Rand) error
	raw     func(ctx context.Context, r *rand.Rand) error
	// public: anonymous requests, whose cache hit ratio is reported.
	public bool
}

func reads(c *client, db *pgxpool.Pool, t *targets, today time.Time) []read {
	page := func(r *rand.Rand) (int, int) {
		v := r.IntN(len(t.versions))
		return v, r.IntN(len(t.cursors[v]))
	}
	signatories := func(as how) func(ctx context.Context, r *rand.Rand) error {
		return func(ctx context.Context, r *rand.Rand) error {
			v, k := page(r)
			vars := map[string]any{"id": globalID("AgreementVersion", t.versions[v]), "after": nil}
			if k > 0 {
				vars["after"] = t.cursors[v][k].text
			}
			return c.send(ctx, querySignatories, vars, nil, as)
		}
	}
	rawPage := func(ctx context.Context, r *rand.Rand) error {
		v, k := page(r)
		return rawSignatories(ctx, db, t.versions[v], t.cursors[v][k])
	}
	return []read{
		{name: "signatory list (100/page)", service: signatories(asOfficial), raw: rawPage},
		{name: cachedListRead, service: signatories(asPublic), raw: rawPage, public: true},
		{name: "signatory list public, uncached", service: signatories(asPublicUncached), raw: rawPage, public: true},
		{
			name: "instance + actions + 50 events",
			service: func(ctx context.Context, r *rand.Rand) error {
				id := t.instances[r.IntN(len(t.instances))]
				return c.do(ctx, queryInstance, map[string]any{"id": globalID("WorkflowInstance", id)}, nil)
			},
			raw: func(ctx context.Context, r *rand.Rand) error {
				return rawInstance(ctx, db, t.instances[r.IntN(len(t.instances))])
			},
		},
		{
			name: "partnerships expiring in 90 d",
			service: func(ctx context.Context, _ *rand.Rand) error {
				return c.do(ctx, queryExpiring, map[string]any{}, nil)
			},
			raw: func(ctx context.Context, _ *rand.Rand) error {
				return rawExpiring(ctx, db, today)
			},
		},
	}
}

// The raw baselines read the same rows with the SQL a hand-written
// endpoint would use (paginate, then join) and encode them as the service
// answers, in as few round trips as the data allows.

type gqlAnswer struct {
	Data any `json:"data"`
}

func encode(v any) error {
	_, err := json.Marshal(gqlAnswer{Data: v})
	return err
}

func rawSignatories(ctx context.Context, db *pgxpool.Pool, version uuid.UUID, after pageCursor) error {
	if after.text == "" {
		after.signed = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	rows, err := db.Query(ctx, `SELECT s.id, s.signed_on, o.name, o.organisation_number, o.municipality
		FROM (SELECT id, organisation_id, signed_on FROM signatories
			WHERE agreement_version_id = $1 AND ended_on IS NULL AND (signed_on, id) > ($2, $3)
			ORDER BY signed_on, id LIMIT 101) s
		JOIN organisations o ON o.id = s.organisation_id ORDER BY s.signed_on, s.id`, version, after.signed, after.id)
	if err != nil {
		return err
	}
	type orgJSON struct {
		Name               string `json:"name"`
		OrganisationNumber string `json:"organisationNumber"`
		Municipality       string `json:"municipality"`
	}
	type node struct {
		SignedOn     string  `json:"signedOn"`
		Organisation orgJSON `json:"organisation"`
	}
	type edge struct {
		Node node `json:"node"`
	}
	var edges []edge
	var last pageCursor
	var id uuid.UUID
	var signed time.Time
	var o orgJSON
	if _, err := pgx.ForEachRow(rows, []any{&id, &signed, &o.Name, &o.OrganisationNumber, &o.Municipality}, func() error {
		o.OrganisationNumber = orgnr.Number(o.OrganisationNumber).String()
		edges = append(edges, edge{Node: node{SignedOn: signed.Format(time.DateOnly), Organisation: o}})
		last = pageCursor{signed: signed, id: id}
		return nil
	}); err != nil {
		return err
	}
	more := len(edges) > 100
	if more {
		edges = edges[:100]
	}
	end := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.signed.UnixMicro(), 10) + "|" + last.id.String()))
	return encode(map[string]any{"node": map[string]any{"signatories": map[string]any{"edges": edges,
		"pageInfo": map[string]any{"hasNextPage": more, "endCursor": end}}}})
}

// actionsOf are the transitions an official may fire on an active
// partnership (the service asks the policy point for each).
var actionsOf = map[string][]string{"active": {"propose_renewal", "propose_amendment", "terminate"}}

func rawInstance(ctx context.Context, db *pgxpool.Pool, id uuid.UUID) error {
	b := &pgx.Batch{}
	var state string
	var round int
	b.Queue(`SELECT state, round FROM workflow_instances WHERE id = $1`, id).QueryRow(func(r pgx.Row) error {
		return r.Scan(&state, &round)
	})
	approvals := 0
	b.Queue(`SELECT a.transition, a.approver_id FROM workflow_approvals a JOIN workflow_instances i ON i.id = a.instance_id
		AND i.round = a.round WHERE a.instance_id = $1 AND a.withdrawn_at IS NULL`, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			approvals++
		}
		return rows.Err()
	})
	type actor struct {
		Name string `json:"name"`
	}
	type node struct {
		Sequence   int       `json:"sequence"`
		At         time.Time `json:"at"`
		Kind       string    `json:"kind"`
		Transition *string   `json:"transition"`
		FromState  *string   `json:"fromState"`
		ToState    *string   `json:"toState"`
		Reason     string    `json:"reason"`
		Actor      *actor    `json:"actor"`
	}
	type edge struct {
		Node node `json:"node"`
	}
	var edges []edge
	b.Queue(`SELECT e.seq, e.occurred_at, e.kind, e.transition, e.from_state, e.to_state, e.reason, u.name
		FROM history_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.stream = $1 ORDER BY e.seq DESC LIMIT 50`, "instance:"+id.String()).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var n node
			var transition, from, to string
			var name *string
			if err := rows.Scan(&n.Sequence, &n.At, &n.Kind, &transition, &from, &to, &n.Reason, &name); err != nil {
				return err
			}
			n.Transition, n.FromState, n.ToState = optional(transition), optional(from), optional(to)
			if name != nil {
				n.Actor = &actor{Name: *name}
			}
			edges = append(edges, edge{Node: n})
		}
		return rows.Err()
	})
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	type action struct {
		Name string `json:"name"`
	}
	var actions []action
	for _, a := range actionsOf[state] {
		actions = append(actions, action{a})
	}
	return encode(map[string]any{"node": map[string]any{"state": state, "availableActions": actions,
		"history": map[string]any{"edges": edges}}})
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func rawExpiring(ctx context.Context, db *pgxpool.Pool, today time.Time) error {
	rows, err := db.Query(ctx, `SELECT p.id, p.title, p.end_date FROM partnerships p JOIN workflow_instances w ON w.id = p.instance_id
		WHERE p.activated_at IS NOT NULL AND w.kind = 'partnership' AND w.state = ANY($1) AND p.end_date BETWEEN $2 AND $3
		ORDER BY p.end_date, p.id LIMIT 101`, []string{"active", "amendment_proposed", "renewal"}, today, today.AddDate(0, 0, 90))
	if err != nil {
		return err
	}
	type named struct {
		Name string `json:"name"`
	}
	type contribution struct {
		Amount       string `json:"amount"`
		Kind         string `json:"kind"`
		Organisation named  `json:"organisation"`
	}
	type item struct {
		Title            string         `json:"title"`
		PublicBody       *named         `json:"publicBody"`
		IdeaBasedParties []named        `json:"ideaBasedParties"`
		Contributions    []contribution `json:"contributions"`
	}
	var ids []uuid.UUID
	byID := map[uuid.UUID]*item{}
	var items []*item
	var id uuid.UUID
	var title string
	var end time.Time
	var cursors []string
	if _, err := pgx.ForEachRow(rows, []any{&id, &title, &end}, func() error {
		if len(items) == 100 {
			return nil // the 101st only says that there is a next page
		}
		it := &item{Title: title, IdeaBasedParties: []named{}, Contributions: []contribution{}}
		ids = append(ids, id)
		byID[id] = it
		items = append(items, it)
		cursors = append(cursors, base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(end.UnixMicro(), 10)+"|"+id.String())))
		return nil
	}); err != nil {
		return err
	}
	more := rows.CommandTag().RowsAffected() > 100
	b := &pgx.Batch{}
	b.Queue(`SELECT pp.partnership_id, pp.role, o.name FROM partnership_parties pp JOIN organisations o ON o.id = pp.organisation_id
		WHERE pp.partnership_id = ANY($1) ORDER BY pp.partnership_id, pp.role DESC, lower(o.name), o.id`, ids).Query(func(rows pgx.Rows) error {
		var pid uuid.UUID
		var role, name string
		_, err := pgx.ForEachRow(rows, []any{&pid, &role, &name}, func() error {
			if role == "public" {
				byID[pid].PublicBody = &named{name}
			} else {
				byID[pid].IdeaBasedParties = append(byID[pid].IdeaBasedParties, named{name})
			}
			return nil
		})
		return err
	})
	b.Queue(`SELECT c.partnership_id, c.amount::text, c.kind, o.name FROM partnership_contributions c
		JOIN organisations o ON o.id = c.organisation_id
		WHERE c.partnership_id = ANY($1) ORDER BY c.partnership_id, c.organisation_id, c.year, c.kind, c.id`, ids).Query(func(rows pgx.Rows) error {
		var pid uuid.UUID
		var amount, kind, name string
		_, err := pgx.ForEachRow(rows, []any{&pid, &amount, &kind, &name}, func() error {
			byID[pid].Contributions = append(byID[pid].Contributions, contribution{Amount: amount, Kind: kind, Organisation: named{name}})
			return nil
		})
		return err
	})
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	type edge struct {
		Node *item `json:"node"`
	}
	edges := make([]edge, len(items))
	for i, it := range items {
		edges[i] = edge{it}
	}
	var endCursor *string
	if len(cursors) > 0 {
		endCursor = &cursors[len(cursors)-1]
	}
	return encode(map[string]any{"partnershipsExpiring": map[string]any{"edges": edges,
		"pageInfo": map[string]any{"hasNextPage": more, "endCursor": endCursor}}})
}

// transition is one of the transition workloads.
type transition struct {
	name    string
	jobs    int // River jobs each firing inserts
	service poolSpec
	raw     poolSpec
	mutate  func(ctx context.Context, c *client, it poolItem) error
	rawFire func(ctx context.Context, db *pgxpool.Pool, it poolItem, actor uuid.UUID) error
}

var transitions = []transition{
	{
		name: "approve (event, no job)", jobs: 0, service: poolApproveService, raw: poolApproveRaw,
		mutate: func(ctx context.Context, c *client, it poolItem) error {
			return c.do(ctx, mutationApprove, map[string]any{"id": globalID("WorkflowInstance", it.id), "v": it.version}, nil)
		},
		rawFire: rawApprove,
	},
	{
		name: "attach to ceremony (+timer, job)", jobs: 1, service: poolAttachService, raw: poolAttachRaw,
		mutate: func(ctx context.Context, c *client, it poolItem) error {
			return c.do(ctx, mutationAttach, map[string]any{"id": globalID("WorkflowInstance", it.id),
				"c": globalID("Ceremony", it.ceremony), "v": it.version}, nil)
		},
		rawFire: rawAttach,
	},
}

// queue hands out pool items once each.
type queue struct {
	items []poolItem
	next  atomic.Int64
}

func (q *queue) take() (poolItem, bool) {
	i := q.next.Add(1) - 1
	if i >= int64(len(q.items)) {
		return poolItem{}, false
	}
	return q.items[i], true
}

// The raw transitions do what the engine does in one transaction: lock
// the instance, check its state and version, write the new state with the
// version bumped, append the history event (the trigger chains it) and,
// for a state with a timer, store the timer and insert its River job.

func lockInstance(ctx context.Context, tx pgx.Tx, it poolItem, from string) (map[string]any, int, error) {
	var state string
	var version, round int
	var data []byte
	if err := tx.QueryRow(ctx, `SELECT state, version, round, data FROM workflow_instances WHERE id = $1 FOR UPDATE`, it.id).
		Scan(&state, &version, &round, &data); err != nil {
		return nil, 0, err
	}
	if state != from || version != it.version {
		return nil, 0, fmt.Errorf("instance %s is %s v%d, not %s v%d", it.id, state, version, from, it.version)
	}
	var m map[string]any
	return m, round, json.Unmarshal(data, &m)
}

func moveInstance(ctx context.Context, tx pgx.Tx, it poolItem, data map[string]any, to string, now time.Time) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE workflow_instances SET state = $2, state_entered_at = $3, round = round + 1, data = $4,
		final = false, updated_at = $3, version = version + 1 WHERE id = $1 AND version = $5`, it.id, to, now, b, it.version)
	if err == nil && tag.RowsAffected() != 1 {
		err = errors.New("conflict")
	}
	return err
}

func appendEvent(ctx context.Context, tx pgx.Tx, it poolItem, actor uuid.UUID, transition, from, to, input string, now time.Time) error {
	var seq int
	var hash []byte
	return tx.QueryRow(ctx, `INSERT INTO history_events (stream, seq, occurred_at, actor_id, kind, instance_id, workflow_kind,
			transition, from_state, to_state, input, reason, public, hash)
		VALUES ($1, 0, $2, $3, 'transition', $4, 'signing', $5, $6, $7, $8, '', false, '') RETURNING seq, hash`,
		"instance:"+it.id.String(), now, actor, it.id, transition, from, to, input).Scan(&seq, &hash)
}

func answer(it poolItem, state string) error {
	return encode(map[string]any{"x": map[string]any{"instance": map[string]any{"id": globalID("WorkflowInstance", it.id),
		"state": state, "version": it.version + 1}}})
}

func rawApprove(ctx context.Context, db *pgxpool.Pool, it poolItem, actor uuid.UUID) error {
	now := time.Now()
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		data, _, err := lockInstance(ctx, tx, it, "under_review")
		if err != nil {
			return err
		}
		if err := moveInstance(ctx, tx, it, data, "approved", now); err != nil {
			return err
		}
		return appendEvent(ctx, tx, it, actor, "approve", "under_review", "approved",
			`{"independent": true, "democraticValues": true, "regionalPerspective": true}`, now)
	})
	if err != nil {
		return err
	}
	return answer(it, "approved")
}

func rawAttach(ctx context.Context, db *pgxpool.Pool, it poolItem, actor uuid.UUID) error {
	now := time.Now()
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		data, round, err := lockInstance(ctx, tx, it, "approved")
		if err != nil {
			return err
		}
		var held time.Time
		var status string
		if err := tx.QueryRow(ctx, `SELECT held_on, status FROM ceremonies WHERE id = $1`, it.ceremony).Scan(&held, &status); err != nil {
			return err
		}
		at := time.Date(held.Year(), held.Month(), held.Day(), 0, 0, 0, 0, clock.Stockholm)
		data["ceremonyId"], data["ceremonyDate"] = it.ceremony.String(), at.UTC().Format(time.RFC3339)
		if err := moveInstance(ctx, tx, it, data, "awaiting_ceremony", now); err != nil {
			return err
		}
		if err := appendEvent(ctx, tx, it, actor, "attach_to_ceremony", "approved", "awaiting_ceremony",
			`{"ceremonyId": "`+it.ceremony.String()+`"}`, now); err != nil {
			return err
		}
		var timer int64
		if err := tx.QueryRow(ctx, `INSERT INTO workflow_timers (instance_id, round, name, fire_at, transition, reminder, created_at)
			VALUES ($1, $2, 'ceremony', $3, 'sign_at_ceremony', '', $4) RETURNING id`, it.id, round+1, at, now).Scan(&timer); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, priority, queue, scheduled_at, state, tags)
			VALUES ($1, 'workflow_timer', 10, 1, 'default', $2, 'scheduled', '{}')`, []byte(`{"timer_id":`+strconv.FormatInt(timer, 10)+`}`), at)
		return err
	})
	if err != nil {
		return err
	}
	return answer(it, "awaiting_ceremony")
}
