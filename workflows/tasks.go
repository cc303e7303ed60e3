package workflows

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
)

// Task is an instance that waits for the viewer: what they may do now
// (transitions, approvals they have not yet given, duties) and by when.
type Task struct {
	Instance *store.Instance
	Actions  []Action
	// Deadline is when the state waits for (the soonest pending timer
	// when the definition names none); nil when nothing is due.
	Deadline *time.Time
}

// Tasks is pr's work queue across every workflow: each open instance where
// pr can act now, soonest deadline first (those without one last, oldest
// change first). It reads a bounded number of statements whatever the
// queue's length: the candidates, their approvals and their timers.
func (e *Engine) Tasks(ctx context.Context, pr authz.Principal) ([]Task, error) {
	candidates, liveOf, soonest, err := e.taskCandidates(ctx, pr)
	if err != nil || len(candidates) == 0 {
		return nil, err
	}
	var out []Task
	for _, in := range candidates {
		def, err := e.Definition(in.Kind, in.DefinitionVersion)
		if err != nil {
			continue
		}
		var actions []Action
		for _, a := range e.AvailableActions(ctx, pr, in, liveOf[in.ID]) {
			if !a.Approved && !a.Optional {
				actions = append(actions, a)
			}
		}
		for _, d := range def.Duties {
			if slices.Contains(d.States, State(in.State)) && e.policy.Authorize(ctx, pr, d.Action, in.Scopes) == nil {
				actions = append(actions, Action{Transition: d.Action, Title: d.Title})
			}
		}
		if len(actions) == 0 {
			continue
		}
		t := Task{Instance: in, Actions: actions}
		if def.Deadline != nil {
			if d, ok := def.Deadline(in); ok {
				t.Deadline = &d
			}
		}
		if d, ok := soonest[in.ID]; ok && t.Deadline == nil {
			t.Deadline = &d
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Deadline, out[j].Deadline
		switch {
		case a != nil && b != nil:
			return a.Before(*b)
		default:
			return a != nil && b == nil
		}
	})
	return out, nil
}

// taskCandidates reads the open instances in pr's scopes that pr may see,
// in a state where pr may have something to do (taskStates), with their
// live approvals and their soonest pending timer.
func (e *Engine) taskCandidates(ctx context.Context, pr authz.Principal) ([]*store.Instance, map[uuid.UUID][]store.Approval, map[uuid.UUID]time.Time, error) {
	if !pr.Authenticated() {
		return nil, nil, nil, nil
	}
	var scopes []string
	all := false
	for _, a := range e.policy.Assignments(pr) {
		all = all || a.Scope == authz.ScopeAll
		scopes = append(scopes, a.Scope)
	}
	if len(scopes) == 0 {
		return nil, nil, nil, nil
	}
	states := e.taskStates(pr)
	if len(states) == 0 {
		return nil, nil, nil, nil
	}
	candidates, err := store.OpenInstancesInStates(ctx, e.db.Pool, scopes, all, states)
	if err != nil {
		return nil, nil, nil, err
	}
	candidates = e.visible(ctx, pr, candidates)
	ids := make([]uuid.UUID, len(candidates))
	for i, in := range candidates {
		ids[i] = in.ID
	}
	approvals, err := store.LiveApprovalsOf(ctx, e.db.Pool, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	timers, err := store.PendingTimersOf(ctx, e.db.Pool, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	liveOf := map[uuid.UUID][]store.Approval{}
	for _, a := range approvals {
		liveOf[a.InstanceID] = append(liveOf[a.InstanceID], a)
	}
	soonest := map[uuid.UUID]time.Time{}
	for _, t := range timers {
		if cur, ok := soonest[t.InstanceID]; !ok || t.FireAt.Before(cur) {
			soonest[t.InstanceID] = t.FireAt
		}
	}
	return candidates, liveOf, soonest, nil
}

// taskStates are the states, of every definition, in which pr may have a
// task: those a transition that waits for someone (not Optional) leaves by
// an action the policy grants pr somewhere, and those of pr's duties. An
// instance in another state gives pr no action in Tasks, so the query
// leaves it out; the actions are still decided per instance.
func (e *Engine) taskStates(pr authz.Principal) []store.KindState {
	granted := e.policy.GrantedActions(pr)
	if len(granted) == 0 {
		return nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	seen := map[store.KindState]bool{}
	var out []store.KindState
	add := func(kind string, version int, s State) {
		k := store.KindState{Kind: kind, Version: version, State: string(s)}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for kind, versions := range e.defs {
		for version, def := range versions {
			for _, t := range def.Transitions {
				if t.Action != "" && slices.Contains(granted, t.Action) {
					for _, s := range t.From {
						if !t.optionalIn(s) {
							add(kind, version, s)
						}
					}
				}
			}
			for _, d := range def.Duties {
				if slices.Contains(granted, d.Action) {
					for _, s := range d.States {
						add(kind, version, s)
					}
				}
			}
		}
	}
	return out
}
