package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// The binary codec must read and write exactly what PostgreSQL's own text
// form says, including NULLs and arrays.
func TestUUIDRoundTrip(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	id := uuid.MustParse("0193a8f2-7c1e-7d4b-9a51-3c2f8e6d1b07")
	other := uuid.New()

	var text string
	var back uuid.UUID
	if err := db.Pool.QueryRow(ctx, "SELECT $1::uuid::text, $1::uuid", id).Scan(&text, &back); err != nil {
		t.Fatal(err)
	}
	if text != id.String() || back != id {
		t.Fatalf("sent %s, database saw %s and gave back %s", id, text, back)
	}

	var nullable *uuid.UUID
	if err := db.Pool.QueryRow(ctx, "SELECT NULL::uuid").Scan(&nullable); err != nil {
		t.Fatal(err)
	}
	if nullable != nil {
		t.Fatalf("NULL scanned as %v", *nullable)
	}
	var plain uuid.UUID
	if err := db.Pool.QueryRow(ctx, "SELECT NULL::uuid").Scan(&plain); err == nil {
		t.Fatal("NULL scanned into a uuid.UUID without an error")
	}

	var list []uuid.UUID
	if err := db.Pool.QueryRow(ctx, "SELECT array_agg(x ORDER BY o) FROM unnest($1::uuid[]) WITH ORDINALITY AS t(x, o)",
		[]uuid.UUID{id, other}).Scan(&list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0] != id || list[1] != other {
		t.Fatalf("array came back as %v", list)
	}

	var fromText uuid.UUID
	if err := db.Pool.QueryRow(ctx, "SELECT $1::text::uuid", id.String()).Scan(&fromText); err != nil || fromText != id {
		t.Fatalf("text parameter: %v, %s", err, fromText)
	}
}

// BenchmarkUUIDPage reads a page of 100 rows of four UUIDs, with and
// without the binary codec.
func BenchmarkUUIDPage(b *testing.B) {
	db := testdb.New(b)
	ctx := context.Background()
	plain, err := pgxpool.New(ctx, db.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	ids := make([]uuid.UUID, 100)
	for i := range ids {
		ids[i] = uuid.New()
	}
	for _, c := range []struct {
		name string
		pool *pgxpool.Pool
	}{{"binary", db.Pool}, {"database-sql", plain}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := c.pool.Query(ctx, "SELECT x, x, x, x FROM unnest($1::uuid[]) AS t(x)", ids)
				if err != nil {
					b.Fatal(err)
				}
				var a, bb, cc, d uuid.UUID
				n := 0
				for rows.Next() {
					if err := rows.Scan(&a, &bb, &cc, &d); err != nil {
						b.Fatal(err)
					}
					n++
				}
				if rows.Err() != nil || n != len(ids) {
					b.Fatalf("read %d rows: %v", n, rows.Err())
				}
			}
		})
	}
}
