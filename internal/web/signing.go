package web

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/iop"
	"github.com/samverkan/samverkan/workflows/revision"
	"github.com/samverkan/samverkan/workflows/signing"
)

// The signing pages: applying to sign, and the forms on an application's
// page for the actions the engine offers the viewer. Each POST calls one
// method of signing.Service with the instance's expected version.

// applyData is the application form.
type applyData struct {
	OrgID     uuid.UUID
	OrgName   string
	VersionID uuid.UUID
	Version   string
	Checked   map[string]bool
}

func (h *Handler) applyForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.viewer(w, r); !ok {
		return
	}
	h.renderApply(w, r, http.StatusOK, map[string]bool{}, nil)
}

func (h *Handler) renderApply(w http.ResponseWriter, r *http.Request, status int, checked map[string]bool, errs []FieldError) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		h.notFound(w, r)
		return
	}
	org, err := h.o.Registry.Organisation(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if org == nil {
		h.notFound(w, r)
		return
	}
	versions, err := h.o.Registry.CurrentVersions(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := applyData{OrgID: org.ID, OrgName: org.Name, Checked: checked}
	if len(versions) > 0 {
		d.VersionID, d.Version = versions[0].ID, versions[0].Title
	}
	p := h.page(r, "my-organisations", "apply.title", d)
	p.showErrors(errs)
	h.render(w, r, status, "apply", p)
}

func (h *Handler) apply(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	orgID, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		h.notFound(w, r)
		return
	}
	versionID, _ := uuid.Parse(r.PostForm.Get("versionId"))
	checked := map[string]bool{}
	for _, k := range []string{"regionalPerspective", "democraticValues", "independent"} {
		checked[k] = r.PostForm.Get(k) == "yes"
	}
	in, err := h.o.Signing.Apply(r.Context(), pr, orgID, versionID, signing.Declarations{RegionalPerspective: checked["regionalPerspective"],
		DemocraticValues: checked["democraticValues"], Independent: checked["independent"]})
	if err != nil {
		errs, err := fieldErrors(h.localizer(r), err)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		for i := range errs {
			if errs[i].Field == "declarations" {
				errs[i].Field = "regionalPerspective"
			}
		}
		h.renderApply(w, r, http.StatusBadRequest, checked, errs)
		return
	}
	http.Redirect(w, r, "/instances/"+in.ID.String()+"?done=apply", http.StatusSeeOther)
}

// actionForm is one action the engine offers on an instance, as a form
// when the web has one for it.
type actionForm struct {
	Transition string
	Title      string
	Form       bool
	Reason     bool
	formSpec
}

// formSpec is how one action's form looks beyond its reason field.
type formSpec struct {
	// Criteria asks for the three signing criteria.
	Criteria bool
	// Fields names a partial template (templates/part_*.html) with the
	// form's other inputs; it gets a subformData.
	Fields string
	// Warning draws the button as one that cannot easily be undone.
	Warning bool
}

// workflowForms is, for one workflow kind, the actions the pages have a
// form for and the one service method each form calls.
type workflowForms struct {
	forms map[string]formSpec
	fire  func(r *http.Request, pr authz.Principal, transition string, st workflows.Step) (*store.Instance, error)
	// page is the workflow's own page of an instance ("" for none), its
	// path with {id} for the instance's id or {subject} for its subject's,
	// and pageLink the key of the link's text.
	page, pageLink string
}

// formsByKind lists the workflows whose actions the case page offers.
func (h *Handler) formsByKind() map[string]workflowForms {
	return map[string]workflowForms{
		signing.Kind:  {forms: signingForms, fire: h.fireSigning},
		revision.Kind: {forms: revisionForms, fire: h.fireRevision, page: "/revisions/{id}", pageLink: "revision.ws.open"},
		followup.Kind: {forms: followupForms, fire: h.fireFollowUp, page: "/followups/{id}", pageLink: "followup.page_link"},
		iop.Kind:      {forms: iopForms, fire: h.fireIOP, page: "/partnerships/{subject}/case", pageLink: "partnership.case_link"},
	}
}

// signingForms are the signing actions the pages have a form for.
var signingForms = map[string]formSpec{"start_review": {}, "request_information": {}, "provide_information": {},
	"approve": {Criteria: true}, "reject": {Warning: true}, "reopen": {}, "sign": {}, "withdraw": {Warning: true},
	"confirm": {}, "detach_from_ceremony": {}, "attach_to_ceremony": {Fields: "ceremony-choice"}}

// subformData is what a form's partial template gets: the page (for texts,
// field errors and kept input) and the action.
type subformData struct {
	P      *Page
	Action actionForm
	// Kept is what the person typed, when this action's form came back.
	Kept map[string]string
}

func (h *Handler) actionForms(l Localizer, in *store.Instance, actions []workflows.Action) []actionForm {
	def, _ := h.o.Engine.Definition(in.Kind, in.DefinitionVersion)
	kind := h.forms[in.Kind]
	var out []actionForm
	for _, a := range actions {
		f := actionForm{Transition: a.Transition, Title: a.Title}
		if f.Title == "" {
			f.Title = a.Transition
		}
		f.Title = inLanguage(f.Title, l.Lang)
		if spec, ok := kind.forms[a.Transition]; ok {
			f.Form, f.formSpec = true, spec
		}
		if def != nil {
			if t, ok := def.Transition(a.Transition); ok {
				f.Reason = t.RequireReason
			}
		}
		out = append(out, f)
	}
	return out
}

// step is the case an action's form acts on: its id, the version the form
// was made from (a form without one is refused: the engine checks no
// version it is not given) and the reason typed into it.
func (h *Handler) step(w http.ResponseWriter, r *http.Request, id uuid.UUID) (workflows.Step, bool) {
	version, err := strconv.Atoi(r.PostForm.Get("expectedVersion"))
	if err != nil || version < 1 {
		h.actionFailed(w, r, apperr.Invalid("expectedVersion", "Formuläret saknar ärendets version; ladda om sidan. / The form lacks the case's version; reload the page."))
		return workflows.Step{}, false
	}
	return workflows.Step{ID: id, ExpectedVersion: version, Reason: r.PostForm.Get("reason")}, true
}

// act decodes an action's form and calls the one service method it names,
// chosen by the instance's workflow.
func (h *Handler) act(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	transition := r.PathValue("transition")
	st, ok := h.step(w, r, id)
	if !ok {
		return
	}
	in, err := h.o.Engine.Read(r.Context(), pr, id)
	if err != nil {
		h.actionFailed(w, r, err)
		return
	}
	kind, ok := h.forms[in.Kind]
	if _, has := kind.forms[transition]; !ok || !has {
		h.actionFailed(w, r, apperr.New(apperr.NotFound, "Det finns ingen sådan åtgärd. / There is no such action."))
		return
	}
	_, err = kind.fire(r, pr, transition, st)
	if err != nil {
		errs, err := fieldErrors(h.localizer(r), err)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		for i := range errs {
			errs[i].Field = errs[i].Field + "-" + transition
		}
		h.renderInstance(w, r, pr, id, http.StatusBadRequest, transition, errs)
		return
	}
	http.Redirect(w, r, "/instances/"+id.String()+"?done="+transition, http.StatusSeeOther)
}

func (h *Handler) fireSigning(r *http.Request, pr authz.Principal, transition string, st workflows.Step) (*store.Instance, error) {
	s, ctx, f := h.o.Signing, r.Context(), r.PostForm
	switch transition {
	case "start_review":
		return s.StartReview(ctx, pr, st)
	case "request_information":
		return s.RequestInformation(ctx, pr, st)
	case "provide_information":
		return s.ProvideInformation(ctx, pr, st)
	case "approve":
		return s.Approve(ctx, pr, st, signing.Eligibility{RegionalPerspective: f.Get("regionalPerspective") == "yes",
			DemocraticValues: f.Get("democraticValues") == "yes", Independent: f.Get("independent") == "yes"})
	case "reject":
		return s.Reject(ctx, pr, st)
	case "reopen":
		return s.Reopen(ctx, pr, st)
	case "sign":
		return s.Sign(ctx, pr, st)
	case "withdraw":
		return s.Withdraw(ctx, pr, st)
	case "confirm":
		return s.Confirm(ctx, pr, st)
	case "attach_to_ceremony":
		return h.attachToCeremony(r, pr, st)
	case "detach_from_ceremony":
		return s.DetachFromCeremony(ctx, pr, st)
	}
	return nil, apperr.New(apperr.NotFound, "Det finns ingen sådan åtgärd. / There is no such action.")
}

// criteria is the three signing criteria as checkboxes, each explained in
// plain words; suffix tells the forms on one page apart.
type criteria struct {
	Legend, Error, First, Prefix string
	Items                        []criterion
}

type criterion struct {
	ID, Name, Label, Hint string
	Checked               bool
}

// The criteria of the agreement (see the domain): a regional perspective,
// democratic values, independence of the public sector.
var criterionNames = []string{"regionalPerspective", "democraticValues", "independent"}

func criteriaOf(p *Page, transition, legend string, checked map[string]bool, _ string) criteria {
	suffix := ""
	if transition != "" {
		suffix = "-" + transition
	}
	c := criteria{Legend: p.L.T(legend), Prefix: p.L.T("error.prefix"), First: criterionNames[0] + suffix}
	for _, n := range criterionNames {
		id := n + suffix
		if e := p.FieldErr(id); e != "" && c.Error == "" {
			c.Error = e
		}
		c.Items = append(c.Items, criterion{ID: id, Name: n, Label: p.L.T("criterion." + n), Hint: p.L.T("criterion." + n + ".hint"), Checked: checked[n]})
	}
	return c
}
