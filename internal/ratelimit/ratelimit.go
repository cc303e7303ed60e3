// Package ratelimit bounds how often one person may make a costly write
// (such as registering an organisation). The count lives in PostgreSQL, so
// the limit holds across every process of the service, and it is taken in
// the transaction of the write it counts: a refused request writes nothing,
// and a write that fails counts nothing.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/store"
)

// Limit allows Max writes of Action per person in any Window. A Max of 0
// or less allows any number.
type Limit struct {
	// Action names what is counted, e.g. "organisation.register".
	Action string
	Max    int
	Window time.Duration
	// What the writes are called in the refusal, Swedish and English
	// ("organisationsregistreringar", "organisation registrations").
	WhatSV, WhatEN string
}

// Limiter applies a Limit. Besides the count in the database it remembers,
// in this process, whom it refused until when, so that a person who goes
// on trying after a refusal is refused again without a database round
// trip: a flood of refused requests costs the server microseconds each.
type Limiter struct {
	Limit
	refused sync.Map // uuid.UUID -> time.Time: refused until then
	n       atomic.Int64
}

// maxRemembered bounds the refusals kept in memory.
const maxRemembered = 10_000

// New returns a limiter for l.
func New(l Limit) *Limiter { return &Limiter{Limit: l} }

// Refused returns the RATE_LIMITED error when this process has refused
// person lately and the refusal still holds at now; nil otherwise. Call it
// before doing any work for the request; TakeTx has the last word.
func (l *Limiter) Refused(person uuid.UUID, now time.Time) error {
	if l.Max <= 0 || person == uuid.Nil {
		return nil
	}
	v, ok := l.refused.Load(person)
	if !ok {
		return nil
	}
	until := v.(time.Time)
	if !now.Before(until) {
		if l.refused.CompareAndDelete(person, v) {
			l.n.Add(-1)
		}
		return nil
	}
	return l.refusal(until.Sub(now))
}

// TakeTx counts one write of person in tx, or refuses it with
// RATE_LIMITED when the person has made Max writes in the Window before
// now. Call it first in the write's transaction, before changing anything;
// the refusal says when the oldest counted write leaves the window.
func (l *Limiter) TakeTx(ctx context.Context, tx pgx.Tx, person uuid.UUID, now time.Time) error {
	if l.Max <= 0 || person == uuid.Nil {
		return nil
	}
	if err := store.LockRateLimit(ctx, tx, l.Action, person); err != nil {
		return err
	}
	since := now.Add(-l.Window)
	n, oldest, err := store.RateLimitHits(ctx, tx, l.Action, person, since)
	if err != nil {
		return err
	}
	if n >= l.Max {
		until := oldest.Add(l.Window)
		l.remember(person, until, now)
		return l.refusal(until.Sub(now))
	}
	return store.AddRateLimitHit(ctx, tx, l.Action, person, now, since)
}

func (l *Limiter) remember(person uuid.UUID, until, now time.Time) {
	if l.n.Load() >= maxRemembered {
		l.refused.Range(func(k, v any) bool {
			if !now.Before(v.(time.Time)) && l.refused.CompareAndDelete(k, v) {
				l.n.Add(-1)
			}
			return true
		})
		if l.n.Load() >= maxRemembered {
			return
		}
	}
	if _, loaded := l.refused.Swap(person, until); !loaded {
		l.n.Add(1)
	}
}

func (l *Limiter) refusal(wait time.Duration) error {
	minutes := int(math.Ceil(max(wait, time.Minute).Minutes()))
	return apperr.New(apperr.RateLimited,
		"För många %s: högst %d per %s. Försök igen om %d minuter. / Too many %s: at most %d per %s. Try again in %d minutes.",
		l.WhatSV, l.Max, windowSV(l.Window), minutes, l.WhatEN, l.Max, windowEN(l.Window), minutes)
}

func windowSV(d time.Duration) string {
	if d == time.Hour {
		return "timme"
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d timmar", d/time.Hour)
	}
	return fmt.Sprintf("%d minuter", int(math.Ceil(d.Minutes())))
}

func windowEN(d time.Duration) string {
	if d == time.Hour {
		return "hour"
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", int(math.Ceil(d.Minutes())))
}
