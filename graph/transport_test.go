package graph

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// An answer written around the executor's bytes reads, as JSON, exactly as
// the one json.Marshal writes; an answer with errors is json.Marshal's.
func TestWriteResponseReadsAsJSONMarshalsDoes(t *testing.T) {
	for name, resp := range map[string]*graphql.Response{
		"data":          {Data: json.RawMessage(`{"node":{"name":"Läxhjälp & studiero <i Karlstad>","n":[1,2]}}`)},
		"null data":     {},
		"with an error": {Data: json.RawMessage(`{"node":null}`), Errors: gqlerror.List{{Message: "Ej funnen. / Not found."}}},
		"extensions":    {Data: json.RawMessage(`{}`), Extensions: map[string]any{"cost": 3}},
	} {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			writeResponse(&got, resp)
			want, err := json.Marshal(resp)
			require.NoError(t, err)
			var a, b any
			require.NoError(t, json.Unmarshal(got.Bytes(), &a), got.String())
			require.NoError(t, json.Unmarshal(want, &b))
			require.Equal(t, b, a)
		})
	}
}

// The answer's media type follows the request's Accept as gqlgen's POST
// transport chooses it.
func TestResponseMediaType(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  "application/json",
		"*/*":                               "application/json",
		"application/json":                  "application/json",
		"application/graphql-response+json": "application/graphql-response+json",
		"text/html, application/graphql-response+json;q=0.9": "application/graphql-response+json",
		"text/html": "application/graphql-response+json",
	} {
		r := httptest.NewRequest("POST", "/graphql", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		require.Equal(t, want, responseMediaType(r), "Accept: %q", accept)
	}
}
