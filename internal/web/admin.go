package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/store"
)

// The admin's pages: people and their roles (search, a person's roles with
// their scopes, assign and revoke), and the e-mails refused for good with a
// way to send them again. Each calls the same service method as the
// GraphQL API (authz.RoleService, notify.Service), which asks the policy
// point; someone it refuses sees its answer.

// adminNav is where the header's admin link goes for pr ("" for none).
func (h *Handler) adminNav(pr authz.Principal) string {
	switch {
	case h.o.Roles != nil && h.o.Roles.CanManage(pr):
		return "/admin/people"
	case h.o.Notify != nil && h.o.Notify.CanSeeFailed(pr):
		return "/admin/deliveries"
	}
	return ""
}

// adminTabs are the admin pages the viewer may open, for the pages' own
// menu.
type adminTab struct {
	Href, Label string
	Current     bool
}

func (h *Handler) adminTabs(r *http.Request, l Localizer, current string) []adminTab {
	pr := sessionOf(r).Principal()
	var out []adminTab
	if h.o.Roles.CanManage(pr) {
		out = append(out, adminTab{Href: "/admin/people", Label: l.T("admin.people.title"), Current: current == "people"})
	}
	if h.o.Notify.CanSeeFailed(pr) {
		out = append(out, adminTab{Href: "/admin/deliveries", Label: l.T("admin.deliveries.title"), Current: current == "deliveries"})
	}
	return out
}

// peopleData is the search for people.
type peopleData struct {
	Tabs   []adminTab
	Query  string
	People []*store.User
}

func (h *Handler) adminPeople(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	people, err := h.o.Roles.Users(r.Context(), pr, q, 50)
	if err != nil {
		h.actionFailed(w, r, err)
		return
	}
	p := h.page(r, "admin", "admin.people.title", nil)
	p.Data = peopleData{Tabs: h.adminTabs(r, p.L, "people"), Query: q, People: people}
	h.render(w, r, http.StatusOK, "admin_people", p)
}

// roleRow is one of a person's roles, with where it holds in words.
type roleRow struct {
	Role, RoleLabel, Scope, Where string
	// OrgID is the organisation of a role held in one (uuid.Nil else).
	OrgID uuid.UUID
}

// assignInput is the assign form as sent.
type assignInput struct {
	Role, Scope, Organisation string
}

// personData is one person's page.
type personData struct {
	Tabs   []adminTab
	Person *store.User
	Roles  []roleRow
	// RoleNames and Scopes are the form's choices.
	RoleNames []string
	Scopes    []string
	In        assignInput
	Done      string
}

// The form's scope choices: everywhere, the Region's side, the sector's
// side, or one organisation (named in a field of its own).
var scopeChoices = []string{authz.ScopeRegion, authz.ScopeSector, scopeOrganisation, authz.ScopeAll}

const scopeOrganisation = "org"

func (h *Handler) adminPerson(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	h.renderPerson(w, r, pr, id, http.StatusOK, assignInput{}, nil)
}

func (h *Handler) renderPerson(w http.ResponseWriter, r *http.Request, pr authz.Principal, id uuid.UUID, status int, in assignInput, errs []FieldError) {
	assignments, err := h.o.Roles.AssignmentsOf(r.Context(), pr, id)
	if err != nil {
		h.actionFailed(w, r, err)
		return
	}
	users, err := h.o.Roles.UsersByIDs(r.Context(), []uuid.UUID{id})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(users) == 0 {
		h.notFound(w, r)
		return
	}
	var orgIDs []uuid.UUID
	for _, a := range assignments {
		if oid, ok := authz.OrgOfScope(a.Scope); ok {
			orgIDs = append(orgIDs, oid)
		}
	}
	names, err := h.orgNames(r.Context(), orgIDs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "admin", "admin.person.title", nil)
	d := personData{Tabs: h.adminTabs(r, p.L, "people"), Person: users[0], RoleNames: authz.Roles, Scopes: scopeChoices, In: in}
	for _, a := range assignments {
		row := roleRow{Role: a.Role, RoleLabel: p.L.T("role." + a.Role), Scope: a.Scope}
		if oid, ok := authz.OrgOfScope(a.Scope); ok {
			row.OrgID, row.Where = oid, names[oid]
		} else {
			row.Where = p.L.T("admin.scope." + a.Scope)
		}
		d.Roles = append(d.Roles, row)
	}
	slices.SortFunc(d.Roles, func(a, b roleRow) int {
		if c := strings.Compare(a.RoleLabel, b.RoleLabel); c != 0 {
			return c
		}
		return strings.Compare(a.Where, b.Where)
	})
	switch r.URL.Query().Get("done") {
	case "assigned":
		d.Done = p.L.T("admin.person.assigned")
	case "revoked":
		d.Done = p.L.T("admin.person.revoked")
	}
	p.Title = d.Person.Name + " – " + p.Title
	p.showErrors(errs)
	p.Data = d
	h.render(w, r, status, "admin_person", p)
}

// assignRole decodes the form (the organisation by its number or name) and
// calls RoleService.Assign; bad input comes back with the input kept and a
// message at its field.
func (h *Handler) assignRole(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	in := assignInput{Role: f.Get("role"), Scope: f.Get("scope"), Organisation: strings.TrimSpace(f.Get("organisation"))}
	l := h.localizer(r)
	var errs []FieldError
	if in.Role == "" {
		errs = append(errs, FieldError{Field: "role", Message: l.T("admin.error.role")})
	}
	scope := in.Scope
	switch {
	case in.Scope == "":
		errs = append(errs, FieldError{Field: "scope-" + scopeChoices[0], Message: l.T("admin.error.scope")})
	case in.Scope == scopeOrganisation:
		oid, msg, err := h.organisationNamed(r, in.Organisation)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if msg != "" {
			text := l.T(msg)
			if in.Organisation != "" {
				text = l.T(msg, in.Organisation)
			}
			errs = append(errs, FieldError{Field: "organisation", Message: text})
		}
		scope = authz.OrgScope(oid)
	}
	if len(errs) == 0 {
		err := h.o.Roles.Assign(r.Context(), pr, authz.Assignment{UserID: id, Role: in.Role, Scope: scope})
		if err != nil {
			errs, err = assignErrors(l, err, in)
			if err != nil {
				h.actionFailed(w, r, err)
				return
			}
		}
	}
	if len(errs) > 0 {
		h.renderPerson(w, r, pr, id, http.StatusBadRequest, in, errs)
		return
	}
	http.Redirect(w, r, "/admin/people/"+id.String()+"?done=assigned", http.StatusSeeOther)
}

// assignErrors puts the role service's refusal of bad input at the form's
// field: a scope the role cannot hold at the scope's first choice (or at
// the organisation, for one), an organisation that does not exist at the
// organisation.
func assignErrors(l Localizer, err error, in assignInput) ([]FieldError, error) {
	var field, msg string
	switch {
	case apperr.IsCode(err, apperr.BadInput):
		errs, _ := fieldErrors(l, err)
		field, msg = errs[0].Field, errs[0].Message
	case apperr.IsCode(err, apperr.NotFound) && fieldOf(err) == "scope":
		field, msg = "organisation", inLanguage(messageOf(err), l.Lang)
	default:
		return nil, err
	}
	if field == "scope" {
		field = "scope-" + scopeChoices[0]
		if in.Scope == scopeOrganisation {
			field = "organisation"
		}
	}
	return []FieldError{{Field: field, Message: msg}}, nil
}

func fieldOf(err error) string {
	if ae, ok := apperr.As(err); ok {
		return ae.Field
	}
	return ""
}

func messageOf(err error) string {
	if ae, ok := apperr.As(err); ok {
		return ae.Message
	}
	return err.Error()
}

// organisationNamed finds the one organisation the form names, by its
// organisation number or a part of its name; else the message key saying
// why not.
func (h *Handler) organisationNamed(r *http.Request, s string) (uuid.UUID, string, error) {
	if s == "" {
		return uuid.Nil, "admin.error.organisation", nil
	}
	search := s
	if n, err := orgnr.Parse(s); err == nil {
		search = string(n)
	}
	orgs, err := h.o.Registry.ListOrganisations(r.Context(), store.OrganisationPage{Search: search, Limit: 2})
	switch {
	case err != nil:
		return uuid.Nil, "", err
	case len(orgs) == 0:
		return uuid.Nil, "admin.error.organisation_none", nil
	case len(orgs) > 1:
		return uuid.Nil, "admin.error.organisation_many", nil
	}
	return orgs[0].ID, "", nil
}

// revokeRole takes the role the row's form names: one RoleService.Revoke.
func (h *Handler) revokeRole(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	a := authz.Assignment{UserID: id, Role: r.PostForm.Get("role"), Scope: r.PostForm.Get("scope")}
	if err := h.o.Roles.Revoke(r.Context(), pr, a); err != nil {
		h.actionFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/people/"+id.String()+"?done=revoked", http.StatusSeeOther)
}

// deliveriesData is the list of e-mails refused for good.
type deliveriesData struct {
	Tabs       []adminTab
	Deliveries []*store.Delivery
	Done       string
}

func (h *Handler) adminDeliveries(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	ds, err := h.o.Notify.FailedDeliveries(r.Context(), pr, 100)
	if err != nil {
		h.actionFailed(w, r, err)
		return
	}
	p := h.page(r, "admin", "admin.deliveries.title", nil)
	d := deliveriesData{Tabs: h.adminTabs(r, p.L, "deliveries"), Deliveries: ds}
	if r.URL.Query().Get("done") == "resent" {
		d.Done = p.L.T("admin.deliveries.resent", r.URL.Query().Get("to"))
	}
	p.Data = d
	h.render(w, r, http.StatusOK, "admin_deliveries", p)
}

// resendDelivery makes a failed delivery pending again: one
// notify.Service.Resend.
func (h *Handler) resendDelivery(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	d, err := h.o.Notify.Resend(r.Context(), pr, id)
	if err != nil {
		h.actionFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/deliveries?done=resent&to="+url.QueryEscape(d.Address), http.StatusSeeOther)
}
