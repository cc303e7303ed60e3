package csvtable

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
)

// A file as Swedish Excel saves it: a byte-order mark, semicolons, the
// columns in another order, a bad line among good ones.
func TestReadsASpreadsheetExport(t *testing.T) {
	file := "\ufeffÅr;Namn\n2019; Förening A \n2020;\"Förening \"B\"\n2021\n2022;Förening C\n"
	lines, problems, err := Read(strings.NewReader(file), []string{"namn", "år"}, nil)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	require.Equal(t, "Förening A", lines[0].Get("namn"))
	require.Equal(t, "2019", lines[0].Get("år"))
	require.Equal(t, 2, lines[0].Number)
	require.Equal(t, "", lines[0].Get("url"), "a column the file does not have is empty")
	require.Equal(t, "Förening C", lines[1].Get("namn"))
	require.Len(t, problems, 2)
	require.Equal(t, 3, problems[0].Line)
	require.Contains(t, problems[0].Reason, "citat")
	require.Equal(t, 4, problems[1].Line)
	require.Contains(t, problems[1].Reason, "Raden har 1 kolumner, 2 väntades.")
}

func TestAMissingColumnIsBadInputOnTheFile(t *testing.T) {
	_, _, err := Read(strings.NewReader("year,title\n2019,X\n"), []string{"year", "title", "published_on"}, []string{"url"})
	e, ok := apperr.As(err)
	require.True(t, ok)
	require.Equal(t, apperr.BadInput, e.Code)
	require.Equal(t, "file", e.Field)
	require.Equal(t, `Rubrikraden ska ha kolumnerna year, title, published_on (och gärna url); "published_on" saknas. / The header must have the columns year, title, published_on (and optionally url); "published_on" is missing.`, e.Message)
}
