package publiccache

import (
	"context"
	"fmt"
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
