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
// than line breaks and tabs, and a length in characters between min and max.
func Text(field, s string, min, max int) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(field, "Texten i %s är inte giltig UTF-8. / The text of %s is not valid UTF-8.", field, field)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return apperr.Invalid(field, "Texten i %s innehåller otillåtna kontrolltecken. / The text of %s contains control characters.", field, field)
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

// URL checks an optional http(s) link.
func URL(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 2000 {
		return apperr.Invalid(field, "%q är ingen giltig webbadress (http eller https). / %q is not a valid http(s) link.", clip(s), clip(s))
	}
	return nil
}

// Date checks that a date is within the years the service deals with.
func Date(field string, t time.Time) error {
	if t.Year() < 1990 || t.Year() > 2200 {
		return apperr.Invalid(field, "Datumet %s ligger utanför 1990–2200. / The date %s is outside 1990–2200.", t.Format("2006-01-02"), t.Format("2006-01-02"))
	}
	return nil
}

func clip(s string) string { return Clip(s, 40) }
