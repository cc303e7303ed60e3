package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// The signed-in pages: a person's work queue, their notifications and the
// page of a workflow instance they may read. Each asks the services what
// the viewer may see and do; none decides it.

// viewer is the signed-in person; a visitor is sent to sign in and back.
func (h *Handler) viewer(w http.ResponseWriter, r *http.Request) (authz.Principal, bool) {
	s := sessionOf(r)
	if !s.SignedIn() {
		http.Redirect(w, r, "/sign-in?next="+r.URL.RequestURI(), http.StatusSeeOther)
		return authz.Principal{}, false
	}
	return s.Principal(), true
}

// taskRow is one line of the work queue.
type taskRow struct {
	ID       uuid.UUID
	Workflow string
	// About is the organisation the case is about ("" for none).
	About    string
	State    string
	Deadline *time.Time
	Actions  []string
}

// tasksData is the work queue and, for those who decide them, how many
// representation requests wait (-1: not the viewer's to decide).
type tasksData struct {
	Rows     []taskRow
	Requests int
}

func (h *Handler) tasks(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	tasks, err := h.o.Engine.Tasks(r.Context(), pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "tasks", "tasks.title", nil)
	var orgIDs []uuid.UUID
	for _, t := range tasks {
		if t.Instance.SubjectType == "organisation" {
			orgIDs = append(orgIDs, t.Instance.SubjectID)
		}
	}
	names, err := h.orgNames(r.Context(), orgIDs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rows := make([]taskRow, 0, len(tasks))
	for _, t := range tasks {
		row := h.taskRow(p.L, t)
		if t.Instance.SubjectType == "organisation" {
			row.About = names[t.Instance.SubjectID]
		}
		rows = append(rows, row)
	}
	d := tasksData{Rows: rows, Requests: -1}
	if claims, err := h.o.Registry.OpenClaims(r.Context(), pr); err == nil {
		d.Requests = len(claims)
	} else if !apperr.IsCode(err, apperr.Forbidden) {
		h.fail(w, r, err)
		return
	}
	p.Data = d
	h.render(w, r, http.StatusOK, "tasks", p)
}

func (h *Handler) taskRow(l Localizer, t workflows.Task) taskRow {
	row := taskRow{ID: t.Instance.ID, Workflow: t.Instance.Kind, State: t.Instance.State, Deadline: t.Deadline}
	if def, err := h.o.Engine.Definition(t.Instance.Kind, t.Instance.DefinitionVersion); err == nil {
		row.Workflow = inLanguage(def.Title, l.Lang)
		row.State = inLanguage(def.StateTitle(workflows.State(t.Instance.State)), l.Lang)
	}
	for _, a := range t.Actions {
		title := a.Title
		if title == "" {
			title = a.Transition
		}
		row.Actions = append(row.Actions, inLanguage(title, l.Lang))
	}
	return row
}

// instanceData is what the page of one instance shows.
type instanceData struct {
	ID       uuid.UUID
	Workflow string
	About    string
	AboutID  uuid.UUID
	State    string
	Version  int
	Started  time.Time
	Changed  time.Time
	Actions  []actionForm
	Events   []store.Event
	Total    int
	// Done is the title of the action just done; Failed and Form are the
	// action whose form came back with bad input, and what it held.
	Done   string
	Failed string
	Form   map[string]string
	// Page links to the workflow's own page of the instance, if it has one.
	Page *navLink
	// Ceremony is the signing ceremony the application waits for;
	// Ceremonies the planned ones it may be attached to (ceremony.go).
	Ceremony   *store.Ceremony
	Ceremonies []*store.Ceremony
}

func (h *Handler) instance(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	h.renderInstance(w, r, pr, id, http.StatusOK, "", nil)
}

func (h *Handler) renderInstance(w http.ResponseWriter, r *http.Request, pr authz.Principal, id uuid.UUID, status int, failed string, errs []FieldError) {
	in, err := h.o.Engine.Read(r.Context(), pr, id)
	if err != nil {
		if apperr.IsCode(err, apperr.NotFound) {
			h.notFound(w, r)
			return
		}
		h.fail(w, r, err)
		return
	}
	approvals, err := h.o.Engine.Approvals(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	about := ""
	events, total, err := h.o.Engine.History(r.Context(), pr, in, 0, 50)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if in.SubjectType == "organisation" {
		names, err := h.orgNames(r.Context(), []uuid.UUID{in.SubjectID})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		about = names[in.SubjectID]
	}
	p := h.page(r, "tasks", "instance.title", nil)
	d := instanceData{About: about, AboutID: in.SubjectID, ID: in.ID, Workflow: in.Kind, State: in.State, Version: in.Version,
		Started: in.CreatedAt, Changed: in.UpdatedAt, Events: events, Total: total, Failed: failed, Form: map[string]string{}}
	def, err := h.o.Engine.Definition(in.Kind, in.DefinitionVersion)
	if err == nil {
		d.Workflow = inLanguage(def.Title, p.L.Lang)
		d.State = inLanguage(def.StateTitle(workflows.State(in.State)), p.L.Lang)
	}
	if k := h.forms[in.Kind]; k.page != "" {
		d.Page = &navLink{Href: strings.NewReplacer("{id}", in.ID.String(), "{subject}", in.SubjectID.String()).Replace(k.page), Label: p.L.T(k.pageLink)}
	}
	d.Actions = h.actionForms(p.L, in, h.o.Engine.AvailableActions(r.Context(), pr, in, approvals))
	if err := h.ceremonyFacts(r, pr, in, &d); err != nil {
		h.fail(w, r, err)
		return
	}
	if done := r.URL.Query().Get("done"); done == "apply" {
		d.Done = p.L.T("apply.done")
	} else if done != "" && def != nil {
		if t, ok := def.Transition(done); ok {
			d.Done = inLanguage(t.Title, p.L.Lang)
		}
	}
	if failed != "" {
		d.Form = keptInput(r)
	}
	p.Title = d.Workflow + ": " + d.State
	if d.About != "" {
		p.Title = d.About + " – " + p.Title
	}
	p.showErrors(errs)
	p.Data = d
	h.render(w, r, status, "instance", p)
}

// notificationsData is the inbox page.
type notificationsData struct {
	Items  []*store.InboxItem
	Unread int
}

func (h *Handler) notifications(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	items, unread, err := h.o.Notify.Inbox(r.Context(), pr, nil, 100)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "notifications", "notifications.title", notificationsData{Items: items, Unread: unread})
	h.render(w, r, http.StatusOK, "notifications", p)
}

// notification shows one notification and marks it read: opening it is
// reading it.
func (h *Handler) notification(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	item, err := h.o.Notify.Open(r.Context(), pr, id)
	if apperr.IsCode(err, apperr.NotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "notifications", "notification.title", item)
	p.Title = item.Subject
	h.render(w, r, http.StatusOK, "notification", p)
}
