// Package graph is the GraphQL edge of the service: the schema (schema/),
// gqlgen's generated executor, and thin resolvers that call the services.
// It never runs SQL itself.
package graph

import (
	"log/slog"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/iop"
	"github.com/samverkan/samverkan/workflows/revision"
	"github.com/samverkan/samverkan/workflows/signing"
)

// Resolver holds the services the resolvers call.
type Resolver struct {
	Version   string
	Log       *slog.Logger
	Engine    *workflows.Engine
	Registry  *registry.Service
	Signing   *signing.Service
	Roles     *authz.RoleService
	FollowUp  *followup.Service
	Revisions *revision.Service
	IOP       *iop.Service
}
