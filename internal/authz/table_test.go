package authz_test

import (
	"testing"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/docblock"
)

// README's role table is the policy as it is.
func TestReadmeRoleTable(t *testing.T) {
	docblock.Check(t, "../../README.md", "roles", authz.PolicyTable())
}
