package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/store"
)

// Asking to represent an organisation already registered: a search of the
// register by name or organisation number, each result with a button that
// calls registry.AskToRepresent; an official confirms the request at
// /representation-requests.

// findLimit is how many organisations one search shows.
const findLimit = 20

// findData is the search and its results.
type findData struct {
	Query    string
	Searched bool
	Results  []*store.Organisation
	// More: the search matched more than findLimit organisations.
	More bool
}

func (h *Handler) findOrganisation(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.viewer(w, r); !ok {
		return
	}
	q := r.URL.Query()
	_, searched := q["q"]
	h.renderFind(w, r, http.StatusOK, strings.TrimSpace(q.Get("q")), searched, nil)
}

// renderFind shows the search page; an empty search explains itself at
// the field.
func (h *Handler) renderFind(w http.ResponseWriter, r *http.Request, status int, query string, searched bool, errs []FieldError) {
	p := h.page(r, "my-organisations", "find.title", nil)
	d := findData{Query: query, Searched: searched}
	if searched && query == "" {
		errs = append(errs, FieldError{Field: "q", Message: p.L.T("find.error.empty")})
		status = http.StatusBadRequest
	}
	if query != "" {
		search := query
		if n, err := orgnr.Parse(query); err == nil {
			search = string(n)
		}
		orgs, err := h.o.Registry.ListOrganisations(r.Context(), store.OrganisationPage{Search: search, Limit: findLimit + 1})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(orgs) > findLimit {
			orgs, d.More = orgs[:findLimit], true
		}
		d.Results = orgs
	}
	p.Data = d
	p.showErrors(errs)
	h.render(w, r, status, "claim", p)
}

// askToRepresent calls registry.AskToRepresent; the domain's refusal (a
// second request, a public-side role, a public body) comes back on the
// search page at the organisation's row, in the page's language.
func (h *Handler) askToRepresent(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	if _, err := h.o.Registry.AskToRepresent(r.Context(), pr, id); err != nil {
		ae, isDomain := apperr.As(err)
		if !isDomain {
			h.fail(w, r, err)
			return
		}
		status := http.StatusBadRequest
		switch ae.Code {
		case apperr.Forbidden, apperr.Unauthenticated:
			status = http.StatusForbidden
		case apperr.Conflict:
			status = http.StatusConflict
		case apperr.NotFound:
			status = http.StatusNotFound
		}
		l := h.localizer(r)
		msgs := []FieldError{{Field: "org-" + id.String(), Message: inLanguage(ae.Message, l.Lang)}}
		if faults := apperr.FieldsOf(err); faults != nil {
			msgs = msgs[:0]
			for _, f := range faults {
				msgs = append(msgs, FieldError{Field: "org-" + id.String(), Message: inLanguage(f.Message, l.Lang)})
			}
		}
		h.renderFind(w, r, status, strings.TrimSpace(r.PostForm.Get("q")), true, msgs)
		return
	}
	o, err := h.o.Registry.Organisation(r.Context(), id)
	if err != nil || o == nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/my-organisations?asked="+url.QueryEscape(o.Name), http.StatusSeeOther)
}
