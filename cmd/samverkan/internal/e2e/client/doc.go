// Package client is a typed Go client of the samverkan GraphQL API,
// generated from the schema (graph/schema/*.graphqls) with genqlient. The
// end-to-end tests use it the way client authors will: a schema change that
// breaks one of its operations breaks the build (make generate, then go
// build), not just a test at run time.
//
// # Using it
//
//	c := client.New(env.URL, user.Token) // "" for anonymous
//	resp, err := client.SignAgreement(ctx, c, instanceID)
//	state := resp.SignAgreement.Instance.State
//
// Each operation is a function named after it. A failed operation returns
// the GraphQL errors as err (data may still be partly there); ErrorCode
// gives the first error's extensions.code, Errors all of them. Queries
// through `node(id:)` return an interface holding one pointer type per
// kind of node; assert the one asked for, e.g.
// resp.Node.(*client.FollowUpsNodeAgreementVersion).
//
// Scalars: ID and Date ("YYYY-MM-DD", a calendar date in Stockholm) are
// strings, DateTime is a time.Time (RFC 3339 on the wire). Nullable fields
// are pointers.
//
// # Adding an operation
//
//  1. Write it in a .graphql file here, one file per area of the schema
//     (signing.graphql, followup.graphql, revision.graphql, registry.graphql,
//     workflow.graphql; an IOP partnership's in iop.graphql). Name the
//     operation: the name becomes the Go function (mutation SignAgreement
//     makes SignAgreement and SignAgreementResponse). A comment on the lines
//     before it becomes the function's doc.
//  2. Take scalars as variables and build the input object in the operation
//     (input: {instanceId: $instanceId, reason: $reason}): the function then
//     takes plain arguments. Pass an input type as a whole variable only
//     where a list of objects is needed; for its fields that have a default
//     in the schema add, before the operation,
//     # @genqlient(for: "SomeInput.field", omitempty: true, pointer: false)
//     in every operation that uses the type, and put the variables on lines
//     of their own (see CreateActionPlan in followup.graphql).
//  3. Select workflow instances with the shared fragment and flatten it:
//     # @genqlient(flatten: true)
//     instance { ...WorkflowInstanceFields }
//  4. Put # @genqlient(pointer: false) on the line before a `node(id:)`
//     field: its Go type is an interface, which is nil for null already
//     (a pointer to an interface would have to be dereferenced first).
//  5. Regenerate from the repository root with `make generate` (after
//     gqlgen it runs go run github.com/Khan/genqlient
//     cmd/samverkan/internal/e2e/client/genqlient.yaml) and commit
//     generated.go; `make check-generated` fails when it is stale.
//
// generated.go is generated: never edit it by hand. genqlient is a tool
// dependency of the module (go.mod's tool block), pinned there with its
// runtime package github.com/Khan/genqlient/graphql.
package client
