package pgembed

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// The roles of a provisioned database (Provision). The service never runs
// as the cluster's superuser: migrations run as OwnerRole, which owns the
// schema, and the service as AppRole, which may only read and write rows.
const (
	// OwnerRole owns the database and every object in it; migrations run
	// as it. It is no superuser.
	OwnerRole = "samverkan_owner"
	// AppRole is what the service connects as: it can connect to the
	// provisioned databases only and gets table privileges from the
	// migrations' grants (internal/migrate), never ownership, so it cannot
	// alter or disable triggers, and as no superuser it cannot COPY ...
	// PROGRAM, read server files or set session_replication_role.
	AppRole = "samverkan_app"
)

// DSNAs is a connection string for database db as role, one of OwnerRole
// and AppRole (or the superuser's name). Their passwords are derived from
// the superuser's, so every process on the data directory knows them.
func (c *Cluster) DSNAs(role, db string) string {
	pw := c.password
	if role != superuser {
		pw = c.rolePassword(role)
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(role, pw),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (c *Cluster) rolePassword(role string) string {
	m := hmac.New(sha256.New, []byte(c.password))
	m.Write([]byte("pgembed role " + role))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// Provision makes db a database of the service's roles: it creates
// OwnerRole and AppRole (no superuser, no CREATEDB/CREATEROLE/REPLICATION/
// BYPASSRLS), creates db owned by OwnerRole unless it exists, hands db and
// every object in its public schema to OwnerRole (a cluster made before the
// roles existed has them owned by the superuser), and lets AppRole connect
// to db and to no other database. It is idempotent.
func (c *Cluster) Provision(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to embedded PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	for _, role := range []string{OwnerRole, AppRole} {
		id := pgx.Identifier{role}.Sanitize()
		if _, err := conn.Exec(ctx, `DO $$ BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+role+`') THEN CREATE ROLE `+id+`; END IF; END $$`); err != nil {
			return fmt.Errorf("create role %s: %w", role, err)
		}
		// The password is hex: safe to quote.
		if _, err := conn.Exec(ctx, `ALTER ROLE `+id+` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
			PASSWORD '`+c.rolePassword(role)+`'`); err != nil {
			return fmt.Errorf("configure role %s: %w", role, err)
		}
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", db, err)
	}
	dbID, owner, app := pgx.Identifier{db}.Sanitize(), pgx.Identifier{OwnerRole}.Sanitize(), pgx.Identifier{AppRole}.Sanitize()
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+dbID+" OWNER "+owner); err != nil {
			return fmt.Errorf("create database %q: %w", db, err)
		}
	}
	// Every database but db is closed to the service's role (PUBLIC may
	// connect to a new database by default).
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datallowconn AND datname <> $1", db)
	if err != nil {
		return fmt.Errorf("list databases: %w", err)
	}
	others, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list databases: %w", err)
	}
	stmts := []string{"ALTER DATABASE " + dbID + " OWNER TO " + owner,
		"REVOKE ALL ON DATABASE " + dbID + " FROM PUBLIC",
		"GRANT CONNECT, TEMPORARY ON DATABASE " + dbID + " TO " + app}
	for _, o := range others {
		stmts = append(stmts, "REVOKE CONNECT, TEMPORARY ON DATABASE "+pgx.Identifier{o}.Sanitize()+" FROM PUBLIC")
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("provision database %q: %s: %w", db, s, err)
		}
	}

	in, err := pgx.Connect(ctx, c.DSN(db))
	if err != nil {
		return fmt.Errorf("connect to %q: %w", db, err)
	}
	defer in.Close(ctx)
	if _, err := in.Exec(ctx, handOver); err != nil {
		return fmt.Errorf("hand the objects of %q to %s: %w", db, OwnerRole, err)
	}
	return nil
}

// handOver gives OwnerRole what the superuser owns in the public schema:
// tables (their indexes and owned sequences follow), other relations,
// functions and types. The schema itself follows the database's owner.
const handOver = `DO $$
DECLARE
	su oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);
	ns oid := 'public'::regnamespace;
	r record;
BEGIN
	FOR r IN SELECT oid::regclass AS name FROM pg_class WHERE relnamespace = ns AND relowner = su AND relkind IN ('r', 'p', 'f') LOOP
		EXECUTE format('ALTER TABLE %s OWNER TO ` + OwnerRole + `', r.name);
	END LOOP;
	FOR r IN SELECT oid::regclass AS name, relkind FROM pg_class WHERE relnamespace = ns AND relowner = su AND relkind IN ('S', 'v', 'm') LOOP
		EXECUTE format('ALTER %s %s OWNER TO ` + OwnerRole + `',
			CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, r.name);
	END LOOP;
	FOR r IN SELECT oid::regprocedure AS name, prokind FROM pg_proc WHERE pronamespace = ns AND proowner = su LOOP
		EXECUTE format('ALTER %s %s OWNER TO ` + OwnerRole + `', CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.name);
	END LOOP;
	FOR r IN SELECT t.oid::regtype AS name FROM pg_type t WHERE t.typnamespace = ns AND t.typowner = su AND t.typtype IN ('e', 'd', 'r')
			OR (t.typnamespace = ns AND t.typowner = su AND t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') LOOP
		EXECUTE format('ALTER TYPE %s OWNER TO ` + OwnerRole + `', r.name);
	END LOOP;
END $$`
