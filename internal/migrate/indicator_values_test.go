package migrate_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/migrations"
)

// Migration 00014 keeps each party's indicator value: the values stored
// before it go to the party of whoever reported them on the activity, or
// else to the party responsible for it; going down, a year's values become
// their sum.
func TestIndicatorValuesGetTheirPartyOnUpgrade(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	sqlDB := stdlib.OpenDBFromPool(db.Pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithDisableGlobalRegistry(true))
	require.NoError(t, err)
	// The public body is stored as today's schema has it (later migrations
	// changed the organisations table), then the schema goes back to
	// before per-party values.
	now := time.Now()
	body := &store.Organisation{Name: "Region Test", OrganisationNumber: "2321000156", LegalForm: "other", Sector: "public", CreatedAt: now}
	require.NoError(t, store.InsertOrganisation(ctx, db.Pool, body))
	_, err = p.DownTo(ctx, 13)
	require.NoError(t, err)

	user := func(name string) uuid.UUID {
		u := &store.User{Issuer: "test", Subject: name, Name: name}
		require.NoError(t, store.UpsertUser(ctx, db.Pool, u))
		return u.ID
	}
	official, sector := user("official"), user("sector")
	a := &store.Agreement{ID: uuid.New(), Name: "Överenskommelsen", PublicBodyID: body.ID, CreatedAt: now}
	require.NoError(t, store.InsertAgreement(ctx, db.Pool, a))
	adopted := time.Date(2018, 1, 30, 0, 0, 0, 0, time.UTC)
	v := &store.AgreementVersion{AgreementID: a.ID, Number: 1, Title: "v1", AdoptedOn: adopted, ValidFrom: adopted,
		RevisionDue: adopted.AddDate(5, 0, 0), Principles: []string{"Dialog"}, CreatedAt: now}
	require.NoError(t, store.InsertAgreementVersion(ctx, db.Pool, v))
	plan := &store.ActionPlan{AgreementVersionID: v.ID, Year: 2018, AdoptedOn: adopted, CreatedAt: now}
	require.NoError(t, store.InsertActionPlan(ctx, db.Pool, plan))
	shared := &store.Activity{ActionPlanID: plan.ID, Position: 1, Title: "Konferens", Quarters: []int32{2}, Responsible: "both", Principles: []string{}}
	shared1 := &store.Indicator{Name: "Deltagare"}
	require.NoError(t, store.InsertActivity(ctx, db.Pool, shared, []*store.Indicator{shared1}))
	own := &store.Activity{ActionPlanID: plan.ID, Position: 2, Title: "Träffar", Quarters: []int32{1}, Responsible: "sector", Principles: []string{}}
	own1 := &store.Indicator{Name: "Träffar"}
	require.NoError(t, store.InsertActivity(ctx, db.Pool, own, []*store.Indicator{own1}))
	in := &store.Instance{ID: uuid.New(), Kind: "annual_follow_up", DefinitionVersion: 1, SubjectType: "agreement_version", SubjectID: v.ID,
		Scopes: []string{"region"}, State: "collecting_reports", StateEnteredAt: now, Round: 1, Data: map[string]any{"year": 2018},
		Version: 1, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, store.InsertInstance(ctx, db.Pool, in))
	require.NoError(t, store.UpsertActivityReport(ctx, db.Pool, &store.ActivityReport{InstanceID: in.ID, ActivityID: shared.ID, Party: "region",
		Outcome: "Klart.", ReportedBy: official, ReportedAt: now}))
	for _, row := range []struct {
		indicator, by uuid.UUID
		value         float64
	}{{shared1.ID, official, 60}, {own1.ID, sector, 4}} {
		_, err := db.Pool.Exec(ctx, `INSERT INTO indicator_values (indicator_id, year, value, reported_by, reported_at) VALUES ($1, 2018, $2, $3, now())`,
			row.indicator, row.value, row.by)
		require.NoError(t, err)
	}

	_, err = p.UpTo(ctx, 14)
	require.NoError(t, err)
	party := func(indicator uuid.UUID) string {
		var p string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT party FROM indicator_values WHERE indicator_id = $1`, indicator).Scan(&p))
		return p
	}
	require.Equal(t, "region", party(shared1.ID), "the party of the one who reported it")
	require.Equal(t, "sector", party(own1.ID), "the party responsible for the activity")

	// Both parties' values; going down keeps their sum.
	require.NoError(t, store.SetIndicatorValue(ctx, db.Pool, shared1.ID, 2018, "sector", 40, sector, now))
	_, err = p.DownTo(ctx, 13)
	require.NoError(t, err)
	var n int
	var sum float64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*), sum(value)::float8 FROM indicator_values WHERE indicator_id = $1`, shared1.ID).Scan(&n, &sum))
	require.Equal(t, 1, n)
	require.Equal(t, 100.0, sum)
	_, err = p.Up(ctx)
	require.NoError(t, err)
}
