package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Event is one entry of the append-only history.
type Event struct {
	ID           int64
	Stream       string
	Seq          int
	OccurredAt   time.Time
	ActorID      *uuid.UUID
	ActorName    string
	Kind         string
	InstanceID   *uuid.UUID
	WorkflowKind string
	Transition   string
	FromState    string
	ToState      string
	// Input is the event's JSON payload exactly as stored (jsonb text).
	Input    string
	Reason   string
	Public   bool
	PrevHash []byte
	Hash     []byte
	// Actor is the actor's user row, when the event was read with it
	// (StreamsPage with HistoryColumns.Actors).
	Actor *User
}

// InstanceStream is the history stream of a workflow instance.
func InstanceStream(id uuid.UUID) string { return "instance:" + id.String() }

// AppendEvent adds an event; the database assigns its sequence number and
// chains its hash to the stream's previous event.
func AppendEvent(ctx context.Context, q Querier, e *Event) error {
	input := []byte(e.Input)
	if e.Input == "" {
		input = []byte("{}")
	}
	err := q.QueryRow(ctx, `INSERT INTO history_events (stream, seq, occurred_at, actor_id, kind, instance_id, workflow_kind,
			transition, from_state, to_state, input, reason, public, hash)
		VALUES ($1, 0, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '')
		RETURNING id, seq, input::text, prev_hash, hash`,
		e.Stream, e.OccurredAt, e.ActorID, e.Kind, e.InstanceID, e.WorkflowKind, e.Transition, e.FromState,
		e.ToState, input, e.Reason, e.Public).Scan(&e.ID, &e.Seq, &e.Input, &e.PrevHash, &e.Hash)
	return translate(err, "append history event")
}

// MarshalInput encodes an event payload.
func MarshalInput(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

const eventColumns = `e.id, e.stream, e.seq, e.occurred_at, e.actor_id, coalesce(u.name, ''), e.kind, e.instance_id,
	e.workflow_kind, e.transition, e.from_state, e.to_state, e.input::text, e.reason, e.public, e.prev_hash, e.hash`

// eventScanner scans rows of eventColumns (and, with actors, the actor's
// user columns after them) into Events. One scanner reads a whole result:
// its destinations are made once, not per row, and the short texts that
// repeat from event to event (stream, kinds, states, actor names) are
// made into strings once each, as are the actors' user rows. A page of 51
// events was about 20 allocations and 1 KB per event before.
type eventScanner struct {
	cur                         Event
	actorID, instanceID, userID pgtype.UUID
	issuer, subject, email      string
	created                     pgtype.Timestamptz
	dst                         []any
	ids                         map[[16]byte]*uuid.UUID
	users                       map[uuid.UUID]*User
}

func newEventScanner(actors bool) *eventScanner {
	s := &eventScanner{ids: map[[16]byte]*uuid.UUID{}}
	e, t := &s.cur, newTexts()
	s.dst = []any{&e.ID, t.into(&e.Stream), &e.Seq, &e.OccurredAt, &s.actorID, t.into(&e.ActorName),
		t.into(&e.Kind), &s.instanceID, t.into(&e.WorkflowKind), t.into(&e.Transition),
		t.into(&e.FromState), t.into(&e.ToState), &e.Input, &e.Reason, &e.Public, &e.PrevHash, &e.Hash}
	if actors {
		s.users = map[uuid.UUID]*User{}
		s.dst = append(s.dst, &s.userID, t.intoOrEmpty(&s.issuer), t.intoOrEmpty(&s.subject), t.intoOrEmpty(&s.email), &s.created)
	}
	return s
}

// scan reads the row into a new Event. The nullable ids are scanned as
// values and made pointers only when present: scanning into a pointer
// costs pgx a reflected allocation per column and row.
func (s *eventScanner) scan(row pgx.Row) (Event, error) {
	s.cur = Event{}
	if err := row.Scan(s.dst...); err != nil {
		return Event{}, err
	}
	e := s.cur
	if s.actorID.Valid {
		e.ActorID = s.id(s.actorID.Bytes)
	}
	if s.instanceID.Valid {
		e.InstanceID = s.id(s.instanceID.Bytes)
	}
	if s.users != nil && s.userID.Valid {
		id := uuid.UUID(s.userID.Bytes)
		u := s.users[id]
		if u == nil {
			u = &User{ID: id, Issuer: s.issuer, Subject: s.subject, Name: e.ActorName, Email: s.email, CreatedAt: s.created.Time}
			s.users[id] = u
		}
		e.Actor = u
	}
	return e, nil
}

// id is a pointer to id, shared by every event of the result with the same
// one (a page's events are mostly one instance's, by a few actors).
func (s *eventScanner) id(id [16]byte) *uuid.UUID {
	if p, ok := s.ids[id]; ok {
		return p
	}
	p := new(uuid.UUID)
	*p = id
	if len(s.ids) < maxShared {
		s.ids[id] = p
	}
	return p
}

// HistoryPage selects a page of one stream's events, newest first.
type HistoryPage struct {
	Stream     string
	PublicOnly bool
	// BeforeSeq pages backwards: only events with seq < BeforeSeq (0: from the newest).
	BeforeSeq int
	Limit     int
}

// StreamEvents reads a page of a stream's history, newest first.
func StreamEvents(ctx context.Context, q Querier, p HistoryPage) ([]Event, error) {
	before := p.BeforeSeq
	if before <= 0 {
		before = 1 << 30
	}
	rows, err := q.Query(ctx, `SELECT `+eventColumns+` FROM history_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.stream = $1 AND e.seq < $2 AND (e.public OR NOT $3)
		ORDER BY e.seq DESC LIMIT $4`, p.Stream, before, p.PublicOnly, p.Limit)
	if err != nil {
		return nil, translate(err, "read history")
	}
	sc := newEventScanner(false)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) { return sc.scan(r) })
	return out, translate(err, "read history")
}

// CountStreamEvents counts a stream's (public) events.
func CountStreamEvents(ctx context.Context, q Querier, stream string, publicOnly bool) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM history_events WHERE stream = $1 AND (public OR NOT $2)`, stream, publicOnly).Scan(&n)
	return n, translate(err, "count history")
}

// StreamHead is the newest event's hash of a stream (nil when empty).
func StreamHead(ctx context.Context, q Querier, stream string) ([]byte, int, error) {
	var h []byte
	var seq int
	err := q.QueryRow(ctx, `SELECT hash, seq FROM history_events WHERE stream = $1 ORDER BY seq DESC LIMIT 1`, stream).Scan(&h, &seq)
	if err == pgx.ErrNoRows {
		return nil, 0, nil
	}
	return h, seq, translate(err, "read history head")
}

// ScanAllEvents calls fn for every event in (stream, seq) order, for audit.
func ScanAllEvents(ctx context.Context, q Querier, fn func(Event) error) error {
	rows, err := q.Query(ctx, `SELECT `+eventColumns+` FROM history_events e LEFT JOIN users u ON u.id = e.actor_id
		ORDER BY e.stream, e.seq`)
	if err != nil {
		return translate(err, "read history")
	}
	defer rows.Close()
	sc := newEventScanner(false)
	for rows.Next() {
		e, err := sc.scan(rows)
		if err != nil {
			return translate(err, "read history")
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "read history")
}

// Head is a stream's newest event.
type Head struct {
	Stream string
	Seq    int
	Hash   []byte
}

// StreamHeads reads every stream's newest event in one query, for the
// history digest. The order is the database's; callers that need a
// collation-independent order sort the result themselves.
func StreamHeads(ctx context.Context, q Querier) ([]Head, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (stream) stream, seq, hash FROM history_events ORDER BY stream, seq DESC`)
	if err != nil {
		return nil, translate(err, "read history heads")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Head, error) {
		var h Head
		err := r.Scan(&h.Stream, &h.Seq, &h.Hash)
		return h, err
	})
	return out, translate(err, "read history heads")
}
