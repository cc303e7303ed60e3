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
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v3"
)

// Config is the whole configuration.
type Config struct {
	// DatabaseURL selects an external PostgreSQL; empty means the embedded one.
	DatabaseURL string
	// MigrationDatabaseURL is the schema owner's connection to the same
	// database, for migrations; empty means DatabaseURL.
	MigrationDatabaseURL string
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
	// is PublicURL + /sign-in/callback, and e-mails link to its pages);
	// empty means http://Addr.
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
	// IOPRenewalLeadMonths is how long before its end a partnership's
	// renewal opens, IOPReminderDays how many days before a yearly report is
	// due its reminder goes out, and IOPFanOutBatch how many partnerships
	// the yearly fan-out handles per statement.
	IOPRenewalLeadMonths int
	IOPReminderDays      int
	IOPFanOutBatch       int
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
	// MaxTokensAnonymous is the lower token limit for requests without a
	// token.
	MaxTokensAnonymous int
	Introspection      bool
	Suggestions        bool
	CORSOrigins        []string
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	// RegistrationsPerHour is how many organisations one person may
	// register in any hour, counted across every process; 0 allows any
	// number.
	RegistrationsPerHour int
	// PublicCacheBytes bounds the public-read cache (answers to anonymous
	// queries); 0 turns it off.
	PublicCacheBytes int
	// PublicCacheTrustNotify lets the cache rely on the database's
	// notifications instead of reading the public generation on every hit.
	PublicCacheTrustNotify bool
	// DBMaxConns is the connection pool's size per process.
	DBMaxConns int
	// OTLPEndpoint receives traces over OTLP/HTTP; empty exports nothing.
	OTLPEndpoint string

	// SMTPURL is the mail server (smtp://user:pass@host:587 with STARTTLS,
	// smtps://user:pass@host:465); empty writes mail to MailDir instead.
	SMTPURL string
	// MailFrom is the sender of every e-mail.
	MailFrom string
	// MailWorkers is how many e-mails are sent at once per process.
	MailWorkers int
	// SMTPConnections is how many connections to the SMTP server one process
	// keeps open at most.
	SMTPConnections int

	// logLevel is --log-level as given, parsed into LogLevel.
	logLevel string
}

// MailDir is where e-mails go when no SMTP server is configured.
func (c Config) MailDir() string { return filepath.Join(c.DataDir, "mail") }

// PostgresDir is where the embedded cluster keeps its data.
func (c Config) PostgresDir() string { return filepath.Join(c.DataDir, "postgres") }

// DevKeyDir is where the development token issuer keeps its signing key.
func (c Config) DevKeyDir() string { return filepath.Join(c.DataDir, "dev-issuer") }

// A Set is a group of settings; each subcommand takes the sets it uses, and
// its --help lists only those.
type Set uint

// The sets of settings.
const (
	// DataDir is the data directory (embedded cluster, dev keys).
	DataDir Set = 1 << iota
	// Database is how to reach the database: URL, embedded cluster account
	// and pool size.
	Database
	// Logging is the log level (info by default) and format.
	Logging
	// ToolLogging is Logging for one-shot tools, whose report is their
	// output: the level is warn by default. Take Logging or ToolLogging,
	// not both.
	ToolLogging
	// Migrate is whether to apply migrations before starting.
	Migrate
	// Issuer is the OpenID Connect issuer, which also names whose subjects
	// a tool's --subject are.
	Issuer
	// SignIn is how the server accepts tokens beyond the issuer.
	SignIn
	// Workflows are the schedules and quorums of the workflows.
	Workflows
	// Server is the rest of what a serving process uses: address, workers,
	// limits, tracing.
	Server

	// Tool is what a one-shot command that needs the schema takes.
	Tool = DataDir | Database | ToolLogging | Migrate
	// All is what the server subcommands take.
	All = DataDir | Database | Logging | Migrate | Issuer | SignIn | Workflows | Server
)

// setting is one flag and how it lands in a Config.
type setting struct {
	set  Set
	flag cli.Flag
	read func(c *Config, v values)
}

// values reads flags by name: a parsed command, or the flags' defaults.
type values interface {
	String(name string) string
	Bool(name string) bool
	Int(name string) int
	Duration(name string) time.Duration
	StringSlice(name string) []string
}

// settings are every setting, in the order --help lists them. Every flag is
// local to the command that takes it, so that a subcommand never lists the
// server's flags as global options.
func settings() []setting {
	return []setting{
		{Database, &cli.StringFlag{Name: "database-url", Local: true, Usage: "PostgreSQL connection URL; empty starts the embedded cluster", Sources: cli.EnvVars("DATABASE_URL")},
			func(c *Config, v values) { c.DatabaseURL = v.String("database-url") }},
		{Database, &cli.StringFlag{Name: "migration-database-url", Local: true, Usage: "connection URL of the schema's owner for migrations (the service then runs as DATABASE_URL's role and is granted only row access); empty uses DATABASE_URL", Sources: cli.EnvVars("SAMVERKAN_MIGRATION_DATABASE_URL")},
			func(c *Config, v values) { c.MigrationDatabaseURL = v.String("migration-database-url") }},
		{DataDir, &cli.StringFlag{Name: "data-dir", Local: true, Value: "./var", Usage: "directory for the embedded cluster and dev keys", Sources: cli.EnvVars("SAMVERKAN_DATA_DIR")},
			func(c *Config, v values) { c.DataDir = v.String("data-dir") }},
		{Database, &cli.StringFlag{Name: "pg-user", Local: true, Value: "postgres", Usage: "unprivileged account for the embedded cluster when run as root", Sources: cli.EnvVars("SAMVERKAN_PG_USER")},
			func(c *Config, v values) { c.PGUser = v.String("pg-user") }},
		{Server, &cli.StringFlag{Name: "addr", Local: true, Value: "127.0.0.1:8080", Usage: "HTTP listen address", Sources: cli.EnvVars("SAMVERKAN_ADDR")},
			func(c *Config, v values) { c.Addr = v.String("addr") }},
		{ToolLogging, &cli.StringFlag{Name: "log-level", Local: true, Value: "warn", Usage: "debug, info, warn or error: what is logged to stderr", Sources: cli.EnvVars("SAMVERKAN_LOG_LEVEL")},
			func(c *Config, v values) { c.logLevel = v.String("log-level") }},
		{Logging, &cli.StringFlag{Name: "log-level", Local: true, Value: "info", Usage: "debug, info, warn or error", Sources: cli.EnvVars("SAMVERKAN_LOG_LEVEL")},
			func(c *Config, v values) { c.logLevel = v.String("log-level") }},
		{Logging | ToolLogging, &cli.StringFlag{Name: "log-format", Local: true, Value: "text", Usage: "text or json", Sources: cli.EnvVars("SAMVERKAN_LOG_FORMAT")},
			func(c *Config, v values) { c.LogFormat = v.String("log-format") }},
		{Migrate, &cli.BoolFlag{Name: "migrate", Local: true, Value: true, Usage: "apply pending database migrations first", Sources: cli.EnvVars("SAMVERKAN_MIGRATE")},
			func(c *Config, v values) { c.Migrate = v.Bool("migrate") }},
		{Server, &cli.BoolFlag{Name: "seed-demo-if-empty", Local: true, Usage: "load the demo story when the database has no agreement yet", Sources: cli.EnvVars("SAMVERKAN_SEED_DEMO")},
			func(c *Config, v values) { c.SeedDemoIfEmpty = v.Bool("seed-demo-if-empty") }},
		{Issuer, &cli.StringFlag{Name: "oidc-issuer", Local: true, Usage: "OpenID Connect issuer URL; setting it turns dev mode off", Sources: cli.EnvVars("SAMVERKAN_OIDC_ISSUER")},
			func(c *Config, v values) { c.OIDCIssuer = v.String("oidc-issuer") }},
		{SignIn, &cli.StringFlag{Name: "oidc-audience", Local: true, Usage: "expected token audience (client id)", Sources: cli.EnvVars("SAMVERKAN_OIDC_AUDIENCE")},
			func(c *Config, v values) { c.OIDCAudience = v.String("oidc-audience") }},
		{SignIn, &cli.StringFlag{Name: "oidc-client-id", Local: true, Usage: "client id of the web sign-in (default: the audience)", Sources: cli.EnvVars("SAMVERKAN_OIDC_CLIENT_ID")},
			func(c *Config, v values) { c.OIDCClientID = v.String("oidc-client-id") }},
		{SignIn, &cli.StringFlag{Name: "oidc-client-secret", Local: true, Usage: "client secret of the web sign-in (empty for a public client: PKCE only)", Sources: cli.EnvVars("SAMVERKAN_OIDC_CLIENT_SECRET")},
			func(c *Config, v values) { c.OIDCClientSecret = v.String("oidc-client-secret") }},
		{Server, &cli.StringFlag{Name: "public-url", Local: true, Usage: "where browsers reach the service: the sign-in callback and the links in e-mails (default http://<addr>)", Sources: cli.EnvVars("SAMVERKAN_PUBLIC_URL")},
			func(c *Config, v values) { c.PublicURL = v.String("public-url") }},
		{SignIn, &cli.BoolFlag{Name: "dev", Local: true, Value: true, Usage: "accept tokens from the local development issuer (ignored when an OIDC issuer is set)", Sources: cli.EnvVars("SAMVERKAN_DEV")},
			func(c *Config, v values) { c.Dev = v.Bool("dev") }},
		{Server, &cli.BoolFlag{Name: "graphiql", Local: true, Usage: "serve the GraphiQL explorer at /graphiql/ (default: on in dev mode, off otherwise)", Sources: cli.EnvVars("SAMVERKAN_GRAPHIQL")},
			func(c *Config, v values) {
				c.GraphiQL = v.Bool("graphiql")
				if cmd, ok := v.(*cli.Command); ok {
					c.graphiQLSet = cmd.IsSet("graphiql")
				}
			}},
		{Server, &cli.IntFlag{Name: "workers", Local: true, Value: 50, Usage: "River worker goroutines", Sources: cli.EnvVars("SAMVERKAN_WORKERS")},
			func(c *Config, v values) { c.Workers = v.Int("workers") }},
		{Server, &cli.DurationFlag{Name: "shutdown-timeout", Local: true, Value: 25 * time.Second, Usage: "how long running requests and jobs get to finish on shutdown", Sources: cli.EnvVars("SAMVERKAN_SHUTDOWN_TIMEOUT")},
			func(c *Config, v values) { c.ShutdownTimeout = v.Duration("shutdown-timeout") }},
		{Workflows, &cli.StringFlag{Name: "followup-opens", Local: true, Value: "01-15 06:00", Usage: "when yearly follow-ups open, MM-DD HH:MM Europe/Stockholm", Sources: cli.EnvVars("SAMVERKAN_FOLLOWUP_OPENS")},
			func(c *Config, v values) { c.FollowUpOpens = v.String("followup-opens") }},
		{Workflows, &cli.DurationFlag{Name: "report-window", Local: true, Value: 8 * 7 * 24 * time.Hour, Usage: "how long after opening a follow-up's reports are due", Sources: cli.EnvVars("SAMVERKAN_REPORT_WINDOW")},
			func(c *Config, v values) { c.ReportWindow = v.Duration("report-window") }},
		{Workflows, &cli.DurationFlag{Name: "revision-lead", Local: true, Value: 365 * 24 * time.Hour, Usage: "how long before five years a revision opens itself", Sources: cli.EnvVars("SAMVERKAN_REVISION_LEAD")},
			func(c *Config, v values) { c.RevisionLead = v.Duration("revision-lead") }},
		{Workflows, &cli.IntFlag{Name: "revision-region-approvals", Local: true, Value: 1, Usage: "region politicians needed to adopt a revision", Sources: cli.EnvVars("SAMVERKAN_REVISION_REGION_APPROVALS")},
			func(c *Config, v values) { c.RevisionRegionApprovals = v.Int("revision-region-approvals") }},
		{Workflows, &cli.IntFlag{Name: "revision-sector-approvals", Local: true, Value: 1, Usage: "sector council members needed to adopt a revision", Sources: cli.EnvVars("SAMVERKAN_REVISION_SECTOR_APPROVALS")},
			func(c *Config, v values) { c.RevisionSectorApprovals = v.Int("revision-sector-approvals") }},
		{Workflows, &cli.DurationFlag{Name: "reconfirm-within", Local: true, Value: 13 * 7 * 24 * time.Hour, Usage: "how long signatories have to confirm a new version", Sources: cli.EnvVars("SAMVERKAN_RECONFIRM_WITHIN")},
			func(c *Config, v values) { c.ReconfirmWithin = v.Duration("reconfirm-within") }},
		{Workflows, &cli.IntFlag{Name: "iop-renewal-lead-months", Local: true, Value: 6, Usage: "months before its end a partnership's renewal opens", Sources: cli.EnvVars("SAMVERKAN_IOP_RENEWAL_LEAD_MONTHS")},
			func(c *Config, v values) { c.IOPRenewalLeadMonths = v.Int("iop-renewal-lead-months") }},
		{Workflows, &cli.IntFlag{Name: "iop-reminder-days", Local: true, Value: 14, Usage: "days before a partnership's yearly report is due its reminder goes out", Sources: cli.EnvVars("SAMVERKAN_IOP_REMINDER_DAYS")},
			func(c *Config, v values) { c.IOPReminderDays = v.Int("iop-reminder-days") }},
		{Workflows, &cli.IntFlag{Name: "iop-fanout-batch", Local: true, Value: 5000, Usage: "partnerships per statement in the yearly report fan-out", Sources: cli.EnvVars("SAMVERKAN_IOP_FANOUT_BATCH")},
			func(c *Config, v values) { c.IOPFanOutBatch = v.Int("iop-fanout-batch") }},
		{Server, &cli.DurationFlag{Name: "periodic-interval", Local: true, Value: time.Minute, Usage: "how often periodic jobs look for due work", Sources: cli.EnvVars("SAMVERKAN_PERIODIC_INTERVAL")},
			func(c *Config, v values) { c.PeriodicInterval = v.Duration("periodic-interval") }},
		{Server, &cli.IntFlag{Name: "max-body-bytes", Local: true, Value: 1 << 20, Usage: "largest request body", Sources: cli.EnvVars("SAMVERKAN_MAX_BODY_BYTES")},
			func(c *Config, v values) { c.MaxBodyBytes = int64(v.Int("max-body-bytes")) }},
		{Server, &cli.DurationFlag{Name: "request-timeout", Local: true, Value: 15 * time.Second, Usage: "longest a request may run (its database work is cancelled after)", Sources: cli.EnvVars("SAMVERKAN_REQUEST_TIMEOUT")},
			func(c *Config, v values) { c.RequestTimeout = v.Duration("request-timeout") }},
		{Server, &cli.IntFlag{Name: "max-depth", Local: true, Value: 12, Usage: "deepest nesting of a GraphQL operation", Sources: cli.EnvVars("SAMVERKAN_MAX_DEPTH")},
			func(c *Config, v values) { c.MaxDepth = v.Int("max-depth") }},
		{Server, &cli.IntFlag{Name: "max-fields", Local: true, Value: 1000, Usage: "most fields an operation selects, fragments expanded", Sources: cli.EnvVars("SAMVERKAN_MAX_FIELDS")},
			func(c *Config, v values) { c.MaxFields = v.Int("max-fields") }},
		{Server, &cli.IntFlag{Name: "max-aliases", Local: true, Value: 50, Usage: "most aliases in an operation", Sources: cli.EnvVars("SAMVERKAN_MAX_ALIASES")},
			func(c *Config, v values) { c.MaxAliases = v.Int("max-aliases") }},
		{Server, &cli.IntFlag{Name: "max-complexity", Local: true, Value: 5000, Usage: "highest operation cost (a connection counts its page size times its items)", Sources: cli.EnvVars("SAMVERKAN_MAX_COMPLEXITY")},
			func(c *Config, v values) { c.MaxComplexity = v.Int("max-complexity") }},
		{Server, &cli.IntFlag{Name: "max-tokens", Local: true, Value: 10000, Usage: "most tokens in a query document", Sources: cli.EnvVars("SAMVERKAN_MAX_TOKENS")},
			func(c *Config, v values) { c.MaxTokens = v.Int("max-tokens") }},
		{Server, &cli.IntFlag{Name: "max-tokens-anonymous", Local: true, Value: 3000, Usage: "most tokens in a query document sent without a token", Sources: cli.EnvVars("SAMVERKAN_MAX_TOKENS_ANONYMOUS")},
			func(c *Config, v values) { c.MaxTokensAnonymous = v.Int("max-tokens-anonymous") }},
		{Server, &cli.BoolFlag{Name: "introspection", Local: true, Value: true, Usage: "allow schema introspection", Sources: cli.EnvVars("SAMVERKAN_INTROSPECTION")},
			func(c *Config, v values) { c.Introspection = v.Bool("introspection") }},
		{Server, &cli.BoolFlag{Name: "suggestions", Local: true, Value: true, Usage: `"did you mean" suggestions in validation errors`, Sources: cli.EnvVars("SAMVERKAN_SUGGESTIONS")},
			func(c *Config, v values) { c.Suggestions = v.Bool("suggestions") }},
		{Server, &cli.StringSliceFlag{Name: "cors-origins", Local: true, Usage: "browser origins allowed to call the API (comma-separated); none by default", Sources: cli.EnvVars("SAMVERKAN_CORS_ORIGINS")},
			func(c *Config, v values) { c.CORSOrigins = v.StringSlice("cors-origins") }},
		{Server, &cli.DurationFlag{Name: "idempotency-ttl", Local: true, Value: 24 * time.Hour, Usage: "how long an Idempotency-Key is remembered", Sources: cli.EnvVars("SAMVERKAN_IDEMPOTENCY_TTL")},
			func(c *Config, v values) { c.IdempotencyTTL = v.Duration("idempotency-ttl") }},
		{Server, &cli.IntFlag{Name: "registrations-per-hour", Local: true, Value: 20, Usage: "organisations one person may register in any hour (0: no limit)", Sources: cli.EnvVars("SAMVERKAN_REGISTRATIONS_PER_HOUR")},
			func(c *Config, v values) { c.RegistrationsPerHour = v.Int("registrations-per-hour") }},
		{Server, &cli.IntFlag{Name: "public-cache-bytes", Local: true, Value: 64 << 20, Usage: "bytes of answers to anonymous queries kept in memory (0: no cache)", Sources: cli.EnvVars("SAMVERKAN_PUBLIC_CACHE_BYTES")},
			func(c *Config, v values) { c.PublicCacheBytes = v.Int("public-cache-bytes") }},
		{Server, &cli.BoolFlag{Name: "public-cache-trust-notify", Local: true, Usage: "serve cached public answers on the database's notifications alone, without reading the generation on each hit", Sources: cli.EnvVars("SAMVERKAN_PUBLIC_CACHE_TRUST_NOTIFY")},
			func(c *Config, v values) { c.PublicCacheTrustNotify = v.Bool("public-cache-trust-notify") }},
		{Database, &cli.IntFlag{Name: "db-max-conns", Local: true, Value: 40, Usage: "database connections per process", Sources: cli.EnvVars("SAMVERKAN_DB_MAX_CONNS")},
			func(c *Config, v values) { c.DBMaxConns = v.Int("db-max-conns") }},
		{Server, &cli.StringFlag{Name: "otlp-endpoint", Local: true, Usage: "OpenTelemetry collector (OTLP/HTTP), e.g. http://collector:4318; traces are exported only when set", Sources: cli.EnvVars("OTEL_EXPORTER_OTLP_ENDPOINT")},
			func(c *Config, v values) { c.OTLPEndpoint = v.String("otlp-endpoint") }},
		{Server, &cli.StringFlag{Name: "smtp-url", Local: true, Usage: "mail server, smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; empty writes .eml files under data-dir/mail", Sources: cli.EnvVars("SAMVERKAN_SMTP_URL")},
			func(c *Config, v values) { c.SMTPURL = v.String("smtp-url") }},
		{Server, &cli.StringFlag{Name: "mail-from", Local: true, Value: "Överenskommelsen Värmland <noreply@samverkan.invalid>", Usage: "sender of the e-mails", Sources: cli.EnvVars("SAMVERKAN_MAIL_FROM")},
			func(c *Config, v values) { c.MailFrom = v.String("mail-from") }},
		{Server, &cli.IntFlag{Name: "mail-workers", Local: true, Value: 10, Usage: "e-mails sent at once per process", Sources: cli.EnvVars("SAMVERKAN_MAIL_WORKERS")},
			func(c *Config, v values) { c.MailWorkers = v.Int("mail-workers") }},
		{Server, &cli.IntFlag{Name: "smtp-connections", Local: true, Value: 4, Usage: "connections to the mail server kept open at most per process (messages are sent one after another over each)", Sources: cli.EnvVars("SAMVERKAN_SMTP_CONNECTIONS")},
			func(c *Config, v values) { c.SMTPConnections = v.Int("smtp-connections") }},
	}
}

// Flags are the flags of the given sets, e.g. Flags(All) for a server
// subcommand and Flags(Tool) for one that only opens the database.
func Flags(sets Set) []cli.Flag {
	var out []cli.Flag
	for _, s := range settings() {
		if s.set&sets != 0 {
			out = append(out, s.flag)
		}
	}
	return out
}

// FromCommand reads the settings of a parsed command. A setting the
// command does not take has its default.
func FromCommand(cmd *cli.Command) (Config, error) {
	var c Config
	for _, s := range settings() {
		var v values = defaults{s.flag}
		if takes(cmd, s.flag.Names()[0]) {
			v = cmd
		}
		s.read(&c, v)
	}
	if err := c.LogLevel.UnmarshalText([]byte(c.logLevel)); err != nil {
		return c, fmt.Errorf("--log-level: %w", err)
	}
	return c, c.normalise()
}

// takes says whether cmd has the flag called name.
func takes(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// defaults reads a flag's default value.
type defaults struct{ flag cli.Flag }

func (d defaults) String(string) string {
	f, _ := d.flag.(*cli.StringFlag)
	return f.Value
}

func (d defaults) Bool(string) bool {
	f, _ := d.flag.(*cli.BoolFlag)
	return f.Value
}

func (d defaults) Int(string) int {
	f, _ := d.flag.(*cli.IntFlag)
	return f.Value
}

func (d defaults) Duration(string) time.Duration {
	f, _ := d.flag.(*cli.DurationFlag)
	return f.Value
}

func (d defaults) StringSlice(string) []string {
	f, _ := d.flag.(*cli.StringSliceFlag)
	return f.Value
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
	if c.PublicURL == "" && c.Addr != "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
	}
	if c.Workers < 1 {
		return fmt.Errorf("--workers must be at least 1")
	}
	if c.SMTPConnections < 1 {
		return fmt.Errorf("--smtp-connections must be at least 1")
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
		slog.String("migration_database", migrationURL(c)),
		slog.String("data_dir", c.DataDir),
		slog.String("addr", c.Addr),
		slog.Bool("dev", c.Dev),
		slog.String("oidc_issuer", c.OIDCIssuer),
		slog.String("oidc_client_id", c.OIDCClientID),
		slog.Bool("oidc_client_secret_set", c.OIDCClientSecret != ""),
		slog.String("public_url", c.PublicURL),
		slog.Bool("graphiql", c.GraphiQL),
		slog.Int("workers", c.Workers),
		slog.String("smtp", maskSMTP(c.SMTPURL)),
	)
}

func maskSMTP(s string) string {
	if s == "" {
		return "none (mail written to data-dir/mail)"
	}
	return maskURL(s)
}

func migrationURL(c Config) string {
	if c.MigrationDatabaseURL == "" {
		return "as database"
	}
	return maskURL(c.MigrationDatabaseURL)
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

// MustDefaults is Defaults for tests and tools that build a configuration
// by hand: the defaults, with their own changes on top.
func MustDefaults() Config {
	c, err := Defaults()
	if err != nil {
		panic(err)
	}
	return c
}

// Defaults is the configuration given by the flags' defaults and the
// environment, as a server started without flags would have it. It is the
// one place defaults live: the services take every setting from it.
func Defaults() (Config, error) {
	var c Config
	cmd := &cli.Command{Name: "samverkan", Flags: Flags(All), Action: func(_ context.Context, cmd *cli.Command) error {
		var err error
		c, err = FromCommand(cmd)
		return err
	}}
	err := cmd.Run(context.Background(), []string{"samverkan"})
	return c, err
}
