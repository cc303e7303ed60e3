// Package identity turns a request's bearer token into the principal the
// policy point judges: it verifies the token, creates the user on first
// sight from the token's claims, and carries the principal in the request's
// context.
package identity

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/observe"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/token"
)

type ctxKey struct{}

// FromContext returns the request's principal (Anonymous when none).
func FromContext(ctx context.Context) authz.Principal {
	if p, ok := ctx.Value(ctxKey{}).(authz.Principal); ok {
		return p
	}
	return authz.Anonymous
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p authz.Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// Authenticator verifies tokens and knows users.
type Authenticator struct {
	verifier token.Verifier
	db       *store.DB
	log      *slog.Logger
	// known caches users already stored, so that a request costs no write
	// unless the token carries a name or e-mail that differs from the stored one.
	known sync.Map // issuer+"\x00"+subject → known
}

type known struct {
	id          uuid.UUID
	name, email string
}

// NewAuthenticator returns an authenticator.
func NewAuthenticator(v token.Verifier, db *store.DB, log *slog.Logger) *Authenticator {
	return &Authenticator{verifier: v, db: db, log: log}
}

// Authenticate turns a raw token into a principal.
func (a *Authenticator) Authenticate(ctx context.Context, raw string) (authz.Principal, error) {
	c, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return authz.Anonymous, err
	}
	key := c.Issuer + "\x00" + c.Subject
	if k, ok := a.known.Load(key); ok {
		if k := k.(known); unchanged(k.name, c.Name) && unchanged(k.email, c.Email) {
			return authz.Principal{UserID: k.id, Name: k.name, Email: k.email}, nil
		}
	}
	// A claim the token does not carry (empty) leaves the stored value as
	// it is; UpsertUser hands back what is stored.
	u := &store.User{Issuer: c.Issuer, Subject: c.Subject, Name: c.Name, Email: c.Email}
	if err := store.UpsertUser(ctx, a.db.Pool, u); err != nil {
		return authz.Anonymous, err
	}
	a.known.Store(key, known{id: u.ID, name: u.Name, email: u.Email})
	return authz.Principal{UserID: u.ID, Name: u.Name, Email: u.Email}, nil
}

// unchanged says whether a claim leaves a stored value as it is: the token
// does not carry it, or carries the same.
func unchanged(stored, claim string) bool { return claim == "" || claim == stored }

// Middleware puts the request's principal in its context. A request without
// a token is anonymous; a request with a token that does not verify is
// refused with 401 and UNAUTHENTICATED, whatever it asks for, so that a
// client with an expired token finds out at once.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			refuse(w, apperr.New(apperr.Unauthenticated, "Authorization-huvudet ska vara \"Bearer <token>\". / The Authorization header must be \"Bearer <token>\"."))
			return
		}
		p, err := a.Authenticate(r.Context(), strings.TrimSpace(raw))
		if err != nil {
			code := apperr.CodeOf(err)
			if code == apperr.Unauthenticated {
				a.log.InfoContext(r.Context(), "token refused", "err", err)
			} else {
				a.log.ErrorContext(r.Context(), "authenticating", "err", err)
			}
			de, ok := apperr.As(err)
			if !ok {
				de = apperr.New(apperr.Unavailable, "Inloggningen kunde inte kontrolleras just nu. / Sign-in could not be checked right now.")
			}
			refuse(w, de)
			return
		}
		observe.Info(r.Context()).SetUser(p.UserID.String())
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

func refuse(w http.ResponseWriter, e *apperr.Error) {
	status := http.StatusUnauthorized
	if e.Code != apperr.Unauthenticated {
		status = http.StatusServiceUnavailable
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": e.Message, "extensions": map[string]any{"code": string(e.Code)},
	}}})
}
