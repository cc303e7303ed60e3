package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGraphiQLFollowsDevModeUnlessChosen(t *testing.T) {
	t.Run("DevModeServesIt", func(t *testing.T) {
		c, err := Defaults()
		require.NoError(t, err)
		require.True(t, c.Dev)
		require.True(t, c.GraphiQL)
	})
	t.Run("ProductionDoesNot", func(t *testing.T) {
		t.Setenv("SAMVERKAN_OIDC_ISSUER", "https://login.example.org")
		c, err := Defaults()
		require.NoError(t, err)
		require.False(t, c.Dev)
		require.False(t, c.GraphiQL)
	})
	t.Run("ProductionMayChooseIt", func(t *testing.T) {
		t.Setenv("SAMVERKAN_OIDC_ISSUER", "https://login.example.org")
		t.Setenv("SAMVERKAN_GRAPHIQL", "true")
		c, err := Defaults()
		require.NoError(t, err)
		require.True(t, c.GraphiQL)
	})
	t.Run("DevModeMayTurnItOff", func(t *testing.T) {
		t.Setenv("SAMVERKAN_GRAPHIQL", "false")
		c, err := Defaults()
		require.NoError(t, err)
		require.False(t, c.GraphiQL)
	})
}
