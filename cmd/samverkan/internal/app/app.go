// Package app wires the service together: database (embedded or external),
// migrations, River, services, GraphQL and HTTP. The samverkan command and
// the end-to-end tests both boot the service through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"

	"github.com/samverkan/samverkan/graph"
	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/httpserver"
	"github.com/samverkan/samverkan/internal/idempotency"
	"github.com/samverkan/samverkan/internal/identity"
	"github.com/samverkan/samverkan/internal/jobs"
	"github.com/samverkan/samverkan/internal/mail"
	"github.com/samverkan/samverkan/internal/migrate"
	"github.com/samverkan/samverkan/internal/notify"
	"github.com/samverkan/samverkan/internal/observe"
	"github.com/samverkan/samverkan/internal/pgembed"
	"github.com/samverkan/samverkan/internal/publiccache"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/session"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/token"
	"github.com/samverkan/samverkan/internal/web"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/iop"
	"github.com/samverkan/samverkan/workflows/revision"
	"github.com/samverkan/samverkan/workflows/signing"
)

// Mode selects what a process runs.
type Mode string

// The modes: API and workers together (the default), or either alone.
const (
	ModeServe  Mode = "serve"
	ModeAPI    Mode = "api"
	ModeWorker Mode = "worker"
)

func (m Mode) runsAPI() bool     { return m != ModeWorker }
func (m Mode) runsWorkers() bool { return m != ModeAPI }

// Options are what a caller decides beyond the configuration.
type Options struct {
	Config  config.Config
	Mode    Mode
	Version string
	Logger  *slog.Logger
	// Clock defaults to the real clock; tests inject their own.
	Clock clock.Clock
	// Listener overrides Config.Addr (tests listen on :0).
	Listener net.Listener
	// FetchCooldown and FetchPollInterval tune River (tests shorten them).
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// QueryTracer sees every SQL statement (tests count them).
	QueryTracer pgx.QueryTracer
	// DevPeople are offered on the web sign-in page in dev mode (the demo
	// story's people).
	DevPeople []web.DevPerson
}

// App is the running service.
type App struct {
	opts    Options
	log     *slog.Logger
	cluster *pgembed.Cluster
	Pool    *pgxpool.Pool
	DB      *store.DB
	River   *jobs.Client
	// Services are built by Start (or Build).
	Services Services
	http     *httpserver.Server
	// PublicCache keeps answers to anonymous queries (nil when off).
	PublicCache *publiccache.Cache
	serveCh     chan error
	working     atomic.Bool
	// stopTracing flushes exported traces on shutdown.
	stopTracing func(context.Context) error
	// stopUI stops the River UI's background polling of the database.
	stopUI context.CancelFunc
	// stopWatch stops restarting the embedded cluster when it dies.
	stopWatch context.CancelFunc
	// ownerDSN connects as the schema's owner, for migrations.
	ownerDSN string
	// smtp keeps the open connections to the mail server (nil without one).
	smtp *mail.SMTP
}

// Open connects to (or starts) the database and migrates it. It does not
// start serving; Start does.
func Open(ctx context.Context, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = o.Config.Logger()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Mode == "" {
		o.Mode = ModeServe
	}
	a := &App{opts: o, log: o.Logger}
	if err := a.openDatabase(ctx); err != nil {
		a.closeDatabase()
		return nil, err
	}
	return a, nil
}

func (a *App) openDatabase(ctx context.Context) error {
	cfg := a.opts.Config
	dsn, owner := cfg.DatabaseURL, cfg.MigrationDatabaseURL
	if dsn == "" {
		c, err := pgembed.Start(ctx, pgembed.Config{
			DataDir:  cfg.PostgresDir(),
			Database: "samverkan",
			RunAs:    cfg.PGUser,
			Logger:   a.log,
		})
		if err != nil {
			return fmt.Errorf("start the embedded PostgreSQL: %w", err)
		}
		a.cluster = c
		// Never the superuser: migrations as the schema's owner, the
		// service as a role with row access only.
		dsn, owner = c.DSNAs(pgembed.AppRole, "samverkan"), c.DSNAs(pgembed.OwnerRole, "samverkan")
	}
	if owner == "" {
		owner = dsn
	}
	a.ownerDSN = owner
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	switch {
	case a.opts.QueryTracer != nil:
		pcfg.ConnConfig.Tracer = a.opts.QueryTracer
	case cfg.OTLPEndpoint != "":
		pcfg.ConnConfig.Tracer = observe.PgxTracer{}
	}
	store.ConfigurePool(pcfg)
	pcfg.MaxConns = 40
	if cfg.DBMaxConns > 0 {
		pcfg.MaxConns = int32(cfg.DBMaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("connect to the database: %w", err)
	}
	a.Pool = pool
	a.DB = store.New(pool)
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("connect to the database: %w", err)
	}
	if cfg.Migrate {
		return a.MigrateUp(ctx)
	}
	return nil
}

// AsOwner runs fn with a pool connected as the schema's owner (the
// migration URL; in the embedded cluster its owner role).
func (a *App) AsOwner(ctx context.Context, fn func(*pgxpool.Pool) error) error {
	pcfg, err := pgxpool.ParseConfig(a.ownerDSN)
	if err != nil {
		return fmt.Errorf("SAMVERKAN_MIGRATION_DATABASE_URL: %w", err)
	}
	store.ConfigurePool(pcfg)
	pcfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("connect to the database as the schema's owner: %w", err)
	}
	defer pool.Close()
	return fn(pool)
}

// MigrateUp applies every pending migration as the schema's owner, then
// grants the service's role (DATABASE_URL's) row access to what they made.
func (a *App) MigrateUp(ctx context.Context) error {
	role, err := store.CurrentRole(ctx, a.Pool)
	if err != nil {
		return err
	}
	return a.AsOwner(ctx, func(owner *pgxpool.Pool) error {
		if err := migrate.Up(ctx, owner, a.log); err != nil {
			return err
		}
		return migrate.Grant(ctx, owner, role)
	})
}

// Services are the service objects, for tools and tests that use them
// directly.
type Services struct {
	Policy   *authz.PolicyEnforcer
	Engine   *workflows.Engine
	Registry *registry.Service
	Signing  *signing.Service
	Roles    *authz.RoleService
	FollowUp *followup.Service
	Revision *revision.Service
	IOP      *iop.Service
	Keys     *idempotency.Keys
	Notify   *notify.Service
	DevKeys  *token.DevIssuerKeys
	Metrics  *observe.Metrics
}

// Start builds the services and starts River and the HTTP server.
func (a *App) Start(ctx context.Context) error {
	cfg := a.opts.Config
	shutdown, err := observe.SetupTracing(ctx, cfg.OTLPEndpoint, a.opts.Version)
	if err != nil {
		return err
	}
	a.stopTracing = shutdown
	if err := a.build(ctx); err != nil {
		return err
	}
	if a.cluster != nil {
		// A dead embedded database is started again, as an external one
		// would be by its operator; meanwhile requests get UNAVAILABLE.
		watch, stop := context.WithCancel(context.WithoutCancel(ctx))
		a.stopWatch = stop
		go a.cluster.KeepRunning(watch, pgembed.Backoff{First: 200 * time.Millisecond, Max: 30 * time.Second},
			a.Services.Metrics.EmbeddedDatabaseRestarted)
	}
	if a.opts.Mode.runsWorkers() {
		if err := a.River.Start(ctx); err != nil {
			return fmt.Errorf("start the job workers: %w", err)
		}
		a.working.Store(true)
		go func() {
			<-a.River.Stopped()
			a.working.Store(false)
		}()
	}
	verifier, err := a.verifier(ctx)
	if err != nil {
		return err
	}
	auth := identity.NewAuthenticator(verifier, a.DB, a.log)
	metrics := a.Services.Metrics
	extra := map[string]http.Handler{"GET /metrics": metrics.Handler()}
	var gql http.Handler = http.NotFoundHandler()
	var pages http.Handler
	if a.opts.Mode.runsAPI() {
		wo := web.Options{Registry: a.Services.Registry, Signing: a.Services.Signing,
			FollowUp: a.Services.FollowUp, Revision: a.Services.Revision, IOP: a.Services.IOP, Engine: a.Services.Engine, Notify: a.Services.Notify, Roles: a.Services.Roles,
			Clock: a.opts.Clock, Logger: a.log, GraphiQL: cfg.GraphiQL, Sessions: session.New(a.DB, a.opts.Clock, 0),
			EnsureUser: func(ctx context.Context, id web.Identity) (uuid.UUID, error) {
				u := &store.User{Issuer: id.Issuer, Subject: id.Subject, Name: id.Name, Email: id.Email}
				return u.ID, store.UpsertUser(ctx, a.DB.Pool, u)
			}}
		if cfg.OIDCIssuer != "" {
			if wo.OIDC, err = web.NewOIDC(ctx, cfg.OIDCIssuer, cfg.OIDCClientID, cfg.OIDCClientSecret, cfg.PublicURL); err != nil {
				return err
			}
		} else if cfg.Dev {
			wo.DevPeople, wo.DevSignIn = a.opts.DevPeople, a.EnsureUser
		}
		site, err := web.New(wo)
		if err != nil {
			return fmt.Errorf("web pages: %w", err)
		}
		pages = metrics.Middleware("web", a.log, site)
		ui, err := a.riverUI(ctx, auth)
		if err != nil {
			return err
		}
		extra["/riverui/"] = metrics.Middleware("riverui", a.log, ui)
		extra["GET "+notify.CalendarPath+"{file}"] = metrics.Middleware("calendar", a.log, a.Services.Notify.CalendarHandler(a.log))
		extra["GET /graphql/schema.graphql"] = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, graph.SchemaSDL())
		})
		resolver := &graph.Resolver{Version: a.opts.Version, Log: a.log,
			Engine: a.Services.Engine, Registry: a.Services.Registry, Signing: a.Services.Signing, Roles: a.Services.Roles,
			FollowUp: a.Services.FollowUp, Revisions: a.Services.Revision, IOP: a.Services.IOP, Notify: a.Services.Notify}
		gql = auth.Middleware(a.Services.Keys.Middleware(
			graph.NewHandler(resolver, graph.HandlerOptions{Logger: a.log, Introspection: cfg.Introspection, Suggestions: cfg.Suggestions,
				Limits:        graph.Limits{MaxDepth: cfg.MaxDepth, MaxFields: cfg.MaxFields, MaxAliases: cfg.MaxAliases},
				MaxComplexity: cfg.MaxComplexity, MaxTokens: cfg.MaxTokens, MaxTokensAnonymous: cfg.MaxTokensAnonymous, Observer: metrics, Tracing: cfg.OTLPEndpoint != ""})))
		if cfg.PublicCacheBytes > 0 {
			a.PublicCache = publiccache.New(context.WithoutCancel(ctx), a.Pool, publiccache.Options{
				MaxBytes: int64(cfg.PublicCacheBytes), TrustNotifications: cfg.PublicCacheTrustNotify, Logger: a.log, Now: a.opts.Clock.Now})
			gql = a.PublicCache.Middleware(gql)
		}
		gql = metrics.Middleware("graphql", a.log, gql)
	}
	ln := a.opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	a.http = httpserver.New(ln, httpserver.Options{
		GraphQL:      gql,
		Web:          pages,
		Ready:        a.ready,
		Extra:        extra,
		Tracing:      cfg.OTLPEndpoint != "",
		GraphiQL:     cfg.GraphiQL && a.opts.Mode.runsAPI(),
		MaxBodyBytes: cfg.MaxBodyBytes,
		// A signed-in request may attach a document of the size promised.
		MaxDocumentBodyBytes: iop.MaxDocumentBody,
		RequestTimeout:       cfg.RequestTimeout,
		CORSOrigins:          cfg.CORSOrigins,
		Logger:               a.log,
	})
	a.serveCh = make(chan error, 1)
	go func() { a.serveCh <- a.http.Serve() }()
	a.log.Info("samverkan started", "mode", a.opts.Mode, "addr", "http://"+a.http.Addr(), "config", cfg)
	return nil
}

// build creates the services and the River client without starting them;
// tools (seed, token) use it too.
func (a *App) build(ctx context.Context) error {
	if a.Services.Engine != nil {
		return nil
	}
	policy, err := authz.NewPolicyEnforcer(ctx, a.DB, a.Pool, a.log)
	if err != nil {
		return err
	}
	a.Services.Policy = policy
	metrics := observe.NewMetrics()
	metrics.Registry.MustRegister(&observe.DatabaseGauges{Pool: a.Pool, Log: a.log, Now: a.opts.Clock.Now})
	a.Services.Metrics = metrics
	eng := workflows.New(a.DB, policy, a.opts.Clock, a.log)
	eng.SetObserver(metrics)
	sign, err := signing.NewService(eng)
	if err != nil {
		return err
	}
	a.Services.Engine, a.Services.Signing = eng, sign
	cfg := a.opts.Config
	a.Services.Registry = registry.New(a.DB, policy, a.opts.Clock, a.log, registry.WithRegistrationsPerHour(cfg.RegistrationsPerHour))
	a.Services.Roles = authz.NewRoleService(a.DB, policy, a.opts.Clock)
	schedule, err := followup.ScheduleFrom(cfg)
	if err != nil {
		return err
	}
	if a.Services.FollowUp, err = followup.NewService(eng, schedule); err != nil {
		return err
	}
	if a.Services.Revision, err = revision.NewService(eng, sign, revision.OptionsFrom(cfg)); err != nil {
		return err
	}

	if a.Services.IOP, err = iop.NewService(eng, iop.OptionsFrom(cfg)); err != nil {
		return err
	}
	// A request holds its key no longer than it may run.
	lease := cfg.RequestTimeout + time.Second
	if cfg.RequestTimeout <= 0 {
		lease = time.Minute
	}
	a.Services.Keys = idempotency.New(a.DB, cfg.IdempotencyTTL, lease, a.opts.Clock, a.log)

	a.Services.Notify = &notify.Service{DB: a.DB, Policy: policy, Clock: a.opts.Clock, PublicURL: cfg.PublicURL,
		Title: func(kind string, version int) string {
			if def, err := eng.Definition(kind, version); err == nil {
				return def.Title
			}
			return kind
		}}
	workers := river.NewWorkers()
	sender, err := a.mailSender()
	if err != nil {
		return err
	}
	a.smtp, _ = sender.(*mail.SMTP)
	mailer := &notify.Worker{DB: a.DB, Sender: sender, From: cfg.MailFrom, PublicURL: cfg.PublicURL,
		Clock: a.opts.Clock, Log: a.log, Observer: metrics}
	river.AddWorker(workers, mailer)
	river.AddWorker(workers, &notify.DigestWorker{Worker: mailer})
	river.AddWorker(workers, &workflows.TimerWorker{Engine: eng})
	river.AddWorker(workers, &idempotency.CleanupWorker{Keys: a.Services.Keys})
	a.Services.IOP.AddWorkers(workers)
	river.AddWorker(workers, &workflows.OpenDueWorker{DB: a.DB, Openers: map[string]workflows.Opener{
		followup.Kind: a.Services.FollowUp, revision.Kind: a.Services.Revision}})
	interval := cfg.PeriodicInterval
	if interval <= 0 {
		interval = time.Minute
	}
	// What is due lives in the database; these jobs look for it often, so
	// a schedule moment missed while the service was down is caught up at
	// start (RunOnStart) and nothing depends on River's leader remembering.
	periodic := []*river.PeriodicJob{
		workflows.PeriodicOpen(followup.Kind, interval),
		workflows.PeriodicOpen(revision.Kind, interval),
		river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
			return idempotency.CleanupArgs{}, nil
		}, nil),
	}
	periodic = append(periodic, iop.PeriodicJobs(interval)...)
	if cfg.MailWorkers > 0 {
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
			return notify.DigestArgs{}, nil
		}, nil))
	}
	workerCount := 0
	if a.opts.Mode.runsWorkers() {
		workerCount = a.opts.Config.Workers
	}
	middleware := []rivertype.Middleware{metrics.JobMiddleware()}
	if cfg.OTLPEndpoint != "" {
		middleware = append(middleware, otelriver.NewMiddleware(nil))
	}
	rc, err := jobs.NewClient(a.Pool, jobs.Options{
		Workers:           workers,
		Periodic:          periodic,
		Middleware:        middleware,
		Clock:             a.opts.Clock,
		Logger:            a.log,
		WorkerCount:       workerCount,
		MailWorkers:       cfg.MailWorkers,
		MailFetchCooldown: jobs.MailFetchCooldown,
		FetchCooldown:     a.opts.FetchCooldown,
		FetchPollInterval: a.opts.FetchPollInterval,
	})
	if err != nil {
		return fmt.Errorf("build the job client: %w", err)
	}
	a.River = rc
	eng.SetJobClient(rc)
	return nil
}

// mailSender sends over the configured SMTP server, or without one writes
// each message as an .eml file under the data directory and logs it.
func (a *App) mailSender() (mail.Sender, error) {
	cfg := a.opts.Config
	if cfg.SMTPURL == "" {
		return &mail.Dir{Path: cfg.MailDir(), Log: a.log}, nil
	}
	return mail.NewSMTP(cfg.SMTPURL, mail.WithConnections(cfg.SMTPConnections))
}

// verifier accepts tokens from the configured OIDC issuer, or in dev mode
// from the local development issuer.
func (a *App) verifier(ctx context.Context) (token.Verifier, error) {
	cfg := a.opts.Config
	if cfg.OIDCIssuer != "" {
		return token.NewOIDCVerifier(ctx, cfg.OIDCIssuer, cfg.OIDCAudience, token.WithClock(a.opts.Clock.Now))
	}
	if !cfg.Dev {
		a.log.Warn("no OIDC issuer configured and dev mode is off: nobody can sign in")
		return refuseAll{}, nil
	}
	keys, err := a.DevKeys()
	if err != nil {
		return nil, err
	}
	a.log.Warn("dev mode: accepting tokens from the local development issuer (samverkan token --subject ...)")
	return keys.Verifier(token.WithClock(a.opts.Clock.Now)), nil
}

// DevKeys are the development issuer's keys under the data directory.
func (a *App) DevKeys() (*token.DevIssuerKeys, error) {
	if a.Services.DevKeys == nil {
		k, err := token.LoadOrCreateDevIssuer(a.opts.Config.DevKeyDir())
		if err != nil {
			return nil, fmt.Errorf("development issuer: %w", err)
		}
		a.Services.DevKeys = k
	}
	return a.Services.DevKeys, nil
}

type refuseAll struct{}

func (refuseAll) Verify(context.Context, string) (*token.Claims, error) {
	return nil, apperr.New(apperr.Unauthenticated, "Inloggning är inte konfigurerad på den här servern. / Sign-in is not configured on this server.")
}

// Addr is the HTTP address the service listens on.
func (a *App) Addr() string { return a.http.Addr() }

// Done delivers the HTTP server's error if it stops by itself.
func (a *App) Done() <-chan error { return a.serveCh }

func (a *App) ready(ctx context.Context) error {
	if err := a.Pool.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	if a.opts.Mode.runsWorkers() && !a.working.Load() {
		return errors.New("job workers not running")
	}
	return nil
}

// Close shuts down in order: stop taking requests, let running requests and
// jobs finish (within the shutdown timeout), then close the database.
func (a *App) Close() error {
	timeout := a.opts.Config.ShutdownTimeout
	if timeout == 0 {
		timeout = 25 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	if a.http != nil {
		errs = append(errs, a.http.Shutdown(ctx))
	}
	if a.stopUI != nil {
		a.stopUI()
	}
	if a.Services.Policy != nil {
		a.Services.Policy.Close()
	}
	if a.PublicCache != nil {
		a.PublicCache.Close()
	}
	if a.River != nil && a.working.Load() {
		if err := a.River.Stop(ctx); err != nil {
			a.log.Warn("jobs did not finish in time; cancelling them", "err", err)
			hard, cancelHard := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, a.River.StopAndCancel(hard))
			cancelHard()
		}
	}
	if a.smtp != nil {
		// QUIT on the mail server's connections, once no job sends.
		if err := a.smtp.Close(); err != nil {
			a.log.Warn("closing the mail server's connections", "err", err)
		}
	}
	a.closeDatabase()
	if a.stopTracing != nil {
		errs = append(errs, a.stopTracing(ctx))
	}
	a.log.Info("samverkan stopped")
	return errors.Join(errs...)
}

func (a *App) closeDatabase() {
	if a.stopWatch != nil {
		a.stopWatch()
	}
	if a.Pool != nil {
		a.Pool.Close()
	}
	if a.cluster != nil {
		if err := a.cluster.Stop(); err != nil {
			a.log.Warn("stopping the embedded PostgreSQL", "err", err)
		}
	}
}

// Logger is the service's logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Build creates the services without serving, for command-line tools.
func (a *App) Build(ctx context.Context) error { return a.build(ctx) }

// EnsureUser returns the person with subject under the configured issuer,
// creating them if they have not signed in yet.
func (a *App) EnsureUser(ctx context.Context, subject, name string) (uuid.UUID, error) {
	issuer := token.DevIssuer
	if a.opts.Config.OIDCIssuer != "" {
		issuer = a.opts.Config.OIDCIssuer
	}
	existing, err := store.UserBySubject(ctx, a.DB.Pool, issuer, subject)
	if err == nil {
		return existing.ID, nil
	}
	if !apperr.IsCode(err, apperr.NotFound) {
		return uuid.Nil, err
	}
	u := &store.User{Issuer: issuer, Subject: subject, Name: name}
	return u.ID, store.UpsertUser(ctx, a.DB.Pool, u)
}

// Grant gives the person with subject a role in a scope, straight in the
// database (the bootstrap for the first admin).
func (a *App) Grant(ctx context.Context, subject, name, role, scope string) (uuid.UUID, error) {
	if err := a.build(ctx); err != nil {
		return uuid.Nil, err
	}
	id, err := a.EnsureUser(ctx, subject, name)
	if err != nil {
		return uuid.Nil, err
	}
	as := authz.Assignment{UserID: id, Role: role, Scope: scope}
	if err := a.DB.InTx(ctx, func(tx pgx.Tx) error {
		return authz.GrantTx(ctx, tx, authz.SystemPrincipal, as, a.opts.Clock.Now())
	}); err != nil {
		return uuid.Nil, err
	}
	a.Services.Policy.Remember(as)
	return id, nil
}

// Config is the configuration the service runs with.
func (a *App) Config() config.Config { return a.opts.Config }

// DataDir is the configured data directory.
func (a *App) DataDir() string { return a.opts.Config.DataDir }

// riverUI serves River's UI to admins only, asked through the policy point
// like everything else.
