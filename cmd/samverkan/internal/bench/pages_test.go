package bench

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/testdb"
)

// BenchmarkPages renders the public web pages over HTTP against the bench
// dataset (5 % scale, as BenchmarkReads), reporting statements per page.
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	db := testdb.New(b)
	sc := DefaultScale().Percent(5)
	s := newSeeder(db.Pool, sc, noProgress{}, time.Now())
	counter := &statementCounter{}
	srv, _, err := startInProc(ctx, b.TempDir(), db.URL, counter)
	require.NoError(b, err)
	b.Cleanup(func() { _ = srv.Stop() })
	_, err = s.seed(ctx, srv.app.Grant)
	require.NoError(b, err)
	_, err = db.Pool.Exec(ctx, `VACUUM ANALYZE`)
	require.NoError(b, err)
	get := func(path string) string {
		resp, err := http.Get(srv.URL() + path)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(body)
	}
	org := regexp.MustCompile(`href="(/organisations/[0-9a-f-]{36})"`).FindStringSubmatch(get("/signatories"))
	require.NotNil(b, org, "the signatory list links to organisations")
	for _, p := range []struct{ name, path string }{
		{"start", "/"}, {"signatories", "/signatories"}, {"signatories-page-3", "/signatories?page=3"},
		{"organisation", org[1]}, {"annual-reports", "/annual-reports"}, {"revision", "/revision"},
		{"partnerships", "/partnerships"}, {"history", "/history"}, {"history-digest", "/history/digest"},
	} {
		b.Run(p.name, func(b *testing.B) {
			before := counter.n.Load()
			for b.Loop() {
				get(p.path)
			}
			b.ReportMetric(float64(counter.n.Load()-before)/float64(b.N), "statements/op")
		})
	}
}
