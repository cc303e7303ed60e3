// Package validate checks what people type: free text, links and dates,
// with messages that say what is wrong (Swedish, then English).
package validate

import (
	"net/url"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/samverkan/samverkan/internal/apperr"
)

// Text checks a free-text field: valid UTF-8, no control characters other
// than line breaks and tabs (so no ANSI escapes, no BEL), no format
// characters (Unicode category Cf: bidirectional overrides and isolates
// such as U+202E, zero-width spaces, the byte-order mark, soft hyphens)
// other than the zero-width joiner and non-joiner (U+200D, U+200C), which
// emoji sequences and scripts such as Persian and the Indic ones need, and
// a length in characters between min and max. Every free text a command
// takes goes through it, in the domain.
func Text(field, s string, min, max int) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(field, "Texten i %s är inte giltig UTF-8. / The text of %s is not valid UTF-8.", field, field)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return apperr.Invalid(field, "Texten i %s innehåller otillåtna kontrolltecken (U+%04X). / The text of %s contains control characters (U+%04X).", field, r, field, r)
		}
		if unicode.Is(unicode.Cf, r) && r != zwnj && r != zwj {
			return apperr.Invalid(field, "Texten i %s innehåller ett osynligt formateringstecken (U+%04X). / The text of %s contains an invisible format character (U+%04X).", field, r, field, r)
		}
	}
	n := utf8.RuneCountInString(s)
	if n < min {
		if min == 1 {
			return apperr.Invalid(field, "%s får inte vara tomt. / %s must not be empty.", field, field)
		}
		return apperr.Invalid(field, "%s ska ha minst %d tecken. / %s must have at least %d characters.", field, min, field, min)
	}
	if n > max {
		return apperr.Invalid(field, "%s får ha högst %d tecken (det har %d). / %s may have at most %d characters (it has %d).", field, max, n, field, max, n)
	}
	return nil
}

// The joiners that Text allows among the format characters.
const (
	zwnj = '\u200c'
	zwj  = '\u200d'
)

// URL checks an optional http(s) link.
func URL(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 2000 {
		return apperr.Invalid(field, "%q är ingen giltig webbadress (http eller https). / %q is not a valid http(s) link.", Clip(s), Clip(s))
	}
	return nil
}

// The years the service deals with: a date or year outside them can only
// be a mistake.
const (
	MinYear = 1990
	MaxYear = 2200
)

// Date checks that a date is within the years the service deals with.
func Date(field string, t time.Time) error {
	if !InYears(t.Year()) {
		return apperr.Invalid(field, "Datumet %s ligger utanför %d–%d. / The date %s is outside %d–%d.",
			t.Format("2006-01-02"), MinYear, MaxYear, t.Format("2006-01-02"), MinYear, MaxYear)
	}
	return nil
}

// Year checks a year (of a plan, a follow-up, a report).
func Year(field string, y int) error {
	if !InYears(y) {
		return apperr.Invalid(field, "Året %d ligger utanför %d–%d. / The year %d is outside %d–%d.", y, MinYear, MaxYear, y, MinYear, MaxYear)
	}
	return nil
}

// InYears tells whether y is within MinYear–MaxYear.
func InYears(y int) bool { return y >= MinYear && y <= MaxYear }

// clipLength is how much of a refused value a message quotes.
const clipLength = 40

// Clip shortens s to its first 40 characters (runes, never bytes, so å, ä
// and ö are never split) followed by "…", for quoting input in messages.
func Clip(s string) string {
	if utf8.RuneCountInString(s) > clipLength {
		return string([]rune(s)[:clipLength]) + "…"
	}
	return s
}
