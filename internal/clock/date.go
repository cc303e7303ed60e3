package clock

import "time"

// Today is the calendar date of t in Stockholm, as a date: midnight UTC of
// that day. Every "signed on", "published on" and "adopted on" date is one.
func Today(t time.Time) time.Time {
	s := t.In(Stockholm)
	return time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
}

// StartOfDay is the first moment of date d's day in Stockholm (d's own
// zone is ignored; only its year, month and day count).
func StartOfDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, Stockholm)
}
