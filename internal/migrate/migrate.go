// Package migrate applies the database schema: the service's own migrations
// (goose, from the embedded migrations package) and River's, which arrive with
// the River module so that upgrading River upgrades its tables.
//
// goose was chosen over tern because it runs embedded SQL files through
// database/sql on top of the same pgx pool, has a provider API without global
// state, and reports status per file; tern would have worked equally well.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/samverkan/samverkan/migrations"
)

// lockKey serialises migrations when several instances start at once.
const lockKey = 0x53616d76 // "Samv"

// Status is one migration and whether it is applied.
type Status struct {
	Source  string // "samverkan" or "river"
	Version int64
	Name    string
	Applied bool
}

// Up applies every pending migration, ours first, then River's.
func Up(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	return withLock(ctx, pool, func(db *sql.DB) error {
		p, err := provider(db, log)
		if err != nil {
			return err
		}
		res, err := p.Up(ctx)
		if err != nil {
			return fmt.Errorf("apply migrations: %w", err)
		}
		for _, r := range res {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
		}
		rm, err := riverMigrator(pool, log)
		if err != nil {
			return err
		}
		rres, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return fmt.Errorf("apply River migrations: %w", err)
		}
		for _, v := range rres.Versions {
			log.Info("River migration applied", "version", v.Version, "name", v.Name)
		}
		return nil
	})
}

// Down removes the whole schema: River's tables, then ours, newest first.
func Down(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	return withLock(ctx, pool, func(db *sql.DB) error {
		rm, err := riverMigrator(pool, log)
		if err != nil {
			return err
		}
		if _, err := rm.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
			return fmt.Errorf("remove River migrations: %w", err)
		}
		p, err := provider(db, log)
		if err != nil {
			return err
		}
		if _, err := p.DownTo(ctx, 0); err != nil {
			return fmt.Errorf("remove migrations: %w", err)
		}
		return nil
	})
}

// List reports every known migration and whether it is applied.
func List(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) ([]Status, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db, log)
	if err != nil {
		return nil, err
	}
	// goose creates its version table when asked for the status; a
	// database that has none has nothing applied, and listing leaves it as
	// it is.
	var versioned bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&versioned); err != nil {
		return nil, fmt.Errorf("read migration status: %w", err)
	}
	var out []Status
	if versioned {
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("read migration status: %w", err)
		}
		for _, s := range st {
			out = append(out, Status{Source: "samverkan", Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied})
		}
	} else {
		for _, s := range p.ListSources() {
			out = append(out, Status{Source: "samverkan", Version: s.Version, Name: s.Path})
		}
	}
	rm, err := riverMigrator(pool, log)
	if err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	existing, err := rm.ExistingVersions(ctx)
	if err != nil && !isUndefinedTable(err) {
		return nil, fmt.Errorf("read River migration status: %w", err)
	}
	for _, m := range existing {
		applied[m.Version] = true
	}
	for _, m := range rm.AllVersions() {
		out = append(out, Status{Source: "river", Version: int64(m.Version), Name: m.Name, Applied: applied[m.Version]})
	}
	return out, nil
}

// Pending counts the migrations, ours and River's, not applied yet.
func Pending(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (int, error) {
	st, err := List(ctx, pool, log)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range st {
		if !s.Applied {
			n++
		}
	}
	return n, nil
}

func provider(db *sql.DB, log *slog.Logger) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithDisableGlobalRegistry(true), goose.WithSlog(log))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

func riverMigrator(pool *pgxpool.Pool, log *slog.Logger) (*rivermigrate.Migrator[pgx.Tx], error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("load River migrations: %w", err)
	}
	return m, nil
}

// withLock runs fn while holding a session advisory lock, so that instances
// starting together migrate one after the other.
func withLock(ctx context.Context, pool *pgxpool.Pool, fn func(*sql.DB) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect for migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) }()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return fn(db)
}

func isUndefinedTable(err error) bool {
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == "42P01"
}
