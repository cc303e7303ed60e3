package model

import (
	"encoding/hex"

	"github.com/samverkan/samverkan/internal/store"
)

// HistoryEvent is a history event as the API shows it. Its nullable texts
// and its hash are methods without a context, which gqlgen calls in line,
// and the actor is set when the page is made, so that no field needs a
// resolver: gqlgen runs each resolver field in a goroutine of its own, and
// a page of 50 events had 250 of them.
type HistoryEvent struct {
	*store.Event
	// Actor is who did it, set when the operation asks for actors (nil
	// for the system).
	Actor *store.User
}

// NullableTransition is the transition fired, or nil.
func (e HistoryEvent) NullableTransition() *string { return nullable(&e.Transition) }

// NullableFromState is the state left, or nil.
func (e HistoryEvent) NullableFromState() *string { return nullable(&e.FromState) }

// NullableToState is the state entered, or nil.
func (e HistoryEvent) NullableToState() *string { return nullable(&e.ToState) }

// HexHash is the event's chained SHA-256 in hex.
func (e HistoryEvent) HexHash() string { return hex.EncodeToString(e.Hash) }

// nullable is nil for an empty text, else the text where it lies in the
// event (no copy: a page of 50 events made 150 of them).
func nullable(s *string) *string {
	if *s == "" {
		return nil
	}
	return s
}
