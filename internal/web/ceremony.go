package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/signing"
)

// The signing ceremonies: the official's page of the planned ceremonies
// with a form to plan one (signing.Service.CreateCeremony), and on an
// approved application's page the form that attaches it to one
// (signing.Service.AttachToCeremony, through fireSigning).

// ceremoniesData is the page of the planned ceremonies.
type ceremoniesData struct {
	Ceremonies []*store.Ceremony
	// Version is the agreement version a new ceremony is for.
	Version string
	Kept    map[string]string
	Done    bool
}

func (h *Handler) ceremonies(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	h.renderCeremonies(w, r, pr, http.StatusOK, map[string]string{}, nil)
}

func (h *Handler) renderCeremonies(w http.ResponseWriter, r *http.Request, pr authz.Principal, status int, kept map[string]string, errs []FieldError) {
	list, err := h.o.Signing.PlannedCeremonies(r.Context(), pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	versions, err := h.o.Registry.CurrentVersions(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := ceremoniesData{Ceremonies: list, Kept: kept, Done: r.URL.Query().Get("done") == "planned"}
	if len(versions) > 0 {
		d.Version = versions[0].Title
	}
	p := h.page(r, "tasks", "ceremony.title", d)
	p.showErrors(errs)
	h.render(w, r, status, "ceremonies", p)
}

// planCeremony plans a ceremony for the agreement version in force; a
// date not written ÅÅÅÅ-MM-DD comes back at its field and nothing is saved.
func (h *Handler) planCeremony(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	in := signing.CeremonyInput{Title: strings.TrimSpace(f.Get("title")), Place: strings.TrimSpace(f.Get("place"))}
	err := func() error {
		day, err := time.Parse(time.DateOnly, strings.TrimSpace(f.Get("heldOn")))
		if err != nil {
			return h.invalid("heldOn", "ceremony.error.date")
		}
		in.HeldOn = day
		versions, err := h.o.Registry.CurrentVersions(r.Context())
		if err != nil {
			return err
		}
		if len(versions) > 0 {
			in.AgreementVersionID = versions[0].ID
		}
		_, err = h.o.Signing.CreateCeremony(r.Context(), pr, in)
		return err
	}()
	if err != nil {
		errs, err := fieldErrors(h.localizer(r), err)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		h.renderCeremonies(w, r, pr, http.StatusBadRequest, keptInput(r), errs)
		return
	}
	http.Redirect(w, r, "/ceremonies?done=planned", http.StatusSeeOther)
}

// attachToCeremony decodes the ceremony chosen on an approved application's
// page.
func (h *Handler) attachToCeremony(r *http.Request, pr authz.Principal, st workflows.Step) (*store.Instance, error) {
	id, err := uuid.Parse(r.PostForm.Get("ceremonyId"))
	if err != nil {
		return nil, h.invalid("ceremonyId", "ceremony.error.choose")
	}
	return h.o.Signing.AttachToCeremony(r.Context(), pr, st, id)
}

// ceremonyFacts adds to an application's page the ceremony it waits for,
// and the planned ones when the viewer may attach it to one.
func (h *Handler) ceremonyFacts(r *http.Request, pr authz.Principal, in *store.Instance, d *instanceData) error {
	if id, ok := signing.CeremonyOf(in); ok {
		c, err := h.o.Signing.Ceremony(r.Context(), id)
		if err != nil {
			return err
		}
		d.Ceremony = c
	}
	for _, a := range d.Actions {
		if in.Kind == signing.Kind && a.Transition == "attach_to_ceremony" {
			list, err := h.o.Signing.PlannedCeremonies(r.Context(), pr)
			if err != nil {
				return err
			}
			d.Ceremonies = list
		}
	}
	return nil
}
