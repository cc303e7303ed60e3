// Package bind holds what the GraphQL schema binds to beyond the domain
// types: the Date and DateTime scalars and the Node interface.
package bind

import (
	"bytes"
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/validate"
)

const dateLayout = "2006-01-02"

// MarshalDate writes a date as YYYY-MM-DD.
func MarshalDate(t time.Time) graphql.Marshaler { return date(t) }

type date time.Time

func (d date) MarshalGQL(w io.Writer) { WriteDate(w, time.Time(d)) }

// WriteDate writes t's date as a JSON string, YYYY-MM-DD.
func WriteDate(w io.Writer, t time.Time) { writeTime(w, t, dateLayout) }

// WriteDateTime writes t as a JSON string in RFC 3339, in t's own zone (UTC
// as read from the database).
func WriteDateTime(w io.Writer, t time.Time) { writeTime(w, t, time.RFC3339Nano) }

// writeTime writes t in layout between quotes (the layouts need no
// escaping), appending to the buffer's spare room when w is a
// bytes.Buffer, as gqlgen's answers are, so that a time costs no
// allocation.
func writeTime(w io.Writer, t time.Time, layout string) {
	if b, ok := w.(*bytes.Buffer); ok {
		_, _ = b.Write(appendQuotedTime(b.AvailableBuffer(), t, layout))
		return
	}
	var room [48]byte
	_, _ = w.Write(appendQuotedTime(room[:0], t, layout))
}

func appendQuotedTime(b []byte, t time.Time, layout string) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, layout)
	return append(b, '"')
}

// UnmarshalDate reads YYYY-MM-DD; dates outside validate.MinYear–MaxYear are refused as
// they can only be mistakes here.
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.New(apperr.BadInput, "Ett datum skrivs som en textsträng ÅÅÅÅ-MM-DD. / A date is a string YYYY-MM-DD.")
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, apperr.New(apperr.BadInput, "%q är inget giltigt datum (ÅÅÅÅ-MM-DD). / %q is not a valid date (YYYY-MM-DD).", validate.Clip(s), validate.Clip(s))
	}
	if !validate.InYears(t.Year()) {
		return time.Time{}, apperr.New(apperr.BadInput, "Datumet %s ligger utanför %d–%d. / The date %s is outside %d–%d.",
			s, validate.MinYear, validate.MaxYear, s, validate.MinYear, validate.MaxYear)
	}
	return t, nil
}

// MarshalDateTime writes t in RFC 3339 (see WriteDateTime).
func MarshalDateTime(t time.Time) graphql.Marshaler { return dateTime(t) }

type dateTime time.Time

func (d dateTime) MarshalGQL(w io.Writer) { WriteDateTime(w, time.Time(d)) }

// UnmarshalDateTime reads RFC 3339.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.New(apperr.BadInput, "En tidpunkt skrivs som RFC 3339-text. / A moment is an RFC 3339 string.")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apperr.New(apperr.BadInput, "%q är ingen giltig tidpunkt (RFC 3339). / %q is not a valid RFC 3339 time.", validate.Clip(s), validate.Clip(s))
	}
	if !validate.InYears(t.Year()) {
		return time.Time{}, apperr.New(apperr.BadInput, "Tidpunkten %s ligger utanför %d–%d. / The time %s is outside %d–%d.",
			s, validate.MinYear, validate.MaxYear, s, validate.MinYear, validate.MaxYear)
	}
	return t, nil
}

// Node is any object with a global ID. The domain types stay free of
// GraphQL, so the interface asks nothing of them; the schema decides which
// types are nodes.
type Node any

// MarshalString writes a string.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString accepts only strings: the GraphQL specification refuses
// to coerce a number or a boolean into a String, and so do we (gqlgen's own
// scalar would turn 12 into "12").
func UnmarshalString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		sv, en := kindOf(v)
		return "", apperr.New(apperr.BadInput, "Ett textvärde väntades, inte %s. / A string was expected, not %s.", sv, en)
	}
	return s, nil
}

func kindOf(v any) (string, string) {
	switch v.(type) {
	case bool:
		return "ett sanningsvärde", "true or false"
	case map[string]any:
		return "ett objekt", "an object"
	case []any:
		return "en lista", "a list"
	case nil:
		return "null", "null"
	}
	return "ett tal", "a number"
}
