package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/samverkan/samverkan/internal/notify"
	"github.com/samverkan/samverkan/internal/session"
)

// DevPerson is someone the dev-mode sign-in page lets you be.
type DevPerson struct {
	Subject, Name, Role string
}

// OIDC signs people in with OpenID Connect: the authorization code flow
// with PKCE (S256), state and nonce kept in the visitor's server-side
// session.
type OIDC struct {
	issuer   string
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewOIDC discovers the issuer's endpoints and keys.
func NewOIDC(ctx context.Context, issuer, clientID, clientSecret, publicURL string) (*OIDC, error) {
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("OpenID Connect discovery of %s: %w", issuer, err)
	}
	return &OIDC{
		issuer:   issuer,
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
		config: oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Endpoint: provider.Endpoint(),
			RedirectURL: publicURL + "/sign-in/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "email"}},
	}, nil
}

// Identity is who the identity provider says signed in.
type Identity struct {
	Issuer, Subject, Name, Email string
}

type signInData struct {
	Next   string
	OIDC   bool
	People []DevPerson
	Chosen string
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	h.renderSignIn(w, r, http.StatusOK, localPath(r.URL.Query().Get("next")), "", nil)
}

func (h *Handler) renderSignIn(w http.ResponseWriter, r *http.Request, status int, next, chosen string, errs []FieldError) {
	sess, err := h.o.Sessions.Ensure(r.Context(), w, r, sessionOf(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	r = r.WithContext(withSession(r.Context(), sess))
	d := signInData{Next: next, OIDC: h.o.OIDC != nil, People: h.o.DevPeople, Chosen: chosen}
	p := h.page(r, "", "signin.title", d)
	p.showErrors(errs)
	h.render(w, r, status, "signin", p)
}

// signInDev signs in as a chosen demo person (dev mode only).
func (h *Handler) signInDev(w http.ResponseWriter, r *http.Request) {
	if h.o.DevSignIn == nil {
		h.notFound(w, r)
		return
	}
	next := localPath(r.PostForm.Get("next"))
	subject := r.PostForm.Get("person")
	var person *DevPerson
	for i := range h.o.DevPeople {
		if h.o.DevPeople[i].Subject == subject {
			person = &h.o.DevPeople[i]
		}
	}
	if person == nil {
		l := h.localizer(r)
		field := "person"
		if len(h.o.DevPeople) > 0 {
			field = "person-" + h.o.DevPeople[0].Subject
		}
		h.renderSignIn(w, r, http.StatusBadRequest, next, "", []FieldError{{Field: field, Message: l.T("signin.choose")}})
		return
	}
	id, err := h.o.DevSignIn(r.Context(), person.Subject, person.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.o.Sessions.SignIn(r.Context(), w, r, sessionOf(r), id, person.Name); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signInOIDC starts the authorization code flow.
func (h *Handler) signInOIDC(w http.ResponseWriter, r *http.Request) {
	if h.o.OIDC == nil {
		h.notFound(w, r)
		return
	}
	sess, err := h.o.Sessions.Ensure(r.Context(), w, r, sessionOf(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	login := session.Login{State: session.NewState(), Verifier: oauth2.GenerateVerifier(), Nonce: session.NewState(),
		Next: localPath(r.URL.Query().Get("next"))}
	if err := h.o.Sessions.SetLogin(r.Context(), sess, login); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, h.o.OIDC.config.AuthCodeURL(login.State, oauth2.S256ChallengeOption(login.Verifier), oidc.Nonce(login.Nonce)),
		http.StatusFound)
}

var errSignIn = errors.New("sign-in refused")

// signInCallback finishes the flow: the state must be the session's, the
// code is exchanged with the PKCE verifier, the ID token verified and its
// nonce checked.
func (h *Handler) signInCallback(w http.ResponseWriter, r *http.Request) {
	if h.o.OIDC == nil {
		h.notFound(w, r)
		return
	}
	sess := sessionOf(r)
	id, next, err := h.finishOIDC(r, sess)
	if errors.Is(err, errSignIn) {
		h.o.Logger.Info("web sign-in refused", "err", err)
		l := h.localizer(r)
		p := &Page{L: l, Title: l.T("signin.failed"), Path: r.URL.RequestURI(), GraphiQL: h.o.GraphiQL,
			Data: errorData{Heading: l.T("signin.failed"), Message: l.T("signin.failed_body")}}
		h.render(w, r, http.StatusForbidden, "error", p)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.o.Sessions.SignIn(r.Context(), w, r, sess, id.UserID, id.Name); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

type signedIn struct {
	UserID uuid.UUID
	Name   string
}

func (h *Handler) finishOIDC(r *http.Request, sess *session.Session) (signedIn, string, error) {
	if sess == nil {
		return signedIn{}, "", fmt.Errorf("%w: no session", errSignIn)
	}
	login := sess.PendingLogin()
	q := r.URL.Query()
	if login.State == "" || q.Get("state") != login.State {
		return signedIn{}, "", fmt.Errorf("%w: state does not match", errSignIn)
	}
	if e := q.Get("error"); e != "" {
		return signedIn{}, "", fmt.Errorf("%w: the provider said %s", errSignIn, e)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	tok, err := h.o.OIDC.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(login.Verifier))
	if err != nil {
		return signedIn{}, "", fmt.Errorf("%w: code exchange: %v", errSignIn, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := h.o.OIDC.verifier.Verify(ctx, raw)
	if err != nil {
		return signedIn{}, "", fmt.Errorf("%w: ID token: %v", errSignIn, err)
	}
	if idt.Nonce != login.Nonce {
		return signedIn{}, "", fmt.Errorf("%w: nonce does not match", errSignIn)
	}
	var claims struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		return signedIn{}, "", fmt.Errorf("%w: claims: %v", errSignIn, err)
	}
	name := claims.Name
	if name == "" {
		name = claims.PreferredUsername
	}
	userID, err := h.o.EnsureUser(r.Context(), Identity{Issuer: idt.Issuer, Subject: idt.Subject, Name: name, Email: claims.Email})
	if err != nil {
		return signedIn{}, "", err
	}
	return signedIn{UserID: userID, Name: name}, localPath(login.Next), nil
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if err := h.o.Sessions.End(r.Context(), w, r, sessionOf(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type sessionKey struct{}

func withSession(ctx context.Context, s *session.Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

func sessionOf(r *http.Request) *session.Session {
	s, _ := r.Context().Value(sessionKey{}).(*session.Session)
	return s
}

// withSessions reads the request's session, if it has a cookie, and
// refuses a form POST whose CSRF token is not its session's.
func (h *Handler) withSessions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.o.Sessions == nil {
			next.ServeHTTP(w, r)
			return
		}
		sess, err := h.o.Sessions.Get(r.Context(), r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		r = r.WithContext(withSession(r.Context(), sess))
		// A one-click unsubscribe comes from a mail program, without the
		// session: its URL's secret is the authority (settings.go).
		if r.Method == http.MethodPost && !strings.HasPrefix(r.URL.Path, notify.UnsubscribePrefix) {
			if err := r.ParseForm(); err != nil || !sess.CheckCSRF(r.PostForm.Get("csrf")) {
				l := h.localizer(r)
				p := &Page{L: l, Title: l.T("error.csrf.title"), Path: r.URL.RequestURI(), GraphiQL: h.o.GraphiQL,
					Data: errorData{Heading: l.T("error.csrf.title"), Message: l.T("error.csrf.body")}}
				h.render(w, r, http.StatusForbidden, "error", p)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
