package bench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/audit"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/internal/token"
	"github.com/samverkan/samverkan/workflows"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// openApp builds the services (not serving) on a fresh database.
func openApp(t testing.TB) (*app.App, *testdb.Database) {
	t.Helper()
	db := testdb.New(t)
	cfg, err := config.Defaults()
	require.NoError(t, err)
	cfg.DatabaseURL, cfg.DataDir, cfg.Migrate = db.URL, t.TempDir(), false
	a, err := app.Open(context.Background(), app.Options{Config: cfg, Version: "test", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	require.NoError(t, a.Build(context.Background()))
	return a, db
}

// The seeder writes history events with their chain computed in Go (the
// trigger off) or through the trigger; either way audit verify must pass,
// with the pools and after the used pool instances are withdrawn.
func TestSeededHistoryVerifies(t *testing.T) {
	for _, computed := range []bool{true, false} {
		t.Run(fmt.Sprintf("computed=%v", computed), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a, db := openApp(t)
			sc := DefaultScale().Percent(1)
			s := newSeeder(db.Pool, sc, noProgress{}, time.Now())
			super, err := canDisableTriggers(ctx, db.Pool)
			require.NoError(t, err)
			s.replica = computed && super
			rep, err := s.seed(ctx, a.Grant)
			require.NoError(t, err)
			s.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
			n, err := s.topUpPools(ctx, 20)
			require.NoError(t, err)
			require.Equal(t, 20+30+20+30, n)

			var events, signatories, partnerships, expiring int
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM history_events WHERE stream <> 'roles'),
				(SELECT count(*) FROM signatories), (SELECT count(*) FROM partnerships),
				(SELECT count(*) FROM partnerships WHERE end_date BETWEEN current_date AND current_date + 90)`).
				Scan(&events, &signatories, &partnerships, &expiring))
			require.Equal(t, sc.Events+2*20+2*30+3*20+3*30, events, "the dataset's events and the pools' (2 or 3 each)")
			require.Equal(t, rep.Events, sc.Events)
			require.Equal(t, sc.Versions*sc.SignatoriesPerVersion, signatories)
			require.Equal(t, sc.Partnerships, partnerships)
			require.Equal(t, sc.Expiring, expiring)

			// A later run moves the soon-expiring partnerships along.
			var ends string
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT string_agg(end_date::text || (w.data ->> 'endsAt'), ',' ORDER BY p.id)
				FROM partnerships p JOIN workflow_instances w ON w.id = p.instance_id
				WHERE end_date BETWEEN current_date AND current_date + 90`).Scan(&ends))
			require.NoError(t, refreshExpiring(ctx, db.Pool, s.today))
			var after string
			var n2 int
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*), string_agg(end_date::text || (w.data ->> 'endsAt'), ',' ORDER BY p.id)
				FROM partnerships p JOIN workflow_instances w ON w.id = p.instance_id
				WHERE end_date BETWEEN current_date AND current_date + 90`).Scan(&n2, &after))
			require.Equal(t, sc.Expiring, n2)
			require.Len(t, after, len(ends), "same dates and endsAt format")
			rows, err := db.Pool.Query(ctx, `SELECT p.end_date, w.data ->> 'endsAt' FROM partnerships p
				JOIN workflow_instances w ON w.id = p.instance_id WHERE end_date BETWEEN current_date AND current_date + 90`)
			require.NoError(t, err)
			for rows.Next() {
				var end time.Time
				var endsAtText string
				require.NoError(t, rows.Scan(&end, &endsAtText))
				require.Equal(t, endsAt(&partnership{end: end}), endsAtText)
			}
			require.NoError(t, rows.Err())

			// Fire some pool transitions the raw way, then withdraw them.
			items, err := takePool(ctx, db.Pool, poolApproveRaw, 5)
			require.NoError(t, err)
			for _, it := range items {
				require.NoError(t, rawApprove(ctx, db.Pool, it, s.official))
			}
			items, err = takePool(ctx, db.Pool, poolAttachRaw, 5)
			require.NoError(t, err)
			for _, it := range items {
				require.NoError(t, rawAttach(ctx, db.Pool, it, s.official))
			}
			retired, err := retirePools(ctx, db.Pool, time.Now())
			require.NoError(t, err)
			require.Equal(t, 10, retired)

			res, err := audit.Verify(ctx, db.Pool, nil)
			require.NoError(t, err)
			require.True(t, res.OK, "%+v", res.Broken)
		})
	}
}

// jsonb prints an object exactly as PostgreSQL prints it back.
func TestJSONBText(t *testing.T) {
	require.Equal(t, `{"b": 1, "aa": "x\"y", "abc": [], "obj": {"z": true, "yy": null}, "list": ["a", "b"]}`,
		jsonb(kv{"list", []string{"a", "b"}}, kv{"abc", []string{}}, kv{"aa", `x"y`}, kv{"b", 1},
			kv{"obj", []kv{{"yy", nil}, {"z", true}}}))
	db := testdb.New(t)
	for _, text := range []string{
		jsonb(),
		jsonb(kv{"name", "Föreningen Mötesplatsen i Årjäng"}, kv{"organisationNumber", "802000-0007"}),
		jsonb(kv{"tricky", "tab\tquote\"back\\slash\nnew\u0001 <&> é ✓"}, kv{"n", -12}, kv{"f", false}),
		jsonb(kv{"ideaBasedIds", []string{uuid.NewString(), uuid.NewString()}}, kv{"title", "IOP"}, kv{"ownInitiative", true}),
	} {
		var back string
		require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT $1::jsonb::text`, text).Scan(&back))
		require.Equal(t, back, text)
	}
}

// signingFixture makes n signing applications in a state, for one
// agreement version with a planned ceremony, and an official.
func signingFixture(t testing.TB, a *app.App, db *testdb.Database, state string, n int) (authz.Principal, []uuid.UUID, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	official, err := a.Grant(ctx, "bench-test-official", "Official", authz.RoleRegionOfficial, authz.ScopeRegion)
	require.NoError(t, err)
	var version, ceremony uuid.UUID
	require.NoError(t, db.Pool.QueryRow(ctx, `WITH o AS (
			INSERT INTO organisations (name, organisation_number, legal_form, sector, created_at, updated_at)
			VALUES ('Region', '2321000156', 'other', 'public', now(), now()) RETURNING id
		), a AS (INSERT INTO agreements (name, public_body_id, created_at) SELECT 'Överenskommelsen', id, now() FROM o RETURNING id
		), v AS (INSERT INTO agreement_versions (agreement_id, number, title, adopted_on, principles, valid_from, revision_due, created_at)
			SELECT id, 1, 'Version 1', current_date - 400, '{dialog}', current_date - 400, current_date + 1400, now() FROM a RETURNING id
		), c AS (INSERT INTO ceremonies (agreement_version_id, title, held_on, created_at)
			SELECT id, 'Ceremoni', current_date + 400, now() FROM v RETURNING id)
		SELECT (SELECT id FROM v), (SELECT id FROM c)`).Scan(&version, &ceremony))
	round := map[string]int{"under_review": 2, "approved": 3}[state]
	rows, err := db.Pool.Query(ctx, `INSERT INTO workflow_instances (kind, definition_version, subject_type, subject_id, scopes, state,
			state_entered_at, round, data, version, created_at, updated_at)
		SELECT 'signing', 1, 'organisation', o, ARRAY['org:' || o, 'region'], $1, now(), $2,
			jsonb_build_object('organisationId', o::text, 'agreementVersionId', $3::text, 'publicBody', false), $2, now(), now()
		FROM (SELECT gen_random_uuid() AS o FROM generate_series(1, $4)) g RETURNING id`, state, round, version, n)
	require.NoError(t, err)
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return authz.Principal{UserID: official, Name: "Official"}, ids, ceremony
}

// BenchmarkTransition fires transitions through the real engine and
// database (the test cluster: fsync off): "approve" (state, history event)
// and "attach_to_ceremony" (a guard reading the ceremony, a timer row and
// its River job too), one instance per firing, serially and from parallel
// goroutines.
func BenchmarkTransition(b *testing.B) {
	decl := map[string]any{"regionalPerspective": true, "democraticValues": true, "independent": true}
	for _, tc := range []struct {
		name, transition, from string
		version                int
	}{
		{"approve", "approve", "under_review", 2},
		{"attach_to_ceremony", "attach_to_ceremony", "approved", 3},
	} {
		for _, parallel := range []bool{false, true} {
			name := tc.name
			if parallel {
				name += "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				a, db := openApp(b)
				pr, ids, ceremony := signingFixture(b, a, db, tc.from, b.N)
				eng := a.Services.Engine
				input := decl
				if tc.transition == "attach_to_ceremony" {
					input = map[string]any{"ceremonyId": ceremony.String()}
				}
				fire := func(id uuid.UUID) error {
					_, err := eng.Fire(ctx, workflows.FireParams{InstanceID: id, Transition: tc.transition, Actor: pr,
						ExpectedVersion: tc.version, Input: input})
					return err
				}
				b.ReportAllocs()
				b.ResetTimer()
				if !parallel {
					for i := range b.N {
						if err := fire(ids[i]); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				var next atomic.Int64
				b.SetParallelism(4)
				b.RunParallel(func(p *testing.PB) {
					for p.Next() {
						if err := fire(ids[next.Add(1)-1]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkPolicyCan asks the policy point whether an official may approve
// a signing: the same question again (answered from the decision cache),
// a question about a new organisation each time (Casbin evaluates it), and
// a refusal.
func BenchmarkPolicyCan(b *testing.B) {
	ctx := context.Background()
	a, _ := openApp(b)
	official, err := a.Grant(ctx, "bench-test-official", "Official", authz.RoleRegionOfficial, authz.ScopeRegion)
	require.NoError(b, err)
	rep, err := a.Grant(ctx, "bench-test-rep", "Representative", authz.RoleSectorRepresentative, authz.OrgScope(uuid.New()))
	require.NoError(b, err)
	pol := a.Services.Policy
	off, other := authz.Principal{UserID: official}, authz.Principal{UserID: rep}
	org := authz.OrgScope(uuid.New())
	require.True(b, pol.Can(off, "signing.approve", org, authz.ScopeRegion))
	require.False(b, pol.Can(other, "signing.approve", org, authz.ScopeRegion))
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !pol.Can(off, "signing.approve", org, authz.ScopeRegion) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("new_scope", func(b *testing.B) {
		scopes := make([]string, b.N)
		for i := range scopes {
			scopes[i] = authz.OrgScope(uuid.New())
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if !pol.Can(off, "signing.approve", scopes[i], authz.ScopeRegion) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("refused", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if pol.Can(other, "signing.approve", org, authz.ScopeRegion) {
				b.Fatal("allowed")
			}
		}
	})
	b.Run("cached/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				if !pol.Can(off, "signing.approve", org, authz.ScopeRegion) {
					b.Error("refused")
					return
				}
			}
		})
	})
}

// BenchmarkReads runs the three reads of `samverkan bench` one at a time
// against the service in this process and against raw SQL, on a 5% dataset
// (a full signatory page of 100): ns/op and allocs/op are per request, the
// load generator's share included, and "statements/op" counts the service's
// SQL. A quick, quieter look at the GraphQL edge's cost than the full run.
func BenchmarkReads(b *testing.B) {
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
	_, err = db.Pool.Exec(ctx, `VACUUM ANALYZE`) // as samverkan bench does after seeding
	require.NoError(b, err)
	keys, err := srv.app.DevKeys()
	require.NoError(b, err)
	tok, err := keys.Sign(token.TokenRequest{Subject: officialSubject, Name: officialName, TTL: time.Hour})
	require.NoError(b, err)
	c := newClient(srv.URL(), tok, 1)
	t, err := loadTargets(ctx, db.Pool)
	require.NoError(b, err)
	require.NoError(b, checkAnswers(ctx, c, db.Pool, t, s.today, sc))
	for _, rd := range reads(c, db.Pool, t, s.today) {
		for _, side := range []string{"service", "raw"} {
			run := rd.service
			if side == "raw" {
				run = rd.raw
			}
			b.Run(strings.Fields(rd.name)[0]+"/"+side, func(b *testing.B) {
				r := rngs(1)[0]
				b.ReportAllocs()
				before := counter.n.Load()
				for b.Loop() {
					if err := run(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
				if side == "service" {
					b.ReportMetric(float64(counter.n.Load()-before)/float64(b.N), "statements/op")
				}
			})
		}
	}
}
