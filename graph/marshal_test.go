package graph

import (
	"bytes"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/samverkan/samverkan/graph/bind"
)

// writeObject writes what graphql.FieldSet writes for the same fields and
// values: each alias once, in order, the first of a repeated alias kept.
func TestWriteObjectWritesWhatAFieldSetWrites(t *testing.T) {
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
	}
	cases := map[string]struct {
		fields []graphql.CollectedField
		values []graphql.Marshaler
	}{
		"none": {},
		"scalars": {
			fields: []graphql.CollectedField{field("name"), field("n"), field("ok"), field("missing")},
			values: []graphql.Marshaler{graphql.MarshalString("Föreningen \"Gläntan\"\n"), graphql.MarshalInt(7), graphql.MarshalBoolean(true), graphql.Null},
		},
		"repeated alias": {
			fields: []graphql.CollectedField{field("a"), field("b"), field("a")},
			values: []graphql.Marshaler{graphql.MarshalInt(1), graphql.MarshalInt(2), graphql.MarshalInt(3)},
		},
		"more than eight": {
			fields: []graphql.CollectedField{field("a"), field("b"), field("c"), field("d"), field("e"), field("f"), field("g"),
				field("h"), field("i"), field("j")},
			values: []graphql.Marshaler{graphql.MarshalInt(1), graphql.MarshalInt(2), graphql.MarshalInt(3), graphql.MarshalInt(4),
				graphql.MarshalInt(5), graphql.MarshalInt(6), graphql.MarshalInt(7), graphql.MarshalInt(8), graphql.MarshalInt(9), graphql.Null},
		},
		"nested": {
			fields: []graphql.CollectedField{field("node"), field("list")},
			values: []graphql.Marshaler{
				writeObject([]graphql.CollectedField{field("name")}, []graphql.Marshaler{graphql.MarshalString("x")}),
				graphql.Array{graphql.MarshalInt(1), graphql.Null},
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			set := graphql.NewFieldSet(c.fields)
			copy(set.Values, c.values)
			var want, got bytes.Buffer
			set.MarshalGQL(&want)
			writeObject(c.fields, c.values).MarshalGQL(&got)
			require.Equal(t, want.String(), got.String())
			plain := newPlainObject(c.fields)
			copy(plain.Values, c.values)
			got.Reset()
			plain.MarshalGQL(&got)
			require.Equal(t, want.String(), got.String(), "a plainObject writes the same")
		})
	}
}

// A leaf marshalled where it lies writes what its marshaller writes, and
// costs no allocation to hand over.
func TestLeavesWhereTheyLie(t *testing.T) {
	type row struct {
		Name   string
		Note   *string
		N      int
		On, At time.Time
	}
	note := "<b>Läxhjälp</b> & \"studiero\"\n"
	r := &row{Name: "Föreningen \"Gläntan\" \u2028", Note: &note, N: -42,
		On: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), At: time.Date(2026, 12, 1, 14, 3, 4, 5000, time.UTC)}
	for _, c := range []struct{ got, want graphql.Marshaler }{
		{(*stringAt)(&r.Name), bind.MarshalString(r.Name)},
		{stringOrNull(r.Note), bind.MarshalString(*r.Note)},
		{stringOrNull(nil), graphql.Null},
		{(*intAt)(&r.N), graphql.MarshalInt(r.N)},
		{(*dateAt)(&r.On), bind.MarshalDate(r.On)},
		{(*dateTimeAt)(&r.At), bind.MarshalDateTime(r.At)},
	} {
		var got, want bytes.Buffer
		c.got.MarshalGQL(&got)
		c.want.MarshalGQL(&want)
		require.Equal(t, want.String(), got.String())
	}
	var sink graphql.Marshaler
	require.Zero(t, testing.AllocsPerRun(100, func() { sink = (*stringAt)(&r.Name) }))
	require.Zero(t, testing.AllocsPerRun(100, func() { sink = (*intAt)(&r.N) }))
	_ = sink
}

// An object type's memo gives what graphql.CollectFields gives: the same
// fields for the same selection of the same operation, and another
// operation's own (its variables decide @include), even when the two
// operations alternate.
func TestCollectFieldsOfIsCollectFieldsPerOperation(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `query($x: Boolean!) { a b @include(if: $x) ...F } fragment F on T { c }`})
	require.NoError(t, err)
	sel := doc.Operations[0].SelectionSet
	names := func(fields []graphql.CollectedField) (out []string) {
		for _, f := range fields {
			out = append(out, f.Alias)
		}
		return out
	}
	with := &graphql.OperationContext{Doc: doc, Variables: map[string]any{"x": true}}
	without := &graphql.OperationContext{Doc: doc, Variables: map[string]any{"x": false}}
	var memo fieldsMemo
	for range 2 {
		for _, oc := range []*graphql.OperationContext{with, without} {
			require.Equal(t, names(graphql.CollectFields(oc, sel, []string{"T"})), names(collectFieldsOf(oc, sel, []string{"T"}, &memo)))
		}
	}
	require.Equal(t, []string{"a", "b", "c"}, names(collectFieldsOf(with, sel, []string{"T"}, &memo)))
	require.Equal(t, []string{"a", "c"}, names(collectFieldsOf(without, sel, []string{"T"}, &memo)))
	require.Equal(t, []string{"c"}, names(collectFieldsOf(with, doc.Fragments[0].SelectionSet, []string{"T"}, &memo)),
		"another selection of the same operation")
}
