package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
)

// The IOP pages (idéburet offentligt partnerskap): proposing a partnership,
// the partnership's own page for its parties and the officials (the record,
// the assessment, the drafts and their comments, who has approved, the
// yearly reports, and the forms for drafting, commenting, reporting and
// giving notice), and the forms on the case page (/instances/{id}) for the
// workflow's transitions. Each POST calls one method of iop.Service with
// the partnership's id and the version of its instance the person read.

// iopForms are the partnership transitions the case page has a form for.
// Notice (terminate) is given on the partnership's page, which knows the
// parties the viewer may give it for.
var iopForms = map[string]formSpec{
	"start_assessment":    {Fields: "iop_context"},
	"assess_suitable":     {Fields: "iop_assessment"},
	"assess_not_suitable": {Fields: "iop_assessment", Warning: true},
	"submit_for_decision": {Fields: "iop_context"},
	"send_back":           {Fields: "iop_context", Warning: true},
	"approve":             {Fields: "iop_context"},
	"withdraw":            {Warning: true},
	"propose_renewal":     {Fields: "iop_renewal"},
	"renew":               {Fields: "iop_context"},
	"propose_amendment":   {Fields: "iop_amendment"},
	"adopt_amendment":     {Fields: "iop_context"},
	"reject_amendment":    {Warning: true},
}

// assessmentQuestions are the official's checklist, in the order asked.
var assessmentQuestions = []string{"economicActivity", "marketOrCompetition", "possibleStateAid", "ideaBasedOrganisation"}

// fireIOP calls the one service method of a transition's form; the case
// page's id is the instance's, the service's the partnership's.
func (h *Handler) fireIOP(r *http.Request, pr authz.Principal, transition string, st workflows.Step) (*store.Instance, error) {
	in, err := h.o.Engine.Read(r.Context(), pr, st.ID)
	if err != nil {
		return nil, err
	}
	st.ID = in.SubjectID
	s, ctx, f := h.o.IOP, r.Context(), r.PostForm
	result := func(res *workflows.Result, err error) (*store.Instance, error) {
		if err != nil {
			return nil, err
		}
		return res.Instance, nil
	}
	switch transition {
	case "start_assessment":
		return s.StartAssessment(ctx, pr, st)
	case "assess_suitable", "assess_not_suitable":
		a := iop.AssessmentInput{
			EconomicActivity: f.Get("economicActivity") == "yes", EconomicActivityJustification: f.Get("economicActivityJustification"),
			MarketOrCompetition: f.Get("marketOrCompetition") == "yes", MarketOrCompetitionJustification: f.Get("marketOrCompetitionJustification"),
			PossibleStateAid: f.Get("possibleStateAid") == "yes", PossibleStateAidJustification: f.Get("possibleStateAidJustification"),
			IdeaBasedOrganisation: f.Get("ideaBasedOrganisation") == "yes", IdeaBasedOrganisationJustification: f.Get("ideaBasedOrganisationJustification"),
			Recommendation: f.Get("recommendation"),
		}
		// The form the official chose says what they concluded; the
		// checklist must say the same, or nothing is recorded.
		if suitable := transition == "assess_suitable"; a.Suitable() != suitable {
			if suitable {
				return nil, h.invalid("ideaBasedOrganisation", "partnership.error.not_suitable")
			}
			return nil, h.invalid("economicActivity", "partnership.error.suitable")
		}
		in, _, err := s.Assess(ctx, pr, st, a)
		return in, err
	case "submit_for_decision":
		return s.SubmitForDecision(ctx, pr, st)
	case "send_back":
		return s.SendBack(ctx, pr, st)
	case "approve":
		return result(s.Approve(ctx, pr, st))
	case "withdraw":
		return s.Withdraw(ctx, pr, st)
	case "propose_renewal":
		end, err := time.Parse(time.DateOnly, strings.TrimSpace(f.Get("endDate")))
		if err != nil {
			return nil, h.invalid("endDate", "partnership.error.date")
		}
		return s.ProposeRenewal(ctx, pr, st, end)
	case "renew":
		return result(s.Renew(ctx, pr, st))
	case "propose_amendment":
		a := iop.AmendmentInput{Description: f.Get("description"), Budget: amountText(f.Get("budget"))}
		if purpose := strings.TrimSpace(f.Get("purpose")); purpose != "" {
			a.Fields = map[string]string{"purpose": purpose}
		}
		in, _, err := s.Amend(ctx, pr, st, a)
		return in, err
	case "adopt_amendment":
		return result(s.AdoptAmendment(ctx, pr, st))
	case "reject_amendment":
		return s.RejectAmendment(ctx, pr, st)
	}
	return nil, apperr.New(apperr.NotFound, "Det finns ingen sådan åtgärd. / There is no such action.")
}

// invalid is a BAD_INPUT error at field whose message is a catalogue text,
// in Swedish then English as every domain message.
func (h *Handler) invalid(field, key string, args ...any) error {
	sv := Localizer{Lang: "sv", msgs: h.msgs["sv"]}
	en := Localizer{Lang: "en", msgs: h.msgs["en"]}
	return &apperr.Error{Code: apperr.BadInput, Field: field, Message: sv.T(key, args...) + " / " + en.T(key, args...)}
}

// amountText is an amount as typed, without the "kr" a person may add.
func amountText(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "kr"), "SEK")
	return strings.TrimSpace(s)
}

// option is one choice of a select.
type option struct {
	ID   uuid.UUID
	Name string
}

// proposeFields are the inputs of the proposal form, with their defaults.
var proposeFields = []string{"organisation", "publicBody", "title", "purpose", "goals", "targetGroup", "startDate", "endDate",
	"noticeMonths", "reportDueMonth", "reportDueDay", "publicContribution", "volunteerHours", "budget"}

// proposeData is the proposal form: the organisations the viewer
// represents, the public bodies there are, and the input.
type proposeData struct {
	Orgs         []option
	PublicBodies []option
	Kept         map[string]string
}

func (h *Handler) proposeForm(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	kept := map[string]string{"noticeMonths": "3", "reportDueMonth": "3", "reportDueDay": "31", "organisation": r.URL.Query().Get("org")}
	h.renderPropose(w, r, pr, http.StatusOK, kept, nil)
}

func (h *Handler) renderPropose(w http.ResponseWriter, r *http.Request, pr authz.Principal, status int, kept map[string]string, errs []FieldError) {
	ctx := r.Context()
	claims, err := h.o.Registry.ClaimsOf(ctx, pr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	agreements, err := h.o.Registry.Agreements(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var orgIDs, bodyIDs []uuid.UUID
	for _, c := range claims {
		if c.Status == "confirmed" {
			orgIDs = append(orgIDs, c.OrganisationID)
		}
	}
	for _, a := range agreements {
		if !slices.Contains(bodyIDs, a.PublicBodyID) {
			bodyIDs = append(bodyIDs, a.PublicBodyID)
		}
	}
	names, err := h.orgNames(r.Context(), append(slices.Clone(orgIDs), bodyIDs...))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := proposeData{Kept: kept}
	for _, id := range orgIDs {
		d.Orgs = append(d.Orgs, option{ID: id, Name: names[id]})
	}
	for _, id := range bodyIDs {
		d.PublicBodies = append(d.PublicBodies, option{ID: id, Name: names[id]})
	}
	p := h.page(r, "my-organisations", "partnership.propose.title", d)
	p.showErrors(errs)
	h.render(w, r, status, "iop_propose", p)
}

// propose reads the proposal; what cannot be read as a date, a number or
// an amount comes back at its field, every such field at once, before the
// service is asked; the service's own message comes back at its field.
// Nothing is saved unless the whole proposal holds.
func (h *Handler) propose(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	kept := map[string]string{}
	for _, k := range proposeFields {
		kept[k] = f.Get(k)
	}
	l := h.localizer(r)
	var errs []FieldError
	bad := func(field string, err error) {
		if fe, other := fieldErrors(l, err); other == nil {
			errs = append(errs, FieldError{Field: field, Message: fe[0].Message})
		}
	}
	in := iop.ProposeInput{Record: iop.Record{Title: kept["title"], Purpose: kept["purpose"], Goals: kept["goals"],
		TargetGroup: kept["targetGroup"], Budget: amountText(kept["budget"])}}
	org, err := uuid.Parse(kept["organisation"])
	if err != nil {
		bad("organisation", h.invalid("organisation", "partnership.error.organisation"))
	}
	in.PublicBodyID, err = uuid.Parse(kept["publicBody"])
	if err != nil {
		bad("publicBody", h.invalid("publicBody", "partnership.error.public_body"))
	}
	in.IdeaBasedIDs = []uuid.UUID{org}
	for _, d := range []struct {
		field string
		to    *time.Time
	}{{"startDate", &in.StartDate}, {"endDate", &in.EndDate}} {
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(kept[d.field]))
		if err != nil {
			bad(d.field, h.invalid(d.field, "partnership.error.date"))
		}
		*d.to = t
	}
	for _, n := range []struct {
		field string
		to    *int
	}{{"noticeMonths", &in.NoticeMonths}, {"reportDueMonth", &in.ReportDueMonth}, {"reportDueDay", &in.ReportDueDay}} {
		v, err := strconv.Atoi(strings.TrimSpace(kept[n.field]))
		if err != nil {
			bad(n.field, h.invalid(n.field, "partnership.error.whole_number"))
		}
		*n.to = v
	}
	amount := func(field string, required bool) string {
		text := amountText(kept[field])
		if text == "" && !required {
			return ""
		}
		if strings.Trim(text, "0123456789 \u00a0\u202f,.-") != "" {
			bad(field, h.invalid(field, "partnership.error.amount", kept[field]))
			return ""
		}
		if _, err := iop.ParseAmount(field, text); err != nil {
			bad(field, err)
			return ""
		}
		return text
	}
	public, hours := amount("publicContribution", true), amount("volunteerHours", false)
	if in.Budget != "" {
		amount("budget", false)
	}
	if len(errs) > 0 {
		h.renderPropose(w, r, pr, http.StatusBadRequest, kept, errs)
		return
	}
	// The public body's money and the organisation's volunteer hours, each
	// year of the period.
	for y := in.StartDate.Year(); y <= in.EndDate.Year() && y-in.StartDate.Year() <= iop.MaxYears; y++ {
		in.Contributions = append(in.Contributions, iop.ContributionInput{OrganisationID: in.PublicBodyID, Year: y, Kind: "money", Amount: public})
		if hours != "" {
			in.Contributions = append(in.Contributions, iop.ContributionInput{OrganisationID: org, Year: y, Kind: "volunteer_hours", Amount: hours})
		}
	}
	p, _, err := h.o.IOP.Propose(r.Context(), pr, in)
	if err != nil {
		fe, err := fieldErrors(l, err)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		fe[0].Field = proposeField(fe[0].Field)
		h.renderPropose(w, r, pr, http.StatusBadRequest, kept, fe)
		return
	}
	http.Redirect(w, r, "/partnerships/"+p.ID.String()+"/case?done=proposed", http.StatusSeeOther)
}

// proposeField is the form's input for a field the service names.
func proposeField(field string) string {
	switch {
	case field == "publicBodyId":
		return "publicBody"
	case strings.HasPrefix(field, "ideaBasedIds"):
		return "organisation"
	case strings.HasPrefix(field, "contributions"):
		if strings.Contains(field, "volunteer") {
			return "volunteerHours"
		}
		return "publicContribution"
	case slices.Contains(proposeFields, field):
		return field
	}
	return "form"
}

// iopCaseData is the partnership's page for its parties and officials.
type iopCaseData struct {
	P          *iop.Partnership
	PublicBody string
	IdeaBased  []string
	State      string
	Actions    []string
	Assessment *store.PartnershipAssessment
	Drafts     []*store.PartnershipDraft
	Latest     *store.PartnershipDraft
	Comments   []commentRow
	Reports    []*store.PartnershipReport
	Pending    []pendingRow
	Money      []moneyRow
	Offers     iop.Offers
	Terminate  []option
	Done       string
	// Failed is the form that came back with bad input; Kept what it held.
	Failed string
	Kept   map[string]string
}

type commentRow struct {
	C      *store.DraftComment
	Author string
	Party  string
}

type pendingRow struct {
	Decision  string
	Party     string
	Approvers []string
}

// moneyRow is one party's contribution in one year.
type moneyRow struct {
	Party  string
	Year   int
	Kind   string
	Amount int64
	Unit   string
}

func (h *Handler) partnershipCase(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	h.renderCase(w, r, pr, id, http.StatusOK, "", nil)
}

func (h *Handler) renderCase(w http.ResponseWriter, r *http.Request, pr authz.Principal, id uuid.UUID, status int, failed string, errs []FieldError) {
	ctx, s := r.Context(), h.o.IOP
	v, err := s.Get(ctx, pr, id)
	if apperr.IsCode(err, apperr.NotFound) || (err == nil && !v.Private) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "tasks", "partnership.case.title", nil)
	d := iopCaseData{P: v, Failed: failed, Kept: map[string]string{}}
	if d.Assessment, err = s.Assessment(ctx, pr, id); err == nil {
		if d.Drafts, err = s.Drafts(ctx, pr, id); err == nil {
			if d.Reports, err = s.Reports(ctx, pr, id); err == nil {
				d.Offers, err = s.Offers(ctx, pr, id)
			}
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var comments []*store.DraftComment
	if len(d.Drafts) > 0 {
		d.Latest = d.Drafts[len(d.Drafts)-1]
		slices.Reverse(d.Drafts)
		if comments, err = s.DraftComments(ctx, pr, d.Latest.ID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	pending, err := s.Pending(ctx, pr, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	orgIDs := make([]uuid.UUID, 0, len(v.Parties))
	for _, party := range v.Parties {
		orgIDs = append(orgIDs, party.OrganisationID)
	}
	names, err := h.orgNames(r.Context(), orgIDs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var people []uuid.UUID
	for _, c := range comments {
		people = append(people, c.AuthorID)
	}
	for _, pg := range pending {
		people = append(people, pg.Approvers...)
	}
	who, err := h.personNames(ctx, people)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, party := range v.Parties {
		if party.Role == "public" {
			d.PublicBody = names[party.OrganisationID]
		} else {
			d.IdeaBased = append(d.IdeaBased, names[party.OrganisationID])
		}
	}
	for _, c := range comments {
		row := commentRow{C: c, Author: who[c.AuthorID]}
		if c.OrganisationID != nil {
			row.Party = names[*c.OrganisationID]
		}
		d.Comments = append(d.Comments, row)
	}
	def, _ := h.o.Engine.Definition(v.Instance.Kind, v.Instance.DefinitionVersion)
	d.State = v.Instance.State
	if def != nil {
		d.State = inLanguage(def.StateTitle(workflows.State(v.Instance.State)), p.L.Lang)
	}
	for _, pg := range pending {
		row := pendingRow{Decision: pg.Transition, Party: inLanguage(pg.Requirement.Title, p.L.Lang)}
		if def != nil {
			if t, ok := def.Transition(pg.Transition); ok {
				row.Decision = inLanguage(t.Title, p.L.Lang)
			}
		}
		for _, a := range pg.Approvers {
			row.Approvers = append(row.Approvers, who[a])
		}
		d.Pending = append(d.Pending, row)
	}
	for _, c := range v.Contributions {
		d.Money = append(d.Money, moneyRow{Party: names[c.OrganisationID], Year: c.Year, Kind: c.Kind, Amount: c.Amount, Unit: c.Unit})
	}
	for _, party := range d.Offers.TerminateFor {
		d.Terminate = append(d.Terminate, option{ID: party, Name: names[party]})
	}
	approvals, err := h.o.Engine.Approvals(ctx, v.Instance)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, a := range h.o.Engine.AvailableActions(ctx, pr, v.Instance, approvals) {
		if a.Transition != "terminate" {
			d.Actions = append(d.Actions, inLanguage(a.Title, p.L.Lang))
		}
	}
	if done := r.URL.Query().Get("done"); done != "" {
		d.Done = p.L.T("partnership.done." + done)
		if strings.HasPrefix(d.Done, "partnership.") {
			d.Done = ""
		}
	}
	if failed != "" {
		d.Kept = keptInput(r)
	}
	p.Title = v.Record.Title + " – " + d.State
	p.showErrors(errs)
	p.Data = d
	h.render(w, r, status, "iop_case", p)
}

// caseCommand decodes one form of the partnership's page and calls its one
// service method; bad input comes back at the form's fields (named by the
// form: the service's field "body" of the draft form is "draft-body").
func (h *Handler) caseCommand(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	st, ok := h.step(w, r, id)
	if !ok {
		return
	}
	var err error
	ctx, s, command := r.Context(), h.o.IOP, r.PathValue("command")
	form := command
	switch command {
	case "draft":
		_, err = s.AddDraft(ctx, pr, st, f.Get("body"))
	case "comment":
		draft, perr := uuid.Parse(f.Get("draftId"))
		if perr != nil {
			err = h.invalid("body", "partnership.error.no_draft")
			break
		}
		_, err = s.CommentDraft(ctx, pr, st, draft, f.Get("body"))
	case "report":
		year, perr := strconv.Atoi(f.Get("year"))
		if perr != nil {
			err = h.invalid("body", "partnership.error.no_report")
			break
		}
		form = "report-" + strconv.Itoa(year)
		_, err = s.SubmitReport(ctx, pr, st, year, f.Get("body"))
	case "terminate":
		party, perr := uuid.Parse(f.Get("partyId"))
		if perr != nil {
			err = h.invalid("partyId", "partnership.error.party")
			break
		}
		_, err = s.Terminate(ctx, pr, st, party)
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
			switch errs[i].Field {
			case "year", "draftId", "form":
				errs[i].Field = "body"
				if command == "terminate" {
					errs[i].Field = "reason"
				}
			}
			errs[i].Field = form + "-" + errs[i].Field
		}
		h.renderCase(w, r, pr, id, http.StatusBadRequest, form, errs)
		return
	}
	http.Redirect(w, r, "/partnerships/"+id.String()+"/case?done="+command, http.StatusSeeOther)
}

// iopInput is one labelled input (or textarea when Rows > 0) of an IOP
// form: its id (unique on the page), its name, its kept value and its
// message.
type iopInput struct {
	ID, Name, Label, Hint, Value, Error, Prefix, Type string
	Rows                                              int
}

// IOPInput is an input of an IOP form whose value is kept[name]; a
// textarea when typ is "textarea".
func (p *Page) IOPInput(id, name, label, hint, typ string, kept map[string]string) iopInput {
	in := iopInput{ID: id, Name: name, Label: p.L.T(label), Value: kept[name], Error: p.FieldErr(id), Prefix: p.L.T("error.prefix"), Type: typ}
	if hint != "" {
		in.Hint = p.L.T(hint)
	}
	if typ == "textarea" {
		in.Rows = 5
	}
	return in
}

// IOPInput is an input of a transition's form on the case page: its id
// carries the transition, as the case page's messages do.
func (d subformData) IOPInput(name, label, hint, typ string) iopInput {
	return d.P.IOPInput(name+"-"+d.Action.Transition, name, label, hint, typ, d.Kept)
}

// iopQuestion is one point of the official's checklist: a box to tick and
// its justification.
type iopQuestion struct {
	Box           iopInput
	Checked       bool
	Justification iopInput
}

// IOPQuestions are the checklist of the assessment, each with its kept
// input and messages.
func (d subformData) IOPQuestions() []iopQuestion {
	out := make([]iopQuestion, 0, len(assessmentQuestions))
	for _, q := range assessmentQuestions {
		out = append(out, iopQuestion{Box: d.IOPInput(q, "partnership.assess."+q, "partnership.assess."+q+".hint", "checkbox"),
			Checked:       d.Kept[q] == "yes",
			Justification: d.IOPInput(q+"Justification", "partnership.assess.justification", "", "textarea")})
	}
	return out
}

// KeptFor is what a form of the partnership's page held when it came back.
func (d iopCaseData) KeptFor(form string) map[string]string {
	if d.Failed == form {
		return d.Kept
	}
	return map[string]string{}
}

// ReportForm is the name of the form for a year's report.
func (d iopCaseData) ReportForm(year int) string { return "report-" + strconv.Itoa(year) }

// IOPRecommendations are the choices of what fits instead of an IOP: ""
// lets the checklist decide.
func (d subformData) IOPRecommendations() []string { return []string{"", "grant", "procurement"} }

// Text is the contribution in Swedish form: "1 250 000 kr", "2 000 h".
func (m moneyRow) Text() string {
	if m.Unit == "SEK" {
		return Money(m.Amount)
	}
	s := Number(m.Amount / 100)
	if frac := m.Amount % 100; frac != 0 {
		s += "," + strconv.FormatInt(frac+100, 10)[1:]
	}
	return strings.TrimSpace(s + nbsp + m.Unit)
}

// iopSelect is a choice of organisations with its kept value and message.
type iopSelect struct {
	iopInput
	Options []option
	Choose  string
}

// IOPSelect is a select of an IOP form whose value is kept[name].
func (p *Page) IOPSelect(id, name, label string, options []option, kept map[string]string) iopSelect {
	return iopSelect{iopInput: p.IOPInput(id, name, label, "", "select", kept), Options: options, Choose: p.L.T("partnership.choose")}
}
