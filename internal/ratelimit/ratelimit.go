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

// TakeTx counts one write of person in tx, or refuses it with
// RATE_LIMITED when the person has made Max writes in the Window before
// now. Call it first in the write's transaction, before changing anything;
// the refusal says when the oldest counted write leaves the window.
func (l Limit) TakeTx(ctx context.Context, tx pgx.Tx, person uuid.UUID, now time.Time) error {
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
		wait := max(oldest.Add(l.Window).Sub(now), time.Minute)
		minutes := int(math.Ceil(wait.Minutes()))
		return apperr.New(apperr.RateLimited,
			"För många %s: högst %d per %s. Försök igen om %d minuter. / Too many %s: at most %d per %s. Try again in %d minutes.",
			l.WhatSV, l.Max, windowSV(l.Window), minutes, l.WhatEN, l.Max, windowEN(l.Window), minutes)
	}
	return store.AddRateLimitHit(ctx, tx, l.Action, person, now, since)
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
