package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// User is a person who has signed in.
type User struct {
	ID        uuid.UUID
	Issuer    string
	Subject   string
	Name      string
	Email     string
	CreatedAt time.Time
}

// UpsertUser creates the user on first sight and keeps name and e-mail as
// the identity provider last said. A name or e-mail that u leaves empty was
// not in the token (OIDC access tokens often carry neither): it keeps what
// is stored. On return u holds the stored name and e-mail.
func UpsertUser(ctx context.Context, q Querier, u *User) error {
	// Most calls find the user as they are: a read, so that a request
	// changes nothing (not even the public generation, which every writing
	// statement bumps).
	var name, email string
	err := q.QueryRow(ctx, `SELECT id, name, email, created_at FROM users WHERE issuer = $1 AND subject = $2`, u.Issuer, u.Subject).
		Scan(&u.ID, &name, &email, &u.CreatedAt)
	if err == nil && (u.Name == "" || u.Name == name) && (u.Email == "" || u.Email == email) {
		u.Name, u.Email = name, email
		return nil
	}
	if err != nil && err != pgx.ErrNoRows {
		return translate(err, "store user")
	}
	err = q.QueryRow(ctx, `INSERT INTO users (issuer, subject, name, email) VALUES ($1, $2, $3, $4)
		ON CONFLICT (issuer, subject) DO UPDATE SET
			name = COALESCE(NULLIF(EXCLUDED.name, ''), users.name),
			email = COALESCE(NULLIF(EXCLUDED.email, ''), users.email),
			updated_at = now()
			WHERE (EXCLUDED.name <> '' AND users.name <> EXCLUDED.name) OR (EXCLUDED.email <> '' AND users.email <> EXCLUDED.email)
		RETURNING id, name, email, created_at`, u.Issuer, u.Subject, u.Name, u.Email).Scan(&u.ID, &u.Name, &u.Email, &u.CreatedAt)
	if err == pgx.ErrNoRows {
		// Nothing changed, so the upsert returned no row.
		err = q.QueryRow(ctx, `SELECT id, name, email, created_at FROM users WHERE issuer = $1 AND subject = $2`, u.Issuer, u.Subject).
			Scan(&u.ID, &u.Name, &u.Email, &u.CreatedAt)
	}
	return translate(err, "store user")
}

// UsersByIDs reads several users.
func UsersByIDs(ctx context.Context, q Querier, ids []uuid.UUID) ([]*User, error) {
	rows, err := q.Query(ctx, `SELECT id, issuer, subject, name, email, created_at FROM users WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, translate(err, "read users")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*User, error) {
		var u User
		err := r.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Name, &u.Email, &u.CreatedAt)
		return &u, err
	})
	return out, translate(err, "read users")
}

// UserBySubject finds a user by issuer and subject.
func UserBySubject(ctx context.Context, q Querier, issuer, subject string) (*User, error) {
	var u User
	err := q.QueryRow(ctx, `SELECT id, issuer, subject, name, email, created_at FROM users WHERE issuer = $1 AND subject = $2`,
		issuer, subject).Scan(&u.ID, &u.Issuer, &u.Subject, &u.Name, &u.Email, &u.CreatedAt)
	return &u, translate(err, "read user")
}

// SearchUsers lists users whose name or e-mail contains search, by name.
func SearchUsers(ctx context.Context, q Querier, search string, limit int) ([]*User, error) {
	rows, err := q.Query(ctx, `SELECT id, issuer, subject, name, email, created_at FROM users
		WHERE $1 = '' OR name ILIKE '%' || $1 || '%' OR email ILIKE '%' || $1 || '%'
		ORDER BY lower(name), id LIMIT $2`, search, limit)
	if err != nil {
		return nil, translate(err, "search users")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*User, error) {
		var u User
		err := r.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Name, &u.Email, &u.CreatedAt)
		return &u, err
	})
	return out, translate(err, "search users")
}

// SetUserEmail sets a person's e-mail address (the demo story's invented
// people; real people's addresses come from their sign-in).
func SetUserEmail(ctx context.Context, q Querier, id uuid.UUID, email string) error {
	_, err := q.Exec(ctx, `UPDATE users SET email = $2, updated_at = now() WHERE id = $1`, id, email)
	return translate(err, "set e-mail")
}
