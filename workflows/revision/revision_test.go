package revision_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/docblock"
	"github.com/samverkan/samverkan/workflows/revision"
)

func TestReadmeDiagram(t *testing.T) {
	def := revision.Definition(revision.Options{}, nil)
	require.NoError(t, def.Validate())
	docblock.Check(t, "../../README.md", "revision", "```mermaid\n"+def.Mermaid()+"```\n")
}
