package e2e_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/observe"
	"github.com/samverkan/samverkan/internal/store"
)

// statementCounter counts the SQL statements the service runs, alone or in
// a batch (several statements in one round trip).
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) count(ctx context.Context) {
	if observe.RequestID(ctx) == "" {
		// Not a request's: background jobs.
		return
	}
	c.n.Add(1)
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.count(ctx)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *statementCounter) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchQueryData) {
	c.count(ctx)
}

func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// A list of 1,000 items costs no more statements than a list of 10: every
// list field is answered through a data loader.
func TestNoNPlusOne(t *testing.T) {
	t.Parallel()
	counter := &statementCounter{}
	env := apptest.Start(t, apptest.Options{QueryTracer: counter})
	official := env.NewUser("Olle Official", "region_official@region")
	ctx := context.Background()
	now := env.Clock.Now()
	body := storeRegion(t, env)
	members := make([]uuid.UUID, 3)
	for i := range members {
		o := &store.Organisation{Name: fmt.Sprintf("Förening %d", i), OrganisationNumber: fmt.Sprintf("80200%05d", i), LegalForm: "ideell_forening",
			Sector: "idea_based", CreatedAt: now}
		require.NoError(t, store.InsertOrganisation(ctx, env.DB.Pool, o))
		members[i] = o.ID
	}
	add := func(n int) {
		for range n {
			v := storeAgreementVersion(t, env, body.ID)
			adopted := v.AdoptedOn
			for _, m := range members {
				require.NoError(t, store.InsertSignatory(ctx, env.DB.Pool, &store.Signatory{AgreementVersionID: v.ID, OrganisationID: m,
					SignedOn: adopted, How: "direct", CreatedAt: now}))
			}
			_, err := env.App.Services.FollowUp.Open(ctx, authz.Principal{UserID: official.ID}, v.ID, 2017)
			require.NoError(t, err)
		}
	}
	const query = `{ agreements { name publicBody { name } currentVersion { number revision { instance { state } } } versions { number
		signatories(first: 5) { totalCount edges { node { signedOn organisation { name legalForm } } } }
		actionPlans { year activities { title } }
		followUps { year instance { state version pendingApprovals { requirement } availableActions { name } timers { name }
			historyHead history(first: 5) { totalCount edges { node { kind actor { name } } } } } } } } }`
	measure := func() int64 {
		env.WaitForJobs()
		before := counter.n.Load()
		var out struct{ Agreements []struct{ Name string } }
		env.MustDo(official, query, nil, &out)
		return counter.n.Load() - before
	}
	add(10)
	small := measure()
	add(990)
	large := measure()
	t.Logf("statements per request: 10 agreements %d, 1,000 agreements %d", small, large)
	require.LessOrEqual(t, large, small, "a longer list costs more statements: an N+1 somewhere")
}
