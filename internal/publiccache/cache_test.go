package publiccache

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// Every table an answer can read bumps the generation, once per committed
// transaction however many statements it runs, and a rolled-back one not
// at all.
func TestEveryCommitToPublicDataBumpsTheGenerationOnce(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	missing, err := store.TablesWithoutPublicTrigger(ctx, db.Pool)
	require.NoError(t, err)
	require.Empty(t, missing, "a table without the public_data_changed trigger (migration 00020) would let the public-read cache serve stale answers")

	gen := func() int64 {
		n, err := store.PublicGeneration(ctx, db.Pool)
		require.NoError(t, err)
		return n
	}
	before := gen()
	require.NoError(t, pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		for i, name := range []string{"A", "B", "C"} {
			if _, err := tx.Exec(ctx, `INSERT INTO organisations (name, organisation_number, legal_form, sector, created_at, updated_at)
				VALUES ($1, $2, 'other', 'public', now(), now())`, "Org "+name, fmt.Sprintf("555000000%d", i)); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE organisations SET municipality = 'Arvika' WHERE name LIKE 'Org %'`)
		return err
	}))
	require.Equal(t, before+1, gen(), "one commit, one number")

	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE organisations SET municipality = 'Torsby'`)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))
	require.Equal(t, before+1, gen(), "a rollback changes nothing")

	_, err = db.Pool.Exec(ctx, `DELETE FROM organisations WHERE name = 'Org A'`)
	require.NoError(t, err)
	require.Equal(t, before+2, gen())
}

func TestNormaliseDropsOnlyInsignificantCharacters(t *testing.T) {
	a := normalise("query($s: String) {\n  organisations(search: $s, first: 10) { # names\n edges { node { name } } } }")
	b := normalise("query($s: String) { organisations(search: $s first: 10) { edges { node { name } } } }")
	require.Equal(t, string(b), string(a))
	require.NotEqual(t, string(normalise(`{ organisations(search: "a  b") { totalCount } }`)),
		string(normalise(`{ organisations(search: "a b") { totalCount } }`)), "spaces inside strings count")
	require.Equal(t, `{ a(s: "x, # y") }`, string(normalise("{ a(s: \"x, # y\") }")))
}

// A request that asks for a fresh answer (Cache-Control: no-cache) does
// not read the generation: its answer is kept under the newest one the
// cache knows, which is never newer than what the answer saw. Here the
// cache does not listen, so it knows of a commit only by reading: the
// answer computed after the commit it has not read is then never served
// as current, and the next request that reads the generation computes
// the answer again.
func TestAFreshAnswerIsKeptUnderTheGenerationKnownAndNeverServedStale(t *testing.T) {
	db := testdb.New(t)
	bg := context.Background()
	deaf, cancel := context.WithCancel(bg)
	cancel()
	c := New(deaf, db.Pool, Options{MaxBytes: 1 << 20}) // never listens
	c.Close()
	_, err := db.Pool.Exec(bg, `INSERT INTO organisations (name, organisation_number, legal_form, sector, municipality, created_at, updated_at)
		VALUES ('Cacheföreningen', '5550000001', 'other', 'public', 'Arvika', now(), now())`)
	require.NoError(t, err)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m string
		if err := db.Pool.QueryRow(r.Context(), `SELECT municipality FROM organisations WHERE name = 'Cacheföreningen'`).Scan(&m); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		Report(r.Context(), Outcome{AnonymousQuery: true})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":{"municipality":%q}}`, m)
	}))
	ask := func(fresh bool) (body, how string) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ municipality }"}`))
		r.Header.Set("Content-Type", "application/json")
		if fresh {
			r.Header.Set("Cache-Control", "no-cache")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code)
		return w.Body.String(), w.Header().Get(HitHeader)
	}
	body, how := ask(false)
	require.Contains(t, body, "Arvika")
	require.Equal(t, "miss", how)
	_, how = ask(false)
	require.Equal(t, "hit", how)
	known := c.Stats().Generation

	_, err = db.Pool.Exec(bg, `UPDATE organisations SET municipality = 'Torsby' WHERE name = 'Cacheföreningen'`)
	require.NoError(t, err)
	body, how = ask(true)
	require.Contains(t, body, "Torsby", "a fresh answer is computed now")
	require.Equal(t, "miss", how)
	require.Equal(t, known, c.Stats().Generation, "a fresh answer does not read the generation")

	body, how = ask(false)
	require.Contains(t, body, "Torsby")
	require.Equal(t, "miss", how, "kept under a generation older than the newest, the fresh answer is not served")
	require.Greater(t, c.Stats().Generation, known)
	body, how = ask(false)
	require.Contains(t, body, "Torsby")
	require.Equal(t, "hit", how)
}
