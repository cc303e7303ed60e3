package validate

import "unicode/utf8"

// Clip shortens s to at most max characters (runes, so that å, ä and ö
// are never cut in half) and marks a cut with "…"; it is for quoting input
// back in a message.
func Clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}
