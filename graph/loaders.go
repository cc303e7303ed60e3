package graph

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/revision"
	"github.com/samverkan/samverkan/workflows/signing"
)

// Loaders batch the lookups that list fields make, one set per request, so
// that a list of 1,000 items costs as many statements as a list of 10.
type Loaders struct {
	// fields are the names of every field the operation selects; loaders
	// prime the next level only for fields that are asked for.
	fields map[string]bool
	// historyLimit is the history page the operation asks for (0: none or
	// several); private tells whether the viewer sees an instance's
	// private events.
	historyLimit int
	// historyColumns are what a history page reads beyond what every page
	// shows: the payload when the operation asks for an event's input or
	// hash, the actors' user rows when it asks for actors.
	historyColumns store.HistoryColumns
	// signatoriesPage is the page of signatories the operation asks for.
	signatoriesPage pageAsked
	// loneRootField: the operation's root is one field (node(id:) alone).
	loneRootField bool
	// pr is the viewer, for the loaders of objects that are not all public.
	pr     authz.Principal
	engine *workflows.Engine

	Organisation *Loader[uuid.UUID, *store.Organisation]
	Agreement    *Loader[uuid.UUID, *store.Agreement]
	Version      *Loader[uuid.UUID, *store.AgreementVersion]
	Ceremony     *Loader[uuid.UUID, *store.Ceremony]
	User         *Loader[uuid.UUID, *store.User]
	Instance     *Loader[uuid.UUID, *store.Instance]
	Activity     *Loader[uuid.UUID, *store.Activity]

	VersionsOf     *Loader[uuid.UUID, []*store.AgreementVersion]
	SignaturesOf   *Loader[uuid.UUID, []*store.Signatory]
	ApplicationsOf *Loader[uuid.UUID, []*store.Instance]
	FollowUpsOf    *Loader[uuid.UUID, []*store.Instance]
	RevisionsOf    *Loader[uuid.UUID, []*store.Instance]
	ApprovalsOf    *Loader[uuid.UUID, []store.Approval]
	TimersOf       *Loader[uuid.UUID, []store.Timer]
	PlansOf        *Loader[uuid.UUID, []*store.ActionPlan]
	ActivitiesOf   *Loader[uuid.UUID, []*store.Activity]
	IndicatorsOf   *Loader[uuid.UUID, []*store.Indicator]
	ValuesOf       *Loader[uuid.UUID, []store.IndicatorValue]
	DraftsOf       *Loader[uuid.UUID, []*store.Draft]
	History        *Loader[historyKey, []store.Event]
	HistoryCount   *Loader[historyKey, int]
	Head           *Loader[string, []byte]
	Signatories    *Loader[pageKey, []*store.Signatory]
	SignatoryCount *Loader[uuid.UUID, int]
}

// pageKey asks for Limit items of a parent's connection, the first ones or
// those after the item After.
type pageKey struct {
	Parent uuid.UUID
	Limit  int
	After  uuid.UUID
}

// historyKey asks for the newest events of a stream (Limit 0 for a count).
type historyKey struct {
	Stream     string
	PublicOnly bool
	Limit      int
}

type loadersKey struct{}

// batchReader is a service method that reads many objects by id.
type batchReader[T any] func(context.Context, []uuid.UUID) ([]T, error)

func mapped[T any](fetch batchReader[T], id func(T) uuid.UUID) *Loader[uuid.UUID, T] {
	return NewLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]T, error) {
		rows, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		m := make(map[uuid.UUID]T, len(rows))
		for _, r := range rows {
			m[id(r)] = r
		}
		return m, nil
	})
}

// grouped loads, for each parent, the list of its children.
func grouped[T any](fetch batchReader[T], parent func(T) uuid.UUID) *Loader[uuid.UUID, []T] {
	return NewLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]T, error) {
		rows, err := fetch(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[uuid.UUID][]T, len(ids))
		for _, id := range ids {
			out[id] = []T{}
		}
		for _, r := range rows {
			out[parent(r)] = append(out[parent(r)], r)
		}
		return out, nil
	})
}

// newLoaders makes a request's loaders. Every one reads through a service
// batch reader; those whose objects are not all public take the request's
// principal (set when the operation starts), so that what a loader returns
// is what the viewer may see.
func newLoaders(r *Resolver) *Loaders {
	subject := func(i *store.Instance) uuid.UUID { return i.SubjectID }
	l := &Loaders{engine: r.Engine}
	instancesOf := func(kind string) batchReader[*store.Instance] {
		return func(ctx context.Context, ids []uuid.UUID) ([]*store.Instance, error) {
			return r.Engine.InstancesOfSubjects(ctx, l.pr, kind, ids)
		}
	}
	l.Organisation = mapped(r.Registry.OrganisationsByIDs, func(o *store.Organisation) uuid.UUID { return o.ID })
	l.Agreement = mapped(r.Registry.AgreementsByIDs, func(a *store.Agreement) uuid.UUID { return a.ID })
	l.Version = NewLoader(l.readVersions(r))
	l.Ceremony = mapped(r.Signing.CeremoniesByIDs, func(c *store.Ceremony) uuid.UUID { return c.ID })
	l.User = mapped(r.Roles.UsersByIDs, func(u *store.User) uuid.UUID { return u.ID })
	l.Instance = NewLoader(l.readInstances)
	l.Activity = mapped(r.FollowUp.ActivitiesByIDs, func(a *store.Activity) uuid.UUID { return a.ID })

	l.VersionsOf = grouped(r.Registry.VersionsOfAgreements, func(v *store.AgreementVersion) uuid.UUID { return v.AgreementID })
	l.SignaturesOf = grouped(r.Signing.SignaturesOfOrganisations, func(s *store.Signatory) uuid.UUID { return s.OrganisationID })
	l.ApplicationsOf = grouped(instancesOf(signing.Kind), subject)
	l.FollowUpsOf = grouped(func(ctx context.Context, ids []uuid.UUID) ([]*store.Instance, error) {
		return r.FollowUp.FollowUpsOf(ctx, l.pr, ids)
	}, subject)
	l.RevisionsOf = grouped(instancesOf(revision.Kind), subject)
	l.ApprovalsOf = grouped(r.Engine.ApprovalsOf, func(a store.Approval) uuid.UUID { return a.InstanceID })
	l.TimersOf = grouped(r.Engine.TimersOf, func(t store.Timer) uuid.UUID { return t.InstanceID })
	l.PlansOf = grouped(r.FollowUp.PlansOfVersions, func(p *store.ActionPlan) uuid.UUID { return p.AgreementVersionID })
	l.ActivitiesOf = grouped(r.FollowUp.ActivitiesOfPlans, func(a *store.Activity) uuid.UUID { return a.ActionPlanID })
	l.IndicatorsOf = grouped(r.FollowUp.Indicators, func(i *store.Indicator) uuid.UUID { return i.ActivityID })
	l.ValuesOf = grouped(r.FollowUp.IndicatorValues, func(v store.IndicatorValue) uuid.UUID { return v.IndicatorID })
	l.DraftsOf = NewLoader(func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]*store.Draft, error) {
		return r.Revisions.DraftsOf(ctx, l.pr, ids)
	})
	l.History = NewLoader(historyPages(r.Engine, func() store.HistoryColumns { return l.historyColumns }))
	l.HistoryCount = NewLoader(historyCounts(r.Engine))
	l.Head = NewLoader(heads(r.Engine))
	l.Signatories = NewLoader(signatoryPages(r.Signing, l.signatoryOrganisations))
	l.SignatoryCount = NewLoader(signatoryCounts(r.Signing))
	l.chain()
	return l
}

// along is what a read of instances by id takes along for the operation.
func (l *Loaders) along() workflows.Along {
	a := workflows.Along{Approvals: l.fields["pendingApprovals"] || l.fields["availableActions"]}
	if l.fields["history"] {
		a.HistoryLimit, a.HistoryColumns = l.historyLimit, l.historyColumns
	}
	return a
}

// readInstances reads instances by id with the approvals and first history
// page the operation asks for, in one round trip, and gives those to their
// loaders.
func (l *Loaders) readInstances(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*store.Instance, error) {
	along := l.along()
	reads, err := l.engine.ReadInstances(ctx, l.pr, ids, along)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]*store.Instance, len(reads))
	approvals := make(map[uuid.UUID][]store.Approval, len(reads))
	pages := make(map[historyKey][]store.Event, len(reads))
	for _, rd := range reads {
		id := rd.Instance.ID
		out[id], approvals[id] = rd.Instance, rd.Approvals
		pages[historyKey{Stream: workflows.Stream(id), PublicOnly: rd.PublicOnly, Limit: along.HistoryLimit}] = rd.History
	}
	if along.Approvals {
		l.ApprovalsOf.PutAll(ctx, approvals)
	}
	if along.HistoryLimit > 0 {
		l.History.PutAll(ctx, pages)
	}
	return out, nil
}

// signatoriesKey is the page of a version's signatories the operation
// asks for, if it asks for one page throughout.
func (l *Loaders) signatoriesKey(version uuid.UUID) (pageKey, bool) {
	p := l.signatoriesPage
	if p.size <= 0 || !l.fields["signatories"] {
		return pageKey{}, false
	}
	k := pageKey{Parent: version, Limit: p.size}
	if p.after != "" {
		parts, err := parseCursor(&p.after, 1)
		if err != nil {
			return pageKey{}, false // the field's resolver refuses the cursor
		}
		if k.After, err = uuid.Parse(parts[0]); err != nil {
			return pageKey{}, false
		}
	}
	return k, true
}

// readVersions reads versions by id, with the page of their signatories
// the operation asks for in the same round trip, and gives the pages to
// their loader.
func (l *Loaders) readVersions(r *Resolver) func(context.Context, []uuid.UUID) (map[uuid.UUID]*store.AgreementVersion, error) {
	return func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*store.AgreementVersion, error) {
		key, withPage := l.signatoriesKey(uuid.Nil)
		var versions []*store.AgreementVersion
		var rows []*store.Signatory
		var err error
		if withPage {
			versions, rows, err = r.Signing.VersionsWithSignatories(ctx, ids,
				store.SignatoryPage{AfterID: key.After, Limit: key.Limit, Organisations: l.signatoryOrganisations()})
		} else {
			versions, err = r.Registry.VersionsByIDs(ctx, ids)
		}
		if err != nil {
			return nil, err
		}
		out := make(map[uuid.UUID]*store.AgreementVersion, len(versions))
		pages := make(map[pageKey][]*store.Signatory, len(versions))
		for _, v := range versions {
			out[v.ID] = v
			key.Parent = v.ID
			pages[key] = []*store.Signatory{}
		}
		if withPage {
			for _, s := range rows {
				key.Parent = s.AgreementVersionID
				pages[key] = append(pages[key], s)
			}
			l.Signatories.PutAll(ctx, pages)
		}
		return out, nil
	}
}

// chain makes loaders that return parents prime their children's loaders
// for all of them at once (only for fields the operation asks for).
func (l *Loaders) chain() {
	// instances primes what the operation asks for of instances, but for
	// what was read along with them.
	instances := func(ctx context.Context, ins []*store.Instance, read workflows.Along) {
		ids := make([]uuid.UUID, len(ins))
		streams := make([]string, len(ins))
		for i, in := range ins {
			ids[i], streams[i] = in.ID, workflows.Stream(in.ID)
		}
		if (l.fields["pendingApprovals"] || l.fields["availableActions"]) && !read.Approvals {
			l.ApprovalsOf.Prime(ctx, ids...)
		}
		if l.fields["timers"] {
			l.TimersOf.Prime(ctx, ids...)
		}
		if l.fields["historyHead"] {
			l.Head.Prime(ctx, streams...)
		}
		pages := l.fields["history"] && l.historyLimit > 0 && read.HistoryLimit == 0
		if counts := l.fields["history"] && l.fields["totalCount"]; pages || counts {
			// Keys are gathered first and primed in one call: a batch is
			// sent when keys stop coming, and working out visibility takes
			// time.
			pageKeys, countKeys := make([]historyKey, len(ins)), make([]historyKey, len(ins))
			for i, in := range ins {
				publicOnly := l.engine.HistoryVisibility(ctx, l.pr, in)
				pageKeys[i] = historyKey{Stream: streams[i], PublicOnly: publicOnly, Limit: l.historyLimit}
				countKeys[i] = historyKey{Stream: streams[i], PublicOnly: publicOnly}
			}
			if pages {
				l.History.Prime(ctx, pageKeys...)
			}
			if counts {
				l.HistoryCount.Prime(ctx, countKeys...)
			}
		}
	}
	l.Instance.after = func(ctx context.Context, all map[uuid.UUID]*store.Instance) {
		ins := make([]*store.Instance, 0, len(all))
		for _, in := range all {
			if in != nil {
				ins = append(ins, in)
			}
		}
		instances(ctx, ins, l.along())
	}
	versions := func(ctx context.Context, ids []uuid.UUID) {
		if l.fields["followUps"] {
			l.FollowUpsOf.Prime(ctx, ids...)
		}
		if l.fields["actionPlans"] {
			l.PlansOf.Prime(ctx, ids...)
		}
		if l.fields["revision"] {
			l.RevisionsOf.Prime(ctx, ids...)
		}
		if l.fields["signatories"] {
			if l.fields["totalCount"] {
				l.SignatoryCount.Prime(ctx, ids...)
			}
			if _, ok := l.signatoriesKey(uuid.Nil); ok {
				keys := make([]pageKey, len(ids))
				for i, id := range ids {
					keys[i], _ = l.signatoriesKey(id)
				}
				l.Signatories.Prime(ctx, keys...)
			}
		}
	}
	l.VersionsOf.after = func(ctx context.Context, all map[uuid.UUID][]*store.AgreementVersion) {
		var ids []uuid.UUID
		for _, vs := range all {
			for _, v := range vs {
				ids = append(ids, v.ID)
			}
		}
		versions(ctx, ids)
	}
	l.Version.after = func(ctx context.Context, all map[uuid.UUID]*store.AgreementVersion) {
		ids := make([]uuid.UUID, 0, len(all))
		for id, v := range all {
			if v != nil {
				ids = append(ids, id)
			}
		}
		versions(ctx, ids)
	}
	l.Signatories.after = func(ctx context.Context, all map[pageKey][]*store.Signatory) {
		var rows []*store.Signatory
		for _, list := range all {
			rows = append(rows, list...)
		}
		l.primeSignatories(ctx, rows)
	}
	l.History.after = func(ctx context.Context, all map[historyKey][]store.Event) {
		if !l.fields["actor"] {
			return
		}
		var users []uuid.UUID
		for _, events := range all {
			for _, e := range events {
				if e.Actor != nil {
					l.User.Put(e.Actor.ID, e.Actor) // read with the page (historyColumns.Actors)
				} else if e.ActorID != nil {
					users = append(users, *e.ActorID)
				}
			}
		}
		l.User.Prime(ctx, users...)
	}
	l.ApprovalsOf.after = func(ctx context.Context, all map[uuid.UUID][]store.Approval) {
		var users []uuid.UUID
		for _, as := range all {
			for _, a := range as {
				users = append(users, a.ApproverID)
			}
		}
		if l.fields["approvers"] {
			l.User.Prime(ctx, users...)
		}
	}
	for _, of := range []*Loader[uuid.UUID, []*store.Instance]{l.FollowUpsOf, l.ApplicationsOf, l.RevisionsOf} {
		of.after = func(ctx context.Context, all map[uuid.UUID][]*store.Instance) {
			var ins []*store.Instance
			for _, list := range all {
				ins = append(ins, list...)
			}
			instances(ctx, ins, workflows.Along{})
		}
	}
	l.PlansOf.after = func(ctx context.Context, all map[uuid.UUID][]*store.ActionPlan) {
		var ids []uuid.UUID
		for _, ps := range all {
			for _, p := range ps {
				ids = append(ids, p.ID)
			}
		}
		if l.fields["activities"] {
			l.ActivitiesOf.Prime(ctx, ids...)
		}
	}
}

// organisationWideFields are the Organisation fields that need more than
// the listing's columns (store.OrganisationListing).
var organisationWideFields = []string{"website", "description", "contactEmail", "contactPhone"}

// signatoryOrganisations is what a page of signatories takes along of
// their organisations in its own statement: nothing when the operation
// asks for no organisation, the listing's columns when it asks for none of
// the wide fields (anywhere: the names are the operation's), else all. A
// signatory's organisation is the one read along, so every page the
// operation may ask it of must take it.
func (l *Loaders) signatoryOrganisations() store.OrganisationColumns {
	if !l.fields["organisation"] {
		return store.NoOrganisation
	}
	for _, f := range organisationWideFields {
		if l.fields[f] {
			return store.OrganisationWhole
		}
	}
	return store.OrganisationListing
}

func signatoryPages(sign *signing.Service, org func() store.OrganisationColumns) func(context.Context, []pageKey) (map[pageKey][]*store.Signatory, error) {
	return func(ctx context.Context, keys []pageKey) (map[pageKey][]*store.Signatory, error) {
		out := make(map[pageKey][]*store.Signatory, len(keys))
		byLimit := map[int][]uuid.UUID{}
		for _, k := range keys {
			out[k] = []*store.Signatory{}
			if k.After != uuid.Nil {
				// A page after a cursor is a statement of its own.
				rows, err := sign.Signatories(ctx, store.SignatoryPage{VersionID: k.Parent, AfterID: k.After, Limit: k.Limit,
					Organisations: org()})
				if err != nil {
					return nil, err
				}
				out[k] = rows
				continue
			}
			byLimit[k.Limit] = append(byLimit[k.Limit], k.Parent)
		}
		for limit, ids := range byLimit {
			rows, err := sign.FirstSignatoryPages(ctx, ids, limit, org())
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				k := pageKey{Parent: r.AgreementVersionID, Limit: limit}
				out[k] = append(out[k], r)
			}
		}
		return out, nil
	}
}

func signatoryCounts(sign *signing.Service) func(context.Context, []uuid.UUID) (map[uuid.UUID]int, error) {
	return func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]int, error) {
		counts, err := sign.CountSignatoriesOf(ctx, ids)
		m := make(map[uuid.UUID]int, len(ids))
		for _, id := range ids {
			m[id] = 0
		}
		for _, c := range counts {
			m[c.VersionID] = c.N
		}
		return m, err
	}
}

// historyPages reads the first page of many streams' histories, one
// statement per page size and visibility.
func historyPages(eng *workflows.Engine, cols func() store.HistoryColumns) func(context.Context, []historyKey) (map[historyKey][]store.Event, error) {
	return func(ctx context.Context, keys []historyKey) (map[historyKey][]store.Event, error) {
		out := make(map[historyKey][]store.Event, len(keys))
		type group struct {
			publicOnly bool
			limit      int
		}
		groups := map[group][]string{}
		for _, k := range keys {
			g := group{k.PublicOnly, k.Limit}
			groups[g] = append(groups[g], k.Stream)
			out[k] = []store.Event{}
		}
		for g, streams := range groups {
			pages, err := eng.FirstHistoryPages(ctx, streams, g.publicOnly, g.limit, cols())
			if err != nil {
				return nil, err
			}
			for stream, page := range pages {
				out[historyKey{Stream: stream, PublicOnly: g.publicOnly, Limit: g.limit}] = page
			}
		}
		return out, nil
	}
}

func historyCounts(eng *workflows.Engine) func(context.Context, []historyKey) (map[historyKey]int, error) {
	return func(ctx context.Context, keys []historyKey) (map[historyKey]int, error) {
		out := make(map[historyKey]int, len(keys))
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
			counts, err := eng.CountHistories(ctx, streams, publicOnly)
			if err != nil {
				return nil, err
			}
			for _, c := range counts {
				out[historyKey{Stream: c.Stream, PublicOnly: publicOnly}] = c.N
			}
		}
		return out, nil
	}
}

func heads(eng *workflows.Engine) func(context.Context, []string) (map[string][]byte, error) {
	return func(ctx context.Context, streams []string) (map[string][]byte, error) {
		hs, err := eng.HistoryHeads(ctx, streams)
		if err != nil {
			return nil, err
		}
		out := make(map[string][]byte, len(hs))
		for _, h := range hs {
			out[h.Stream] = h.Hash
		}
		return out, nil
	}
}

// primeSignatories asks for the ceremonies of a page of signatories at
// once; their organisations came with them (signatoryOrganisations:
// Signatory.organisation is a plain field).
func (l *Loaders) primeSignatories(ctx context.Context, rows []*store.Signatory) {
	if !l.fields["ceremony"] {
		return
	}
	var ceremonies []uuid.UUID
	for _, s := range rows {
		if s.CeremonyID != nil {
			ceremonies = append(ceremonies, *s.CeremonyID)
		}
	}
	l.Ceremony.Prime(ctx, ceremonies...)
}

// primeAgreements primes the loaders for a list of agreements.
func primeAgreements(ctx context.Context, agreements []*store.Agreement) {
	l := loaders(ctx)
	ids, bodies := make([]uuid.UUID, len(agreements)), make([]uuid.UUID, len(agreements))
	for i, a := range agreements {
		ids[i], bodies[i] = a.ID, a.PublicBodyID
	}
	if l.fields["versions"] || l.fields["currentVersion"] {
		l.VersionsOf.Prime(ctx, ids...)
	}
	if l.fields["publicBody"] {
		l.Organisation.Prime(ctx, bodies...)
	}
}

func (r *Resolver) withLoaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), loadersKey{}, newLoaders(r))))
	})
}

func loaders(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	panic("graph: no loaders in context")
}

// load returns nil, not an error, for a missing object.
func load[T any](ctx context.Context, l *Loader[uuid.UUID, *T], id uuid.UUID) (*T, error) {
	return l.Load(ctx, id)
}

// historyActors are the actors of a page of events (nil for the system),
// when the operation asks for actors: through the user loader, in one batch
// with every other page's (History.after primes them), here rather than in
// a resolver per event.
func historyActors(ctx context.Context, events []store.Event) ([]*store.User, error) {
	out := make([]*store.User, len(events))
	l := loaders(ctx)
	if !l.fields["actor"] {
		return out, nil
	}
	ids := make([]uuid.UUID, 0, len(events))
	for _, e := range events {
		if e.Actor != nil {
			l.User.Put(e.Actor.ID, e.Actor)
		} else if e.ActorID != nil {
			ids = append(ids, *e.ActorID)
		}
	}
	l.User.Prime(ctx, ids...)
	for i, e := range events {
		if e.Actor != nil || e.ActorID == nil {
			out[i] = e.Actor
			continue
		}
		u, err := load(ctx, l.User, *e.ActorID)
		if err != nil {
			return nil, err
		}
		out[i] = u
	}
	return out, nil
}
