package web

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/revision"
)

// The revision's signed-in pages. Its phase transitions are forms on the
// case page (/instances/{id}); what changes the revision's content — the
// drafts, the decision's details, invitations, the comments section by
// section and the council's responses — is on its workspace
// (/revisions/{id}), each form offered only when revision.Service.Offered
// (or CommentingFor) says so and calling one service method.

// revisionForms are the revision's transitions the case page has a form
// for.
var revisionForms = map[string]formSpec{"start_gathering": {}, "start_dialogue": {}, "start_drafting": {},
	"open_consultation": {Fields: "revision_consultation"}, "send_back": {Warning: true}, "adopt": {}}

func (h *Handler) fireRevision(r *http.Request, pr authz.Principal, transition string, st workflows.Step) (*store.Instance, error) {
	s, ctx := h.o.Revision, r.Context()
	switch transition {
	case "start_gathering", "start_dialogue", "start_drafting":
		return s.Advance(ctx, pr, st)
	case "open_consultation":
		return s.OpenConsultation(ctx, pr, st, deadlineOf(r.PostForm.Get("deadline")))
	case "send_back":
		return s.SendBack(ctx, pr, st)
	case "adopt":
		return h.o.Engine.Approve(ctx, pr, st, transition)
	}
	return nil, apperr.New(apperr.NotFound, "Det finns ingen sådan åtgärd. / There is no such action.")
}

// deadlineOf reads a date field as the end of that day in Stockholm; what
// is no date is the zero time, which the round refuses at its field.
func deadlineOf(s string) time.Time {
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), clock.Stockholm)
	if err != nil {
		return time.Time{}
	}
	return d.Add(24*time.Hour - time.Minute)
}

// section is one numbered part of a draft: the comments are on sections.
type section struct {
	// Label is how the section is referred to ("3.1", or its ordinal).
	Label string
	// Key is the label as a form field suffix.
	Key string
	// Heading is the section's own first line when it is numbered ("3.1
	// Dialog"), otherwise empty; Lines are the rest.
	Heading string
	Lines   []string
}

var sectionNumber = regexp.MustCompile(`^(?:§\s*)?(\d+(?:\.\d+)*)\.?\s`)

// sectionsOf splits a draft at blank lines; a part that begins with a
// number ("3.1 Dialog …", "§ 4 …") is that section, any other is counted.
func sectionsOf(body string) []section {
	var out []section
	for i, p := range paragraphs(body) {
		sec := section{Label: strconv.Itoa(i + 1), Lines: strings.Split(p, "\n")}
		if m := sectionNumber.FindStringSubmatch(p); m != nil {
			sec.Label = m[1]
			if len(sec.Lines) > 1 {
				sec.Heading, sec.Lines = sec.Lines[0], sec.Lines[1:]
			}
		}
		sec.Key = sectionKey(sec.Label)
		out = append(out, sec)
	}
	return out
}

// workspaceData is what the revision's workspace shows the viewer.
type workspaceData struct {
	ID       uuid.UUID
	Version  int
	Phase    string
	Deadline time.Time
	Draft    *store.Draft
	Sections []section
	Drafts   []*store.Draft
	Comments []workspaceComment
	Decision revision.DecisionDetails
	// Offered are the commands the viewer may take; Commenters the
	// organisations they may comment for.
	Offered    map[string]bool
	Commenters []*store.Organisation
	// Done is the command just taken; Failed and Form the form that came
	// back with bad input and what it held.
	Done   string
	Failed string
	Form   map[string]string
}

type workspaceComment struct {
	C   *store.Comment
	Org string
}

// kept is what the person typed into the form that came back, field by
// field (empty for every other form).
func (d workspaceData) Kept(form, field string) string {
	if d.Failed != form {
		return ""
	}
	return d.Form[field]
}

func (h *Handler) revisionWorkspace(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	h.renderWorkspace(w, r, pr, id, http.StatusOK, "", nil)
}

func (h *Handler) renderWorkspace(w http.ResponseWriter, r *http.Request, pr authz.Principal, id uuid.UUID, status int, failed string, errs []FieldError) {
	ctx := r.Context()
	in, err := h.readOfKind(ctx, pr, id, revision.Kind)
	if apperr.IsCode(err, apperr.NotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "revision", "revision.ws.title", nil)
	d := workspaceData{ID: in.ID, Version: in.Version, Phase: p.L.T("revision.state." + in.State), Decision: revision.DecisionOf(in),
		Offered: map[string]bool{}, Failed: failed, Form: map[string]string{}}
	d.Deadline, _ = revision.ConsultationDeadline(in)
	for _, c := range h.o.Revision.Offered(ctx, pr, in) {
		d.Offered[string(c)] = true
	}
	if d.Drafts, err = h.o.Revision.Drafts(ctx, pr, in); err != nil {
		h.fail(w, r, err)
		return
	}
	if out, ok := revision.ConsultationDraft(in); ok {
		for _, dr := range d.Drafts {
			if dr.ID == out {
				d.Draft = dr
			}
		}
	}
	if d.Draft == nil && len(d.Drafts) > 0 {
		d.Draft = d.Drafts[len(d.Drafts)-1]
	}
	if d.Draft != nil {
		d.Sections = sectionsOf(d.Draft.Body)
	}
	comments, err := h.o.Revision.Comments(ctx, pr, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The organisations the viewer represents, and of the comments: one read.
	claims, err := h.o.Registry.ClaimsOf(ctx, pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var mine, orgIDs []uuid.UUID
	for _, c := range claims {
		if c.Status == "confirmed" {
			mine = append(mine, c.OrganisationID)
		}
	}
	commenters := h.o.Revision.CommentingFor(ctx, pr, in, mine)
	orgIDs = append(orgIDs, commenters...)
	for _, c := range comments {
		orgIDs = append(orgIDs, c.OrganisationID)
	}
	orgs, err := h.o.Registry.OrganisationsByIDs(ctx, orgIDs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := map[uuid.UUID]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
		if slices.Contains(commenters, o.ID) {
			d.Commenters = append(d.Commenters, o)
		}
	}
	for _, c := range comments {
		d.Comments = append(d.Comments, workspaceComment{C: c, Org: names[c.OrganisationID]})
	}
	if done := r.URL.Query().Get("done"); done != "" {
		if t := p.L.T("revision.ws.done." + done); !strings.HasPrefix(t, "revision.ws.done.") {
			d.Done = t
		}
	}
	if failed != "" {
		d.Form = keptInput(r)
	}
	p.Title = p.L.T("revision.ws.title") + ": " + d.Phase
	p.showErrors(errs)
	p.Data = d
	h.render(w, r, status, "revision_workspace", p)
}

// reviseCommand decodes one of the workspace's forms and calls the one
// service method it names. Bad input comes back on the workspace with the
// form's input kept and the message at its field (ids carry the form's
// name, as on the case page).
func (h *Handler) reviseCommand(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	ctx, f, command := r.Context(), r.PostForm, revision.Command(r.PathValue("command"))
	st, ok := h.step(w, r, id)
	if !ok {
		return
	}
	var err error
	// form is the form's name in field ids: the command, and for the
	// forms repeated on the page the section or comment they are on.
	form := string(command)
	s := h.o.Revision
	switch command {
	case revision.AddDraftCommand:
		_, _, err = s.AddDraft(ctx, pr, st, f.Get("title"), f.Get("body"))
	case revision.SetDecisionCommand:
		_, err = s.SetDecision(ctx, pr, st, revision.DecisionDetails{Title: f.Get("title"),
			DecisionReference: f.Get("decisionReference"), ScopeNote: f.Get("scopeNote")})
	case revision.InviteCommand:
		var org uuid.UUID
		// The organisation by its number; none found is the nil ID, which
		// the service refuses at the field.
		if number, err := orgnr.Parse(f.Get("organisationNumber")); err == nil {
			found, err := h.o.Registry.ListOrganisations(ctx, store.OrganisationPage{Search: string(number), Limit: 2})
			if err != nil {
				h.fail(w, r, err)
				return
			}
			if len(found) == 1 && found[0].OrganisationNumber == string(number) {
				org = found[0].ID
			}
		}
		_, err = s.Invite(ctx, pr, st, org)
	case revision.CommentCommand:
		form += "-" + sectionKey(f.Get("section"))
		org, _ := uuid.Parse(f.Get("organisationId"))
		_, err = s.Comment(ctx, pr, revision.CommentInput{Step: st, OrganisationID: org, Section: f.Get("section"), Body: f.Get("body")})
	case revision.RespondCommand:
		comment, _ := uuid.Parse(f.Get("commentId"))
		form += "-" + comment.String()
		_, err = s.Respond(ctx, pr, comment, f.Get("response"))
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
		l := h.localizer(r)
		for i := range errs {
			if errs[i].Field == "organisationId" && command == revision.InviteCommand {
				errs[i].Field = "organisationNumber"
			}
			if key, ok := workspaceLabels[string(command)+"."+errs[i].Field]; ok {
				errs[i].Message = namedField(l, errs[i].Message, errs[i].Field, l.T(key))
			}
			errs[i].Field += "-" + form
		}
		h.renderWorkspace(w, r, pr, id, http.StatusBadRequest, form, errs)
		return
	}
	http.Redirect(w, r, "/revisions/"+id.String()+"?done="+string(command), http.StatusSeeOther)
}

// sectionKey is a section's label as a field id suffix.
func sectionKey(label string) string {
	return strings.ReplaceAll(strings.TrimSpace(label), ".", "-")
}

// revisionField is one input of the workspace's or the council's forms:
// its id is the field's name and the form's ("body-add_draft"), its value
// what the person typed when that form came back.
type revisionField struct {
	P                     *Page
	ID, Name, Label, Hint string
	Value                 string
	Rows                  int
}

func newRevisionField(p *Page, kept func(form, field string) string, form, name, label, hint string, rows int) revisionField {
	f := revisionField{P: p, ID: name + "-" + form, Name: name, Label: p.L.T(label), Value: kept(form, name), Rows: rows}
	if hint != "" {
		f.Hint = p.L.T(hint)
	}
	return f
}

// Field is an input of one of the workspace's forms.
func (d workspaceData) Field(p *Page, form, name, label, hint string, rows int) revisionField {
	return newRevisionField(p, d.Kept, form, name, label, hint, rows)
}

// Field is an input of one of the council's forms.
func (d councilData) Field(p *Page, form, name, label, hint string, rows int) revisionField {
	return newRevisionField(p, d.Kept, form, name, label, hint, rows)
}

// workspaceLabels are the labels of the workspace's fields by command and
// field name, as the messages name them.
var workspaceLabels = map[string]string{
	"add_draft.title": "revision.ws.draft_title", "add_draft.body": "revision.ws.draft_body",
	"set_decision.title": "revision.ws.decision_title", "set_decision.decisionReference": "revision.ws.decision_reference",
	"set_decision.scopeNote": "revision.ws.scope_note", "comment.body": "revision.ws.comment_label",
	"respond.response": "revision.ws.response_label",
}

// namedField puts a field's label where a service's message begins with
// the field's name ("body får inte vara tomt." becomes "Fältet ”Din
// synpunkt på avsnittet” får inte vara tomt.").
func namedField(l Localizer, msg, field, label string) string {
	rest, ok := strings.CutPrefix(msg, field+" ")
	if !ok {
		return msg
	}
	return l.T("revision.ws.the_field", label) + " " + rest
}
