package workflows

import (
	"context"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/audit"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
)

// The engine's batch readers, for the edges' loaders: each statement reads
// many instances (or their children) at once, and what comes back is only
// what the principal may see. An instance pr may not see is left out, as if
// it did not exist.

// visible keeps the instances pr may see.
func (e *Engine) visible(ctx context.Context, pr authz.Principal, all []*store.Instance) []*store.Instance {
	out := all[:0]
	for _, in := range all {
		if e.CanRead(ctx, pr, in) {
			out = append(out, in)
		}
	}
	return out
}

// InstancesByIDs reads the instances of ids that pr may see.
func (e *Engine) InstancesByIDs(ctx context.Context, pr authz.Principal, ids []uuid.UUID) ([]*store.Instance, error) {
	all, err := store.InstancesByIDs(ctx, e.db.Pool, ids)
	if err != nil {
		return nil, err
	}
	return e.visible(ctx, pr, all), nil
}

// Along is what ReadInstances reads with the instances, in the same round
// trip.
type Along struct {
	// Approvals: the live approvals of each instance's current round.
	Approvals bool
	// HistoryLimit: the newest events of each instance's history that pr
	// may see (0: none), with the columns HistoryColumns asks for.
	HistoryLimit   int
	HistoryColumns store.HistoryColumns
}

// InstanceRead is an instance pr may see, with what Along asked for.
type InstanceRead struct {
	Instance  *store.Instance
	Approvals []store.Approval
	// History is the newest events, public ones only when PublicOnly (as
	// HistoryVisibility decides).
	History    []store.Event
	PublicOnly bool
}

// ReadInstances reads the instances of ids that pr may see, with their
// approvals and the first page of their histories, in one round trip.
// Whether pr may see an instance's private events is known only once it
// is read, so the page is read with every event and the private ones are
// dropped here for a viewer who may not see them; when that leaves a full
// page short, that page is read again, public events only.
func (e *Engine) ReadInstances(ctx context.Context, pr authz.Principal, ids []uuid.UUID, along Along) ([]InstanceRead, error) {
	got, err := store.InstancesWith(ctx, e.db.Pool, ids, store.InstanceExtras{Approvals: along.Approvals,
		HistoryLimit: along.HistoryLimit, HistoryColumns: along.HistoryColumns})
	if err != nil {
		return nil, err
	}
	approvals := map[uuid.UUID][]store.Approval{}
	for _, a := range got.Approvals {
		approvals[a.InstanceID] = append(approvals[a.InstanceID], a)
	}
	pages := eventsByStream(got.Events)
	visible := e.visible(ctx, pr, got.Instances)
	out := make([]InstanceRead, len(visible))
	var again []string
	for i, in := range visible {
		out[i] = InstanceRead{Instance: in, Approvals: approvals[in.ID]}
		if along.HistoryLimit == 0 {
			continue
		}
		page := pages[Stream(in.ID)]
		if out[i].PublicOnly = e.HistoryVisibility(ctx, pr, in); out[i].PublicOnly {
			public := publicEvents(page)
			if len(public) < len(page) && len(page) == along.HistoryLimit {
				again = append(again, Stream(in.ID))
			}
			page = public
		}
		out[i].History = page
	}
	if len(again) > 0 {
		events, err := store.StreamsPage(ctx, e.db.Pool, again, true, along.HistoryLimit, along.HistoryColumns)
		if err != nil {
			return nil, err
		}
		reread := eventsByStream(events)
		for i := range out {
			if page, ok := reread[Stream(out[i].Instance.ID)]; ok {
				out[i].History = page
			}
		}
	}
	return out, nil
}

// eventsByStream splits events that come stream by stream (each stream
// once) into each stream's part of the one slice.
func eventsByStream(events []store.Event) map[string][]store.Event {
	out := map[string][]store.Event{}
	for start := 0; start < len(events); {
		end := start + 1
		for end < len(events) && events[end].Stream == events[start].Stream {
			end++
		}
		out[events[start].Stream] = events[start:end:end]
		start = end
	}
	return out
}

func publicEvents(events []store.Event) []store.Event {
	out := make([]store.Event, 0, len(events))
	for _, ev := range events {
		if ev.Public {
			out = append(out, ev)
		}
	}
	return out
}

// InstancesOfSubjects reads the instances of a kind about each subject (an
// organisation's applications, a version's follow-ups) that pr may see,
// oldest first.
func (e *Engine) InstancesOfSubjects(ctx context.Context, pr authz.Principal, kind string, subjects []uuid.UUID) ([]*store.Instance, error) {
	all, err := store.InstancesOfSubjects(ctx, e.db.Pool, kind, subjects)
	if err != nil {
		return nil, err
	}
	return e.visible(ctx, pr, all), nil
}

// Read reads one instance as pr may see it: one pr may not see is NOT_FOUND,
// the same answer as for an id that does not exist.
func (e *Engine) Read(ctx context.Context, pr authz.Principal, id uuid.UUID) (*store.Instance, error) {
	in, err := e.Instance(ctx, id)
	if err != nil {
		return nil, err
	}
	if !e.CanRead(ctx, pr, in) {
		return nil, errNoInstance()
	}
	return in, nil
}

// ApprovalsOf reads the live approvals of instances already read (their
// current rounds).
func (e *Engine) ApprovalsOf(ctx context.Context, instanceIDs []uuid.UUID) ([]store.Approval, error) {
	return store.LiveApprovalsOf(ctx, e.db.Pool, instanceIDs)
}

// TimersOf reads the pending timers of instances already read.
func (e *Engine) TimersOf(ctx context.Context, instanceIDs []uuid.UUID) ([]store.Timer, error) {
	return store.PendingTimersOf(ctx, e.db.Pool, instanceIDs)
}

// HistoryVisibility says which of an instance's events pr reads: all, or
// only the public ones.
func (e *Engine) HistoryVisibility(ctx context.Context, pr authz.Principal, in *store.Instance) (publicOnly bool) {
	return !e.CanReadPrivateHistory(ctx, pr, in)
}

// FirstHistoryPages reads the newest limit events of many instances'
// streams (public ones only when publicOnly), with the columns cols asks
// for, by stream.
func (e *Engine) FirstHistoryPages(ctx context.Context, streams []string, publicOnly bool, limit int, cols store.HistoryColumns) (map[string][]store.Event, error) {
	events, err := store.StreamsPage(ctx, e.db.Pool, streams, publicOnly, limit, cols)
	return eventsByStream(events), err
}

// CountHistories counts the events of many streams.
func (e *Engine) CountHistories(ctx context.Context, streams []string, publicOnly bool) ([]store.StreamCount, error) {
	return store.CountStreams(ctx, e.db.Pool, streams, publicOnly)
}

// HistoryHeads reads the newest hash of many streams.
func (e *Engine) HistoryHeads(ctx context.Context, streams []string) ([]store.Head, error) {
	return store.HeadsOf(ctx, e.db.Pool, streams)
}

// HistoryDigest is the digest of the whole public history and the number
// of events in it (see internal/audit).
func (e *Engine) HistoryDigest(ctx context.Context) (string, int, error) {
	return audit.Digest(ctx, e.db.Pool)
}

// Stream is the name of an instance's history stream.
func Stream(instanceID uuid.UUID) string { return store.InstanceStream(instanceID) }

// DatabaseVersion is the PostgreSQL server's version (for serverInfo).
func (e *Engine) DatabaseVersion(ctx context.Context) (string, error) { return e.db.ServerVersion(ctx) }
