package workflows_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// queueActions: the representative submits, withdraws and reports; the
// official decides and parks; nobody is granted queue.archive.
var queueActions = map[string][]string{
	"queue.submit":   {authz.RoleSectorRepresentative},
	"queue.withdraw": {authz.RoleSectorRepresentative},
	"queue.report":   {authz.RoleSectorRepresentative},
	"queue.decide":   {authz.RoleRegionOfficial},
	"queue.park":     {authz.RoleRegionOfficial},
}

// queueDef has a state for each way an instance can be in a queue or not:
// a transition by someone's action (draft, review), only an optional one
// (parked, and withdraw everywhere), a duty (active), an action nobody is
// granted (archived) and the system alone (waiting).
func queueDef() *workflows.Definition {
	return &workflows.Definition{
		Kind: "queue", Version: 1, Title: "Queue", Initial: "draft",
		Entry:  []workflows.State{"review", "parked", "active", "archived", "waiting"},
		Public: func(*store.Instance) bool { return true },
		States: []workflows.StateSpec{{Name: "draft"}, {Name: "review"}, {Name: "parked"}, {Name: "active"},
			{Name: "archived"}, {Name: "waiting"}, {Name: "done", Final: true}},
		Duties: []workflows.Duty{{Action: "queue.report", Title: "report", States: []workflows.State{"active"}}},
		Transitions: []*workflows.Transition{
			{Name: "submit", From: []workflows.State{"draft"}, To: "review", Action: "queue.submit"},
			{Name: "accept", From: []workflows.State{"review"}, To: "active", Action: "queue.decide"},
			{Name: "park", From: []workflows.State{"parked"}, To: "review", Action: "queue.park", Optional: true},
			{Name: "archive", From: []workflows.State{"archived"}, To: "done", Action: "queue.archive"},
			{Name: "expire", From: []workflows.State{"waiting"}, To: "done"},
			{Name: "withdraw", From: []workflows.State{"draft", "review", "parked", "active", "archived", "waiting"}, To: "done",
				Action: "queue.withdraw", Optional: true},
		},
	}
}

// wholeQueue is what Tasks gave before it filtered in SQL: every open
// instance in the store, each with the actions AvailableActions and the
// duties give pr, soonest deadline first (none here: oldest change first).
func wholeQueue(t *testing.T, e *env, pr authz.Principal) map[uuid.UUID][]string {
	t.Helper()
	ctx := context.Background()
	all, err := store.OpenInstancesInScopes(ctx, e.db.Pool, nil, true)
	require.NoError(t, err)
	out := map[uuid.UUID][]string{}
	for _, in := range all {
		def, err := e.eng.Definition(in.Kind, in.DefinitionVersion)
		require.NoError(t, err)
		var names []string
		for _, a := range e.eng.AvailableActions(ctx, pr, in, nil) {
			if !a.Approved && !a.Optional {
				names = append(names, a.Transition)
			}
		}
		for _, d := range def.Duties {
			if slices.Contains(d.States, workflows.State(in.State)) && e.policy.Authorize(ctx, pr, d.Action, in.Scopes) == nil {
				names = append(names, d.Action)
			}
		}
		if len(names) > 0 {
			out[in.ID] = names
		}
	}
	return out
}

func queueOf(t *testing.T, e *env, pr authz.Principal) map[uuid.UUID][]string {
	t.Helper()
	tasks, err := e.eng.Tasks(context.Background(), pr)
	require.NoError(t, err)
	out := map[uuid.UUID][]string{}
	for _, task := range tasks {
		for _, a := range task.Actions {
			out[task.Instance.ID] = append(out[task.Instance.ID], a.Transition)
		}
	}
	return out
}

// Tasks reads only the instances in a state where the viewer may have an
// action, and its queue is the one every open instance, asked one by one,
// gives: for each role, with instances in every state, in two scopes.
func TestTasksAreTheQueueOfEveryOpenInstance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, queueActions, queueDef())
	rep := e.user(t, "Rut", authz.RoleSectorRepresentative+"@org:1")
	otherRep := e.user(t, "Rolf", authz.RoleSectorRepresentative+"@org:2")
	official := e.user(t, "Olga", authz.RoleRegionOfficial+"@region")
	both := e.user(t, "Bo", authz.RoleRegionOfficial+"@region", authz.RoleSectorRepresentative+"@org:2")
	nobody := e.user(t, "Nils")

	byState := map[string][]uuid.UUID{}
	for _, scopes := range [][]string{{authz.ScopeRegion, "org:1"}, {authz.ScopeRegion, "org:2"}} {
		for _, s := range []workflows.State{"draft", "review", "parked", "active", "archived", "waiting"} {
			for range 2 {
				p := workflows.StartParams{Kind: "queue", Scopes: scopes, Actor: rep, State: s}
				if s == "draft" {
					p.State = ""
				}
				in := e.start(t, p)
				byState[string(s)+"@"+scopes[1]] = append(byState[string(s)+"@"+scopes[1]], in.ID)
			}
		}
	}
	// An ended instance is in nobody's queue.
	done := e.start(t, workflows.StartParams{Kind: "queue", Scopes: []string{authz.ScopeRegion, "org:1"}, Actor: rep})
	e.fire(t, workflows.FireParams{InstanceID: done.ID, Transition: "withdraw", Actor: rep, Reason: "klart"})

	want := func(entries ...[]any) map[uuid.UUID][]string {
		out := map[uuid.UUID][]string{}
		for _, en := range entries {
			for _, id := range byState[en[0].(string)] {
				out[id] = en[1].([]string)
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		pr   authz.Principal
		want map[uuid.UUID][]string
	}{
		{"representative of org:1", rep, want([]any{"draft@org:1", []string{"submit"}}, []any{"active@org:1", []string{"queue.report"}})},
		{"representative of org:2", otherRep, want([]any{"draft@org:2", []string{"submit"}}, []any{"active@org:2", []string{"queue.report"}})},
		{"official", official, want([]any{"review@org:1", []string{"accept"}}, []any{"review@org:2", []string{"accept"}})},
		{"official and representative of org:2", both, want([]any{"review@org:1", []string{"accept"}}, []any{"review@org:2", []string{"accept"}},
			[]any{"draft@org:2", []string{"submit"}}, []any{"active@org:2", []string{"queue.report"}})},
		{"nobody", nobody, map[uuid.UUID][]string{}},
	} {
		got := queueOf(t, e, c.pr)
		require.Equal(t, c.want, got, c.name)
		require.Equal(t, wholeQueue(t, e, c.pr), got, "%s: the queue of every open instance", c.name)
	}
}
