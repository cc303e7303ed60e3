package e2e_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A POST answers as GraphQL over HTTP says: a good query 200 with its data,
// an unreadable body 400, a query that does not parse 422 for
// application/json and 400 for application/graphql-response+json, each in
// the media type asked for.
func TestPostAnswersWithTheStatusAndMediaTypeAskedFor(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	post := func(body, accept string) (int, string, string) {
		req, err := http.NewRequest(http.MethodPost, s.env.URL+"/graphql", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	for _, c := range []struct {
		name, body, accept, mediaType, starts string
		status                                int
	}{
		{"a query", `{"query": "{ serverInfo { version } }"}`, "", "application/json", `{"data":{"serverInfo":`, http.StatusOK},
		{"a query, graphql-response", `{"query": "{ serverInfo { version } }"}`, "application/graphql-response+json", "application/graphql-response+json", `{"data":`, http.StatusOK},
		{"unreadable body", `{"query": "{ serverInfo`, "", "application/json", `{"errors":`, http.StatusBadRequest},
		{"does not parse", `{"query": "{ serverInfo { version }"}`, "application/json", "application/json", `{"errors":`, http.StatusUnprocessableEntity},
		{"does not parse, graphql-response", `{"query": "{ serverInfo { version }"}`, "application/graphql-response+json", "application/graphql-response+json", `{"errors":`, http.StatusBadRequest},
	} {
		status, mediaType, body := post(c.body, c.accept)
		require.Equal(t, c.status, status, "%s: %s", c.name, body)
		require.Equal(t, c.mediaType, mediaType, c.name)
		require.True(t, strings.HasPrefix(body, c.starts), "%s: %s", c.name, body)
	}
}
