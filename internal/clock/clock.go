// Package clock gives the service its idea of "now". Nothing else calls
// time.Now for domain time, so tests can drive dated stories (2018 → 2023)
// and River, given the same clock, fires scheduled jobs when the story's
// time reaches them.
package clock

import (
	"sync"
	"time"
	// The zone database is embedded so that dates are right in minimal
	// containers without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Clock tells the time. It satisfies River's rivertype.TimeGenerator so that
// the job queue and the domain agree on what time it is.
type Clock interface {
	Now() time.Time
	// NowOrNil returns nil for the real clock (River then uses the
	// database's now()) and the current time for a test clock.
	NowOrNil() *time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns the wall-clock time.
func (Real) Now() time.Time { return time.Now() }

// NowOrNil returns nil: the real clock is not stubbed.
func (Real) NowOrNil() *time.Time { return nil }

// Test is a clock for tests that keeps running at wall-clock speed from a
// chosen moment and can be moved forward. Time keeps flowing (rather than
// standing still) because River's leader election and fetch loops measure
// durations with it.
type Test struct {
	mu     sync.Mutex
	offset time.Duration
}

// NewTest returns a test clock that reads start now.
func NewTest(start time.Time) *Test {
	return &Test{offset: time.Until(start)}
}

// Now returns the test time.
func (c *Test) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// NowOrNil returns the test time: a test clock is always stubbed.
func (c *Test) NowOrNil() *time.Time {
	t := c.Now()
	return &t
}

// AdvanceTo moves the clock forward to t; it never moves it back.
func (c *Test) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := time.Until(t); d > c.offset {
		c.offset = d
	}
}

// Advance moves the clock forward by d.
func (c *Test) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.offset += d
	}
}

// Stockholm is the time zone users' dates are in.
var Stockholm = mustLoad("Europe/Stockholm")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}
