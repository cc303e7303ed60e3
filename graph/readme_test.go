package graph

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Every GraphQL example in the README is a valid operation against the
// schema, so that a client author who copies one gets an answer, not an
// error.
func TestReadmeExamplesMatchTheSchema(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, blocks)
	schema := NewExecutableSchema(Config{}).Schema()
	for _, b := range blocks {
		_, errs := gqlparser.LoadQueryWithRules(schema, b[1], rules.NewDefaultRules())
		require.Empty(t, errs, "README example:\n%s", b[1])
	}
}
