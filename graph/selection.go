package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// selectsWithin tells whether the field being resolved selects child
// (under any alias, through fragments) within its field parent, as
// `edges { cursor }` within a connection.
func selectsWithin(ctx context.Context, parent, child string) bool {
	oc := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name != parent {
			continue
		}
		for _, c := range graphql.CollectFields(oc, f.Selections, nil) {
			if c.Name == child {
				return true
			}
		}
	}
	return false
}
