package app

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"riverqueue.com/riverui"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/identity"
	"github.com/samverkan/samverkan/internal/observe"
)

// riverUICookie holds an admin's token for River UI, so that an admin can
// use it from a plain browser: paste the token once into the sign-in form.
// It is limited to /riverui, HttpOnly, and SameSite=Strict, so that no other
// site can make the browser send it (River UI's own API changes jobs).
const riverUICookie = "samverkan_riverui"

// riverUI serves River's UI to admins only, asked through the policy point
// like everything else. A token comes in the Authorization header (an
// authenticating proxy) or from the sign-in form's cookie.
func (a *App) riverUI(ctx context.Context, auth *identity.Authenticator) (http.Handler, error) {
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(a.River, nil), Logger: a.log, Prefix: "/riverui"})
	if err != nil {
		return nil, fmt.Errorf("start the River UI: %w", err)
	}
	uiCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	if err := ui.Start(uiCtx); err != nil {
		stop()
		return nil, fmt.Errorf("start the River UI: %w", err)
	}
	a.stopUI = stop
	// status is what the policy point says of the request's principal.
	status := func(r *http.Request) int {
		pr := identity.FromContext(r.Context())
		switch err := a.Services.Policy.Authorize(r.Context(), pr, "river.ui", []string{authz.ScopeAll}); {
		case err == nil:
			return http.StatusOK
		case !pr.Authenticated():
			return http.StatusUnauthorized
		default:
			return http.StatusForbidden
		}
	}
	serve := func(w http.ResponseWriter, r *http.Request) {
		if st := status(r); st != http.StatusOK {
			refuseRiverUI(w, r, st, "")
			return
		}
		ui.ServeHTTP(w, r)
	}
	// authenticate checks a token from the form or the cookie; a token that
	// does not verify is answered with the form again.
	authenticate := func(w http.ResponseWriter, r *http.Request, token, refused string) (*http.Request, bool) {
		pr, err := auth.Authenticate(r.Context(), token)
		switch {
		case apperr.CodeOf(err) == apperr.Unauthenticated:
			clearRiverUICookie(w)
			refuseRiverUI(w, r, http.StatusUnauthorized, refused)
			return nil, false
		case err != nil:
			a.log.ErrorContext(r.Context(), "authenticating for River UI", "err", err)
			refuseRiverUI(w, r, http.StatusServiceUnavailable, "Inloggningen kunde inte kontrolleras just nu. / Sign-in could not be checked right now.")
			return nil, false
		}
		observe.Info(r.Context()).SetUser(pr.UserID.String())
		return r.WithContext(identity.WithPrincipal(r.Context(), pr)), true
	}
	withHeader := auth.Middleware(http.HandlerFunc(serve))
	withCookie := func(w http.ResponseWriter, r *http.Request, token string) {
		if r, ok := authenticate(w, r, token, "Inloggningen gäller inte längre; logga in igen. / The sign-in is no longer valid; sign in again."); ok {
			serve(w, r)
		}
	}
	signIn := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		token := strings.TrimSpace(r.PostFormValue("token"))
		r, ok := authenticate(w, r, token, "Token godtogs inte. / The token was not accepted.")
		if !ok {
			return
		}
		if st := status(r); st != http.StatusOK {
			refuseRiverUI(w, r, st, "")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: riverUICookie, Value: token, Path: "/riverui", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"})
		http.Redirect(w, r, "/riverui/", http.StatusSeeOther)
	})
	signOut := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clearRiverUICookie(w)
		http.Redirect(w, r, "/riverui/", http.StatusSeeOther)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/riverui/signin":
			signIn(w, r)
			return
		case r.Method == http.MethodPost && r.URL.Path == "/riverui/signout":
			signOut(w, r)
			return
		}
		if c, err := r.Cookie(riverUICookie); err == nil && r.Header.Get("Authorization") == "" {
			withCookie(w, r, c.Value)
			return
		}
		withHeader.ServeHTTP(w, r)
	}), nil
}

var riverUISignIn = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>River UI – samverkan</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}textarea{width:100%;height:8em}</style></head>
<body><h1>River UI</h1>
<p>Bakgrundsjobben visas bara för administratörer. / Background jobs are shown to administrators only.</p>
{{if .Message}}<p><strong>{{.Message}}</strong></p>{{end}}
<form method="post" action="/riverui/signin">
<p><label for="token">Klistra in din token (i utvecklingsläge: <code>samverkan token --subject …</code>). / Paste your token (in dev mode: <code>samverkan token --subject …</code>).</label></p>
<textarea id="token" name="token" required></textarea>
<p><button type="submit">Logga in / Sign in</button></p>
</form></body></html>
`))

func clearRiverUICookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: riverUICookie, Path: "/riverui", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// refuseRiverUI answers a browser with the sign-in form and anything else
// with a line of text.
func refuseRiverUI(w http.ResponseWriter, r *http.Request, status int, message string) {
	if message == "" {
		message = "River UI: administratörer / administrators only"
	}
	if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_ = riverUISignIn.Execute(w, struct{ Message string }{message})
		return
	}
	http.Error(w, message, status)
}
