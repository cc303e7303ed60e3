// Package graph is the GraphQL edge of the service: the schema (schema/),
// gqlgen's generated executor, and thin resolvers that call the services.
// It never runs SQL itself.
package graph

import (
	"github.com/samverkan/samverkan/internal/store"
)

// Resolver holds the services the resolvers call.
type Resolver struct {
	Version string
	DB      *store.DB
}
