// Package testdb gives tests a real PostgreSQL: one private cluster per test
// binary (started in TestMain through Main), a template database with every
// migration applied, and a fresh database cloned from it for each test.
//
// On the private cluster the roles are those of the embedded database in
// production: the template is migrated as pgembed.OwnerRole, and each
// database's AppURL connects as pgembed.AppRole, which the migrations'
// grants allow rows only; URL connects as the superuser, for fixtures and
// checks.
//
// TEST_DATABASE_URL points the harness at an existing server instead; it
// needs the right to create databases there, and AppURL is URL.
//
// A test that asks for a database fails when there is none; it never skips.
package testdb

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/internal/migrate"
	"github.com/samverkan/samverkan/internal/pgembed"
	"github.com/samverkan/samverkan/internal/store"
)

var (
	// adminURL connects to a maintenance database on the test server.
	adminURL string
	template string
	setupErr error
	cluster  *pgembed.Cluster
	counter  atomic.Int64
	prefix   string
)

// TestSettings make a throwaway cluster fast; durability is not wanted.
var TestSettings = map[string]string{
	"fsync":              "off",
	"synchronous_commit": "off",
	"full_page_writes":   "off",
	"max_connections":    "400",
}

// Main is TestMain for packages whose tests use the database.
func Main(m *testing.M) {
	code := func() int {
		cleanup, err := setup()
		if err != nil {
			setupErr = err
			fmt.Fprintf(os.Stderr, "testdb: no test database: %v\n", err)
		}
		defer cleanup()
		return m.Run()
	}()
	os.Exit(code)
}

func setup() (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cleanup := func() {}
	prefix = fmt.Sprintf("t%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)

	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		adminURL = u
	} else {
		dir, err := os.MkdirTemp("", "samverkan-test-pg-*")
		if err != nil {
			return cleanup, err
		}
		// Reachable by the postgres user when the tests run as root.
		if err := os.Chmod(dir, 0o755); err != nil {
			return cleanup, err
		}
		c, err := pgembed.Start(ctx, pgembed.Config{DataDir: dir + "/data", Settings: TestSettings})
		if err != nil {
			os.RemoveAll(dir)
			return cleanup, err
		}
		cluster = c
		adminURL = c.DSN("postgres")
		cleanup = func() {
			_ = c.Stop()
			os.RemoveAll(dir)
		}
	}

	template = prefix + "_template"
	ownerURL := withDatabase(adminURL, template)
	if cluster != nil {
		if err := cluster.Provision(ctx, template); err != nil {
			return cleanup, err
		}
		ownerURL = cluster.DSNAs(pgembed.OwnerRole, template)
	} else if err := exec(ctx, "CREATE DATABASE "+pgx.Identifier{template}.Sanitize()); err != nil {
		return cleanup, err
	}
	prev := cleanup
	cleanup = func() {
		_ = exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{template}.Sanitize()+" WITH (FORCE)")
		prev()
	}
	pool, err := pgxpool.New(ctx, ownerURL)
	if err != nil {
		return cleanup, err
	}
	defer pool.Close()
	if err := migrate.Up(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		return cleanup, fmt.Errorf("migrate template database: %w", err)
	}
	if cluster != nil {
		if err := migrate.Grant(ctx, pool, pgembed.AppRole); err != nil {
			return cleanup, err
		}
	}
	return cleanup, nil
}

// Database is one test's own database.
type Database struct {
	Name string
	// URL connects as the superuser (Pool does).
	URL string
	// AppURL connects as the service's role in production.
	AppURL string
	Pool   *pgxpool.Pool
}

// New creates a fresh, fully migrated database for t and drops it when t
// ends. It fails t when there is no test server.
func New(t testing.TB) *Database {
	t.Helper()
	return create(t, template)
}

// NewEmpty creates a database with no schema at all, for migration tests.
func NewEmpty(t testing.TB) *Database {
	t.Helper()
	return create(t, "")
}

func create(t testing.TB, from string) *Database {
	t.Helper()
	if setupErr != nil {
		t.Fatalf("no test database (this test needs PostgreSQL): %v", setupErr)
	}
	if adminURL == "" {
		t.Fatal("no test database: call testdb.Main from TestMain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := fmt.Sprintf("%s_%d", prefix, counter.Add(1))
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if from != "" {
		stmt += " TEMPLATE " + pgx.Identifier{from}.Sanitize()
	}
	if err := exec(ctx, stmt); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	db := &Database{Name: name, URL: withDatabase(adminURL, name)}
	db.AppURL = db.URL
	if cluster != nil {
		db.AppURL = cluster.DSNAs(pgembed.AppRole, name)
	}
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatalf("test database URL: %v", err)
	}
	store.ConfigurePool(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	db.Pool = pool
	t.Cleanup(func() {
		pool.Close()
		_ = exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return db
}

// Cluster is the harness's private cluster, or nil under TEST_DATABASE_URL.
func Cluster() *pgembed.Cluster { return cluster }

func exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", strings.SplitN(sql, " ", 3)[:2], err)
	}
	return nil
}

func withDatabase(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		// Keyword/value form.
		return dsn + " dbname=" + db
	}
	u.Path = "/" + db
	return u.String()
}
