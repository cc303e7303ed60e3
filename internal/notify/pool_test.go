package notify_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/mail/mailtest"
)

// threeReps: an organisation with three representatives in a partnership
// whose 2043 report reminder is due now; their addresses.
func threeReps(t *testing.T, e *env) []string {
	t.Helper()
	region, org := e.org(t, "Region Värmland", "public", ""), e.org(t, "Läxhjälpen Värmland", "idea_based", "")
	e.partnership(t, region, org)
	var reps []string
	for _, name := range []string{"Anna Ek", "Bo Lind", "Cilla Berg"} {
		reps = append(reps, e.user(t, name, authz.RoleSectorRepresentative+"@"+authz.OrgScope(org)).Email)
	}
	opened, err := e.iop.OpenDueReports(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, opened)
	e.clock.AdvanceTo(at(2044, 3, 20, 10))
	return reps
}

// receivedOnce checks that each delivery reached its address exactly once,
// with the delivery's id as Message-ID.
func receivedOnce(t *testing.T, e *env, n int) {
	t.Helper()
	got := e.smtp.Received()
	require.Len(t, got, n)
	byAddress := map[string][]string{}
	for _, rec := range got {
		require.Len(t, rec.To, 1)
		byAddress[rec.To[0]] = append(byAddress[rec.To[0]], parse(t, rec).MessageID)
	}
	ds := e.deliveries(t, "true")
	require.Len(t, ds, n)
	for _, d := range ds {
		require.Equal(t, "sent", d.State, d.Address)
		require.Equal(t, []string{"<" + d.ID.String() + "@samverkan.example>"}, byAddress[d.Address], "%s once, with its Message-ID", d.Address)
	}
}

// The yearly report reminders of 60 partnerships, sent by 4 workers over at
// most 2 SMTP connections: each arrives once, with its delivery's id as
// Message-ID.
func TestDeliveriesShareConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnvWith(t, envOptions{mailWorkers: 4, connections: 2})
	region, org := e.org(t, "Region Värmland", "public", ""), e.org(t, "Läxhjälpen Värmland", "idea_based", "")
	for range 60 {
		e.partnership(t, region, org)
	}
	e.user(t, "Anna Ek", authz.RoleSectorRepresentative+"@"+authz.OrgScope(org))
	opened, err := e.iop.OpenDueReports(ctx)
	require.NoError(t, err)
	require.Equal(t, 60, opened)
	e.clock.AdvanceTo(at(2044, 3, 20, 10))
	n, err := e.iop.NotifyReports(ctx)
	require.NoError(t, err)
	require.Equal(t, 60, n)
	require.Empty(t, e.runDue(t, e.clock.Now()))

	got := e.smtp.Received()
	require.Len(t, got, 60)
	ids := map[string]int{}
	for _, rec := range got {
		ids[parse(t, rec).MessageID]++
	}
	ds := e.deliveries(t, "true")
	require.Len(t, ds, 60)
	for _, d := range ds {
		require.Equal(t, "sent", d.State)
		require.Equal(t, 1, ids["<"+d.ID.String()+"@samverkan.example>"], "delivery %s once", d.ID)
	}
	require.LessOrEqual(t, e.smtp.Connections(), 2, "over at most two connections")
	require.Equal(t, 60, e.counts.get("sent"))
}

// One worker, one connection, three deliveries: the server answers 451 to
// the second. Only that delivery is retried (River's backoff) and arrives
// once; the first and third are sent once, on the same connection.
func TestTemporaryFailureOnSharedConnectionRetriesThatDeliveryOnly(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{mailWorkers: 1, connections: 1})
	threeReps(t, e)
	e.smtp.Reply(nil, mailtest.Answer(451, smtp.EnhancedCode{4, 3, 0}, "Try again later"))
	_, err := e.iop.NotifyReports(context.Background())
	require.NoError(t, err)
	e.runDue(t, e.clock.Now())
	for i := 0; i < 10 && len(e.smtp.Received()) < 3; i++ {
		e.runDue(t, e.clock.Now().Add(time.Minute))
	}
	receivedOnce(t, e, 3)
	retried := 0
	for _, d := range e.deliveries(t, "true") {
		if d.Attempts == 2 {
			retried++
			require.Contains(t, d.LastError, "451")
			continue
		}
		require.Equal(t, 1, d.Attempts, d.Address)
		require.Empty(t, d.LastError)
	}
	require.Equal(t, 1, retried, "only the refused delivery")
	require.Equal(t, 1, e.counts.get("retried"))
	require.Equal(t, 3, e.counts.get("sent"))
	require.Equal(t, 1, e.smtp.Connections(), "the refusal did not cost the connection")
}

// The server drops the connection after the first of three deliveries: the
// other two go over a new connection, once each, without a retry.
func TestDroppedConnectionIsReplacedWithoutRetry(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{mailWorkers: 1, connections: 1})
	threeReps(t, e)
	var recorded atomic.Int32
	e.worker.SetHooks(nil, func(uuid.UUID) {
		if recorded.Add(1) == 1 {
			e.smtp.DropConnections()
			require.Eventually(t, func() bool { return e.smtp.Open() == 0 }, 5*time.Second, 10*time.Millisecond)
		}
	})
	_, err := e.iop.NotifyReports(context.Background())
	require.NoError(t, err)
	require.Empty(t, e.runDue(t, e.clock.Now()))
	receivedOnce(t, e, 3)
	for _, d := range e.deliveries(t, "true") {
		require.Equal(t, 1, d.Attempts)
	}
	require.Zero(t, e.counts.get("retried"))
	require.Equal(t, 2, e.smtp.Connections(), "one new connection")
}
