package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/signing"
)

// The representative's pages: registering an organisation (which asks to
// represent it) and the person's representation requests.

// registerData is the registration form, with the input as sent.
type registerData struct {
	In         registry.OrganisationInput
	LegalForms []string
}

func (h *Handler) registerForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.viewer(w, r); !ok {
		return
	}
	h.renderRegister(w, r, http.StatusOK, registry.OrganisationInput{}, nil)
}

func (h *Handler) renderRegister(w http.ResponseWriter, r *http.Request, status int, in registry.OrganisationInput, errs []FieldError) {
	p := h.page(r, "my-organisations", "register.title", registerData{In: in, LegalForms: registry.LegalForms})
	p.showErrors(errs)
	h.render(w, r, status, "register", p)
}

// register decodes the form and calls RegisterOrganisation; bad input
// comes back with the input kept and the service's message at its field.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	in := registry.OrganisationInput{Name: f.Get("name"), OrganisationNumber: f.Get("organisationNumber"),
		LegalForm: f.Get("legalForm"), Sector: registry.SectorIdeaBased, Municipality: f.Get("municipality"),
		Website: f.Get("website"), Description: f.Get("description"), ContactEmail: f.Get("contactEmail"),
		ContactPhone: f.Get("contactPhone")}
	o, _, err := h.o.Registry.RegisterOrganisation(r.Context(), pr, in)
	if err != nil {
		errs, err := fieldErrors(h.localizer(r), err)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		h.renderRegister(w, r, http.StatusBadRequest, in, errs)
		return
	}
	http.Redirect(w, r, "/my-organisations?registered="+url.QueryEscape(o.Name), http.StatusSeeOther)
}

// claimRow is one representation request with its organisation's name.
type claimRow struct {
	Claim *store.Claim
	Name  string
	// Person is who asks (on the official's list).
	Person       string
	Applications []applicationRow
}

// applicationRow is one of the organisation's signing applications.
type applicationRow struct {
	ID      uuid.UUID
	State   string
	Applied string
}

type myOrganisationsData struct {
	Registered string
	// Asked is the organisation just asked to represent (claim.go).
	Asked  string
	Claims []claimRow
	// FollowUps are the annual follow-ups under way (see followup.go).
	FollowUps []openFollowUp
}

func (h *Handler) myOrganisations(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	claims, err := h.o.Registry.ClaimsOf(r.Context(), pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ids := make([]uuid.UUID, len(claims))
	for i, c := range claims {
		ids[i] = c.OrganisationID
	}
	names, err := h.orgNames(r.Context(), ids)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := myOrganisationsData{Registered: r.URL.Query().Get("registered"), Asked: r.URL.Query().Get("asked")}
	p := h.page(r, "my-organisations", "my_organisations.title", nil)
	if d.FollowUps, err = h.openFollowUps(r, p.L); err != nil {
		h.fail(w, r, err)
		return
	}
	var confirmed []uuid.UUID
	for _, c := range claims {
		if c.Status == "confirmed" {
			confirmed = append(confirmed, c.OrganisationID)
		}
	}
	// One read of every confirmed organisation's applications, as the
	// viewer may see them.
	appsOf := map[uuid.UUID][]applicationRow{}
	if len(confirmed) > 0 {
		apps, err := h.o.Engine.InstancesOfSubjects(r.Context(), pr, signing.Kind, confirmed)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, in := range apps {
			a := applicationRow{ID: in.ID, State: in.State, Applied: p.L.Date(in.CreatedAt)}
			if def, err := h.o.Engine.Definition(in.Kind, in.DefinitionVersion); err == nil {
				a.State = inLanguage(def.StateTitle(workflows.State(in.State)), p.L.Lang)
			}
			appsOf[in.SubjectID] = append(appsOf[in.SubjectID], a)
		}
	}
	for _, c := range claims {
		row := claimRow{Claim: c, Name: names[c.OrganisationID]}
		if c.Status == "confirmed" {
			row.Applications = appsOf[c.OrganisationID]
		}
		d.Claims = append(d.Claims, row)
	}
	p.Data = d
	h.render(w, r, http.StatusOK, "my_organisations", p)
}

// actionFailed shows a domain error from an action (not allowed, changed
// by someone else meanwhile, too many) in the page's language; any other
// error is an internal one.
func (h *Handler) actionFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		h.fail(w, r, err)
		return
	}
	status, title := http.StatusBadRequest, "error.action.title"
	switch ae.Code {
	case apperr.Forbidden, apperr.Unauthenticated:
		status = http.StatusForbidden
	case apperr.Conflict:
		status, title = http.StatusConflict, "error.conflict.title"
	case apperr.NotFound:
		status = http.StatusNotFound
	case apperr.RateLimited:
		status = http.StatusTooManyRequests
	}
	p := h.page(r, "", title, nil)
	p.Data = errorData{Heading: p.L.T(title), Message: inLanguage(ae.Message, p.L.Lang), Back: sameSite(r)}
	h.render(w, r, status, "error", p)
}

// sameSite is the page the request came from when it is one of ours.
func sameSite(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Host != r.Host {
		return ""
	}
	return localPath(u.RequestURI())
}

// requestsData is the official's list of representation requests.
type requestsData struct {
	Claims []claimRow
	Done   string
}

// representationRequests lists the requests that wait for an official;
// someone the policy does not allow sees its answer.
func (h *Handler) representationRequests(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	h.renderRequests(w, r, pr, http.StatusOK, nil)
}

func (h *Handler) renderRequests(w http.ResponseWriter, r *http.Request, pr authz.Principal, status int, errs []FieldError) {
	claims, err := h.o.Registry.OpenClaims(r.Context(), pr)
	if err != nil {
		h.actionFailed(w, r, err)
		return
	}
	ids := make([]uuid.UUID, len(claims))
	for i, c := range claims {
		ids[i] = c.OrganisationID
	}
	names, err := h.orgNames(r.Context(), ids)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	people := make([]uuid.UUID, len(claims))
	for i, c := range claims {
		people[i] = c.UserID
	}
	who, err := h.personNames(r.Context(), people)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := requestsData{}
	p := h.page(r, "tasks", "requests.title", nil)
	switch r.URL.Query().Get("done") {
	case "confirm":
		d.Done = p.L.T("requests.confirmed")
	case "decline":
		d.Done = p.L.T("requests.declined")
	}
	for _, c := range claims {
		d.Claims = append(d.Claims, claimRow{Claim: c, Name: names[c.OrganisationID], Person: who[c.UserID]})
	}
	p.Data = d
	p.showErrors(errs)
	h.render(w, r, status, "requests", p)
}

// decideRequest confirms or declines a representation request: one
// registry call.
func (h *Handler) decideRequest(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	decision := r.PathValue("decision")
	var err error
	switch decision {
	case "confirm":
		_, err = h.o.Registry.ConfirmRepresentation(r.Context(), pr, id, r.PostForm.Get("note"))
	case "decline":
		_, err = h.o.Registry.DeclineRepresentation(r.Context(), pr, id, r.PostForm.Get("reason"))
	default:
		h.notFound(w, r)
		return
	}
	if err != nil {
		errs, err := fieldErrors(h.localizer(r), err)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		for i := range errs {
			errs[i].Field = errs[i].Field + "-" + id.String()
		}
		h.renderRequests(w, r, pr, http.StatusBadRequest, errs)
		return
	}
	http.Redirect(w, r, "/representation-requests?done="+decision, http.StatusSeeOther)
}
