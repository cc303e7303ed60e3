package validate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/validate"
)

// Free text refuses control characters (ANSI escapes, BEL) and invisible
// format characters, but keeps line breaks, tabs and the joiners that
// emoji and some scripts need.
func TestTextRefusesControlAndFormatCharacters(t *testing.T) {
	for _, s := range []string{"röd \u001b[31mtext", "ding\u0007", "right\u202eto left", "zero\u200bwidth",
		"\ufeffbom", "soft\u00adhyphen", "isolate\u2066x\u2069", "word\u2060joiner"} {
		err := validate.Text("reason", s, 0, 100)
		require.Error(t, err, "%q", s)
		require.Equal(t, apperr.BadInput, apperr.CodeOf(err))
		var e *apperr.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "reason", e.Field)
	}
	for _, s := range []string{"Två rader\noch\ten tabb\r\n", "👩\u200d👩\u200d👧 familj", "می\u200cخواهم", "Å ä ö"} {
		require.NoError(t, validate.Text("reason", s, 0, 100), "%q", s)
	}
}
