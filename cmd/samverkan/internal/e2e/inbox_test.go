package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
)

// A reminder reaches people in the service too: each recipient sees it
// among their notifications, unread until opened, with whom it was meant
// for. When less than the two weeks of a reminder's lead remain as a
// deadline is set, the reminder goes out at once rather than never.
func TestRemindersReachTheirRecipientsInTheService(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	start := time.Date(2019, 1, 20, 9, 0, 0, 0, clock.Stockholm)
	s.env.AdvanceTo(start)
	s.council = council{region: s.env.NewUser("Rolf Råd", "council_member@region"), sector: s.env.NewUser("Sara Råd", "council_member@sector"),
		politician: s.env.NewUser("Pia Politiker", "region_politician@region")}
	// Each has signed in once, so the service knows their e-mail address.
	for _, u := range []*apptest.User{s.council.region, s.council.sector} {
		s.env.MustDo(u, `{ viewer { user { name } } }`, nil, nil)
	}
	f := s.fixture(t, 1)
	f.followUpTo(t, "opened")
	// Five days to report: the "two weeks before" moment has passed.
	s.env.MustDo(s.official, `mutation($id: ID!, $d: DateTime!) { startCollectingReports(input: {instanceId: $id, reportDeadline: $d}) { instance { state } } }`,
		map[string]any{"id": f.vars["id"], "d": start.Add(5 * 24 * time.Hour).Format(time.RFC3339)}, nil)
	s.env.AdvanceTo(start.Add(time.Minute))

	const inbox = `{ myNotifications(first: 10) { unreadCount edges { node { id kind subject body read recipientRole recipients instance { id } } } } }`
	var got struct {
		MyNotifications struct {
			UnreadCount int
			Edges       []struct {
				Node struct {
					ID, Kind, Subject, Body string
					Read                    bool
					RecipientRole           string
					Recipients              []string
					Instance                struct{ ID string }
				}
			}
		}
	}
	s.env.MustDo(s.council.sector, inbox, nil, &got)
	require.Len(t, got.MyNotifications.Edges, 1, "the reminder went out at once")
	n := got.MyNotifications.Edges[0].Node
	require.Equal(t, "REMINDER", n.Kind)
	require.Contains(t, n.Body, "Påminnelse")
	require.Equal(t, f.vars["id"], n.Instance.ID)
	require.Equal(t, "council_member", n.RecipientRole)
	require.ElementsMatch(t, []string{"Rolf Råd", "Sara Råd"}, n.Recipients)
	require.False(t, n.Read)
	require.Equal(t, 1, got.MyNotifications.UnreadCount)
	// The history says what was sent and to whom.
	require.Equal(t, 1, s.env.Count(`SELECT count(*) FROM history_events WHERE kind = 'reminder' AND input->>'recipient' = 'council_member'
		AND input->>'text' LIKE 'Påminnelse%'`))

	// Someone else's notification does not exist for them.
	r := s.env.Do(s.official, `mutation($n: ID!) { markNotificationRead(input: {notificationId: $n}) { unreadCount } }`, map[string]any{"n": n.ID})
	require.Equal(t, "NOT_FOUND", r.Errors[0].Code())
	var marked struct{ MarkNotificationRead struct{ UnreadCount int } }
	s.env.MustDo(s.council.sector, `mutation($n: ID!) { markNotificationRead(input: {notificationId: $n}) { unreadCount } }`, map[string]any{"n": n.ID}, &marked)
	require.Zero(t, marked.MarkNotificationRead.UnreadCount)
	s.env.MustDo(s.council.sector, inbox, nil, &got)
	require.True(t, got.MyNotifications.Edges[0].Node.Read)
	// The other council member's copy is still unread.
	s.env.MustDo(s.council.region, inbox, nil, &got)
	require.Equal(t, 1, got.MyNotifications.UnreadCount)
}
