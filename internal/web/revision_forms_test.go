package web

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/clock"
)

// A draft is commented section by section: numbered parts keep their
// number and take their first line as heading, the others are counted.
func TestSectionsOfADraft(t *testing.T) {
	got := sectionsOf("1 Syfte\nSamverkan.\n\n§ 2 Principer\nDialog.\n\nEtt stycke utan nummer.\n\n3.1. Dialog\nMöten.")
	var labels, keys, headings []string
	for _, s := range got {
		labels, keys, headings = append(labels, s.Label), append(keys, s.Key), append(headings, s.Heading)
	}
	require.Equal(t, []string{"1", "2", "3", "3.1"}, labels)
	require.Equal(t, []string{"1", "2", "3", "3-1"}, keys)
	require.Equal(t, []string{"1 Syfte", "§ 2 Principer", "", "3.1. Dialog"}, headings)
	require.Equal(t, []string{"Ett stycke utan nummer."}, got[2].Lines)
	require.Equal(t, []string{"Möten."}, got[3].Lines)
}

// The round's last day runs to its end in Stockholm; what is no date is
// the zero time, which the service refuses at the field.
func TestDeadlineOfADate(t *testing.T) {
	require.Equal(t, time.Date(2019, 3, 15, 23, 59, 0, 0, clock.Stockholm), deadlineOf(" 2019-03-15 "))
	require.True(t, deadlineOf("15 mars").IsZero())
	require.True(t, deadlineOf("").IsZero())
}

// A service's message that begins with a field's name names the field by
// its label instead; any other message is left as it is.
func TestMessagesNameTheFieldByItsLabel(t *testing.T) {
	msgs, err := loadCatalogues()
	require.NoError(t, err)
	sv, en := Localizer{Lang: "sv", msgs: msgs["sv"]}, Localizer{Lang: "en", msgs: msgs["en"]}
	require.Equal(t, "Fältet ”Svaret” får inte vara tomt.", namedField(sv, "response får inte vara tomt.", "response", "Svaret"))
	require.Equal(t, "The field “Response” must not be empty.", namedField(en, "response must not be empty.", "response", "Response"))
	require.Equal(t, "Ange ett skäl.", namedField(sv, "Ange ett skäl.", "reason", "Skäl"))
}
