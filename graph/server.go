package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/samverkan/samverkan/internal/apperr"
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
	// MaxTokens bounds the parser's work on a query document.
	MaxTokens int
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
	srv := handler.New(NewExecutableSchema(cfg))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if o.MaxTokens > 0 {
		srv.SetParserTokenLimit(o.MaxTokens)
	}
	srv.SetDisableSuggestion(!o.Suggestions)
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	if o.Limits.MaxDepth > 0 {
		srv.Use(shapeLimit{o.Limits})
	}
	if o.MaxComplexity > 0 {
		srv.Use(extension.FixedComplexityLimit(o.MaxComplexity))
	}
	srv.SetErrorPresenter(errorPresenter(o.Logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		o.Logger.ErrorContext(ctx, "resolver panicked", "panic", v)
		return errors.New("panic in resolver")
	})
	return r.withLoaders(srv)
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
			return gqlErr
		}
		ref := correlationID()
		log.ErrorContext(ctx, "internal error", "ref", ref, "path", gqlErr.Path.String(), "err", err)
		return &gqlerror.Error{
			Message:    "Ett internt fel inträffade (ref " + ref + "). / An internal error occurred (ref " + ref + ").",
			Path:       gqlErr.Path,
			Locations:  gqlErr.Locations,
			Extensions: map[string]any{"code": string(apperr.Internal), "ref": ref},
		}
	}
}

func correlationID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
