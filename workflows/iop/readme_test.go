package iop_test

import (
	"testing"

	"github.com/samverkan/samverkan/internal/docblock"
	"github.com/samverkan/samverkan/workflows/iop"
)

// README's diagram is drawn from the definition.
func TestReadmeDiagram(t *testing.T) {
	docblock.Check(t, "../../README.md", "iop", "```mermaid\n"+iop.Definition(iop.Options{}, nil).Mermaid()+"```\n")
}
