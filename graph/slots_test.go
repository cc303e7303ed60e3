package graph

import (
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/samverkan/samverkan/internal/apperr"
)

// With every query slot taken, another query waits for one (and is answered
// UNAVAILABLE when its time runs out first), while a mutation runs at once;
// a finished query frees its slot for the next.
func TestQuerySlotsBoundTheQueriesRunningAtOnce(t *testing.T) {
	mw := querySlots(1)
	op := func(kind ast.Operation) context.Context {
		return graphql.WithOperationContext(context.Background(),
			&graphql.OperationContext{Operation: &ast.OperationDefinition{Operation: kind}})
	}
	release := make(chan struct{})
	running := make(chan struct{})
	answer := &graphql.Response{Data: []byte(`{}`)}
	blocking := func(ctx context.Context) graphql.ResponseHandler {
		return func(context.Context) *graphql.Response {
			close(running)
			<-release
			return answer
		}
	}
	quick := func(ctx context.Context) graphql.ResponseHandler {
		return func(context.Context) *graphql.Response { return answer }
	}

	first := mw(op(ast.Query), blocking)
	firstDone := make(chan *graphql.Response)
	go func() { firstDone <- first(op(ast.Query)) }()
	<-running

	ctx, cancel := context.WithTimeout(op(ast.Query), 50*time.Millisecond)
	defer cancel()
	resp := mw(ctx, quick)(ctx)
	require.Len(t, resp.Errors, 1, "a query waits for a slot until its time runs out")
	require.Equal(t, string(apperr.Unavailable), resp.Errors[0].Extensions["code"])

	require.Same(t, answer, mw(op(ast.Mutation), quick)(op(ast.Mutation)), "a mutation takes no slot")

	close(release)
	require.Same(t, answer, <-firstDone)
	require.Same(t, answer, mw(op(ast.Query), quick)(op(ast.Query)), "the finished query freed its slot")
}
