package signing_test

import (
	"testing"

	"github.com/samverkan/samverkan/internal/docblock"
	"github.com/samverkan/samverkan/workflows/signing"
)

func TestDefinitionIsValid(t *testing.T) {
	if err := signing.Definition().Validate(); err != nil {
		t.Fatal(err)
	}
}

// README's diagram is drawn from the definition.
func TestReadmeDiagram(t *testing.T) {
	docblock.Check(t, "../../README.md", "signing", "```mermaid\n"+signing.Definition().Mermaid()+"```\n")
}
