package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample = `package graph

func (ec *executionContext) _Edge(ctx context.Context, sel ast.SelectionSet, obj *Edge) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, edgeImplementors)
	deferred := graphql.NewDeferredGroup(ctx)
	_ = deferred
	return nil
}

func (ec *executionContext) marshalNEdge2ᚕᚖexampleᚐEdgeᚄ(ctx context.Context, sel ast.SelectionSet, v []*Edge) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return nil
	})
	return ret
}

func (ec *executionContext) marshalOOther2ᚕᚖexampleᚐOtherᚄ(ctx context.Context, sel ast.SelectionSet, v []*Other) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return nil
	})
	return ret
}
`

// Only the chosen list is marshalled in order; every deferred group is
// made lazily; a second run changes nothing.
func TestRewrite(t *testing.T) {
	out, err := rewrite([]byte(sample), []string{"Edge"})
	require.NoError(t, err)
	got := string(out)
	edge := got[strings.Index(got, "marshalNEdge2"):strings.Index(got, "marshalOOther2")]
	other := got[strings.Index(got, "marshalOOther2"):]
	require.Contains(t, edge, "marshalSliceInOrder(ctx, len(v), 0, false,")
	require.NotContains(t, edge, "MarshalSliceConcurrently")
	require.Contains(t, other, "graphql.MarshalSliceConcurrently(", "a list not named keeps a goroutine per element")
	require.Contains(t, got, "deferred := deferredGroupOf(ctx, fields)")
	require.NotContains(t, got, "NewDeferredGroup")

	again, err := rewrite(out, []string{"Edge"})
	require.NoError(t, err)
	require.Equal(t, got, string(again))
}

// A name that is no list in the file, or a file without the patterns
// (gqlgen's templates changed), is an error rather than a silent no-op.
func TestRewriteRefusesWhatItCannotFind(t *testing.T) {
	_, err := rewrite([]byte(sample), []string{"Edge", "Missing"})
	require.ErrorContains(t, err, "no list of Missing")
	_, err = rewrite([]byte(strings.ReplaceAll(sample, "graphql.NewDeferredGroup(ctx)", "graphql.NewGroup(ctx)")), nil)
	require.ErrorContains(t, err, "NewDeferredGroup")
}

// The committed executor is what the rewrite makes of itself: make
// generate's last step has run on it.
func TestCommittedExecutorIsRewritten(t *testing.T) {
	src, err := os.ReadFile("../../graph/generated.go")
	require.NoError(t, err)
	require.NotContains(t, string(src), "graphql.NewDeferredGroup(ctx)")
	require.Contains(t, string(src), "marshalSliceInOrder(")
}
