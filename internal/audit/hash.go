// Package audit checks the append-only history independently of the
// database: it recomputes every event's hash in Go, follows each stream's
// hash chain, and condenses the heads of all streams into one digest that
// anyone can note and compare later.
//
// The canonical text of an event is defined twice, here and in the SQL
// function history_event_hash (migrations/00003_workflows.sql); a test
// keeps the two in agreement. Changing either means a new version prefix.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/samverkan/samverkan/internal/store"
)

// Version prefixes every canonical text.
const Version = "samverkan-history-v1"

// timeLayout is occurred_at in UTC with microseconds, as PostgreSQL's
// to_char(... 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') prints it.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// CanonicalText is the text an event's hash covers: the version prefix,
// then every field as <octet length in decimal>:<field>. Input must be the
// jsonb text exactly as PostgreSQL prints it (input::text), which is what
// store reads.
func CanonicalText(e store.Event) []byte {
	actor, instance := "", ""
	if e.ActorID != nil {
		actor = e.ActorID.String()
	}
	if e.InstanceID != nil {
		instance = e.InstanceID.String()
	}
	fields := [...]string{
		e.Stream,
		strconv.Itoa(e.Seq),
		e.OccurredAt.UTC().Format(timeLayout),
		actor,
		e.Kind,
		instance,
		e.WorkflowKind,
		e.Transition,
		e.FromState,
		e.ToState,
		e.Input,
		e.Reason,
		strconv.FormatBool(e.Public),
		hex.EncodeToString(e.PrevHash), // "" when nil
	}
	n := len(Version)
	for _, f := range fields {
		n += len(f) + 21
	}
	b := make([]byte, 0, n)
	b = append(b, Version...)
	for _, f := range fields {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
	}
	return b
}

// Hash is the SHA-256 of the event's canonical text: what the stored hash
// must be.
func Hash(e store.Event) []byte {
	sum := sha256.Sum256(CanonicalText(e))
	return sum[:]
}
