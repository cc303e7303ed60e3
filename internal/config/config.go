// Package config holds the service's configuration: every setting is a flag
// with an environment variable behind it and a default that suits `make run`.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v3"
)

// Config is the whole configuration.
type Config struct {
	// DatabaseURL selects an external PostgreSQL; empty means the embedded one.
	DatabaseURL string
	// DataDir holds the embedded cluster (DataDir/postgres) and dev keys.
	DataDir string
	// PGUser is the account the embedded cluster runs as when we are root.
	PGUser string
	Addr   string

	LogLevel  slog.Level
	LogFormat string // text or json

	// Migrate applies migrations on start.
	Migrate bool
	// SeedDemoIfEmpty loads the demo story into an empty database on start.
	SeedDemoIfEmpty bool

	OIDCIssuer   string
	OIDCAudience string
	// Dev accepts tokens from the local development issuer. It is on by
	// default and off whenever a real OIDC issuer is configured.
	Dev bool

	GraphiQL bool

	Workers         int
	ShutdownTimeout time.Duration

	// FollowUpOpens is when the yearly follow-ups open ("MM-DD HH:MM",
	// Europe/Stockholm) and ReportWindow how long reporting lasts.
	FollowUpOpens string
	ReportWindow  time.Duration
	// RevisionLead is how long before five years a revision opens itself.
	RevisionLead time.Duration
	// RevisionRegionApprovals and RevisionSectorApprovals make the quorum
	// that adopts a revision.
	RevisionRegionApprovals int
	RevisionSectorApprovals int
	// ReconfirmWithin is how long signatories have to confirm a new version.
	ReconfirmWithin time.Duration
	// PeriodicInterval is how often the periodic jobs look for due work.
	PeriodicInterval time.Duration
}

// PostgresDir is where the embedded cluster keeps its data.
func (c Config) PostgresDir() string { return filepath.Join(c.DataDir, "postgres") }

// DevKeyDir is where the development token issuer keeps its signing key.
func (c Config) DevKeyDir() string { return filepath.Join(c.DataDir, "dev-issuer") }

// Flags are the settings every server subcommand takes.
func Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "database-url", Usage: "PostgreSQL connection URL; empty starts the embedded cluster", Sources: cli.EnvVars("DATABASE_URL")},
		&cli.StringFlag{Name: "data-dir", Value: "./var", Usage: "directory for the embedded cluster and dev keys", Sources: cli.EnvVars("SAMVERKAN_DATA_DIR")},
		&cli.StringFlag{Name: "pg-user", Value: "postgres", Usage: "unprivileged account for the embedded cluster when run as root", Sources: cli.EnvVars("SAMVERKAN_PG_USER")},
		&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "HTTP listen address", Sources: cli.EnvVars("SAMVERKAN_ADDR")},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", Sources: cli.EnvVars("SAMVERKAN_LOG_LEVEL")},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json", Sources: cli.EnvVars("SAMVERKAN_LOG_FORMAT")},
		&cli.BoolFlag{Name: "migrate", Value: true, Usage: "apply database migrations on start", Sources: cli.EnvVars("SAMVERKAN_MIGRATE")},
		&cli.BoolFlag{Name: "seed-demo-if-empty", Usage: "load the demo story when the database has no agreement yet", Sources: cli.EnvVars("SAMVERKAN_SEED_DEMO")},
		&cli.StringFlag{Name: "oidc-issuer", Usage: "OpenID Connect issuer URL; setting it turns dev mode off", Sources: cli.EnvVars("SAMVERKAN_OIDC_ISSUER")},
		&cli.StringFlag{Name: "oidc-audience", Usage: "expected token audience (client id)", Sources: cli.EnvVars("SAMVERKAN_OIDC_AUDIENCE")},
		&cli.BoolFlag{Name: "dev", Value: true, Usage: "accept tokens from the local development issuer (ignored when an OIDC issuer is set)", Sources: cli.EnvVars("SAMVERKAN_DEV")},
		&cli.BoolFlag{Name: "graphiql", Value: true, Usage: "serve the GraphiQL explorer at /", Sources: cli.EnvVars("SAMVERKAN_GRAPHIQL")},
		&cli.IntFlag{Name: "workers", Value: 50, Usage: "River worker goroutines", Sources: cli.EnvVars("SAMVERKAN_WORKERS")},
		&cli.DurationFlag{Name: "shutdown-timeout", Value: 25 * time.Second, Usage: "how long running requests and jobs get to finish on shutdown", Sources: cli.EnvVars("SAMVERKAN_SHUTDOWN_TIMEOUT")},
		&cli.StringFlag{Name: "followup-opens", Value: "01-15 06:00", Usage: "when yearly follow-ups open, MM-DD HH:MM Europe/Stockholm", Sources: cli.EnvVars("SAMVERKAN_FOLLOWUP_OPENS")},
		&cli.DurationFlag{Name: "report-window", Value: 8 * 7 * 24 * time.Hour, Usage: "how long after opening a follow-up's reports are due", Sources: cli.EnvVars("SAMVERKAN_REPORT_WINDOW")},
		&cli.DurationFlag{Name: "revision-lead", Value: 365 * 24 * time.Hour, Usage: "how long before five years a revision opens itself", Sources: cli.EnvVars("SAMVERKAN_REVISION_LEAD")},
		&cli.IntFlag{Name: "revision-region-approvals", Value: 1, Usage: "region politicians needed to adopt a revision", Sources: cli.EnvVars("SAMVERKAN_REVISION_REGION_APPROVALS")},
		&cli.IntFlag{Name: "revision-sector-approvals", Value: 1, Usage: "sector council members needed to adopt a revision", Sources: cli.EnvVars("SAMVERKAN_REVISION_SECTOR_APPROVALS")},
		&cli.DurationFlag{Name: "reconfirm-within", Value: 13 * 7 * 24 * time.Hour, Usage: "how long signatories have to confirm a new version", Sources: cli.EnvVars("SAMVERKAN_RECONFIRM_WITHIN")},
		&cli.DurationFlag{Name: "periodic-interval", Value: time.Minute, Usage: "how often periodic jobs look for due work", Sources: cli.EnvVars("SAMVERKAN_PERIODIC_INTERVAL")},
	}
}

// FromCommand reads the flags of a parsed command.
func FromCommand(cmd *cli.Command) (Config, error) {
	c := Config{
		DatabaseURL:     cmd.String("database-url"),
		DataDir:         cmd.String("data-dir"),
		PGUser:          cmd.String("pg-user"),
		Addr:            cmd.String("addr"),
		LogFormat:       cmd.String("log-format"),
		Migrate:         cmd.Bool("migrate"),
		SeedDemoIfEmpty: cmd.Bool("seed-demo-if-empty"),
		OIDCIssuer:      cmd.String("oidc-issuer"),
		OIDCAudience:    cmd.String("oidc-audience"),
		Dev:             cmd.Bool("dev"),
		GraphiQL:        cmd.Bool("graphiql"),
		Workers:         int(cmd.Int("workers")),
		ShutdownTimeout: cmd.Duration("shutdown-timeout"),

		FollowUpOpens:           cmd.String("followup-opens"),
		ReportWindow:            cmd.Duration("report-window"),
		RevisionLead:            cmd.Duration("revision-lead"),
		RevisionRegionApprovals: int(cmd.Int("revision-region-approvals")),
		RevisionSectorApprovals: int(cmd.Int("revision-sector-approvals")),
		ReconfirmWithin:         cmd.Duration("reconfirm-within"),
		PeriodicInterval:        cmd.Duration("periodic-interval"),
	}
	if err := c.LogLevel.UnmarshalText([]byte(cmd.String("log-level"))); err != nil {
		return c, fmt.Errorf("--log-level: %w", err)
	}
	return c, c.normalise()
}

func (c *Config) normalise() error {
	if c.OIDCIssuer != "" {
		c.Dev = false
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
	}
	if c.Workers < 1 {
		return fmt.Errorf("--workers must be at least 1")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return err
	}
	c.DataDir = abs
	return nil
}

// Logger builds the service's logger.
func (c Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// LogValue prints the configuration at start-up with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database", maskURL(c.DatabaseURL)),
		slog.String("data_dir", c.DataDir),
		slog.String("addr", c.Addr),
		slog.Bool("dev", c.Dev),
		slog.String("oidc_issuer", c.OIDCIssuer),
		slog.Bool("graphiql", c.GraphiQL),
		slog.Int("workers", c.Workers),
	)
}

func maskURL(s string) string {
	if s == "" {
		return "embedded"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		if i := strings.Index(s, "password="); i >= 0 {
			return s[:i] + "password=xxxxx"
		}
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
