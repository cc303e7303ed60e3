// Package web serves the service's HTML pages: server-rendered with
// html/template, with the templates, the style sheet and the message
// catalogues embedded in the binary. The pages work without JavaScript and
// load nothing from another origin. Like the GraphQL resolvers, a handler
// decodes the request, calls the services and renders; it holds no SQL and
// no rule of its own.
package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/notify"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/session"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/iop"
	"github.com/samverkan/samverkan/workflows/revision"
	"github.com/samverkan/samverkan/workflows/signing"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options are the services the pages read and how they are served.
type Options struct {
	Registry *registry.Service
	Signing  *signing.Service
	FollowUp *followup.Service
	Revision *revision.Service
	IOP      *iop.Service
	Engine   *workflows.Engine
	Notify   *notify.Service
	Roles    *authz.RoleService
	Clock    clock.Clock
	Logger   *slog.Logger
	// GraphiQL says whether /graphiql/ is served (the footer links to it).
	GraphiQL bool

	// Sessions keeps the signed-in people's sessions; nil serves the
	// public pages only.
	Sessions *session.Service
	// OIDC signs people in with the configured issuer (nil: none).
	OIDC *OIDC
	// EnsureUser is the person an identity provider vouched for, created
	// on first sight.
	EnsureUser func(ctx context.Context, id Identity) (uuid.UUID, error)
	// DevPeople and DevSignIn offer the demo people on the sign-in page
	// (dev mode only; nil otherwise).
	DevPeople []DevPerson
	DevSignIn func(ctx context.Context, subject, name string) (uuid.UUID, error)
}

// Handler serves the pages.
type Handler struct {
	o       Options
	msgs    catalogues
	pages   map[string]*template.Template
	forms   map[string]workflowForms
	mux     *http.ServeMux
	handler http.Handler
}

// New parses the templates and catalogues and builds the routes.
func New(o Options) (*Handler, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	msgs, err := loadCatalogues()
	if err != nil {
		return nil, err
	}
	h := &Handler{o: o, msgs: msgs, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	h.forms = h.formsByKind()
	if err := h.parse(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	h.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	h.mux.HandleFunc("GET /lang/{lang}", h.setLanguage)
	h.mux.HandleFunc("GET /{$}", h.start)
	h.mux.HandleFunc("GET /signatories", h.signatories)
	h.mux.HandleFunc("GET /signatories.csv", h.signatoriesCSV)
	h.mux.HandleFunc("GET /signatories.json", h.signatoriesJSON)
	h.mux.HandleFunc("GET /organisations/{id}", h.organisation)
	h.mux.HandleFunc("GET /annual-reports", h.annualReports)
	h.mux.HandleFunc("GET /revision", h.revision)
	h.mux.HandleFunc("GET /partnerships", h.partnerships)
	h.mux.HandleFunc("GET /history", h.history)
	h.mux.HandleFunc("GET /history/digest", h.historyDigest)
	if o.Sessions != nil {
		h.mux.HandleFunc("GET /sign-in", h.signIn)
		h.mux.HandleFunc("POST /sign-in/dev", h.signInDev)
		h.mux.HandleFunc("GET /sign-in/oidc", h.signInOIDC)
		h.mux.HandleFunc("GET /sign-in/callback", h.signInCallback)
		h.mux.HandleFunc("POST /sign-out", h.signOut)
		h.mux.HandleFunc("GET /tasks", h.tasks)
		h.mux.HandleFunc("GET /instances/{id}", h.instance)
		h.mux.HandleFunc("GET /notifications", h.notifications)
		h.mux.HandleFunc("GET /notifications/{id}", h.notification)
		h.mux.HandleFunc("GET /organisations/new", h.registerForm)
		h.mux.HandleFunc("POST /organisations", h.register)
		h.mux.HandleFunc("GET /my-organisations", h.myOrganisations)
		h.mux.HandleFunc("GET /organisations/{id}/apply", h.applyForm)
		h.mux.HandleFunc("POST /organisations/{id}/apply", h.apply)
		h.mux.HandleFunc("POST /instances/{id}/{transition}", h.act)
		h.mux.HandleFunc("GET /representation-requests", h.representationRequests)
		h.mux.HandleFunc("POST /representation-requests/{id}/{decision}", h.decideRequest)
		// Asking to represent an organisation already registered (claim.go).
		h.mux.HandleFunc("GET /organisations/find", h.findOrganisation)
		h.mux.HandleFunc("POST /organisations/{id}/represent", h.askToRepresent)
		// The revision's workspace and the council's page (revision_forms.go, council.go).
		h.mux.HandleFunc("GET /revisions/{id}", h.revisionWorkspace)
		h.mux.HandleFunc("POST /revisions/{id}/{command}", h.reviseCommand)
		h.mux.HandleFunc("GET /council", h.council)
		h.mux.HandleFunc("POST /council/{id}/{decision}", h.councilDecide)
		// The annual follow-up's page: the year's reports and approvals, a
		// party's report, the deadline and the follow-up's actions.
		h.mux.HandleFunc("GET /followups/{id}", h.followUpPage)
		h.mux.HandleFunc("POST /followups/{id}/{action}", h.followUpAct)
		// IOP: proposing a partnership, and its page for the parties and officials.
		h.mux.HandleFunc("GET /partnerships/new", h.proposeForm)
		h.mux.HandleFunc("POST /partnerships", h.propose)
		h.mux.HandleFunc("GET /partnerships/{id}/case", h.partnershipCase)
		h.mux.HandleFunc("POST /partnerships/{id}/case/{command}", h.caseCommand)
		// Signing ceremonies: the planned ones and planning one (ceremony.go).
		h.mux.HandleFunc("GET /ceremonies", h.ceremonies)
		h.mux.HandleFunc("POST /ceremonies", h.planCeremony)
		// Admin: people and roles, failed e-mail deliveries (admin.go).
		h.mux.HandleFunc("GET /admin/people", h.adminPeople)
		h.mux.HandleFunc("GET /admin/people/{id}", h.adminPerson)
		h.mux.HandleFunc("POST /admin/people/{id}/roles", h.assignRole)
		h.mux.HandleFunc("POST /admin/people/{id}/roles/revoke", h.revokeRole)
		h.mux.HandleFunc("GET /admin/deliveries", h.adminDeliveries)
		h.mux.HandleFunc("POST /admin/deliveries/{id}/resend", h.resendDelivery)
		// Notification settings and one-click unsubscribe (settings.go).
		h.mux.HandleFunc("GET "+notify.SettingsPath, h.notificationSettings)
		h.mux.HandleFunc("POST "+notify.SettingsPath, h.saveNotificationSettings)
		h.mux.HandleFunc("POST "+notify.SettingsPath+"/calendar", h.renewCalendar)
		h.mux.HandleFunc("GET "+notify.UnsubscribePrefix+"{id}/{secret}", h.unsubscribePage)
		h.mux.HandleFunc("POST "+notify.UnsubscribePrefix+"{id}/{secret}", h.unsubscribe)
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.notFound(w, r) })
	h.handler = h.withSessions(h.mux)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	h.handler.ServeHTTP(w, r)
}

// Every templates/*.html is a page of its own name, except the layout and
// the partials (templates/part_*.html: named templates any page may use,
// such as the extra inputs of an action's form).
const layoutFile = "templates/layout.html"

func (h *Handler) parse() error {
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return err
	}
	shared := []string{layoutFile}
	var pageNames []string
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		switch {
		case f == layoutFile:
		case strings.HasPrefix(name, "part_"):
			shared = append(shared, f)
		default:
			pageNames = append(pageNames, name)
		}
	}
	funcs := template.FuncMap{
		"number":  func(n int) string { return Number(int64(n)) },
		"decimal": Decimal,
		"money":   Money,
		"hex":     func(b []byte) string { return fmt.Sprintf("%x", b) },
		"add":     func(a, b int) int { return a + b },
		"chart":   barChart,
		"paras":   paragraphs,
		"orgnr":   func(n string) string { return orgnr.Number(n).String() },
		"deref":   func(t *time.Time) time.Time { return *t },
		"deref2":  func(id *uuid.UUID) uuid.UUID { return *id },
		"dated":   func(l Localizer, t time.Time) dated { return dated{L: l, T: t} },
		"navItem": func(p *Page, nav, href, key string) navLink {
			return navLink{Href: href, Label: p.L.T(key), Current: p.Nav == nav}
		},
		"pageParam": func(path string) string {
			u, err := url.Parse(path)
			if err != nil {
				return ""
			}
			return u.Query().Get("page")
		},
		"eventText": h.eventText,
		"subform": func(name string, p *Page, a actionForm) (template.HTML, error) {
			d := subformData{P: p, Action: a, Kept: map[string]string{}}
			if in, ok := p.Data.(instanceData); ok && in.Failed == a.Transition {
				d.Kept = in.Form
			}
			var buf bytes.Buffer
			if err := h.pages["instance"].ExecuteTemplate(&buf, name, d); err != nil {
				return "", err
			}
			return template.HTML(buf.String()), nil
		},
		"criteria": criteriaOf,
		"checkedOf": func(d instanceData, transition string) map[string]bool {
			out := map[string]bool{}
			if d.Failed == transition {
				for k, v := range d.Form {
					out[k] = v == "yes"
				}
			}
			return out
		},
		"field": func(p *Page, name, label, hint, value string) textField {
			f := textField{Name: name, Label: p.L.T(label), Value: value, Error: p.FieldErr(name), Prefix: p.L.T("error.prefix")}
			if hint != "" {
				f.Hint = p.L.T(hint)
			}
			return f
		},
	}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, append(shared, "templates/"+name+".html")...)
		if err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	return nil
}

type dated struct {
	L Localizer
	T time.Time
}

// textField is one text input of a form with its label, hint, kept value
// and message.
type textField struct {
	Name, Label, Hint, Value, Error, Prefix string
}

type navLink struct {
	Href, Label string
	Current     bool
}

// eventText says what a history event records: a transition by its
// definition's title, another event by its kind from the catalogue, with
// the name or title the event carries.
func (h *Handler) eventText(l Localizer, e store.Event) string {
	var text string
	if e.Transition != "" && h.o.Engine != nil {
		if def, err := h.o.Engine.Definition(e.WorkflowKind, 0); err == nil {
			if t, ok := def.Transition(e.Transition); ok && t.Title != "" {
				text = inLanguage(t.Title, l.Lang)
			}
		}
		if text == "" {
			text = e.Transition
		}
		text = l.T("workflow."+e.WorkflowKind) + ": " + text
	} else {
		text = l.T("event." + e.Kind)
		if strings.HasPrefix(text, "event.") {
			text = e.Kind
		}
		if e.WorkflowKind != "" {
			text = l.T("workflow."+e.WorkflowKind) + ": " + text
		}
	}
	var input map[string]any
	if json.Unmarshal([]byte(e.Input), &input) == nil {
		for _, k := range []string{"name", "title"} {
			if v, ok := input[k].(string); ok && v != "" {
				return text + " – " + v
			}
		}
	}
	return text
}

// paragraphs splits a text at blank lines.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// keptInput is what the person typed into the form that came back, to show
// it again (not the form's CSRF token nor the case version it was made from).
func keptInput(r *http.Request) map[string]string {
	out := map[string]string{}
	for k := range r.PostForm {
		if k != "csrf" && k != "expectedVersion" {
			out[k] = r.PostForm.Get(k)
		}
	}
	return out
}

// FieldError is one field's message, shown beside the field and in the
// error summary at the top, which links to the field.
type FieldError struct {
	Field   string
	Message string
}

// Page is what every template gets.
type Page struct {
	L        Localizer
	Title    string
	Path     string
	Nav      string
	Errors   []FieldError
	GraphiQL bool
	// SignIn says whether the header offers signing in.
	SignIn bool
	// User is the signed-in person's name ("" for a visitor); CSRF is the
	// token the page's forms carry.
	User string
	CSRF string
	// Admin is where the header's admin link goes ("" for none: the
	// viewer may not use the admin pages).
	Admin string
	Data  any
}

// showErrors puts a form's field messages on the page, and says in its
// title that the form came back (the title is what a screen reader reads
// first).
func (p *Page) showErrors(errs []FieldError) {
	p.Errors = errs
	if len(errs) > 0 {
		p.Title = p.L.T("error.prefix") + " " + p.Title
	}
}

// FieldErr is the message for field, if any.
func (p *Page) FieldErr(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// viewerAndID is the signed-in viewer and the page's {id}; an id that is
// no UUID is a page that does not exist.
func (h *Handler) viewerAndID(w http.ResponseWriter, r *http.Request) (authz.Principal, uuid.UUID, bool) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return pr, uuid.Nil, false
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		h.notFound(w, r)
		return pr, uuid.Nil, false
	}
	return pr, id, true
}

// readOfKind reads an instance the viewer may see for a workflow's own
// page: one of another kind is, for that page, one that does not exist.
func (h *Handler) readOfKind(ctx context.Context, pr authz.Principal, id uuid.UUID, kind string) (*store.Instance, error) {
	in, err := h.o.Engine.Read(ctx, pr, id)
	if err == nil && in.Kind != kind {
		return nil, apperr.New(apperr.NotFound, "Det finns inget sådant ärende. / There is no such case.")
	}
	return in, err
}

func (h *Handler) localizer(r *http.Request) Localizer {
	lang := chooseLanguage(r)
	return Localizer{Lang: lang, msgs: h.msgs[lang]}
}

func (h *Handler) page(r *http.Request, nav, titleKey string, data any) *Page {
	l := h.localizer(r)
	p := &Page{L: l, Title: l.T(titleKey), Path: r.URL.RequestURI(), Nav: nav, GraphiQL: h.o.GraphiQL, Data: data,
		SignIn: h.o.Sessions != nil}
	if s := sessionOf(r); s != nil {
		p.CSRF = s.CSRF()
		if s.SignedIn() {
			p.User = s.Principal().Name
			p.Admin = h.adminNav(s.Principal())
		}
	}
	return p
}

// render writes a page; it renders into a buffer first, so a template
// error becomes a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.L.Lang)
	w.Header().Add("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	Heading string
	Message string
	// Back is the page an action was tried on ("" for none).
	Back string
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "", "error.not_found.title", nil)
	p.Data = errorData{Heading: p.L.T("error.not_found.title"), Message: p.L.T("error.not_found.body")}
	h.render(w, r, http.StatusNotFound, "error", p)
}

// fail logs err with a reference and shows a page with the reference, never
// the error's text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
		return
	}
	ref := fmt.Sprintf("%x", time.Now().UnixNano())
	h.o.Logger.Error("web page failed", "path", r.URL.Path, "ref", ref, "err", err)
	l := h.localizer(r)
	p := &Page{L: l, Title: l.T("error.internal.title"), Path: r.URL.RequestURI(), GraphiQL: h.o.GraphiQL,
		Data: errorData{Heading: l.T("error.internal.title"), Message: l.T("error.internal.body", ref)}}
	var buf bytes.Buffer
	if h.pages["error"].ExecuteTemplate(&buf, "layout", p) != nil {
		http.Error(w, "Internt fel / Internal error: "+ref, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(buf.Bytes())
}

// setLanguage remembers the chosen language for a year and goes back to
// the page the switch was on.
func (h *Handler) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if !supported(lang) {
		h.notFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// localPath keeps a redirect on this site: a path of ours, or the start.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// fieldErrors turns a domain BAD_INPUT error into one message per field at
// fault (every one apperr.Join collected), in the page's language; any
// other error is returned.
func fieldErrors(l Localizer, err error) ([]FieldError, error) {
	faults := apperr.FieldsOf(err)
	if faults == nil {
		return nil, err
	}
	errs := make([]FieldError, len(faults))
	for i, f := range faults {
		if f.Field == "" {
			f.Field = "form"
		}
		errs[i] = FieldError{Field: f.Field, Message: inLanguage(f.Message, l.Lang)}
	}
	return errs, nil
}

// inLanguage picks one half of a domain message written "Svensk text. /
// English text.".
func inLanguage(msg, lang string) string {
	sv, en, ok := strings.Cut(msg, " / ")
	if !ok {
		return msg
	}
	if lang == "en" {
		return strings.TrimSpace(en)
	}
	return strings.TrimSpace(sv)
}
