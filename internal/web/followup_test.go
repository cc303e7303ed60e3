package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/clock"
)

func testLocalizer(t *testing.T, lang string) Localizer {
	t.Helper()
	msgs, err := loadCatalogues()
	require.NoError(t, err)
	return Localizer{Lang: lang, msgs: msgs[lang]}
}

// Numbers are read as people write them in either language.
func TestParseNumberReadsSwedishAndEnglishForms(t *testing.T) {
	for in, want := range map[string]float64{"1250": 1250, "1 250": 1250, "1\u00a0250,5": 1250.5, "12.5": 12.5, "-5": -5, "0": 0} {
		got, ok := parseNumber(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"many", "12,5,1", "1e", ""} {
		_, ok := parseNumber(in)
		require.False(t, ok, in)
	}
}

// A deadline is a date in the Swedish form, due at the end of that day in
// Stockholm; another form is BAD_INPUT at the field, in the page's language.
func TestParseDeadlineIsTheEndOfTheDayInStockholm(t *testing.T) {
	sv := testLocalizer(t, "sv")
	got, err := parseDeadline(sv, "2027-03-31")
	require.NoError(t, err)
	require.Equal(t, time.Date(2027, 3, 31, 23, 59, 0, 0, clock.Stockholm), got)
	for _, in := range []string{"31/3 2027", "2027-02-30", "31 mars 2027"} {
		_, err := parseDeadline(sv, in)
		require.True(t, apperr.IsCode(err, apperr.BadInput), in)
		errs, err := fieldErrors(sv, err)
		require.NoError(t, err)
		require.Equal(t, "reportDeadline", errs[0].Field)
		require.Equal(t, "Skriv datumet som år-månad-dag, till exempel 2027-03-31.", errs[0].Message)
	}
	_, err = parseDeadline(testLocalizer(t, "en"), "tomorrow")
	errs, _ := fieldErrors(testLocalizer(t, "en"), err)
	require.Equal(t, "Write the date as year-month-day, for example 2027-03-31.", errs[0].Message)
}

// The plan form's blocks become the service's activities (empty blocks left
// out), and the service's "activities[i].x" comes back at block i's field.
func TestPlanFormBlocksAndTheirFields(t *testing.T) {
	f := url.Values{
		"plan2-title": {"Utbildning"}, "plan2-q2": {"yes"}, "plan2-q4": {"yes"}, "plan2-responsible": {"both"},
		"plan2-p1": {"yes"}, "plan2-indicator": {"Deltagare"}, "plan2-unit": {"personer"}, "plan2-target": {"1 250"},
		"plan3-description": {"Utan namn"},
	}
	acts, blocks, err := planOf(testLocalizer(t, "sv"), f)
	require.NoError(t, err)
	require.Equal(t, []int{2, 3}, blocks)
	require.Len(t, acts, 2)
	require.Equal(t, "Utbildning", acts[0].Title)
	require.Equal(t, []int{2, 4}, acts[0].Quarters)
	require.Equal(t, "both", acts[0].Responsible)
	require.Equal(t, []string{"Dialog"}, acts[0].Principles)
	require.Equal(t, "Deltagare", acts[0].Indicators[0].Name)
	require.Equal(t, 1250.0, *acts[0].Indicators[0].Target)
	require.Empty(t, acts[1].Title, "a block with text but no name is sent, for the service to refuse")

	err = planFieldOf(apperr.Invalid("activities[1].title", "Ange ett namn. / Give a name."), blocks)
	require.Equal(t, "plan3-title", err.(*apperr.Error).Field)
	err = planFieldOf(apperr.Invalid("activities[0].indicators.target", "x / x"), blocks)
	require.Equal(t, "plan2-target", err.(*apperr.Error).Field)
	other := apperr.New(apperr.Conflict, "x / x")
	require.Equal(t, other, planFieldOf(other, blocks), "other errors pass through")

	_, _, err = planOf(testLocalizer(t, "en"), url.Values{"plan1-title": {"A"}, "plan1-target": {"lots"}})
	require.Equal(t, "plan1-target", err.(*apperr.Error).Field)
}
