package followup_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/workflows/followup"
)

// A region that starts using samverkan late records its past years'
// follow-ups as done: a dry run reports every bad line by number, in line
// order; a real run is all or nothing, and each year becomes a finished
// follow-up whose history says it was imported, with its published annual
// report (and link).
func TestImportPastFollowUps(t *testing.T) {
	f := newFixture(t) // version adopted 2038-01-30; today is in 2041
	bad := "year;title;published_on;url\n" +
		"2038;Årsberättelse 2038;2039-03-01;https://region.example/ar2038.pdf\n" +
		"2037;För tidigt;2038-03-01;\n" +
		"2038;Dubblett;2039-04-01;\n" +
		"tjugo;Inget år;2039-04-01;\n" +
		"2039;Publicerad för tidigt;2039-12-01;\n" +
		"2041;Året är inte slut;2042-03-01;\n" +
		"2039;Trasig länk;2040-03-01;ftp://x\n"
	rows, problems, err := followup.ReadImportCSV(strings.NewReader(bad))
	require.NoError(t, err)
	rep, err := f.FollowUp.Import(ctx, f.official, f.version, rows, problems, true, nil)
	require.NoError(t, err)
	require.Equal(t, 7, rep.Rows)
	require.Equal(t, 1, rep.Valid)
	var lines []int
	for _, p := range rep.Problems {
		lines = append(lines, p.Line)
	}
	require.Equal(t, []int{3, 4, 5, 6, 7, 8}, lines, "every bad line, in line order")
	for i, want := range []string{"before the adoption", "already on line 2", "not a year", "before the year ended", "has not ended", "not a valid"} {
		require.Contains(t, rep.Problems[i].Reason, want)
		require.Contains(t, rep.Problems[i].Reason, " / ", "Swedish, then English")
	}
	rep, err = f.FollowUp.Import(ctx, f.official, f.version, rows, problems, false, nil)
	require.NoError(t, err)
	require.Zero(t, rep.Imported)
	all, err := f.FollowUp.FollowUps(ctx, f.version)
	require.NoError(t, err)
	require.Empty(t, all, "all or nothing")

	_, err = f.FollowUp.Import(ctx, f.councilSector, f.version, nil, nil, true, nil)
	require.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "officials and admins import")

	good := "year,title,published_on,url\n" +
		"2038,Årsberättelse 2038,2039-03-01,https://region.example/ar2038.pdf\n" +
		"2039,Årsberättelse 2039,2040-02-15,\n"
	rows, problems, err = followup.ReadImportCSV(strings.NewReader(good))
	require.NoError(t, err)
	rep, err = f.FollowUp.Import(ctx, f.official, f.version, rows, problems, false, nil)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Imported)
	require.Empty(t, rep.Problems)

	all, err = f.FollowUp.FollowUps(ctx, f.version)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, 2038, followup.Year(all[0]))
	require.Equal(t, string(followup.PlanAdopted), all[0].State)
	require.True(t, all[0].Final, "done: nothing waits")
	events, _, err := f.Engine.History(ctx, authz.Principal{}, all[0], 0, 10)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "imported", events[0].Kind, "the public history says it was imported")

	ars, err := f.FollowUp.AnnualReports(ctx, f.version, 0)
	require.NoError(t, err)
	require.Len(t, ars, 2)
	require.Equal(t, "Årsberättelse 2038", ars[0].Title)
	require.Equal(t, "2039-03-01", ars[0].PublishedOn.Format("2006-01-02"))
	require.Equal(t, "https://region.example/ar2038.pdf", ars[0].DocumentURL)
	require.Empty(t, ars[1].DocumentURL)

	// A year already followed up cannot be imported again.
	rep, err = f.FollowUp.Import(ctx, f.official, f.version, rows[:1], nil, true, nil)
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	require.Contains(t, rep.Problems[0].Reason, "already exists")
	// The year after is opened as usual.
	in, err := f.FollowUp.Open(ctx, f.official, f.version, 2040)
	require.NoError(t, err)
	require.Equal(t, string(followup.Opened), in.State)
}
