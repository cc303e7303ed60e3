package e2e_test

import (
	"testing"

	"github.com/Khan/genqlient/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/e2e/client"
)

// gql is the typed client acting as u (nil: anonymous).
func gql(env *apptest.Env, u *apptest.User) graphql.Client {
	if u == nil {
		return client.New(env.URL, "")
	}
	return client.New(env.URL, u.Token)
}

// as is the typed client of the story's service acting as u (nil: anonymous).
func (s *story) as(u *apptest.User) graphql.Client { return gql(s.env, u) }

// node asserts that a `node(id:)` answer is of the kind asked for, e.g.
// node[*client.FollowUpsNodeAgreementVersion](t, resp.Node).
func node[T any](t *testing.T, n any) T {
	t.Helper()
	v, ok := n.(T)
	require.True(t, ok, "node is %T, not %T", n, v)
	return v
}

// requireCode asserts that a typed call failed with a GraphQL error whose
// extensions.code is code, and returns that error.
func requireCode(t *testing.T, err error, code string) *gqlerror.Error {
	t.Helper()
	require.Error(t, err, "the operation should have failed with %s", code)
	list := client.Errors(err)
	require.NotEmpty(t, list, "not a GraphQL error: %v", err)
	require.Equal(t, code, client.ErrorCode(err), "message: %s", list[0].Message)
	return list[0]
}

// val is the value a nullable field points to, or the zero value for null.
func val[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
