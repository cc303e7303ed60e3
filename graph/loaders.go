package graph

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/vikstrous/dataloadgen"

	"github.com/samverkan/samverkan/internal/store"
)

// Loaders batch the lookups that list fields make, one set per request, so
// that a list of 1,000 items costs as many statements as a list of 10.
type Loaders struct {
	Organisation *dataloadgen.Loader[uuid.UUID, *store.Organisation]
	Agreement    *dataloadgen.Loader[uuid.UUID, *store.Agreement]
	Version      *dataloadgen.Loader[uuid.UUID, *store.AgreementVersion]
	Ceremony     *dataloadgen.Loader[uuid.UUID, *store.Ceremony]
	User         *dataloadgen.Loader[uuid.UUID, *store.User]
	Instance     *dataloadgen.Loader[uuid.UUID, *store.Instance]
	Activity     *dataloadgen.Loader[uuid.UUID, *store.Activity]

	VersionsOf     *dataloadgen.Loader[uuid.UUID, []*store.AgreementVersion]
	SignaturesOf   *dataloadgen.Loader[uuid.UUID, []*store.Signatory]
	ApplicationsOf *dataloadgen.Loader[uuid.UUID, []*store.Instance]
	FollowUpsOf    *dataloadgen.Loader[uuid.UUID, []*store.Instance]
	RevisionsOf    *dataloadgen.Loader[uuid.UUID, []*store.Instance]
	ApprovalsOf    *dataloadgen.Loader[uuid.UUID, []store.Approval]
	TimersOf       *dataloadgen.Loader[uuid.UUID, []store.Timer]
	PlansOf        *dataloadgen.Loader[uuid.UUID, []*store.ActionPlan]
	ActivitiesOf   *dataloadgen.Loader[uuid.UUID, []*store.Activity]
	IndicatorsOf   *dataloadgen.Loader[uuid.UUID, []*store.Indicator]
	ValuesOf       *dataloadgen.Loader[uuid.UUID, []store.IndicatorValue]
	DraftsOf       *dataloadgen.Loader[uuid.UUID, []*store.Draft]
	History        *dataloadgen.Loader[historyKey, []store.Event]
	HistoryCount   *dataloadgen.Loader[historyKey, int]
	Head           *dataloadgen.Loader[string, []byte]
}

// historyKey asks for the newest events of a stream (Limit 0 for a count).
type historyKey struct {
	Stream     string
	PublicOnly bool
	Limit      int
}

type loadersKey struct{}

func mapped[T any](fetch func(context.Context, store.Querier, []uuid.UUID) ([]T, error), db *store.DB, id func(T) uuid.UUID) *dataloadgen.Loader[uuid.UUID, T] {
	return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]T, error) {
		rows, err := fetch(ctx, db.Pool, ids)
		if err != nil {
			return nil, err
		}
		m := make(map[uuid.UUID]T, len(rows))
		for _, r := range rows {
			m[id(r)] = r
		}
		return m, nil
	}, dataloadgen.WithWait(time.Millisecond), dataloadgen.WithBatchCapacity(500))
}

// grouped loads, for each parent, the list of its children.
func grouped[T any](fetch func(context.Context, store.Querier, []uuid.UUID) ([]T, error), db *store.DB, parent func(T) uuid.UUID) *dataloadgen.Loader[uuid.UUID, []T] {
	return dataloadgen.NewLoader(func(ctx context.Context, ids []uuid.UUID) ([][]T, []error) {
		rows, err := fetch(ctx, db.Pool, ids)
		out := make([][]T, len(ids))
		if err != nil {
			return out, []error{err}
		}
		at := make(map[uuid.UUID]int, len(ids))
		for i, id := range ids {
			at[id] = i
			out[i] = []T{}
		}
		for _, r := range rows {
			if i, ok := at[parent(r)]; ok {
				out[i] = append(out[i], r)
			}
		}
		return out, nil
	}, dataloadgen.WithWait(time.Millisecond), dataloadgen.WithBatchCapacity(500))
}

func ofKind(kind string) func(context.Context, store.Querier, []uuid.UUID) ([]*store.Instance, error) {
	return func(ctx context.Context, q store.Querier, ids []uuid.UUID) ([]*store.Instance, error) {
		return store.InstancesOfSubjects(ctx, q, kind, ids)
	}
}

func newLoaders(db *store.DB) *Loaders {
	subject := func(i *store.Instance) uuid.UUID { return i.SubjectID }
	return &Loaders{
		Organisation: mapped(store.OrganisationsByIDs, db, func(o *store.Organisation) uuid.UUID { return o.ID }),
		Agreement:    mapped(store.AgreementsByIDs, db, func(a *store.Agreement) uuid.UUID { return a.ID }),
		Version:      mapped(store.AgreementVersionsByIDs, db, func(v *store.AgreementVersion) uuid.UUID { return v.ID }),
		Ceremony:     mapped(store.CeremoniesByIDs, db, func(c *store.Ceremony) uuid.UUID { return c.ID }),
		User:         mapped(store.UsersByIDs, db, func(u *store.User) uuid.UUID { return u.ID }),
		Instance:     mapped(store.InstancesByIDs, db, func(i *store.Instance) uuid.UUID { return i.ID }),
		Activity:     mapped(store.ActivitiesByIDs, db, func(a *store.Activity) uuid.UUID { return a.ID }),

		VersionsOf:     grouped(store.VersionsOfAgreements, db, func(v *store.AgreementVersion) uuid.UUID { return v.AgreementID }),
		SignaturesOf:   grouped(store.SignaturesOfOrganisations, db, func(s *store.Signatory) uuid.UUID { return s.OrganisationID }),
		ApplicationsOf: grouped(ofKind("signing"), db, subject),
		FollowUpsOf:    grouped(ofKind("annual_follow_up"), db, subject),
		RevisionsOf:    grouped(ofKind("revision"), db, subject),
		ApprovalsOf:    grouped(store.LiveApprovalsOf, db, func(a store.Approval) uuid.UUID { return a.InstanceID }),
		TimersOf:       grouped(store.PendingTimersOf, db, func(t store.Timer) uuid.UUID { return t.InstanceID }),
		PlansOf:        grouped(store.PlansOfVersions, db, func(p *store.ActionPlan) uuid.UUID { return p.AgreementVersionID }),
		ActivitiesOf:   grouped(store.ActivitiesOfPlans, db, func(a *store.Activity) uuid.UUID { return a.ActionPlanID }),
		IndicatorsOf:   grouped(store.IndicatorsOf, db, func(i *store.Indicator) uuid.UUID { return i.ActivityID }),
		ValuesOf:       grouped(store.IndicatorValues, db, func(v store.IndicatorValue) uuid.UUID { return v.IndicatorID }),
		DraftsOf:       grouped(store.DraftsOf, db, func(d *store.Draft) uuid.UUID { return d.InstanceID }),
		History:        dataloadgen.NewLoader(historyPages(db), dataloadgen.WithWait(time.Millisecond)),
		HistoryCount:   dataloadgen.NewLoader(historyCounts(db), dataloadgen.WithWait(time.Millisecond)),
		Head:           dataloadgen.NewLoader(heads(db), dataloadgen.WithWait(time.Millisecond)),
	}
}

// historyPages reads the first page of many streams' histories, one
// statement per page size and visibility.
func historyPages(db *store.DB) func(context.Context, []historyKey) ([][]store.Event, []error) {
	return func(ctx context.Context, keys []historyKey) ([][]store.Event, []error) {
		out := make([][]store.Event, len(keys))
		type group struct {
			publicOnly bool
			limit      int
		}
		groups := map[group][]int{}
		for i, k := range keys {
			g := group{k.PublicOnly, k.Limit}
			groups[g] = append(groups[g], i)
		}
		for g, idx := range groups {
			streams := make([]string, len(idx))
			for j, i := range idx {
				streams[j] = keys[i].Stream
			}
			events, err := store.StreamsPage(ctx, db.Pool, streams, g.publicOnly, g.limit)
			if err != nil {
				return out, []error{err}
			}
			by := map[string][]store.Event{}
			for _, e := range events {
				by[e.Stream] = append(by[e.Stream], e)
			}
			for _, i := range idx {
				out[i] = by[keys[i].Stream]
			}
		}
		return out, nil
	}
}

func historyCounts(db *store.DB) func(context.Context, []historyKey) ([]int, []error) {
	return func(ctx context.Context, keys []historyKey) ([]int, []error) {
		out := make([]int, len(keys))
		for _, publicOnly := range []bool{false, true} {
			var streams []string
			for _, k := range keys {
				if k.PublicOnly == publicOnly {
					streams = append(streams, k.Stream)
				}
			}
			if len(streams) == 0 {
				continue
			}
			counts, err := store.CountStreams(ctx, db.Pool, streams, publicOnly)
			if err != nil {
				return out, []error{err}
			}
			n := map[string]int{}
			for _, c := range counts {
				n[c.Stream] = c.N
			}
			for i, k := range keys {
				if k.PublicOnly == publicOnly {
					out[i] = n[k.Stream]
				}
			}
		}
		return out, nil
	}
}

func heads(db *store.DB) func(context.Context, []string) ([][]byte, []error) {
	return func(ctx context.Context, streams []string) ([][]byte, []error) {
		out := make([][]byte, len(streams))
		hs, err := store.HeadsOf(ctx, db.Pool, streams)
		if err != nil {
			return out, []error{err}
		}
		by := map[string][]byte{}
		for _, h := range hs {
			by[h.Stream] = h.Hash
		}
		for i, s := range streams {
			out[i] = by[s]
		}
		return out, nil
	}
}

func (r *Resolver) withLoaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), loadersKey{}, newLoaders(r.DB))))
	})
}

func loaders(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	panic("graph: no loaders in context")
}

// load returns nil, not an error, for a missing object.
func load[T any](ctx context.Context, l *dataloadgen.Loader[uuid.UUID, *T], id uuid.UUID) (*T, error) {
	v, err := l.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
