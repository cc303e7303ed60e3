package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
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

// queriesOnlyOverGET refuses a mutation sent over GET (a link or an image
// tag must not change anything) with a message a person can read; gqlgen's
// GET transport would refuse it in English only. A GET's document is small
// (it is in the URL), so parsing it once more here is cheap.
func queriesOnlyOverGET(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			q := r.URL.Query()
			doc, err := parser.ParseQuery(&ast.Source{Input: q.Get("query")})
			if err == nil {
				if op := doc.Operations.ForName(q.Get("operationName")); op != nil && op.Operation != ast.Query {
					w.Header().Set("Allow", "POST")
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusMethodNotAllowed)
					_ = json.NewEncoder(w).Encode(graphql.Response{Errors: gqlerror.List{limitErr(
						"Med GET går det bara att ställa frågor; skicka en %s med POST. / GET only allows queries; send a %s with POST.",
						op.Operation, op.Operation)}})
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
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
