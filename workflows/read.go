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
// for.
func (e *Engine) FirstHistoryPages(ctx context.Context, streams []string, publicOnly bool, limit int, cols store.HistoryColumns) ([]store.Event, error) {
	return store.StreamsPage(ctx, e.db.Pool, streams, publicOnly, limit, cols)
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
