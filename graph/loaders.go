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
	Version      *dataloadgen.Loader[uuid.UUID, *store.AgreementVersion]
	Ceremony     *dataloadgen.Loader[uuid.UUID, *store.Ceremony]
	User         *dataloadgen.Loader[uuid.UUID, *store.User]
	Instance     *dataloadgen.Loader[uuid.UUID, *store.Instance]
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

func newLoaders(db *store.DB) *Loaders {
	return &Loaders{
		Organisation: mapped(store.OrganisationsByIDs, db, func(o *store.Organisation) uuid.UUID { return o.ID }),
		Version:      mapped(store.AgreementVersionsByIDs, db, func(v *store.AgreementVersion) uuid.UUID { return v.ID }),
		Ceremony:     mapped(store.CeremoniesByIDs, db, func(c *store.Ceremony) uuid.UUID { return c.ID }),
		User:         mapped(store.UsersByIDs, db, func(u *store.User) uuid.UUID { return u.ID }),
		Instance:     mapped(store.InstancesByIDs, db, func(i *store.Instance) uuid.UUID { return i.ID }),
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
