package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// maxErrors is how many errors one response carries; the rest are counted
// in one last error, so that a small document cannot make a huge answer.
const maxErrors = 20

func capErrors(list gqlerror.List) gqlerror.List {
	if len(list) <= maxErrors {
		return list
	}
	more := len(list) - maxErrors
	code := "BAD_INPUT"
	if c, ok := list[maxErrors].Extensions["code"].(string); ok {
		code = c
	}
	out := append(list[:maxErrors:maxErrors], &gqlerror.Error{
		Message:    fmt.Sprintf("… och %d fel till. / … and %d more errors.", more, more),
		Extensions: map[string]any{"code": code, "more": more},
	})
	return out
}

// complexityLimit is gqlgen's fixed complexity limit with a message in
// Swedish, then English.
type complexityLimit struct{ *extension.ComplexityLimit }

func (c complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	err := c.ComplexityLimit.MutateOperationContext(ctx, oc)
	if err == nil {
		return nil
	}
	if s, ok := oc.Stats.GetExtension(c.ExtensionName()).(*extension.ComplexityStats); ok {
		err.Message = fmt.Sprintf("Frågan är för kostsam att besvara (kostnad %d, högst %d); be om färre objekt per sida. / The query is too costly to answer (complexity %d, at most %d); ask for fewer items per page.",
			s.Complexity, s.ComplexityLimit, s.Complexity, s.ComplexityLimit)
	}
	return err
}

type getKey struct{}

// markGET tells the operation whether it came over GET, where only
// queries are allowed (a link or an image tag must not change anything).
func markGET(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			r = r.WithContext(context.WithValue(r.Context(), getKey{}, true))
		}
		h.ServeHTTP(w, r)
	})
}

// queriesOnlyOverGET refuses a mutation sent over GET with a message a
// person can read (gqlgen's GET transport would answer in English only).
type queriesOnlyOverGET struct{}

func (queriesOnlyOverGET) ExtensionName() string                   { return "QueriesOnlyOverGET" }
func (queriesOnlyOverGET) Validate(graphql.ExecutableSchema) error { return nil }
func (queriesOnlyOverGET) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if get, _ := ctx.Value(getKey{}).(bool); !get || oc.Operation == nil || oc.Operation.Operation == ast.Query {
		return nil
	}
	return limitErr("Med GET går det bara att ställa frågor; skicka %s med POST. / GET only allows queries; send a %s with POST.",
		oc.Operation.Operation, oc.Operation.Operation)
}

// bilingual gives gqlgen's own parse and validation messages, which are
// English only, a Swedish lead.
func bilingual(e *gqlerror.Error) {
	if strings.Contains(e.Message, " / ") {
		return
	}
	msg := strings.TrimSuffix(e.Message, ".")
	switch e.Extensions["code"] {
	case errcode.ParseFailed:
		e.Message = "Frågan kunde inte tolkas. / The query could not be parsed: " + msg + "."
	case errcode.ValidationFailed:
		e.Message = "Frågan stämmer inte med schemat. / The query does not match the schema: " + msg + "."
	default:
		e.Message = "Förfrågan är felaktig. / The request is invalid: " + msg + "."
	}
}
