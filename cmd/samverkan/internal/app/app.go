// Package app wires the service together: database (embedded or external),
// migrations, River, services, GraphQL and HTTP. The samverkan command and
// the end-to-end tests both boot the service through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/graph"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/httpserver"
	"github.com/samverkan/samverkan/internal/jobs"
	"github.com/samverkan/samverkan/internal/migrate"
	"github.com/samverkan/samverkan/internal/pgembed"
	"github.com/samverkan/samverkan/internal/store"
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
}

// App is the running service.
type App struct {
	opts    Options
	log     *slog.Logger
	cluster *pgembed.Cluster
	Pool    *pgxpool.Pool
	DB      *store.DB
	River   *jobs.Client
	http    *httpserver.Server
	serveCh chan error
	working atomic.Bool
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
	dsn := cfg.DatabaseURL
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
		dsn = c.DSN("samverkan")
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = 40
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
		if err := migrate.Up(ctx, pool, a.log); err != nil {
			return err
		}
	}
	return nil
}

// Start builds the services and starts River and the HTTP server.
func (a *App) Start(ctx context.Context) error {
	cfg := a.opts.Config
	workers := 0
	if a.opts.Mode.runsWorkers() {
		workers = cfg.Workers
	}
	rc, err := jobs.NewClient(a.Pool, jobs.Options{
		Workers:           riverWorkers(),
		Clock:             a.opts.Clock,
		Logger:            a.log,
		WorkerCount:       workers,
		FetchCooldown:     a.opts.FetchCooldown,
		FetchPollInterval: a.opts.FetchPollInterval,
	})
	if err != nil {
		return fmt.Errorf("build the job client: %w", err)
	}
	a.River = rc
	if workers > 0 {
		if err := rc.Start(ctx); err != nil {
			return fmt.Errorf("start the job workers: %w", err)
		}
		a.working.Store(true)
		go func() {
			<-rc.Stopped()
			a.working.Store(false)
		}()
	}

	resolver := &graph.Resolver{Version: a.opts.Version, DB: a.DB}
	var gql http.Handler = http.NotFoundHandler()
	if a.opts.Mode.runsAPI() {
		gql = graph.NewHandler(resolver, graph.HandlerOptions{Logger: a.log, Introspection: true})
	}
	ln := a.opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	a.http = httpserver.New(ln, httpserver.Options{
		GraphQL:      gql,
		Ready:        a.ready,
		GraphiQL:     cfg.GraphiQL && a.opts.Mode.runsAPI(),
		MaxBodyBytes: 1 << 20,
		Logger:       a.log,
	})
	a.serveCh = make(chan error, 1)
	go func() { a.serveCh <- a.http.Serve() }()
	a.log.Info("samverkan started", "mode", a.opts.Mode, "addr", "http://"+a.http.Addr(), "config", cfg)
	return nil
}

// Addr is the HTTP address the service listens on.
func (a *App) Addr() string { return a.http.Addr() }

// Done delivers the HTTP server's error if it stops by itself.
func (a *App) Done() <-chan error { return a.serveCh }

// ClusterExited is closed if the embedded database stops by itself; nil
// with an external database.
func (a *App) ClusterExited() <-chan struct{} {
	if a.cluster == nil {
		return nil
	}
	return a.cluster.Exited()
}

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
	if a.River != nil && a.working.Load() {
		if err := a.River.Stop(ctx); err != nil {
			a.log.Warn("jobs did not finish in time; cancelling them", "err", err)
			hard, cancelHard := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, a.River.StopAndCancel(hard))
			cancelHard()
		}
	}
	a.closeDatabase()
	a.log.Info("samverkan stopped")
	return errors.Join(errs...)
}

func (a *App) closeDatabase() {
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
