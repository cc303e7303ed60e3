package validate_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/validate"
)

// Clip cuts between characters, never inside å, ä or ö.
func TestClipCutsBetweenCharacters(t *testing.T) {
	s := strings.Repeat("a", 39) + "åäö"
	require.Equal(t, strings.Repeat("a", 39)+"å…", validate.Clip(s))
	require.True(t, utf8.ValidString(validate.Clip(strings.Repeat("ö", 100))))
	require.Equal(t, "Värmland", validate.Clip("Värmland"))
}
