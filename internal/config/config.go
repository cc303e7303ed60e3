// Package config holds the service's configuration: every setting is a flag
// with an environment variable behind it and a default that suits `make run`.
package config

import (
	"context"
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
	// OIDCClientID and OIDCClientSecret sign people in to the web pages
	// (authorization code flow with PKCE); the client id defaults to the
	// audience.
	OIDCClientID     string
	OIDCClientSecret string
	// PublicURL is where browsers reach the service (the sign-in callback
	// is PublicURL + /sign-in/callback); empty means http://Addr.
	PublicURL string
	// Dev accepts tokens from the local development issuer. It is on by
	// default and off whenever a real OIDC issuer is configured.
	Dev bool

	GraphiQL bool
	// graphiQLSet tells whether GraphiQL was chosen; unchosen it follows Dev.
	graphiQLSet bool

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

	// HTTP and GraphQL limits.
	MaxBodyBytes   int64
	RequestTimeout time.Duration
	MaxDepth       int
	MaxFields      int
	MaxAliases     int
	MaxComplexity  int
	MaxTokens      int
	Introspection  bool
	Suggestions    bool
	CORSOrigins    []string
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	// DBMaxConns is the connection pool's size per process.
	DBMaxConns int
	// OTLPEndpoint receives traces over OTLP/HTTP; empty exports nothing.
	OTLPEndpoint string
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
		&cli.StringFlag{Name: "oidc-client-id", Usage: "client id of the web sign-in (default: the audience)", Sources: cli.EnvVars("SAMVERKAN_OIDC_CLIENT_ID")},
		&cli.StringFlag{Name: "oidc-client-secret", Usage: "client secret of the web sign-in (empty for a public client: PKCE only)", Sources: cli.EnvVars("SAMVERKAN_OIDC_CLIENT_SECRET")},
		&cli.StringFlag{Name: "public-url", Usage: "where browsers reach the service, for the sign-in callback (default http://<addr>)", Sources: cli.EnvVars("SAMVERKAN_PUBLIC_URL")},
		&cli.BoolFlag{Name: "dev", Value: true, Usage: "accept tokens from the local development issuer (ignored when an OIDC issuer is set)", Sources: cli.EnvVars("SAMVERKAN_DEV")},
		&cli.BoolFlag{Name: "graphiql", Usage: "serve the GraphiQL explorer at /graphiql/ (default: on in dev mode, off otherwise)", Sources: cli.EnvVars("SAMVERKAN_GRAPHIQL")},
		&cli.IntFlag{Name: "workers", Value: 50, Usage: "River worker goroutines", Sources: cli.EnvVars("SAMVERKAN_WORKERS")},
		&cli.DurationFlag{Name: "shutdown-timeout", Value: 25 * time.Second, Usage: "how long running requests and jobs get to finish on shutdown", Sources: cli.EnvVars("SAMVERKAN_SHUTDOWN_TIMEOUT")},
		&cli.StringFlag{Name: "followup-opens", Value: "01-15 06:00", Usage: "when yearly follow-ups open, MM-DD HH:MM Europe/Stockholm", Sources: cli.EnvVars("SAMVERKAN_FOLLOWUP_OPENS")},
		&cli.DurationFlag{Name: "report-window", Value: 8 * 7 * 24 * time.Hour, Usage: "how long after opening a follow-up's reports are due", Sources: cli.EnvVars("SAMVERKAN_REPORT_WINDOW")},
		&cli.DurationFlag{Name: "revision-lead", Value: 365 * 24 * time.Hour, Usage: "how long before five years a revision opens itself", Sources: cli.EnvVars("SAMVERKAN_REVISION_LEAD")},
		&cli.IntFlag{Name: "revision-region-approvals", Value: 1, Usage: "region politicians needed to adopt a revision", Sources: cli.EnvVars("SAMVERKAN_REVISION_REGION_APPROVALS")},
		&cli.IntFlag{Name: "revision-sector-approvals", Value: 1, Usage: "sector council members needed to adopt a revision", Sources: cli.EnvVars("SAMVERKAN_REVISION_SECTOR_APPROVALS")},
		&cli.DurationFlag{Name: "reconfirm-within", Value: 13 * 7 * 24 * time.Hour, Usage: "how long signatories have to confirm a new version", Sources: cli.EnvVars("SAMVERKAN_RECONFIRM_WITHIN")},
		&cli.DurationFlag{Name: "periodic-interval", Value: time.Minute, Usage: "how often periodic jobs look for due work", Sources: cli.EnvVars("SAMVERKAN_PERIODIC_INTERVAL")},
		&cli.IntFlag{Name: "max-body-bytes", Value: 1 << 20, Usage: "largest request body", Sources: cli.EnvVars("SAMVERKAN_MAX_BODY_BYTES")},
		&cli.DurationFlag{Name: "request-timeout", Value: 15 * time.Second, Usage: "longest a request may run (its database work is cancelled after)", Sources: cli.EnvVars("SAMVERKAN_REQUEST_TIMEOUT")},
		&cli.IntFlag{Name: "max-depth", Value: 12, Usage: "deepest nesting of a GraphQL operation", Sources: cli.EnvVars("SAMVERKAN_MAX_DEPTH")},
		&cli.IntFlag{Name: "max-fields", Value: 1000, Usage: "most fields an operation selects, fragments expanded", Sources: cli.EnvVars("SAMVERKAN_MAX_FIELDS")},
		&cli.IntFlag{Name: "max-aliases", Value: 50, Usage: "most aliases in an operation", Sources: cli.EnvVars("SAMVERKAN_MAX_ALIASES")},
		&cli.IntFlag{Name: "max-complexity", Value: 5000, Usage: "highest operation cost (a connection counts its page size times its items)", Sources: cli.EnvVars("SAMVERKAN_MAX_COMPLEXITY")},
		&cli.IntFlag{Name: "max-tokens", Value: 10000, Usage: "most tokens in a query document", Sources: cli.EnvVars("SAMVERKAN_MAX_TOKENS")},
		&cli.BoolFlag{Name: "introspection", Value: true, Usage: "allow schema introspection", Sources: cli.EnvVars("SAMVERKAN_INTROSPECTION")},
		&cli.BoolFlag{Name: "suggestions", Value: true, Usage: `"did you mean" suggestions in validation errors`, Sources: cli.EnvVars("SAMVERKAN_SUGGESTIONS")},
		&cli.StringSliceFlag{Name: "cors-origins", Usage: "browser origins allowed to call the API (comma-separated); none by default", Sources: cli.EnvVars("SAMVERKAN_CORS_ORIGINS")},
		&cli.DurationFlag{Name: "idempotency-ttl", Value: 24 * time.Hour, Usage: "how long an Idempotency-Key is remembered", Sources: cli.EnvVars("SAMVERKAN_IDEMPOTENCY_TTL")},
		&cli.IntFlag{Name: "db-max-conns", Value: 40, Usage: "database connections per process", Sources: cli.EnvVars("SAMVERKAN_DB_MAX_CONNS")},
		&cli.StringFlag{Name: "otlp-endpoint", Usage: "OpenTelemetry collector (OTLP/HTTP), e.g. http://collector:4318; traces are exported only when set", Sources: cli.EnvVars("OTEL_EXPORTER_OTLP_ENDPOINT")},
	}
}

// FromCommand reads the flags of a parsed command.
func FromCommand(cmd *cli.Command) (Config, error) {
	c := Config{
		DatabaseURL:      cmd.String("database-url"),
		DataDir:          cmd.String("data-dir"),
		PGUser:           cmd.String("pg-user"),
		Addr:             cmd.String("addr"),
		LogFormat:        cmd.String("log-format"),
		Migrate:          cmd.Bool("migrate"),
		SeedDemoIfEmpty:  cmd.Bool("seed-demo-if-empty"),
		OIDCIssuer:       cmd.String("oidc-issuer"),
		OIDCAudience:     cmd.String("oidc-audience"),
		OIDCClientID:     cmd.String("oidc-client-id"),
		OIDCClientSecret: cmd.String("oidc-client-secret"),
		PublicURL:        cmd.String("public-url"),
		Dev:              cmd.Bool("dev"),
		GraphiQL:         cmd.Bool("graphiql"),
		graphiQLSet:      cmd.IsSet("graphiql"),
		Workers:          int(cmd.Int("workers")),
		ShutdownTimeout:  cmd.Duration("shutdown-timeout"),

		FollowUpOpens:           cmd.String("followup-opens"),
		ReportWindow:            cmd.Duration("report-window"),
		RevisionLead:            cmd.Duration("revision-lead"),
		RevisionRegionApprovals: int(cmd.Int("revision-region-approvals")),
		RevisionSectorApprovals: int(cmd.Int("revision-sector-approvals")),
		ReconfirmWithin:         cmd.Duration("reconfirm-within"),
		PeriodicInterval:        cmd.Duration("periodic-interval"),

		MaxBodyBytes:   int64(cmd.Int("max-body-bytes")),
		RequestTimeout: cmd.Duration("request-timeout"),
		MaxDepth:       int(cmd.Int("max-depth")),
		MaxFields:      int(cmd.Int("max-fields")),
		MaxAliases:     int(cmd.Int("max-aliases")),
		MaxComplexity:  int(cmd.Int("max-complexity")),
		MaxTokens:      int(cmd.Int("max-tokens")),
		Introspection:  cmd.Bool("introspection"),
		Suggestions:    cmd.Bool("suggestions"),
		CORSOrigins:    cmd.StringSlice("cors-origins"),
		IdempotencyTTL: cmd.Duration("idempotency-ttl"),
		DBMaxConns:     int(cmd.Int("db-max-conns")),
		OTLPEndpoint:   cmd.String("otlp-endpoint"),
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
	if !c.graphiQLSet {
		c.GraphiQL = c.Dev
	}
	if c.OIDCClientID == "" {
		c.OIDCClientID = c.OIDCAudience
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
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
		slog.String("oidc_client_id", c.OIDCClientID),
		slog.Bool("oidc_client_secret_set", c.OIDCClientSecret != ""),
		slog.String("public_url", c.PublicURL),
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

// Defaults is the configuration given by the flags' defaults and the
// environment, as a server started without flags would have it.
func Defaults() (Config, error) {
	var c Config
	cmd := &cli.Command{Name: "samverkan", Flags: Flags(), Action: func(_ context.Context, cmd *cli.Command) error {
		var err error
		c, err = FromCommand(cmd)
		return err
	}}
	err := cmd.Run(context.Background(), []string{"samverkan"})
	return c, err
}
