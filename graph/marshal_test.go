package graph

import (
	"bytes"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
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
		})
	}
}
