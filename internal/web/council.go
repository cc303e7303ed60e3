package web

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/revision"
)

// The council's page ("Rådet"): the decisions of the agreement in force
// that wait for the council's approval — the follow-ups and the revision —
// each with what exactly is approved, who has approved so far on each side,
// and the viewer's approve and send-back forms. A decision is on the page
// when the engine offers the viewer its approval (an available action that
// needs approval, as the work queue and the GraphQL API mark it); approving
// is the engine's generic approval (as the API's `approve`), sending a
// revision back revision.Service.SendBack. A follow-up is sent back on its
// case page.

// councilItem is one decision awaiting the council.
type councilItem struct {
	ID       uuid.UUID
	Kind     string
	Workflow string
	State    string
	Version  int
	// Approve is the transition the approval is for, Title what it does,
	// Approved whether the viewer has already given theirs.
	Approve  string
	Title    string
	Approved bool
	// SendBack is whether the viewer may send a revision back here.
	SendBack bool
	Sides    []councilSide
	// What is approved: a follow-up's year, or a revision's draft and
	// decision.
	Year     int
	Draft    *store.Draft
	Decision revision.DecisionDetails
	Open     int
}

// councilSide is one side's requirement and who has approved on it.
type councilSide struct {
	Title     string
	Required  int
	Approvers []string
}

// approvalSides is, per side, who has approved transition so far (every
// transition needing approval when transition is ""), by name.
func approvalSides(l Localizer, pending []workflows.Progress, transition string, names map[uuid.UUID]string) []councilSide {
	var out []councilSide
	for _, pg := range pending {
		if transition != "" && pg.Transition != transition {
			continue
		}
		side := councilSide{Title: inLanguage(pg.Requirement.Title, l.Lang), Required: pg.Requirement.Count}
		for _, id := range pg.Approvers {
			side.Approvers = append(side.Approvers, names[id])
		}
		out = append(out, side)
	}
	return out
}

type councilData struct {
	Items []councilItem
	Done  string
	// Failed and Form are the form that came back with bad input.
	Failed string
	Form   map[string]string
}

// Kept is what the person typed into the form that came back.
func (d councilData) Kept(form, field string) string {
	if d.Failed != form {
		return ""
	}
	return d.Form[field]
}

func (h *Handler) council(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	h.renderCouncil(w, r, pr, http.StatusOK, "", nil)
}

func (h *Handler) renderCouncil(w http.ResponseWriter, r *http.Request, pr authz.Principal, status int, failed string, errs []FieldError) {
	ctx := r.Context()
	p := h.page(r, "council", "council.title", nil)
	d := councilData{Failed: failed, Form: map[string]string{}}
	versions, err := h.o.Registry.CurrentVersions(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	versionIDs := make([]uuid.UUID, len(versions))
	for i, v := range versions {
		versionIDs[i] = v.ID
	}
	candidates, err := h.o.FollowUp.FollowUpsOf(ctx, pr, versionIDs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, v := range versions {
		rev, err := h.o.Revision.Revision(ctx, v.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if rev != nil {
			candidates = append(candidates, rev)
		}
	}
	ids := make([]uuid.UUID, len(candidates))
	for i, in := range candidates {
		ids[i] = in.ID
	}
	approvals, err := h.o.Engine.ApprovalsOf(ctx, ids)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	liveOf := map[uuid.UUID][]store.Approval{}
	var approverIDs []uuid.UUID
	for _, a := range approvals {
		liveOf[a.InstanceID] = append(liveOf[a.InstanceID], a)
		approverIDs = append(approverIDs, a.ApproverID)
	}
	names, err := h.personNames(ctx, approverIDs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, in := range candidates {
		item, ok := h.councilItem(r, p.L, pr, in, liveOf[in.ID], names)
		if !ok {
			continue
		}
		if in.Kind == revision.Kind {
			if err := h.revisionSubject(r, pr, in, &item); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		d.Items = append(d.Items, item)
	}
	if done := r.URL.Query().Get("done"); done == "approve" || done == "send_back" {
		d.Done = p.L.T("council.done." + done)
	}
	if failed != "" {
		d.Form = keptInput(r)
	}
	p.showErrors(errs)
	p.Data = d
	h.render(w, r, status, "council", p)
}

// councilItem is the instance as the council sees it, when the engine
// offers the viewer an approval on it.
func (h *Handler) councilItem(r *http.Request, l Localizer, pr authz.Principal, in *store.Instance, live []store.Approval,
	names map[uuid.UUID]string) (councilItem, bool) {
	item := councilItem{ID: in.ID, Kind: in.Kind, Workflow: in.Kind, State: in.State, Version: in.Version}
	for _, a := range h.o.Engine.AvailableActions(r.Context(), pr, in, live) {
		switch {
		case a.NeedsApproval && item.Approve == "":
			item.Approve, item.Title, item.Approved = a.Transition, inLanguage(a.Title, l.Lang), a.Approved
		case in.Kind == revision.Kind && a.Transition == "send_back":
			item.SendBack = true
		}
	}
	if item.Approve == "" {
		return item, false
	}
	if def, err := h.o.Engine.Definition(in.Kind, in.DefinitionVersion); err == nil {
		item.Workflow = inLanguage(def.Title, l.Lang)
		item.State = inLanguage(def.StateTitle(workflows.State(in.State)), l.Lang)
	}
	item.Sides = approvalSides(l, h.o.Engine.PendingApprovals(in, live), item.Approve, names)
	if in.Kind == followup.Kind {
		item.Year = followup.Year(in)
	}
	return item, true
}

// revisionSubject is what approving the revision adopts: its latest draft
// with the decision's details, and how many comments still wait for the
// council's response.
func (h *Handler) revisionSubject(r *http.Request, pr authz.Principal, in *store.Instance, item *councilItem) error {
	drafts, err := h.o.Revision.Drafts(r.Context(), pr, in)
	if err != nil {
		return err
	}
	if len(drafts) > 0 {
		item.Draft = drafts[len(drafts)-1]
	}
	item.Decision = revision.DecisionOf(in)
	comments, err := h.o.Revision.Comments(r.Context(), pr, in)
	for _, c := range comments {
		if c.Response == nil {
			item.Open++
		}
	}
	return err
}

// councilDecide approves (the engine's approval of the transition the form
// names) or sends a revision back (revision.Service.SendBack, with its
// reason).
func (h *Handler) councilDecide(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	decision, f := r.PathValue("decision"), r.PostForm
	st, ok := h.step(w, r, id)
	if !ok {
		return
	}
	var err error
	switch decision {
	case "approve":
		// The approval's reason is what the engine calls its comment.
		_, err = h.o.Engine.Approve(r.Context(), pr, st, f.Get("transition"))
	case "send_back":
		_, err = h.o.Revision.SendBack(r.Context(), pr, st)
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
		form := decision + "-" + id.String()
		for i := range errs {
			if errs[i].Field == "comment" {
				errs[i].Field = "reason"
			}
			errs[i].Field += "-" + form
		}
		h.renderCouncil(w, r, pr, http.StatusBadRequest, form, errs)
		return
	}
	http.Redirect(w, r, "/council?done="+decision, http.StatusSeeOther)
}
