package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample = `package graph

import (
	"bytes"
	"context"
)

func (e *executableSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	switch opCtx.Operation.Operation {
	case ast.Query:
		return func(ctx context.Context) *graphql.Response {
			var response graphql.Response
			var data graphql.Marshaler
			var buf bytes.Buffer
			data.MarshalGQL(&buf)
			response.Data = buf.Bytes()
			return &response
		}
	case ast.Mutation:
		return func(ctx context.Context) *graphql.Response {
			data := ec._Mutation(ctx, opCtx.Operation.SelectionSet)
			var buf bytes.Buffer
			data.MarshalGQL(&buf)

			return &graphql.Response{
				Data: buf.Bytes(),
			}
		}
	}
}

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
func (ec *executionContext) _Edge_name(ctx context.Context, field graphql.CollectedField, obj *Edge) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Edge_name(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Name, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		},
		true,
		true,
	)
}
func (ec *executionContext) fieldContext_Edge_name(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	return graphql.NewScalarFieldContext("Edge", field, false, false, "String")
}

func (ec *executionContext) _Edge_note(ctx context.Context, field graphql.CollectedField, obj *Edge) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Edge_note(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Note, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *string) graphql.Marshaler {
			return ec.marshalNString2ᚖstring(ctx, selections, v)
		},
		true,
		true,
	)
}
func (ec *executionContext) fieldContext_Edge_note(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	return graphql.NewScalarFieldContext("Edge", field, false, false, "String")
}

func (ec *executionContext) marshalNString2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "String!")
	}
	return res
}

func (ec *executionContext) marshalNString2ᚖstring(ctx context.Context, sel ast.SelectionSet, v *string) graphql.Marshaler {
	if v == nil {
		graphql.AddInvalidNullError(ctx, "String!")
		return graphql.Null
	}
	_ = sel
	res := graphql.MarshalString(*v)
	if res == graphql.Null {
		graphql.AddInvalidNullFromMarshaler(ctx, "String!")
	}
	return res
}
func (ec *executionContext) _Edge_node(ctx context.Context, field graphql.CollectedField, obj *Edge) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Edge_node(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Node, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *Node) graphql.Marshaler {
			return ec.marshalNNode2ᚖexampleᚐNode(ctx, selections, v)
		},
		true,
		true,
	)
}
func (ec *executionContext) fieldContext_Edge_node(_ context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	fc = &graphql.FieldContext{
		Object:     "Edge",
		Field:      field,
		IsMethod:   false,
		IsResolver: false,
		Child: nil,
	}
	return fc, nil
}

var nodeImplementors = []string{"Node"}

func (ec *executionContext) _Node(ctx context.Context, sel ast.SelectionSet, obj *Node) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, nodeImplementors)
	out := graphql.NewFieldSet(fields)
	deferred := graphql.NewDeferredGroup(ctx)
	out.Dispatch(ctx)
	if out.Invalids > 0 {
		return graphql.Null
	}

	if n := len(deferred.Defers); n > 0 {
		atomic.AddInt32(&ec.Deferred, int32(min(n, math.MaxInt32)))
		ec.ProcessDeferredGroup(deferred)
	}

	return out
}
`

// Only the chosen list is marshalled in order; every deferred group is
// made lazily; a plain leaf is marshalled directly unless its marshaller
// may report a null; a second run changes nothing.
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
	name := got[strings.Index(got, "_Edge_name("):strings.Index(got, "fieldContext_Edge_name(_")]
	note := got[strings.Index(got, "_Edge_note("):strings.Index(got, "fieldContext_Edge_note(_")]
	require.Contains(t, name, "return ec.marshalNString2string(ctx, field.Selections, obj.Name)")
	require.NotContains(t, name, "ResolveField", "a plain leaf whose marshaller cannot report a null is marshalled directly")
	require.Contains(t, note, "graphql.ResolveField(", "a non-null pointer may be nil: its error needs the field's context")
	node := got[strings.Index(got, "_Edge_node("):strings.Index(got, "fieldContext_Edge_node(_")]
	require.NotContains(t, node, "ResolveField", "a plain object field skips graphql.ResolveField")
	require.Contains(t, node, "ctx = graphql.WithFieldContext(ctx, fc)", "but keeps its field context for the object below")
	require.Contains(t, node, "recover()", "and recovers a panic at the field, as ResolveField does")
	plain := got[strings.Index(got, "func (ec *executionContext) _Node("):]
	require.Contains(t, plain, "out := newPlainObject(fields)", "an object without concurrent fields keeps its values in a plainObject")
	require.NotContains(t, plain, "out.Dispatch(ctx)", "and has nothing to dispatch")
	require.NotContains(t, got, "bytes.Buffer")
	require.Equal(t, 2, strings.Count(got, "marshalAnswer(opCtx, data)"), "the query's and the mutation's data are written into a sized buffer")
	require.NotContains(t, got, `"bytes"`, "the import of bytes, then unused, is gone")
	require.Contains(t, plain, "fields := collectFieldsOf(ec.OperationContext, sel, nodeImplementors, &nodeFields)")
	require.Contains(t, got, "var nodeFields fieldsMemo", "each type has its memo")

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
	require.Contains(t, string(src), "return (*stringAt)(&obj.Name)", "a string field is marshalled where it lies")
}
