package config

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v3"
)

// parse runs a command that takes the flags of sets with args and returns
// the configuration it read.
func parse(t *testing.T, sets Set, args ...string) Config {
	t.Helper()
	var c Config
	cmd := &cli.Command{Name: "tool", Flags: Flags(sets), Action: func(_ context.Context, cmd *cli.Command) error {
		var err error
		c, err = FromCommand(cmd)
		return err
	}}
	require.NoError(t, cmd.Run(context.Background(), append([]string{"tool"}, args...)))
	if len(c.CORSOrigins) == 0 {
		c.CORSOrigins = nil // none, given or not
	}
	return c
}

// clearEnv unsets every setting's environment variable for the test.
func clearEnv(t *testing.T) {
	for _, f := range Flags(All) {
		for _, k := range f.(interface{ GetEnvVars() []string }).GetEnvVars() {
			t.Setenv(k, "")
			require.NoError(t, os.Unsetenv(k))
		}
	}
}

// A subcommand that does not take a setting gets the default a server
// started without flags has; one that takes it reads its flag and its
// environment variable.
func TestASettingACommandDoesNotTakeHasItsDefault(t *testing.T) {
	clearEnv(t)
	server := parse(t, All)
	for _, sets := range []Set{0, DataDir, Database, Logging, Migrate, Issuer, SignIn, Workflows, Server, DataDir | Database | ToolLogging | Migrate} {
		got := parse(t, sets)
		want := server
		if sets&ToolLogging != 0 {
			want.LogLevel, want.logLevel = slog.LevelWarn, "warn"
		}
		require.Equal(t, want, got, "sets %b", sets)
	}

	t.Setenv("SAMVERKAN_LOG_LEVEL", "error")
	require.Equal(t, slog.LevelError, parse(t, Tool).LogLevel, "a tool reads the environment")
	require.Equal(t, slog.LevelDebug, parse(t, Tool, "--log-level", "debug").LogLevel)
	require.Equal(t, slog.LevelInfo, parse(t, DataDir).LogLevel, "a command without --log-level ignores it")
	c := parse(t, Tool|Issuer, "--migrate=false", "--oidc-issuer", "https://login.example.se", "--db-max-conns", "3")
	require.False(t, c.Migrate)
	require.Equal(t, "https://login.example.se", c.OIDCIssuer)
	require.Equal(t, 3, c.DBMaxConns)
	require.False(t, c.Dev, "an issuer turns dev mode off whether or not the command takes --dev")
}
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

// SMTP connections default to four; fewer than one is refused.
func TestSMTPConnections(t *testing.T) {
	clearEnv(t)
	require.Equal(t, 4, parse(t, All).SMTPConnections)
	require.Equal(t, 8, parse(t, All, "--smtp-connections", "8").SMTPConnections)
	t.Setenv("SAMVERKAN_SMTP_CONNECTIONS", "0")
	_, err := Defaults()
	require.ErrorContains(t, err, "--smtp-connections must be at least 1")
}
