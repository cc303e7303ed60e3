package processes_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/testdb"
)

// importList runs the import; it returns what was printed (stdout, then
// stderr) and the exit code.
func importList(t *testing.T, db *testdb.Database, version uuid.UUID, csv string, args ...string) (string, int) {
	return importFile(t, "signatories", db, version, csv, args...)
}

// importFile runs an import of what ("signatories", "followups").
func importFile(t *testing.T, what string, db *testdb.Database, version uuid.UUID, csv string, args ...string) (string, int) {
	f := filepath.Join(t.TempDir(), "list.csv")
	require.NoError(t, os.WriteFile(f, []byte(csv), 0o644))
	cmd := exec.Command(binary, append([]string{"import", what, "--database-url", db.URL, "--data-dir", t.TempDir(),
		"--migrate=false", "--file", f, "--agreement-version", version.String()}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	return stdout.String() + stderr.String(), cmd.ProcessState.ExitCode()
}

// An installation with a paper list: a dry run reports every bad line by
// number; a real run is all or nothing and records each signing as
// imported.
func TestImportSignatories(t *testing.T) {
	db := testdb.New(t)
	agreements(t, db, 1)
	var version uuid.UUID
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT id FROM agreement_versions`).Scan(&version))

	bad := "name;organisation_number;legal_form;municipality;signed_on\n" +
		"Föreningen Solrosen;802002-4322;ideell förening;Karlstad;2018-04-20\n" +
		"Trasig;556036-0794;ideell förening;Arvika;2018-04-20\n" +
		"Dubblett;802002-4322;stiftelse;Sunne;2018-05-01\n" +
		"För tidig;212000-0142;nätverk;Kil;2017-12-31\n" +
		"Konstig form;212000-1355;aktiebolag;Kil;2018-06-01\n" +
		"Inget datum;556036-0793;kooperativ;Kil;20 april\n"
	out, code := importList(t, db, version, bad, "--dry-run")
	require.Equal(t, 1, code, out)
	for _, want := range []string{"line 3: ", "check digit", "line 4: ", "already on line 2", "line 5: ", "before the adoption",
		"line 6: ", "unknown legal form", "line 7: ", "not a date"} {
		require.Contains(t, out, want)
	}
	out, code = importList(t, db, version, bad)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "Nothing was imported")
	require.Zero(t, count(t, db, `SELECT count(*) FROM signatories`), "all or nothing")
	require.Zero(t, count(t, db, `SELECT count(*) FROM organisations WHERE sector = 'idea_based'`))

	good := "name,organisation_number,legal_form,municipality,signed_on\n" +
		"Föreningen Solrosen,802002-4322,ideell förening,Karlstad,2018-04-20\n" +
		"Klarälvens Vänner,556036-0793,kooperativ,Karlstad,2018-04-20\n" +
		"Stiftelsen Bryggan,212000-1355,stiftelse,Arvika,2018-09-03\n"
	out, code = importList(t, db, version, good, "--json")
	require.Equal(t, 0, code, out)
	var rep struct{ Rows, Valid, Imported, NewOrganisations int }
	require.NoError(t, json.NewDecoder(strings.NewReader(out)).Decode(&rep), out)
	require.Equal(t, 3, rep.Imported)
	require.Equal(t, 3, rep.NewOrganisations)
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM signatories WHERE how = 'imported'`))
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM signatories WHERE signed_on = '2018-04-20'`))
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM history_events WHERE kind = 'imported' AND public`))

	// Importing the same list again refuses every line: they have signed.
	out, code = importList(t, db, version, good, "--dry-run")
	require.Equal(t, 1, code)
	require.Contains(t, out, "has already signed this version")

	// A look-alike of an organisation already registered (a Greek ο) is
	// refused as registering it would be.
	out, code = importList(t, db, version, "name;organisation_number;legal_form;municipality;signed_on\n"+
		"Föreningen Sοlrosen;802002-5550;ideell förening;Karlstad;2018-04-20\n", "--dry-run")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "confusable with an organisation already registered: Föreningen Solrosen")
}

// Past years' follow-ups from paper: a dry run reports the bad lines by
// number; a real run is all or nothing and records each year as a finished
// follow-up, imported, with its annual report.
func TestImportFollowUps(t *testing.T) {
	db := testdb.New(t)
	agreements(t, db, 1)
	var version uuid.UUID
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT id FROM agreement_versions`).Scan(&version))

	bad := "year;title;published_on;url\n" +
		"2018;Årsberättelse 2018;2019-03-01;https://region.example/2018.pdf\n" +
		"2017;Före antagandet;2018-03-01;\n" +
		"2019;Årsberättelse 2019;april;\n"
	out, code := importFile(t, "followups", db, version, bad, "--dry-run")
	require.Equal(t, 1, code, out)
	require.Less(t, strings.Index(out, "line 3: "), strings.Index(out, "line 4: "), out)
	require.Contains(t, out, "before the adoption")
	require.Contains(t, out, "not a date")
	out, code = importFile(t, "followups", db, version, bad)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "Nothing was imported")
	require.Zero(t, count(t, db, followUps), "all or nothing")

	good := "year,title,published_on,url\n" +
		"2018,Årsberättelse 2018,2019-03-01,https://region.example/2018.pdf\n" +
		"2019,Årsberättelse 2019,2020-02-20,\n" +
		"2020,Årsberättelse 2020,2021-03-05,\n"
	out, code = importFile(t, "followups", db, version, good, "--json")
	require.Equal(t, 0, code, out)
	var rep struct{ Rows, Valid, Imported int }
	require.NoError(t, json.NewDecoder(strings.NewReader(out)).Decode(&rep), out)
	require.Equal(t, 3, rep.Imported)
	require.Equal(t, 3, count(t, db, followUps+` AND final AND state = 'plan_adopted'`))
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM annual_reports`))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM annual_reports WHERE document_url = 'https://region.example/2018.pdf' AND published_on = '2019-03-01'`))
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM history_events WHERE kind = 'imported' AND public`))

	out, code = importFile(t, "followups", db, version, good, "--dry-run")
	require.Equal(t, 1, code)
	require.Contains(t, out, "the follow-up of 2018 already exists")
}
