package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
)

const myTasks = `{ myTasks(first: 50) { totalCount edges { node { instance { id kind state } actions { name } deadline } } } }`

type taskList struct {
	MyTasks struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				Instance struct{ ID, Kind, State string }
				Actions  []struct{ Name string }
				Deadline *time.Time
			}
		}
	}
}

func (s *story) tasks(t *testing.T, u *apptest.User) taskList {
	t.Helper()
	var out taskList
	s.env.MustDo(u, myTasks, nil, &out)
	return out
}

func (l taskList) actionsOn(id string) []string {
	for _, e := range l.MyTasks.Edges {
		if e.Node.Instance.ID == id {
			var names []string
			for _, a := range e.Node.Actions {
				names = append(names, a.Name)
			}
			return names
		}
	}
	return nil
}

// "Att göra": each person's work queue lists what waits for them across the
// workflows, with what they can do, soonest deadline first.
func TestWorkQueue(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	s.env.AdvanceTo(time.Date(2018, 6, 1, 9, 0, 0, 0, clock.Stockholm))
	s.council = council{region: s.env.NewUser("Rolf Råd", "council_member@region"), sector: s.env.NewUser("Sara Råd", "council_member@sector"),
		politician: s.env.NewUser("Pia Politiker", "region_politician@region")}

	app := s.fixture(t, 1)
	app.apply(t)
	// The application waits for an official's review, not for anyone else.
	require.ElementsMatch(t, []string{"start_review", "reject"}, s.tasks(t, s.official).actionsOn(app.instance))
	require.Empty(t, s.tasks(t, app.rep).actionsOn(app.instance), "the applicant waits; nothing to do")
	require.Empty(t, s.tasks(t, s.fixture(t, 2).rep).MyTasks.Edges, "another organisation's representative has nothing")
	require.Zero(t, s.tasks(t, nil).MyTasks.TotalCount, "nothing waits for an anonymous visitor")

	// Once approved it waits for the organisation, which signs.
	s.act(t, s.official, "startSigningReview", app.instance, "")
	s.act(t, s.official, "approveSigningApplication", app.instance, ", regionalPerspective: true, democraticValues: true, independent: true")
	require.Contains(t, s.tasks(t, app.rep).actionsOn(app.instance), "sign")

	// A follow-up collecting reports has a deadline: it comes first for the
	// official, and the council's sector side has its report to give.
	fu := s.fixture(t, 3)
	fu.followUpTo(t, "collecting_reports")
	official := s.tasks(t, s.official)
	require.NotEmpty(t, official.MyTasks.Edges)
	first := official.MyTasks.Edges[0].Node
	require.Equal(t, fu.vars["id"], first.Instance.ID, "the task with the soonest deadline comes first")
	require.NotNil(t, first.Deadline)
	require.Contains(t, s.tasks(t, s.council.sector).actionsOn(fu.vars["id"].(string)), "followup.report")

	// In the council's review, each side's member has an approval to give,
	// and once given it is no longer a task.
	s.env.MustDo(s.official, `mutation($id: ID!) { submitFollowUpToCouncil(input: {instanceId: $id, reason: "köer"}) { instance { state } } }`,
		map[string]any{"id": fu.vars["id"]}, nil)
	require.Contains(t, s.tasks(t, s.council.region).actionsOn(fu.vars["id"].(string)), "council_approve")
	s.approveAs(t, s.council.region, fu.vars["id"].(string), "council_approve")
	require.NotContains(t, s.tasks(t, s.council.region).actionsOn(fu.vars["id"].(string)), "council_approve")
	require.Contains(t, s.tasks(t, s.council.sector).actionsOn(fu.vars["id"].(string)), "council_approve")
}
