// Package workflows is the workflow engine: definitions are Go values
// (states, transitions, approvals, timers); instances live in PostgreSQL; a
// transition is one transaction that checks the version, asks the policy
// point, runs the guard, records approvals, changes state, appends to the
// history and inserts its jobs — all or nothing.
//
// The four workflows are defined in the sub-packages signing, followup,
// revision and iop. Nothing here knows about GraphQL.
package workflows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/store"
)

// State is a workflow state's name.
type State string

// Definition is one version of a workflow.
type Definition struct {
	Kind    string
	Version int
	Title   string
	Initial State
	// Entry lists other states an instance may start in (e.g. a signing
	// that starts as a re-confirmation request after a revision).
	Entry  []State
	States []StateSpec
	// Transitions are tried in order; names are unique.
	Transitions []*Transition
	// PublicStart makes the "started" event public.
	PublicStart bool
	// Public tells whether anyone may see an instance (its state and its
	// public events); otherwise only those allowed "<resource>.read_private".
	Public func(in *store.Instance) bool
	// Resource is the policy's name for the workflow ("followup" for the
	// kind annual_follow_up): its private side is "<Resource>.read_private".
	// Empty means the kind.
	Resource string
	// Duties are what people do in a state that is not a transition (a
	// party reports on its activities, the council answers comments): they
	// put the instance in the work queue of those allowed their action.
	Duties []Duty
	// Deadline, when set, is the moment the instance's current state waits
	// for (a report deadline); otherwise its soonest pending timer.
	Deadline func(in *store.Instance) (time.Time, bool)
}

// Duty is a piece of work in some states that people allowed Action do.
type Duty struct {
	Action string
	Title  string
	States []State
}

// StateSpec describes a state.
type StateSpec struct {
	Name  State
	Title string
	// Final states end the instance.
	Final bool
	// Timers start when the instance enters the state.
	Timers []Timer
}

// Transition is a named move between states.
type Transition struct {
	Name  string
	Title string
	From  []State
	To    State
	// Action is the policy action that may fire it; empty means only the
	// system (a timer or job) fires it.
	Action string
	// Guard refuses the transition with a domain error saying why.
	Guard func(ctx context.Context, f *Firing) error
	// Quorum, when set, makes firing an approval: the state changes when
	// every requirement has enough approvals.
	Quorum func(in *store.Instance) Quorum
	// Effect does the transition's domain writes in the same transaction
	// and may change the instance's data or enqueue jobs.
	Effect func(ctx context.Context, tx pgx.Tx, f *Firing) error
	// Public events are readable by anyone (the openness principle).
	Public bool
	// RequireReason refuses the transition without a reason.
	RequireReason bool
	// Optional transitions are always open to someone (withdrawing,
	// giving notice) but never wait for them: they put no instance in a
	// work queue.
	Optional bool
	// OptionalFrom are the states of From in which the transition is
	// optional, for one that waits for someone only in its other states
	// (proposing a renewal is always possible while a partnership is in
	// force, and waited for once its renewal has opened).
	OptionalFrom []State
}

// Quorum is a set of requirements that must all be met.
type Quorum []Requirement

// Requirement asks for Count approvals from holders of one of Roles.
type Requirement struct {
	// Name identifies the requirement, e.g. "region" or "org:<id>".
	Name  string
	Title string
	Roles []string
	// Scope the role must be held in; empty means any of the instance's
	// scopes.
	Scope string
	Count int
}

// Timer fires a transition or writes a reminder some time after the
// instance enters a state.
type Timer struct {
	Name string
	// After entering the state, or At a time computed from the instance
	// (false: no timer this time).
	After time.Duration
	At    func(in *store.Instance) (time.Time, bool)
	// Fire names a transition; Reminder is the text of a notice instead.
	Fire     string
	Reminder string
	// Recipient says who a reminder is for (a role name).
	Recipient string
	// Due is the deadline a reminder warns of. A reminder whose moment has
	// already passed when its state is entered or its deadline set goes
	// out at once while that deadline is still ahead (once a round), rather
	// than not at all.
	Due func(in *store.Instance) (time.Time, bool)
}

// Validate checks a definition for mistakes a test would otherwise find
// late: unknown states, duplicate names, timers firing unknown transitions.
func (d *Definition) Validate() error {
	states := map[State]bool{}
	for _, s := range d.States {
		if states[s.Name] {
			return fmt.Errorf("%s v%d: state %q defined twice", d.Kind, d.Version, s.Name)
		}
		states[s.Name] = true
	}
	for _, s := range append([]State{d.Initial}, d.Entry...) {
		if !states[s] {
			return fmt.Errorf("%s v%d: start state %q not defined", d.Kind, d.Version, s)
		}
	}
	names := map[string]bool{}
	for _, t := range d.Transitions {
		if names[t.Name] {
			return fmt.Errorf("%s v%d: transition %q defined twice", d.Kind, d.Version, t.Name)
		}
		names[t.Name] = true
		if !states[t.To] {
			return fmt.Errorf("%s v%d: transition %q goes to unknown state %q", d.Kind, d.Version, t.Name, t.To)
		}
		for _, f := range t.From {
			if !states[f] {
				return fmt.Errorf("%s v%d: transition %q comes from unknown state %q", d.Kind, d.Version, t.Name, f)
			}
		}
	}
	for _, s := range d.States {
		for _, tm := range s.Timers {
			if tm.Fire != "" && !names[tm.Fire] {
				return fmt.Errorf("%s v%d: timer %q fires unknown transition %q", d.Kind, d.Version, tm.Name, tm.Fire)
			}
			if (tm.Fire == "") == (tm.Reminder == "") {
				return fmt.Errorf("%s v%d: timer %q must either fire a transition or remind", d.Kind, d.Version, tm.Name)
			}
		}
	}
	return nil
}

// Transition returns the named transition.
func (d *Definition) Transition(name string) (*Transition, bool) {
	for _, t := range d.Transitions {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// State returns the named state.
func (d *Definition) State(name State) (StateSpec, bool) {
	for _, s := range d.States {
		if s.Name == name {
			return s, true
		}
	}
	return StateSpec{}, false
}

// ReadPrivate is the permission to read the workflow's private side.
func (d *Definition) ReadPrivate() string {
	if d.Resource != "" {
		return d.Resource + ".read_private"
	}
	return d.Kind + ".read_private"
}

// StateTitle is a state's title, or its name when it has none.
func (d *Definition) StateTitle(name State) string {
	if s, ok := d.State(name); ok && s.Title != "" {
		return s.Title
	}
	return string(name)
}

// From tells whether the transition may leave state s.
// optionalIn says whether the transition, taken from s, waits for no one.
func (t *Transition) optionalIn(s State) bool {
	return t.Optional || slices.Contains(t.OptionalFrom, s)
}

func (t *Transition) from(s State) bool {
	for _, f := range t.From {
		if f == s {
			return true
		}
	}
	return false
}

// Mermaid draws the definition as a Mermaid state diagram.
func (d *Definition) Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for _, s := range append([]State{d.Initial}, d.Entry...) {
		fmt.Fprintf(&b, "    [*] --> %s\n", s)
	}
	for _, t := range d.Transitions {
		label := t.Name
		if t.Quorum != nil {
			label += " (quorum)"
		}
		if t.Action == "" {
			label += " (timer)"
		}
		for _, f := range t.From {
			fmt.Fprintf(&b, "    %s --> %s: %s\n", f, t.To, label)
		}
	}
	for _, s := range d.States {
		if s.Final {
			fmt.Fprintf(&b, "    %s --> [*]\n", s.Name)
		}
	}
	return b.String()
}
