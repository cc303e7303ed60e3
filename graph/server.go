package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/identity"
	"github.com/samverkan/samverkan/internal/observe"
	"github.com/samverkan/samverkan/internal/publiccache"
	"github.com/samverkan/samverkan/internal/store"
)

// HandlerOptions configure the GraphQL endpoint.
type HandlerOptions struct {
	Logger *slog.Logger
	// Introspection and Suggestions ("did you mean") help developers and
	// attackers alike; production may turn them off.
	Introspection bool
	Suggestions   bool
	Limits        Limits
	// MaxComplexity bounds an operation's cost: one per field, a
	// connection's items counted page-size times.
	MaxComplexity int
	// MaxTokens bounds the parser's work on a query document, and
	// MaxTokensAnonymous, lower, on one sent without a token.
	MaxTokens          int
	MaxTokensAnonymous int
	// Observer records each operation (metrics); Tracing makes spans of
	// operations and resolvers.
	Observer interface {
		ObserveOperation(name, code string, d time.Duration)
	}
	Tracing bool
	// QuerySlots bounds how many queries execute at once (0: four per
	// core); see querySlots.
	QuerySlots int
}

// NewHandler builds the /graphql endpoint with only the transports and
// extensions we choose: JSON over POST, and GET for queries (gqlgen's GET
// transport refuses mutations). No form or multipart transport exists, so a
// browser cannot post an operation cross-site without a CORS preflight.
func NewHandler(r *Resolver, o HandlerOptions) http.Handler {
	cfg := Config{Resolvers: r}
	cfg.Complexity.AgreementVersion.Signatories = func(child int, first *int, _ *string) int { return connectionCost(child, first) }
	cfg.Complexity.WorkflowInstance.History = func(child int, first *int, _ *string) int { return connectionCost(child, first) }
	cfg.Complexity.Query.Organisations = func(child int, _ *string, first *int, _ *string) int { return connectionCost(child, first) }
	cfg.Complexity.Query.Users = func(child int, _ *string, first *int) int { return connectionCost(child, first) }
	cfg.Complexity.Query.Partnerships = func(child int, _ *string, first *int, _ *string) int { return connectionCost(child, first) }
	cfg.Complexity.Query.MyNotifications = func(child int, first *int, _ *string) int { return connectionCost(child, first) }
	cfg.Complexity.Query.MyTasks = func(child int, first *int, _ *string) int { return connectionCost(child, first) }
	cfg.Complexity.Query.PartnershipsExpiring = func(child int, _ int, first *int, _ *string) int { return connectionCost(child, first) }
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postJSON{})
	valid := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(valid)
	if o.MaxTokens > 0 {
		srv.SetParserTokenLimit(o.MaxTokens)
	}
	srv.SetDisableSuggestion(!o.Suggestions)
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	if o.Limits.MaxDepth > 0 {
		lim := o.Limits
		if lim.MaxRepeats <= 0 {
			lim.MaxRepeats = defaultMaxRepeats
		}
		if lim.MaxFragments <= 0 {
			lim.MaxFragments = defaultMaxFragments
		}
		if lim.MaxMergeWork <= 0 {
			lim.MaxMergeWork = defaultMaxMergeWork
		}
		srv.Use(documentGate{limits: lim, maxTokens: o.MaxTokens, anonTokens: o.MaxTokensAnonymous, valid: valid, refused: lru.New[*gqlerror.Error](1000)})
		srv.Use(shapeLimit{lim})
	}
	if o.MaxComplexity > 0 {
		srv.Use(complexityLimit{extension.FixedComplexityLimit(o.MaxComplexity)})
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
			oc := graphql.GetOperationContext(ctx)
			l.fields = fieldNames(oc.Operation.SelectionSet, oc.Doc.Fragments, map[string]bool{})
			if page := pageAskedFor(oc, "history"); page.after == "" {
				l.historyLimit = page.size
			}
			l.historyColumns = store.HistoryColumns{Payload: l.fields["input"] || l.fields["hash"], Actors: l.fields["actor"]}
			l.signatoriesPage = pageAskedFor(oc, "signatories")
			l.loneRootField = len(oc.Operation.SelectionSet) == 1 && isField(oc.Operation.SelectionSet[0])
			l.pr = identity.FromContext(ctx)
		}
		return next(ctx)
	})
	srv.AroundOperations(querySlots(o.QuerySlots))
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			resp := h(ctx)
			if resp == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// gqlgen answers a request whose time ran out with null.
				return &graphql.Response{Errors: gqlerror.List{timedOut(nil)}}
			}
			return resp
		}
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		start := time.Now()
		resp := next(ctx)
		if resp != nil {
			resp.Errors = capErrors(resp.Errors)
		}
		name := ""
		if graphql.HasOperationContext(ctx) {
			oc := graphql.GetOperationContext(ctx)
			name = oc.OperationName
			if name == "" && oc.Operation != nil {
				name = oc.Operation.Name
			}
			if oc.Operation != nil {
				publiccache.Report(ctx, publiccache.Outcome{
					Mutation:       oc.Operation.Operation != ast.Query,
					AnonymousQuery: oc.Operation.Operation == ast.Query && identity.FromContext(ctx) == authz.Anonymous,
					Errors:         resp == nil || len(resp.Errors) > 0,
				})
			}
		}
		observe.Info(ctx).SetOperation(name)
		if o.Observer != nil && resp != nil {
			code := "OK"
			if len(resp.Errors) > 0 {
				if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
					code = c
				}
			}
			o.Observer.ObserveOperation(name, code, time.Since(start))
		}
		return resp
	})
	if o.Tracing {
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			oc := graphql.GetOperationContext(ctx)
			ctx, span := observe.Tracer().Start(ctx, "graphql "+string(oc.Operation.Operation)+" "+oc.OperationName)
			h := next(ctx)
			ended := false
			return func(rctx context.Context) *graphql.Response {
				resp := h(trace.ContextWithSpan(rctx, span))
				if !ended {
					span.End()
					ended = true
				}
				return resp
			}
		})
		srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
			fc := graphql.GetFieldContext(ctx)
			if fc == nil || !fc.IsResolver {
				return next(ctx)
			}
			ctx, span := observe.Tracer().Start(ctx, "resolve "+fc.Object+"."+fc.Field.Name)
			defer span.End()
			return next(ctx)
		})
	}
	srv.SetErrorPresenter(errorPresenter(o.Logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		o.Logger.ErrorContext(ctx, "resolver panicked", "panic", v)
		return errors.New("panic in resolver")
	})
	return queriesOnlyOverGET(r.withLoaders(srv))
}

// errorPresenter lets domain errors through with their code and hides
// everything else behind a correlation id that is also logged: a client
// never sees SQL, driver text, stack traces or paths.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.WrapPath(graphql.GetPath(ctx), err)
		}
		if de, ok := apperr.As(err); ok {
			out := &gqlerror.Error{Message: de.Message, Path: gqlErr.Path, Locations: gqlErr.Locations,
				Extensions: map[string]any{"code": string(de.Code)}}
			if de.Field != "" {
				out.Extensions["field"] = de.Field
			}
			if len(de.Fields) > 0 {
				// Every field at fault, so a form can mark them all at once.
				fields := make([]map[string]any, len(de.Fields))
				for i, f := range de.Fields {
					fields[i] = map[string]any{"field": f.Field, "message": f.Message}
				}
				out.Extensions["fields"] = fields
			}
			return out
		}
		if gqlErr.Err == nil {
			// gqlgen's own parse, validation and coercion errors describe the
			// request, not the server.
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			if _, ok := gqlErr.Extensions["code"]; !ok {
				gqlErr.Extensions["code"] = string(apperr.BadInput)
			}
			bilingual(gqlErr)
			return gqlErr
		}
		if errors.Is(err, context.DeadlineExceeded) {
			log.WarnContext(ctx, "request timed out", "path", gqlErr.Path.String(), "err", err)
			out := timedOut(gqlErr.Path)
			out.Locations = gqlErr.Locations
			return out
		}
		ref := observe.RequestID(ctx)
		if ref == "" {
			ref = correlationID()
		}
		log.ErrorContext(ctx, "internal error", "ref", ref, "path", gqlErr.Path.String(), "err", err)
		return &gqlerror.Error{
			Message:    "Ett internt fel inträffade (ref " + ref + "). / An internal error occurred (ref " + ref + ").",
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": string(apperr.Internal), "ref": ref},
		}
	}
}

// querySlots runs at most n queries at once (0: four per core), each from
// its first resolver to its marshalled answer; the others wait for a slot
// until their request times out. The reads are CPU-bound on a few cores, so
// more at once only adds memory: a page of 100 partnerships with their
// parties and contributions builds some 4 MB of answer tree and garbage, and
// 32 of them at once took the server past 200 MB. Mutations do not wait (a
// commit waits on the disk, not the CPU), and neither do answers the
// public-read cache serves (they never get here).
func querySlots(n int) graphql.OperationMiddleware {
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
	}
	slots := make(chan struct{}, n)
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation == nil || oc.Operation.Operation != ast.Query {
			return next(ctx)
		}
		h := next(ctx)
		first := true
		return func(ctx context.Context) *graphql.Response {
			if !first {
				return h(ctx) // a deferred part (@defer)
			}
			first = false
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return &graphql.Response{Errors: gqlerror.List{timedOut(nil)}}
			}
			defer func() { <-slots }()
			return h(ctx)
		}
	}
}

func timedOut(path ast.Path) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    "Förfrågan tog för lång tid och avbröts; försök igen om en stund. / The request took too long and was stopped; try again shortly.",
		Path:       path,
		Extensions: map[string]any{"code": string(apperr.Unavailable)},
	}
}

func correlationID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SchemaSDL is the schema in the GraphQL schema language, for client code
// generators.
func SchemaSDL() string {
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithComments()).FormatSchema(NewExecutableSchema(Config{}).Schema())
	return b.String()
}

// selects tells whether the field being resolved selects a child field by
// name, so that a connection counts its items only when asked for
// totalCount.
func selects(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// fieldNames collects the names of every field an operation selects.
func fieldNames(set ast.SelectionSet, fragments ast.FragmentDefinitionList, into map[string]bool) map[string]bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			into[sel.Name] = true
			fieldNames(sel.SelectionSet, fragments, into)
		case *ast.InlineFragment:
			fieldNames(sel.SelectionSet, fragments, into)
		case *ast.FragmentSpread:
			if f := fragments.ForName(sel.Name); f != nil && !into["..."+sel.Name] {
				into["..."+sel.Name] = true
				fieldNames(f.SelectionSet, fragments, into)
			}
		}
	}
	return into
}

// pageAsked is the page the operation's connection fields of a name ask
// for: its size plus one (to see whether there is more) and the cursor it
// starts after ("" for the first page). Size 0: no such field, or fields
// that ask for different pages.
type pageAsked struct {
	size  int
	after string
}

func pageAskedFor(oc *graphql.OperationContext, name string) pageAsked {
	var page pageAsked
	several := false
	var walk func(ast.SelectionSet, map[string]bool)
	walk = func(set ast.SelectionSet, seen map[string]bool) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if sel.Name == name {
					p := pageAsked{size: 21}
					if v, ok := argument(oc, sel, "first").(int64); ok {
						p.size = int(v) + 1
					}
					p.after, _ = argument(oc, sel, "after").(string)
					if page.size != 0 && page != p {
						several = true
					}
					page = p
				}
				walk(sel.SelectionSet, seen)
			case *ast.InlineFragment:
				walk(sel.SelectionSet, seen)
			case *ast.FragmentSpread:
				if f := oc.Doc.Fragments.ForName(sel.Name); f != nil && !seen[sel.Name] {
					seen[sel.Name] = true
					walk(f.SelectionSet, seen)
				}
			}
		}
	}
	walk(oc.Operation.SelectionSet, map[string]bool{})
	if several || page.size <= 0 {
		return pageAsked{}
	}
	return page
}

func isField(s ast.Selection) bool {
	_, ok := s.(*ast.Field)
	return ok
}

// argument is the value of a field's argument (nil when it is not given,
// is null or cannot be read).
func argument(oc *graphql.OperationContext, f *ast.Field, name string) any {
	a := f.Arguments.ForName(name)
	if a == nil {
		return nil
	}
	v, err := a.Value.Value(oc.Variables)
	if err != nil {
		return nil
	}
	return v
}
