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
	allowed := func(r *http.Request) (authz.Principal, int) {
		pr := identity.FromContext(r.Context())
		if err := a.Services.Policy.Authorize(r.Context(), pr, "river.ui", []string{authz.ScopeAll}); err != nil {
			if !pr.Authenticated() {
				return pr, http.StatusUnauthorized
			}
			return pr, http.StatusForbidden
		}
		return pr, http.StatusOK
	}
	serve := func(w http.ResponseWriter, r *http.Request) {
		if _, status := allowed(r); status != http.StatusOK {
			refuseRiverUI(w, r, status, "")
			return
		}
		ui.ServeHTTP(w, r)
	}
	withHeader := auth.Middleware(http.HandlerFunc(serve))
	withCookie := func(w http.ResponseWriter, r *http.Request, token string) {
		pr, err := auth.Authenticate(r.Context(), token)
		switch {
		case apperr.CodeOf(err) == apperr.Unauthenticated:
			clearRiverUICookie(w)
			refuseRiverUI(w, r, http.StatusUnauthorized, "Inloggningen gäller inte längre; logga in igen. / The sign-in is no longer valid; sign in again.")
			return
		case err != nil:
			a.log.ErrorContext(r.Context(), "authenticating for River UI", "err", err)
			refuseRiverUI(w, r, http.StatusServiceUnavailable, "Inloggningen kunde inte kontrolleras just nu. / Sign-in could not be checked right now.")
			return
		}
		observe.Info(r.Context()).SetUser(pr.UserID.String())
		serve(w, r.WithContext(identity.WithPrincipal(r.Context(), pr)))
	}
	signIn := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		token := strings.TrimSpace(r.PostFormValue("token"))
		pr, err := auth.Authenticate(r.Context(), token)
		if err != nil {
			refuseRiverUI(w, r, http.StatusUnauthorized, "Token godtogs inte. / The token was not accepted.")
			return
		}
		if _, status := allowed(r.WithContext(identity.WithPrincipal(r.Context(), pr))); status != http.StatusOK {
			refuseRiverUI(w, r, status, "")
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
