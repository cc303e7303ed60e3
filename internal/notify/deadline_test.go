package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// An official extends the follow-up's report deadline before the council's
// reminder: the reminder of the old deadline is never delivered; the one of
// the new deadline reaches both council members, once, with the new date.
func TestExtendedDeadlineMovesTheReminder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	region := e.org(t, "Region Värmland", "public", "")
	a := &store.Agreement{Name: "Överenskommelsen Värmland", PublicBodyID: region, CreatedAt: e.clock.Now()}
	require.NoError(t, store.InsertAgreement(ctx, e.db.Pool, a))
	v := &store.AgreementVersion{AgreementID: a.ID, Number: 1, Title: "Överenskommelsen", AdoptedOn: at(2043, 1, 10, 0),
		ValidFrom: at(2043, 1, 10, 0), RevisionDue: at(2048, 1, 10, 0), Principles: []string{"Dialog"}, CreatedAt: e.clock.Now()}
	require.NoError(t, store.InsertAgreementVersion(ctx, e.db.Pool, v))
	admin := e.user(t, "Ada Admin", authz.RoleAdmin+"@"+authz.ScopeAll)
	official := e.user(t, "Olle Tjänsteperson", authz.RoleRegionOfficial+"@"+authz.ScopeRegion)
	eva := e.user(t, "Eva Förtroendevald", authz.RoleCouncilMember+"@"+authz.ScopeRegion)
	filip := e.user(t, "Filip Idéburen", authz.RoleCouncilMember+"@"+authz.ScopeSector)

	in, err := e.followup.Open(ctx, authz.Principal{UserID: admin.ID, Name: admin.Name}, v.ID, 2043)
	require.NoError(t, err)
	require.Empty(t, e.runDue(t, at(2044, 2, 8, 11)), "collecting starts after a week")
	// The deadline was 2044-03-28 (eight weeks), its reminder due on
	// 2044-03-14; it moves to 2044-04-25.
	// Eva's calendar has the deadline and its reminder.
	before := calendar(t, e, eva)
	uid, deadline := summaryEvent(t, before, "report deadline passed")
	require.Equal(t, "2044-03-28", deadline.In(clock.Stockholm).Format(time.DateOnly))
	_, err = e.followup.ExtendDeadline(ctx, authz.Principal{UserID: official.ID, Name: official.Name},
		workflows.Step{ID: in.ID, Reason: "Fler rapporter väntas / More reports expected"}, at(2044, 4, 25, 10))
	require.NoError(t, err)

	// The same event moves to the new deadline.
	after := calendar(t, e, eva)
	uid2, moved := summaryEvent(t, after, "report deadline passed")
	require.Equal(t, uid, uid2, "the same event")
	require.Equal(t, at(2044, 4, 25, 10).UTC(), moved.UTC())
	require.Len(t, after, len(before))

	require.Empty(t, e.runDue(t, at(2044, 3, 15, 10)))
	require.Empty(t, e.smtp.Received(), "no reminder of the old deadline")

	require.Empty(t, e.runDue(t, at(2044, 4, 12, 10)))
	got := e.smtp.Received()
	require.Len(t, got, 2)
	var to []string
	for _, rec := range got {
		to = append(to, rec.To[0])
		m := parse(t, rec)
		require.Contains(t, m.Subject, "senast 2044-04-25")
		require.Contains(t, m.Subject, "due 2044-04-25")
		require.Contains(t, m.Text, "http://127.0.0.1:8080/instances/"+in.ID.String())
	}
	require.ElementsMatch(t, []string{eva.Email, filip.Email}, to)
}
