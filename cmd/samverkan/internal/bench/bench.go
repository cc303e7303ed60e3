// Package bench is `samverkan bench`: it seeds a dataset at the scale of a
// large installation (10,000 organisations, 20 agreement versions with
// 2,000 signatories each, 100,000 IOP partnerships, 1,000,000 history
// events), runs the service as its own process against it, and measures
// reads and transitions over HTTP at a fixed concurrency next to the same
// work done with plain SQL (the "physical limit"), the annual fan-out, the
// cold start and the server's memory. It prints a table and writes the
// figures as JSON.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/audit"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/migrate"
	"github.com/samverkan/samverkan/internal/pgembed"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/token"
)

// Progress reports a long step (the command's progress bar).
type Progress interface {
	Step(step string, done, total int)
}

// Options configure a run.
type Options struct {
	// DataDir holds the embedded cluster (DataDir/postgres), the dev
	// issuer's key and the server's log; separate from the dev data.
	DataDir string
	// DatabaseURL uses an existing database instead of the embedded one.
	DatabaseURL string
	PGUser      string
	// Executable is the samverkan binary run as the server under test.
	Executable  string
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	// PoolSize is how many instances each service transition pool holds
	// (the raw baseline's hold half as many again).
	PoolSize int
	Scale    Scale
	// Reseed drops the dataset and seeds it again.
	Reseed bool
	// Keep leaves the server running after the measurements (Ctrl-C ends).
	Keep bool
	// SkipVerify skips `audit verify` of the seeded history.
	SkipVerify bool
	// ProfileDir, when set, runs the service inside this process and
	// writes a CPU profile of each service measurement there.
	ProfileDir string
	ResultsDir string
	Out        io.Writer
	Progress   Progress
	Logger     *slog.Logger
}

func (o *Options) defaults() error {
	if o.Duration <= 0 {
		o.Duration = 15 * time.Second
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 30_000
	}
	if o.Scale == (Scale{}) {
		o.Scale = DefaultScale()
	}
	if o.PGUser == "" {
		o.PGUser = "postgres"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if o.Executable == "" && o.ProfileDir == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		o.Executable = exe
	}
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	o.DataDir = abs
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return err
	}
	return o.Scale.check()
}

type noProgress struct{}

func (noProgress) Step(string, int, int) {}

// Results are a run's figures, written as JSON.
type Results struct {
	Machine  string    `json:"machine"`
	Commit   string    `json:"commit"`
	Dirty    bool      `json:"dirty"`
	Date     time.Time `json:"date"`
	Go       string    `json:"go"`
	Postgres string    `json:"postgres"`
	// Database is "embedded" or "external".
	Database string  `json:"database"`
	Config   Config  `json:"config"`
	Dataset  Dataset `json:"dataset"`
	// BackgroundBusyPct is how busy the machine was (other processes)
	// just before the measurements.
	BackgroundBusyPct  float64            `json:"background_busy_percent"`
	Reads              []Compared         `json:"reads"`
	Transitions        Compared           `json:"transitions"`
	TransitionsWithJob Compared           `json:"transitions_with_job"`
	Fanout             Fanout             `json:"fanout"`
	ColdStartSeconds   float64            `json:"cold_start_seconds"`
	ColdStartExternal  float64            `json:"cold_start_external_db_seconds"`
	RSSMB              float64            `json:"rss_mb"`
	Phases             map[string]float64 `json:"phases_seconds"`
	Targets            []Target           `json:"targets"`
}

// Config is how the run was made.
type Config struct {
	Concurrency     int     `json:"concurrency"`
	DurationSeconds float64 `json:"duration_seconds"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
	InProcess       bool    `json:"server_in_process"`
}

// Dataset is what the database held.
type Dataset struct {
	Scale   Scale       `json:"scale"`
	Seeded  bool        `json:"seeded_this_run"`
	Seed    *SeedReport `json:"seed,omitempty"`
	Counts  Counts      `json:"counts"`
	PoolNew int         `json:"transition_pool_instances_created"`
	Audit   *AuditCheck `json:"audit_verify,omitempty"`
}

// Counts are row counts after seeding.
type Counts struct {
	Organisations int `json:"organisations"`
	Versions      int `json:"agreement_versions"`
	Signatories   int `json:"signatories"`
	Partnerships  int `json:"partnerships"`
	Instances     int `json:"workflow_instances"`
	Events        int `json:"history_events"`
}

// AuditCheck is `audit verify` of the whole history.
type AuditCheck struct {
	OK      bool    `json:"ok"`
	Events  int     `json:"events"`
	Streams int     `json:"streams"`
	Seconds float64 `json:"seconds"`
}

// Compared is the service against the raw-SQL baseline.
type Compared struct {
	Name   string  `json:"name"`
	RPS    float64 `json:"rps"`
	RawRPS float64 `json:"raw_rps"`
	Ratio  float64 `json:"ratio"`
	P50    float64 `json:"p50_ms"`
	P95    float64 `json:"p95_ms"`
	P99    float64 `json:"p99_ms"`
	// JobsPerRequest is set for transitions: River jobs each inserts.
	JobsPerRequest *int `json:"jobs_per_transition,omitempty"`
	// HitRatio is set for the public reads: the share the public-read
	// cache answered.
	HitRatio *float64    `json:"cache_hit_ratio,omitempty"`
	Service  Measurement `json:"service"`
	Raw      Measurement `json:"raw"`
}

// Fanout is the annual opening of partnership reports.
type Fanout struct {
	N              int     `json:"n"`
	Seconds        float64 `json:"seconds"`
	RerunAdded     int     `json:"rerun_added"`
	RerunSeconds   float64 `json:"rerun_seconds"`
	RowsAfterRerun int     `json:"rows_after_rerun"`
}

// Target is one of the targets.
type Target struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Value  string `json:"value"`
	Met    bool   `json:"met"`
}

type database struct {
	cluster *pgembed.Cluster
	// dsn is the bench's own connection (the embedded cluster's superuser,
	// who may seed with the triggers off); ownerDSN migrates (the schema's
	// owner) and serviceDSN is what the service under test connects as
	// (the embedded cluster's app role, as `serve` does). All three are
	// --database-url for an external database.
	dsn, ownerDSN, serviceDSN string
	pool                      *pgxpool.Pool
}

// migrateUp applies the migrations as the schema's owner and grants the
// service's role its row access, as `samverkan migrate up` does: the
// service (and `serve` on the data directory, the cold start) never runs
// as the superuser, so tables the superuser made would be closed to it.
func (d *database) migrateUp(ctx context.Context, down bool) error {
	quiet := slog.New(slog.DiscardHandler)
	cfg, err := pgxpool.ParseConfig(d.ownerDSN)
	if err != nil {
		return err
	}
	store.ConfigurePool(cfg)
	cfg.MaxConns = 4
	owner, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect as the schema's owner: %w", err)
	}
	defer owner.Close()
	if down {
		if err := migrate.Down(ctx, owner, quiet); err != nil {
			return err
		}
	}
	if err := migrate.Up(ctx, owner, quiet); err != nil {
		return err
	}
	role := ""
	if d.cluster != nil {
		role = pgembed.AppRole
	} else if role, err = store.CurrentRole(ctx, d.pool); err != nil {
		return err
	}
	return migrate.Grant(ctx, owner, role)
}

func (d *database) close() {
	if d.pool != nil {
		d.pool.Close()
		d.pool = nil
	}
	if d.cluster != nil {
		_ = d.cluster.Stop()
		d.cluster = nil
	}
}

func (o *Options) openDatabase(ctx context.Context) (*database, error) {
	d := &database{dsn: o.DatabaseURL, ownerDSN: o.DatabaseURL, serviceDSN: o.DatabaseURL}
	if d.dsn == "" {
		c, err := pgembed.Start(ctx, pgembed.Config{DataDir: filepath.Join(o.DataDir, "postgres"), Database: "samverkan",
			RunAs: o.PGUser, Logger: o.Logger})
		if err != nil {
			return nil, fmt.Errorf("start the embedded PostgreSQL: %w", err)
		}
		d.cluster, d.dsn = c, c.DSN("samverkan")
		d.ownerDSN, d.serviceDSN = c.DSNAs(pgembed.OwnerRole, "samverkan"), c.DSNAs(pgembed.AppRole, "samverkan")
	}
	cfg, err := pgxpool.ParseConfig(d.dsn)
	if err != nil {
		d.close()
		return nil, err
	}
	store.ConfigurePool(cfg)
	// Comparable to the service's pool (40 connections).
	cfg.MaxConns = int32(max(40, o.Concurrency+8))
	if d.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		d.close()
		return nil, err
	}
	return d, d.pool.Ping(ctx)
}

// Run runs the benchmark and returns its figures (also written to
// ResultsDir and printed to Out).
func Run(ctx context.Context, o Options) (*Results, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	res := &Results{Machine: machine(), Date: time.Now().UTC().Truncate(time.Second), Go: runtime.Version(),
		Config: Config{Concurrency: o.Concurrency, DurationSeconds: o.Duration.Seconds(), WarmupSeconds: o.Warmup.Seconds(),
			InProcess: o.ProfileDir != ""},
		Phases: map[string]float64{}, Database: "embedded"}
	res.Commit, res.Dirty = commit()
	if o.DatabaseURL != "" {
		res.Database = "external"
	}
	r := &run{o: o, res: res}
	defer r.cleanup()
	if err := r.all(ctx); err != nil {
		return res, err
	}
	return res, nil
}

type run struct {
	o      Options
	res    *Results
	db     *database
	srv    server
	seeder *seeder
	// statements counts the in-process service's SQL statements.
	statements *statementCounter
}

func (r *run) cleanup() {
	if r.srv != nil {
		_ = r.srv.Stop()
	}
	if r.db != nil {
		r.db.close()
	}
}

// phase runs and times one step and says so.
func (r *run) phase(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	took := time.Since(start).Seconds()
	r.res.Phases[name] = round(r.res.Phases[name]+took, 2)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(r.o.Out, "  %-34s %7.1f s\n", name, took)
	return nil
}

func (r *run) all(ctx context.Context) error {
	o, res := r.o, r.res
	fmt.Fprintf(o.Out, "samverkan bench: %s, commit %s%s\n", res.Machine, res.Commit, map[bool]string{true: " (uncommitted changes)"}[res.Dirty])
	if err := r.phase("start the database", func() error {
		var err error
		r.db, err = o.openDatabase(ctx)
		if err != nil {
			return err
		}
		return r.db.migrateUp(ctx, false)
	}); err != nil {
		return err
	}
	if err := r.db.pool.QueryRow(ctx, "SHOW server_version").Scan(&res.Postgres); err != nil {
		return err
	}
	if err := r.dataset(ctx); err != nil {
		return err
	}
	if err := r.fanout(ctx); err != nil {
		return err
	}
	res.BackgroundBusyPct = backgroundBusy(time.Second)
	if res.BackgroundBusyPct > 20 {
		fmt.Fprintf(o.Out, "  warning: the machine is %.0f%% busy with other work; the figures will be low and noisy\n", res.BackgroundBusyPct)
	}
	if err := r.phase("start the server", func() error { return r.startServer(ctx) }); err != nil {
		return err
	}
	keys, err := token.LoadOrCreateDevIssuer(filepath.Join(o.DataDir, "dev-issuer"))
	if err != nil {
		return err
	}
	tok, err := keys.Sign(token.TokenRequest{Subject: officialSubject, Name: officialName, TTL: 6 * time.Hour})
	if err != nil {
		return err
	}
	c := newClient(r.srv.URL(), tok, o.Concurrency)
	t, err := loadTargets(ctx, r.db.pool)
	if err != nil {
		return err
	}
	today := r.seeder.today
	if err := r.phase("check the answers", func() error { return checkAnswers(ctx, c, r.db.pool, t, today, o.Scale) }); err != nil {
		return err
	}
	if err := r.phase("reads", func() error { return r.reads(ctx, c, t, today) }); err != nil {
		return err
	}
	if err := r.phase("transitions", func() error { return r.transitions(ctx, c) }); err != nil {
		return err
	}
	if o.Keep {
		fmt.Fprintf(o.Out, "\nThe server stays up at %s (Ctrl-C stops it). The official's token:\n%s\n", r.srv.URL(), tok)
		<-ctx.Done()
		ctx = context.WithoutCancel(ctx)
	}
	if err := r.phase("stop the server", func() error {
		err := r.srv.Stop()
		r.srv = nil
		return err
	}); err != nil {
		return err
	}
	if err := r.phase("withdraw used pool instances", func() error {
		_, err := retirePools(ctx, r.db.pool, time.Now())
		return err
	}); err != nil {
		return err
	}
	if r.db.cluster != nil && o.ProfileDir == "" {
		if err := r.phase("cold start (embedded)", func() error { return r.coldStart(ctx) }); err != nil {
			return err
		}
	} else {
		res.ColdStartSeconds = res.ColdStartExternal
	}
	r.targets()
	r.printTable()
	return r.write()
}

// dataset seeds the database unless it holds a recent dataset of the same
// scale, then fills the transition pools and checks the history.
func (r *run) dataset(ctx context.Context) error {
	o, res, db := r.o, r.res, r.db
	m, err := readMarker(ctx, db.pool)
	if err != nil {
		return err
	}
	var orgs int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM organisations`).Scan(&orgs); err != nil {
		return err
	}
	// A dataset is reused within 30 days and the same year (every
	// partnership has exactly one report due: on last year).
	now := time.Now().In(clock.Stockholm)
	reuse := m != nil && m.Scale == o.Scale && time.Since(m.Seeded) < 30*24*time.Hour &&
		m.Seeded.In(clock.Stockholm).Year() == now.Year() && !o.Reseed
	if !reuse && orgs > 0 {
		if db.cluster == nil && m == nil && !o.Reseed {
			return errors.New("the database holds data that is not a benchmark dataset; give an empty database (or --reseed to wipe it)")
		}
		if err := r.phase("drop the old dataset", func() error { return db.migrateUp(ctx, true) }); err != nil {
			return err
		}
	}
	cfg, err := config.Defaults()
	if err != nil {
		return err
	}
	cfg.DatabaseURL, cfg.DataDir, cfg.Migrate, cfg.LogLevel = db.dsn, o.DataDir, false, slog.LevelWarn
	a, err := app.Open(ctx, app.Options{Config: cfg, Version: "bench", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Build(ctx); err != nil {
		return err
	}
	s := newSeeder(db.pool, o.Scale, o.Progress, time.Now())
	if s.replica, err = canDisableTriggers(ctx, db.pool); err != nil {
		return err
	}
	r.seeder = s
	res.Dataset.Scale = o.Scale
	if reuse {
		fmt.Fprintf(o.Out, "  reusing the dataset seeded %s (--reseed to seed again)\n", m.Seeded.Local().Format("2006-01-02 15:04"))
		if err := s.load(ctx); err != nil {
			return err
		}
		if err := refreshExpiring(ctx, db.pool, s.today); err != nil {
			return err
		}
	} else {
		if err := r.phase("seed", func() error {
			rep, err := s.seed(ctx, a.Grant)
			if err != nil {
				return err
			}
			res.Dataset.Seeded, res.Dataset.Seed = true, &rep
			if err := writeMarker(ctx, db.pool, marker{Seeded: time.Now().UTC(), Scale: o.Scale}); err != nil {
				return err
			}
			_, err = db.pool.Exec(ctx, `VACUUM ANALYZE`)
			return err
		}); err != nil {
			return err
		}
	}
	// Fresh identifiers for the pool (the seeder's stream is fixed).
	s.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	if err := r.phase("fill the transition pools", func() error {
		// An interrupted run may have left used instances behind.
		if _, err := retirePools(ctx, db.pool, time.Now()); err != nil {
			return err
		}
		n, err := s.topUpPools(ctx, o.PoolSize)
		res.Dataset.PoolNew = n
		if err != nil {
			return err
		}
		if n > 0 {
			_, err = db.pool.Exec(ctx, `VACUUM ANALYZE workflow_instances, history_events`)
		}
		return err
	}); err != nil {
		return err
	}
	if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM organisations), (SELECT count(*) FROM agreement_versions),
			(SELECT count(*) FROM signatories WHERE ended_on IS NULL), (SELECT count(*) FROM partnerships),
			(SELECT count(*) FROM workflow_instances), (SELECT count(*) FROM history_events)`).Scan(&res.Dataset.Counts.Organisations,
		&res.Dataset.Counts.Versions, &res.Dataset.Counts.Signatories, &res.Dataset.Counts.Partnerships,
		&res.Dataset.Counts.Instances, &res.Dataset.Counts.Events); err != nil {
		return err
	}
	cn := res.Dataset.Counts
	fmt.Fprintf(o.Out, "  dataset: %d organisations, %d agreement versions, %d signatories, %d partnerships, %d workflow instances, %d history events\n",
		cn.Organisations, cn.Versions, cn.Signatories, cn.Partnerships, cn.Instances, cn.Events)
	if !o.SkipVerify {
		if err := r.phase("audit verify", func() error {
			start := time.Now()
			v, err := audit.Verify(ctx, db.pool, func(p audit.Progress) { o.Progress.Step("verifying the history", p.Events, p.Total) })
			if err != nil {
				return err
			}
			res.Dataset.Audit = &AuditCheck{OK: v.OK, Events: v.Events, Streams: v.Streams, Seconds: round(time.Since(start).Seconds(), 1)}
			if !v.OK {
				return fmt.Errorf("the seeded history does not verify: %+v", v.Broken)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	// A checkpoint now rather than in the middle of a measurement.
	_, err = db.pool.Exec(ctx, `CHECKPOINT`)
	return err
}

// fanout opens every partnership's report due now, timed, and again.
func (r *run) fanout(ctx context.Context) error {
	db, res := r.db, r.res
	cfg, err := config.Defaults()
	if err != nil {
		return err
	}
	cfg.DatabaseURL, cfg.DataDir, cfg.Migrate = db.dsn, r.o.DataDir, false
	a, err := app.Open(ctx, app.Options{Config: cfg, Version: "bench", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Build(ctx); err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM partnership_reports`); err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `VACUUM ANALYZE partnership_reports`); err != nil {
		return err
	}
	if err := r.phase("annual fan-out", func() error {
		start := time.Now()
		n, err := a.Services.IOP.OpenDueReports(ctx)
		res.Fanout.N, res.Fanout.Seconds = n, round(time.Since(start).Seconds(), 2)
		return err
	}); err != nil {
		return err
	}
	return r.phase("annual fan-out, rerun", func() error {
		start := time.Now()
		n, err := a.Services.IOP.OpenDueReports(ctx)
		res.Fanout.RerunSeconds = round(time.Since(start).Seconds(), 2)
		if err != nil {
			return err
		}
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM partnership_reports`).Scan(&res.Fanout.RowsAfterRerun); err != nil {
			return err
		}
		res.Fanout.RerunAdded = max(n, res.Fanout.RowsAfterRerun-res.Fanout.N)
		fmt.Fprintf(r.o.Out, "  fan-out: %d reports opened in %.2f s; the rerun opened %d in %.2f s\n", res.Fanout.N,
			res.Fanout.Seconds, res.Fanout.RerunAdded, res.Fanout.RerunSeconds)
		return nil
	})
}

// startServer starts the server under test on the seeded database (this
// is the cold start against a running database) and waits until the jobs
// it runs at start have finished.
func (r *run) startServer(ctx context.Context) error {
	o := r.o
	since := time.Now().Add(-time.Second)
	if o.ProfileDir != "" {
		r.statements = &statementCounter{}
		s, took, err := startInProc(ctx, o.DataDir, r.db.serviceDSN, r.statements)
		if err != nil {
			return err
		}
		r.srv, r.res.ColdStartExternal = s, round(took.Seconds(), 3)
	} else {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		s, took, err := startServer(ctx, o.Executable, serverArgs(addr, o.DataDir, r.db.serviceDSN, o.PGUser), addr,
			filepath.Join(o.DataDir, "server.log"))
		if err != nil {
			return err
		}
		r.srv, r.res.ColdStartExternal = s, round(took.Seconds(), 3)
	}
	fmt.Fprintf(o.Out, "  server ready in %.2f s (database already running)\n", r.res.ColdStartExternal)
	// The periodic jobs run once at start (the fan-out then finds
	// nothing): wait until one has finished and River has nothing to do.
	deadline := time.Now().Add(time.Minute)
	for {
		var done, busy int
		if err := r.db.pool.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM river_job WHERE state = 'completed' AND created_at >= $1),
				(SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'pending')
					OR (state = 'scheduled' AND scheduled_at <= now()))`, since).Scan(&done, &busy); err != nil {
			return err
		}
		if done > 0 && busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(o.Out, "  warning: the server's start-up jobs did not finish within a minute (%d done, %d waiting)\n", done, busy)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (r *run) watch() *monitor {
	db := 0
	if r.db.cluster != nil {
		db = postmasterPID(r.db.cluster.DataDir())
	}
	m := startMonitor(r.srv.PID(), db)
	m.statements = r.statements
	if m.statements != nil {
		m.statements0 = m.statements.n.Load()
	}
	return m
}

func (r *run) profile(name string, fn func()) error {
	if r.o.ProfileDir == "" {
		fn()
		return nil
	}
	if err := os.MkdirAll(r.o.ProfileDir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(r.o.ProfileDir, slug(name)+".pprof"))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	fn()
	pprof.StopCPUProfile()
	return nil
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

func (r *run) reads(ctx context.Context, c *client, t *targets, today time.Time) error {
	o := r.o
	rs := rngs(o.Concurrency)
	for _, rd := range reads(c, r.db.pool, t, today) {
		cmp := Compared{Name: rd.name}
		c.public.Store(0)
		c.hits.Store(0)
		if err := r.profile("service "+rd.name, func() {
			cmp.Service = runLoad(ctx, o.Concurrency, o.Warmup, o.Duration, func(ctx context.Context, w int) error {
				return rd.service(ctx, rs[w])
			}, r.watch)
		}); err != nil {
			return err
		}
		cmp.Raw = runLoad(ctx, o.Concurrency, o.Warmup, o.Duration, func(ctx context.Context, w int) error {
			return rd.raw(ctx, rs[w])
		}, r.watch)
		cmp.Raw.MaxRSSMB, cmp.Raw.ServerCPUMs, cmp.Raw.StatementsPerReq = 0, 0, 0
		if n := c.public.Load(); rd.public && n > 0 {
			ratio := float64(c.hits.Load()) / float64(n)
			cmp.HitRatio = &ratio
		}
		r.res.RSSMB = max(r.res.RSSMB, cmp.Service.MaxRSSMB)
		r.finishCompared(&cmp)
		r.res.Reads = append(r.res.Reads, cmp)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) transitions(ctx context.Context, c *client) error {
	o := r.o
	for i, tr := range transitions {
		jobs := tr.jobs
		cmp := Compared{Name: tr.name, JobsPerRequest: &jobs}
		items, err := takePool(ctx, r.db.pool, tr.service, poolSize(tr.service, o.PoolSize))
		if err != nil {
			return err
		}
		q := &queue{items: items}
		if err := r.profile("service "+tr.name, func() {
			cmp.Service = runLoad(ctx, o.Concurrency, o.Warmup, o.Duration, func(ctx context.Context, _ int) error {
				it, ok := q.take()
				if !ok {
					return errExhausted
				}
				return tr.mutate(ctx, c, it)
			}, r.watch)
		}); err != nil {
			return err
		}
		if items, err = takePool(ctx, r.db.pool, tr.raw, poolSize(tr.raw, o.PoolSize)); err != nil {
			return err
		}
		q = &queue{items: items}
		official := r.seeder.official
		cmp.Raw = runLoad(ctx, o.Concurrency, o.Warmup, o.Duration, func(ctx context.Context, _ int) error {
			it, ok := q.take()
			if !ok {
				return errExhausted
			}
			return tr.rawFire(ctx, r.db.pool, it, official)
		}, r.watch)
		cmp.Raw.MaxRSSMB, cmp.Raw.ServerCPUMs, cmp.Raw.StatementsPerReq = 0, 0, 0
		r.finishCompared(&cmp)
		if i == 0 {
			r.res.Transitions = cmp
		} else {
			r.res.TransitionsWithJob = cmp
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) finishCompared(c *Compared) {
	c.RPS, c.RawRPS = c.Service.RPS, c.Raw.RPS
	c.P50, c.P95, c.P99 = c.Service.P50, c.Service.P95, c.Service.P99
	if c.RawRPS > 0 {
		c.Ratio = round(c.RPS/c.RawRPS, 3)
	}
	warn := func(side string, m Measurement) {
		if m.Errors > 0 {
			fmt.Fprintf(r.o.Out, "  %s, %s: %d errors; the first: %s\n", c.Name, side, m.Errors, m.FirstError)
		}
		if m.Requests == 0 && m.Errors == 0 {
			fmt.Fprintf(r.o.Out, "  %s, %s: nothing measured (did the pool run out during the warm-up? raise --pool)\n", c.Name, side)
		}
		if m.PoolExhausted {
			fmt.Fprintf(r.o.Out, "  %s, %s: the pool ran out after %.1f s\n", c.Name, side, m.Seconds)
		}
	}
	warn("service", c.Service)
	warn("raw", c.Raw)
	fmt.Fprintf(r.o.Out, "  %-34s service %8.1f/s (p99 %6.1f ms)  raw %8.1f/s (p99 %6.1f ms)  ratio %.2f\n", c.Name,
		c.RPS, c.P99, c.RawRPS, c.Raw.P99, c.Ratio)
}

// coldStart stops the benchmark's cluster and times `samverkan serve` on
// the data directory until /readyz: it starts PostgreSQL itself.
func (r *run) coldStart(ctx context.Context) error {
	r.db.close()
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s, took, err := startServer(ctx, r.o.Executable, serverArgs(addr, r.o.DataDir, "", r.o.PGUser), addr,
		filepath.Join(r.o.DataDir, "server.log"))
	if err != nil {
		return err
	}
	r.res.ColdStartSeconds = round(took.Seconds(), 3)
	fmt.Fprintf(r.o.Out, "  serve on the existing data directory: ready in %.2f s\n", r.res.ColdStartSeconds)
	return s.Stop()
}

// The reads' targets are issue 18's: no read below 0.35 of raw SQL, and
// the cached public list at least as fast as raw SQL and twice what
// PostGraphile served of the same read on the same data (956/s). Their
// p99 is reported beside raw SQL's, with no bound: the two shared cores
// bound both.
const postGraphileRPS = 956

func readGoal(c Compared) string {
	if c.Name == cachedListRead {
		return fmt.Sprintf("≥ 100%% of raw, ≥ %d/s (2× PostGraphile)", 2*postGraphileRPS)
	}
	return "≥ 35% of raw"
}

func readValue(c Compared) string {
	if c.Name == cachedListRead {
		return fmt.Sprintf("%.0f%%, %.0f/s", 100*c.Ratio, c.RPS)
	}
	return fmt.Sprintf("%.0f%%, p99 %.1f ms (raw %.1f)", 100*c.Ratio, c.P99, c.Raw.P99)
}

func readMet(c Compared) bool {
	if c.Name == cachedListRead {
		return c.Ratio >= 1 && c.RPS >= 2*postGraphileRPS
	}
	return c.Ratio >= 0.35
}

// writeMet: the writes at 0.70 of raw SQL or better.
func writeMet(c Compared) bool { return c.Ratio >= 0.7 }

func (r *run) targets() {
	res := r.res
	add := func(name, target, value string, met bool) {
		res.Targets = append(res.Targets, Target{Name: name, Target: target, Value: value, Met: met})
	}
	for _, c := range res.Reads {
		add(c.Name, readGoal(c), readValue(c), readMet(c))
	}
	for _, c := range []Compared{res.Transitions, res.TransitionsWithJob} {
		add(c.Name, "≥ 70% of raw", fmt.Sprintf("%.0f%%", 100*c.Ratio), writeMet(c))
	}
	add("annual fan-out", fmt.Sprintf("%d in ≤ 30 s, rerun adds 0", r.o.Scale.Partnerships),
		fmt.Sprintf("%d in %.1f s, rerun added %d", res.Fanout.N, res.Fanout.Seconds, res.Fanout.RerunAdded),
		res.Fanout.N == r.o.Scale.Partnerships && res.Fanout.Seconds <= 30 && res.Fanout.RerunAdded == 0)
	add("cold start", "≤ 2 s", fmt.Sprintf("%.2f s", res.ColdStartSeconds), res.ColdStartSeconds <= 2)
	if !res.Config.InProcess {
		add("server RSS under read load", "≤ 150 MB", fmt.Sprintf("%.0f MB", res.RSSMB), res.RSSMB <= 150)
	}
}

func (r *run) write() error {
	if r.o.ResultsDir == "" {
		return nil
	}
	if err := os.MkdirAll(r.o.ResultsDir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r.res, "", "  ")
	if err != nil {
		return err
	}
	name := filepath.Join(r.o.ResultsDir, r.res.Date.Format("2006-01-02")+"-"+r.res.Commit+".json")
	if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(r.o.Out, "\nwrote %s\n", name)
	return nil
}
