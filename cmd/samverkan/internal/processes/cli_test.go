package processes_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/testdb"
)

// result is what a finished samverkan process printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// run runs samverkan with args; env entries are added to the environment.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// schemaMissing is the one line a tool prints on a database without its
// schema when it is not to migrate.
const schemaMissing = "samverkan migrate up"

// noSQL fails when a process showed a person SQL or a database error.
func noSQL(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{`relation "`, "SQLSTATE", "ERROR:", "pgx", "pgconn"} {
		require.NotContains(t, r.stdout+r.stderr, s, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
}

func tables(t *testing.T, db *testdb.Database) []string {
	var names []string
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT coalesce(array_agg(table_name::text), '{}') FROM information_schema.tables
		WHERE table_schema = 'public'`).Scan(&names))
	return names
}

// A fresh installation: every command that needs the schema migrates it
// first (as the server does on start), or, told not to migrate, says in one
// line to run `samverkan migrate up` and changes nothing. No SQL reaches a
// person.
func TestCommandsOnAFreshDatabase(t *testing.T) {
	t.Parallel()
	list := filepath.Join(t.TempDir(), "list.csv")
	require.NoError(t, os.WriteFile(list, []byte("name,organisation_number,legal_form,municipality,signed_on\n"+
		"Föreningen Solrosen,802002-4322,ideell förening,Karlstad,2018-04-20\n"), 0o644))
	version := uuid.New()
	tools := []struct {
		name string
		args []string
		// done checks what a run that migrated first did.
		done func(t *testing.T, db *testdb.Database, r result)
	}{
		{"admin grant", []string{"admin", "grant", "--subject", "anna", "--name", "Anna Admin", "--role", "admin"},
			func(t *testing.T, db *testdb.Database, r result) {
				require.Equal(t, 0, r.code, r.stderr)
				require.Contains(t, r.stdout, "anna (user ")
				require.Equal(t, 1, count(t, db, `SELECT count(*) FROM casbin_rule r JOIN users u ON 'user:' || u.id::text = r.v0
					WHERE r.ptype = 'g' AND u.subject = 'anna' AND r.v1 = 'admin'`))
			}},
		{"seed demo", []string{"seed", "demo"},
			func(t *testing.T, db *testdb.Database, r result) {
				require.Equal(t, 0, r.code, r.stderr)
				require.Equal(t, 1, count(t, db, `SELECT count(*) FROM agreements`))
			}},
		{"import signatories", []string{"import", "signatories", "--file", list, "--agreement-version", version.String(), "--dry-run"},
			func(t *testing.T, db *testdb.Database, r result) {
				// The schema is there now; the version is not.
				require.Equal(t, 1, r.code)
				require.Equal(t, "samverkan: Versionen av överenskommelsen finns inte. / The agreement version does not exist.\n", r.stderr)
			}},
	}
	for _, tool := range tools {
		t.Run(strings.ReplaceAll(tool.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			db := testdb.NewEmpty(t)
			r := run(t, nil, append(tool.args, "--database-url", db.URL, "--data-dir", t.TempDir(), "--migrate=false")...)
			noSQL(t, r)
			require.Equal(t, 1, r.code, r.stderr)
			require.Empty(t, r.stdout)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %s", r.stderr)
			require.Contains(t, r.stderr, schemaMissing)
			require.Regexp(t, "^Databasen .* / The database ", r.stderr, "Swedish, then English")
			require.Empty(t, tables(t, db), "nothing changed")

			// By default the tool migrates first, as the server does; the
			// database URL may come from the environment too.
			r = run(t, []string{"DATABASE_URL=" + db.URL}, append(tool.args, "--data-dir", t.TempDir())...)
			noSQL(t, r)
			tool.done(t, db, r)
		})
	}

	t.Run("audit_verify", func(t *testing.T) {
		t.Parallel()
		db := testdb.NewEmpty(t)
		dir := t.TempDir()
		// audit verify only reads: it does not migrate.
		r := run(t, nil, "audit", "verify", "--database-url", db.URL, "--data-dir", dir)
		noSQL(t, r)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, schemaMissing)
		require.Empty(t, tables(t, db))

		r = run(t, nil, "migrate", "status", "--database-url", db.URL, "--data-dir", dir)
		require.Equal(t, 0, r.code, r.stderr)
		require.Regexp(t, `samverkan\s+1\s+\S+\s+false`, r.stdout)
		require.Empty(t, tables(t, db), "listing the migrations changes nothing")
		r = run(t, nil, "migrate", "down", "--yes", "--database-url", db.URL, "--data-dir", dir)
		noSQL(t, r)
		require.Equal(t, 0, r.code, "nothing to remove: %s", r.stderr)
		r = run(t, nil, "migrate", "up", "--database-url", db.URL, "--data-dir", dir)
		require.Equal(t, 0, r.code, r.stderr)
		r = run(t, nil, "audit", "verify", "--database-url", db.URL, "--data-dir", dir)
		noSQL(t, r)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
	})

	t.Run("serve", func(t *testing.T) {
		t.Parallel()
		db := testdb.NewEmpty(t)
		r := run(t, nil, "api", "--database-url", db.URL, "--data-dir", t.TempDir(), "--addr", freeAddr(t), "--migrate=false", "--log-level", "warn")
		noSQL(t, r)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, schemaMissing)
		require.Empty(t, tables(t, db))
	})

	t.Run("token", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r := run(t, []string{"SAMVERKAN_DATA_DIR=" + dir}, "token", "--subject", "anna")
		require.Equal(t, 0, r.code, r.stderr)
		require.Regexp(t, `^ey[\w-]+\.[\w-]+\.[\w-]+\n$`, r.stdout)
		require.FileExists(t, filepath.Join(dir, "dev-issuer", "signing-key.pem"))
	})
}

var flagName = regexp.MustCompile(`(?m)^\s+--([a-z-]+)`)

// flagsOf lists the flags a subcommand's --help shows.
func flagsOf(t *testing.T, args ...string) []string {
	t.Helper()
	r := run(t, nil, append(args, "--help")...)
	require.Equal(t, 0, r.code, r.stderr)
	if len(args) > 0 {
		require.NotContains(t, r.stdout, "GLOBAL OPTIONS", "a subcommand lists only its own flags")
	}
	var names []string
	for _, m := range flagName.FindAllStringSubmatch(r.stdout, -1) {
		names = append(names, m[1])
	}
	return names
}

// Each subcommand's --help lists the flags it uses, no more; the server
// subcommands list every setting.
func TestEachSubcommandListsTheFlagsItUses(t *testing.T) {
	t.Parallel()
	var server []string
	for _, f := range config.Flags(config.All) {
		server = append(server, f.Names()[0])
	}
	server = append(server, "help")
	require.Len(t, server, 50)
	tool := []string{"database-url", "migration-database-url", "data-dir", "pg-user", "log-level", "log-format", "migrate", "db-max-conns"}
	database := []string{"database-url", "migration-database-url", "data-dir", "pg-user", "log-level", "log-format", "db-max-conns"}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, server},
		{[]string{"serve"}, server},
		{[]string{"api"}, server},
		{[]string{"worker"}, server},
		{[]string{"token"}, []string{"data-dir", "subject", "name", "email", "ttl", "help"}},
		{[]string{"admin", "grant"}, append(slices.Insert(slices.Clone(tool), 7, "oidc-issuer"), "subject", "name", "role", "scope", "help")},
		{[]string{"seed", "demo"}, append(slices.Insert(slices.Clone(tool), 7, "oidc-issuer"), "help")},
		{[]string{"import", "signatories"}, append(slices.Clone(tool), "file", "agreement-version", "dry-run", "json", "help")},
		{[]string{"import", "followups"}, append(slices.Clone(tool), "file", "agreement-version", "dry-run", "json", "help")},
		{[]string{"audit", "verify"}, append(slices.Clone(database), "json", "help")},
		{[]string{"migrate", "up"}, append(slices.Clone(database), "help")},
		{[]string{"migrate", "down"}, append(slices.Clone(database), "yes", "help")},
		{[]string{"migrate", "status"}, append(slices.Clone(database), "json", "help")},
		{[]string{"healthcheck"}, []string{"url", "help"}},
		{[]string{"version"}, []string{"help"}},
	} {
		t.Run(strings.Join(append([]string{"samverkan"}, c.args...), "_"), func(t *testing.T) {
			require.Equal(t, c.want, flagsOf(t, c.args...))
		})
	}
	// The bench keeps its own flags and no server settings.
	bench := flagsOf(t, "bench")
	require.Contains(t, bench, "scale")
	require.NotContains(t, bench, "max-depth")
}

// A dry run of a paper list with problems of every kind: the report on
// stdout lists them in line order, each in Swedish then English, and holds
// no log line; logs go to stderr, only from --log-level up.
func TestImportDryRunReportsInLineOrderInSwedishThenEnglish(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	agreements(t, db, 1)
	var version uuid.UUID
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT id FROM agreement_versions`).Scan(&version))
	list := "name;organisation_number;legal_form;municipality;signed_on\n" +
		"Föreningen Solrosen;802002-4322;ideell förening;Karlstad;2018-04-20\n" + // 2: fine
		"Trasig;556036-0794;ideell förening;Arvika;2018-04-20\n" + // 3: check digit
		"Inget datum;556036-0793;kooperativ;Kil;20 april\n" + // 4: not a date (found while reading)
		"Dubblett;802002-4322;stiftelse;Sunne;2018-05-01\n" + // 5: duplicate of line 2
		"För få kolumner;212000-1355\n" + // 6: too few columns (found while reading)
		"Konstig form;212000-1355;aktiebolag;Kil;2018-06-01\n" // 7: unknown legal form
	f := filepath.Join(t.TempDir(), "list.csv")
	require.NoError(t, os.WriteFile(f, []byte(list), 0o644))
	args := []string{"import", "signatories", "--database-url", db.URL, "--data-dir", t.TempDir(),
		"--file", f, "--agreement-version", version.String(), "--dry-run"}

	r := run(t, nil, args...)
	require.Equal(t, 1, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 6, r.stdout)
	want := []struct {
		line   int
		sv, en string
	}{
		{3, "Kontrollsiffran i 556036-0794 stämmer inte", "The check digit of 556036-0794 is wrong"},
		{4, `signed_on "20 april" är inget datum ÅÅÅÅ-MM-DD.`, `signed_on "20 april" is not a date YYYY-MM-DD.`},
		{5, "finns redan på rad 2", "is already on line 2"},
		{6, "Raden har 2 kolumner, 5 väntades.", "The line has 2 columns, 5 expected."},
		{7, `okänd organisationsform "aktiebolag"`, `unknown legal form "aktiebolag"`},
	}
	for i, w := range want {
		got := lines[i]
		prefix := fmt.Sprintf("rad %d / line %d: ", w.line, w.line)
		require.True(t, strings.HasPrefix(got, prefix), "problem %d in line order: %q", i, r.stdout)
		sv, en := strings.Index(got, w.sv), strings.Index(got, w.en)
		require.True(t, sv >= 0 && en > sv && strings.Contains(got[sv:en], " / "), "Swedish, then English: %q", got)
	}
	require.Equal(t, "6 rader, 1 giltiga, 5 med problem, 0 importerade (0 nya organisationer) / "+
		"6 rows, 1 valid, 5 with problems, 0 imported (0 new organisations)", lines[5])
	require.Equal(t, "Listan har problem. / The list has problems.\n", r.stderr, "no log line at the default level")

	// At --log-level info the service's log lines appear, on stderr only.
	r2 := run(t, []string{"SAMVERKAN_LOG_LEVEL=info"}, args...)
	require.Equal(t, r.stdout, r2.stdout, "the report holds no log line")
	require.Contains(t, r2.stderr, "level=INFO")
	r3 := run(t, nil, append(args, "--log-level", "debug", "--log-format", "json")...)
	require.Equal(t, r.stdout, r3.stdout)
	require.Contains(t, r3.stderr, `"level":"INFO"`)

	// The JSON report is in line order too.
	r4 := run(t, nil, append(args, "--json")...)
	require.Regexp(t, `"line":3.*"line":4.*"line":5.*"line":6.*"line":7`, r4.stdout)
}
