package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/audit"
	"github.com/samverkan/samverkan/internal/store"
)

// The seeder writes history events with the chaining trigger off and
// computes seq, prev_hash and hash itself with internal/audit, exactly as
// the trigger would (audit verify checks it). An event's hash covers its
// input as PostgreSQL prints the stored jsonb, so the input must be written
// in that form: object keys ordered by length and then bytes, ", " and ": "
// between items, strings escaped as PostgreSQL escapes them.

// kv is one member of a JSON object.
type kv struct {
	k string
	v any
}

// jsonb returns the object's text as PostgreSQL prints a jsonb value.
// Values are strings, bools, ints, []string, []kv (an object) or nil.
func jsonb(members ...kv) string {
	var b bytes.Buffer
	writeObject(&b, members)
	return b.String()
}

func writeObject(b *bytes.Buffer, members []kv) {
	ms := append([]kv(nil), members...)
	sort.SliceStable(ms, func(i, j int) bool {
		if len(ms[i].k) != len(ms[j].k) {
			return len(ms[i].k) < len(ms[j].k)
		}
		return ms[i].k < ms[j].k
	})
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		writeString(b, m.k)
		b.WriteString(": ")
		writeValue(b, m.v)
	}
	b.WriteByte('}')
}

func writeValue(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeString(b, v)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case []string:
		b.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeString(b, s)
		}
		b.WriteByte(']')
	case []kv:
		writeObject(b, v)
	default:
		panic(fmt.Sprintf("bench: jsonb cannot print a %T", v))
	}
}

// writeString escapes as PostgreSQL's escape_json does: quote, backslash
// and the control characters; everything else (UTF-8 included) as is.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[r>>4])
				b.WriteByte("0123456789abcdef"[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// event is a history event to store.
type event struct {
	at         time.Time
	actor      *uuid.UUID
	kind       string
	instance   *uuid.UUID
	wkind      string
	transition string
	from, to   string
	input      string
	reason     string
	public     bool
}

// chain appends events to one stream, computing what the trigger would.
type chain struct {
	stream string
	seq    int
	prev   []byte
}

// eventColumns are the history_events columns the seeder writes.
var eventColumns = []string{"stream", "seq", "occurred_at", "actor_id", "kind", "instance_id", "workflow_kind",
	"transition", "from_state", "to_state", "input", "reason", "public", "prev_hash", "hash"}

// row chains e to the stream and returns it as a row of eventColumns.
func (c *chain) row(e event) []any {
	c.seq++
	if e.input == "" {
		e.input = "{}"
	}
	at := e.at.Truncate(time.Microsecond)
	se := store.Event{Stream: c.stream, Seq: c.seq, OccurredAt: at, ActorID: e.actor, Kind: e.kind, InstanceID: e.instance,
		WorkflowKind: e.wkind, Transition: e.transition, FromState: e.from, ToState: e.to, Input: e.input, Reason: e.reason,
		Public: e.public, PrevHash: c.prev}
	h := audit.Hash(se)
	var prev any
	if c.prev != nil {
		prev = c.prev
	}
	c.prev = h
	return []any{c.stream, c.seq, at, uuidOrNil(e.actor), e.kind, uuidOrNil(e.instance), e.wkind, e.transition, e.from, e.to,
		json.RawMessage(e.input), e.reason, e.public, prev, h}
}

func uuidOrNil(p *uuid.UUID) any {
	if p == nil {
		return nil
	}
	return *p
}
