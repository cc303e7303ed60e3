// Package session keeps the web pages' server-side sessions in PostgreSQL:
// a random token in an HttpOnly cookie, its hash in the database, a CSRF
// token per session, and the state of a pending OpenID Connect sign-in.
// Signing in replaces the visitor's session with a new one, so a token
// known before sign-in is worth nothing after it.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
)

// Cookie is the session cookie's name.
const Cookie = "samverkan_session"

// DefaultTTL is how long a session lasts.
const DefaultTTL = 12 * time.Hour

// Service creates, reads and ends sessions.
type Service struct {
	db    *store.DB
	clock clock.Clock
	ttl   time.Duration
}

// New returns the service; ttl 0 means DefaultTTL.
func New(db *store.DB, clk clock.Clock, ttl time.Duration) *Service {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Service{db: db, clock: clk, ttl: ttl}
}

// Session is a live session as the pages use it.
type Session struct {
	token string
	row   *store.WebSession
}

// Principal is who the session belongs to (Anonymous for a visitor).
func (s *Session) Principal() authz.Principal {
	if s == nil || s.row.UserID == nil {
		return authz.Anonymous
	}
	return authz.Principal{UserID: *s.row.UserID, Name: s.row.UserName}
}

// SignedIn tells whether a person is signed in.
func (s *Session) SignedIn() bool { return s != nil && s.row.UserID != nil }

// CSRF is the token every form POST must carry.
func (s *Session) CSRF() string {
	if s == nil {
		return ""
	}
	return s.row.CSRFToken
}

// CheckCSRF tells whether a submitted token is the session's.
func (s *Session) CheckCSRF(submitted string) bool {
	return s != nil && submitted != "" && subtle.ConstantTimeCompare([]byte(submitted), []byte(s.row.CSRFToken)) == 1
}

// Login is a pending OpenID Connect sign-in.
type Login struct{ State, Verifier, Nonce, Next string }

// PendingLogin is the session's pending sign-in (empty State when none).
func (s *Session) PendingLogin() Login {
	return Login{State: s.row.LoginState, Verifier: s.row.LoginVerifier, Nonce: s.row.LoginNonce, Next: s.row.LoginNext}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Get reads the request's session (nil when it has none, or it expired).
func (s *Service) Get(ctx context.Context, r *http.Request) (*Session, error) {
	c, err := r.Cookie(Cookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	row, err := store.WebSessionByHash(ctx, s.db.Pool, hash(c.Value), s.clock.Now())
	if err != nil || row == nil {
		return nil, err
	}
	return &Session{token: c.Value, row: row}, nil
}

// create stores a new session for userID (nil: a visitor) and sets its
// cookie.
func (s *Service) create(ctx context.Context, w http.ResponseWriter, r *http.Request, userID *uuid.UUID, name string) (*Session, error) {
	now := s.clock.Now()
	token := randomToken()
	row := &store.WebSession{TokenHash: hash(token), UserID: userID, UserName: name, CSRFToken: randomToken(),
		CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	if err := store.InsertWebSession(ctx, s.db.Pool, row); err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: Cookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure(r), MaxAge: int(s.ttl.Seconds())})
	return &Session{token: token, row: row}, nil
}

// secure tells whether the request came over TLS (directly or through a
// proxy that says so), so the cookie is marked Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// Ensure returns the request's session, starting a visitor's session when
// there is none.
func (s *Service) Ensure(ctx context.Context, w http.ResponseWriter, r *http.Request, current *Session) (*Session, error) {
	if current != nil {
		return current, nil
	}
	return s.create(ctx, w, r, nil, "")
}

// SetLogin records a pending OpenID Connect sign-in on the session.
func (s *Service) SetLogin(ctx context.Context, sess *Session, l Login) error {
	sess.row.LoginState, sess.row.LoginVerifier, sess.row.LoginNonce, sess.row.LoginNext = l.State, l.Verifier, l.Nonce, l.Next
	return store.SetWebSessionLogin(ctx, s.db.Pool, sess.row.TokenHash, l.State, l.Verifier, l.Nonce, l.Next)
}

// SignIn ends the visitor's session and starts the person's.
func (s *Service) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, old *Session, userID uuid.UUID, name string) (*Session, error) {
	if old != nil {
		if err := store.DeleteWebSession(ctx, s.db.Pool, old.row.TokenHash); err != nil {
			return nil, err
		}
	}
	return s.create(ctx, w, r, &userID, name)
}

// End ends the session and clears its cookie.
func (s *Service) End(ctx context.Context, w http.ResponseWriter, r *http.Request, sess *Session) error {
	http.SetCookie(w, &http.Cookie{Name: Cookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure(r), MaxAge: -1})
	if sess == nil {
		return nil
	}
	return store.DeleteWebSession(ctx, s.db.Pool, sess.row.TokenHash)
}

// NewState is a random value for OAuth state, nonce and the like.
func NewState() string { return randomToken() }
