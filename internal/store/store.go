// Package store is the service's one storage layer: every SQL statement
// outside the migrations lives here. Functions take a Querier so that a
// caller composes them inside one explicit, short transaction (InTx).
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/internal/apperr"
)

// Querier is what both a pool and a transaction can do.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// DB is the service's database.
type DB struct {
	Pool *pgxpool.Pool
}

// New wraps a pool.
func New(pool *pgxpool.Pool) *DB { return &DB{Pool: pool} }

// InTx runs fn in a transaction: committed when fn returns nil, rolled back
// otherwise (also when fn panics). In a request holding an Idempotency-Key
// (WithIdempotencyClaim) the same transaction marks the key committed.
func (db *DB) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return markClaimCommitted(ctx, tx)
	})
	if _, ok := apperr.As(err); ok || err == nil {
		return err
	}
	return translate(err, "transaction")
}

// CurrentRole is the role q is connected as.
func CurrentRole(ctx context.Context, q Querier) (string, error) {
	var r string
	if err := q.QueryRow(ctx, "SELECT current_user").Scan(&r); err != nil {
		return "", translate(err, "read the database role")
	}
	return r, nil
}

// ServerVersion is PostgreSQL's version string.
func (db *DB) ServerVersion(ctx context.Context) (string, error) {
	var v string
	if err := db.Pool.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", translate(err, "read the database version")
	}
	return v, nil
}

// translate turns driver errors into domain errors where they have a
// meaning for the user, and wraps the rest with what was being done.
func translate(err error, doing string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &apperr.Error{Code: apperr.NotFound, Message: "Det efterfrågade finns inte. / What was asked for does not exist.", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization failure, deadlock
			return &apperr.Error{Code: apperr.Conflict, Message: "Någon annan ändrade detta samtidigt; försök igen. / Someone else changed this at the same time; try again.", Err: err}
		case "57P01", "57P02", "57P03": // admin shutdown, crash shutdown, cannot connect now
			return &apperr.Error{Code: apperr.Unavailable, Message: "Databasen är inte tillgänglig just nu; försök igen om en stund. / The database is unavailable; try again shortly.", Err: err}
		}
	}
	if pgconn.SafeToRetry(err) || isConnectError(err) || isClosedConn(err) {
		return &apperr.Error{Code: apperr.Unavailable, Message: "Databasen är inte tillgänglig just nu; försök igen om en stund. / The database is unavailable; try again shortly.", Err: err}
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// isClosedConn tells whether the connection broke under a statement (the
// server went away), as opposed to a statement that failed or timed out.
func isClosedConn(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && !ne.Timeout()
}

func isConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

func conflictf(format string, args ...any) error {
	return apperr.New(apperr.Conflict, format, args...)
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Exclusively runs fn unless another session (in any process) is running
// the same job, in which case it returns false without running it. The
// lock is a session advisory lock: a process that dies releases it with its
// connection, so a crash never leaves the work locked.
func (db *DB) Exclusively(ctx context.Context, name string, fn func() error) (bool, error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return false, translate(err, "acquire a connection")
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, name).Scan(&got); err != nil {
		return false, translate(err, "take lock "+name)
	}
	if !got {
		return false, nil
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, name)
	}()
	return true, fn()
}
