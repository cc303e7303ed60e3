package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
)

// The annual follow-up's pages. The case page /instances/{id} offers the
// follow-up's transitions through followupForms; the follow-up's own page
// /followups/{id} shows what the follow-up is about (the year's plan, the
// parties' reports and values, what is missing, who on the council has
// approved) and offers, besides the same transitions, what is not a
// transition: a party's report on an activity and moving the deadline.
// Every form calls one followup.Service method (the council's approval the
// engine's Approve, as the GraphQL API does); who may do what is the
// service's and the engine's answer.

// followupForms are the follow-up's transitions the pages have a form for.
var followupForms = map[string]formSpec{
	"start_collecting":      {Fields: "followup-deadline"},
	"submit_to_council":     {},
	"send_back":             {Warning: true},
	"council_approve":       {Fields: "followup-approve"},
	"publish_annual_report": {Fields: "followup-publish"},
	"adopt_next_plan":       {Fields: "followup-plan"},
}

// The follow-up page's actions that are not transitions.
const (
	followupExtend = "extend_deadline"
	followupReport = "report"
)

// planBlocks is how many activities the form for next year's plan offers.
const planBlocks = 3

// fireFollowUp calls the one service method a follow-up form names.
func (h *Handler) fireFollowUp(r *http.Request, pr authz.Principal, transition string, st workflows.Step) (*store.Instance, error) {
	s, ctx, f, l := h.o.FollowUp, r.Context(), r.PostForm, h.localizer(r)
	switch transition {
	case "start_collecting":
		var deadline *time.Time
		if v := strings.TrimSpace(f.Get("reportDeadline")); v != "" {
			t, err := parseDeadline(l, v)
			if err != nil {
				return nil, err
			}
			deadline = &t
		}
		in, err := s.StartCollecting(ctx, pr, st, deadline)
		return in, renamed(err, map[string]string{"deadline": "reportDeadline"})
	case followupExtend:
		v := strings.TrimSpace(f.Get("reportDeadline"))
		if v == "" {
			return nil, &apperr.Error{Code: apperr.BadInput, Field: "reportDeadline", Message: l.T("followup.err.date_missing")}
		}
		t, err := parseDeadline(l, v)
		if err != nil {
			return nil, err
		}
		in, err := s.ExtendDeadline(ctx, pr, st, t)
		return in, renamed(err, map[string]string{"deadline": "reportDeadline"})
	case "submit_to_council":
		return s.SubmitToCouncil(ctx, pr, st)
	case "send_back":
		return s.SendBack(ctx, pr, st)
	case "council_approve":
		in, err := h.o.Engine.Approve(ctx, pr, st, transition)
		return in, renamed(err, map[string]string{"comment": "reason"})
	case "publish_annual_report":
		return s.PublishAnnualReport(ctx, pr, st, f.Get("title"), f.Get("body"))
	case "adopt_next_plan":
		acts, blocks, err := planOf(l, f)
		if err != nil {
			return nil, err
		}
		in, err := s.AdoptNextPlan(ctx, pr, st, acts)
		return in, planFieldOf(err, blocks)
	}
	return nil, apperr.New(apperr.NotFound, "Det finns ingen sådan åtgärd. / There is no such action.")
}

// renamed gives a BAD_INPUT error the name its field has in the form.
func renamed(err error, names map[string]string) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadInput {
		return err
	}
	if n, ok := names[ae.Field]; ok {
		return &apperr.Error{Code: ae.Code, Field: n, Message: ae.Message, Err: err}
	}
	return err
}

// parseDeadline reads a date in the Swedish form (ÅÅÅÅ-MM-DD); the
// deadline is the end of that day in Stockholm.
func parseDeadline(l Localizer, v string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", v, clock.Stockholm)
	if err != nil {
		return time.Time{}, &apperr.Error{Code: apperr.BadInput, Field: "reportDeadline", Message: l.T("followup.err.date")}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 0, 0, clock.Stockholm), nil
}

// parseNumber reads a number as people write it in Swedish or English:
// "1 250", "12,5", "12.5".
func parseNumber(v string) (float64, bool) {
	v = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '\u202f':
			return -1
		case ',':
			return '.'
		}
		return r
	}, v)
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

// planOf reads the activities of next year's plan from the form's blocks;
// a block left empty is no activity. blocks[i] is the block of the i-th
// activity.
func planOf(l Localizer, f url.Values) ([]followup.ActivityInput, []int, error) {
	var acts []followup.ActivityInput
	var blocks []int
	for b := 1; b <= planBlocks; b++ {
		get := func(name string) string { return strings.TrimSpace(f.Get(planName(b, name))) }
		if get("title") == "" && get("description") == "" && get("indicator") == "" {
			continue
		}
		a := followup.ActivityInput{Title: get("title"), Description: get("description"), Responsible: get("responsible")}
		for q := 1; q <= 4; q++ {
			if get("q"+strconv.Itoa(q)) == "yes" {
				a.Quarters = append(a.Quarters, q)
			}
		}
		for i, p := range registry.Principles {
			if get("p"+strconv.Itoa(i+1)) == "yes" {
				a.Principles = append(a.Principles, p)
			}
		}
		if name := get("indicator"); name != "" || get("unit") != "" || get("target") != "" {
			ind := followup.IndicatorInput{Name: name, Unit: get("unit")}
			if t := get("target"); t != "" {
				v, ok := parseNumber(t)
				if !ok {
					return nil, nil, &apperr.Error{Code: apperr.BadInput, Field: planName(b, "target"), Message: l.T("followup.err.number")}
				}
				ind.Target = &v
			}
			a.Indicators = []followup.IndicatorInput{ind}
		}
		acts = append(acts, a)
		blocks = append(blocks, b)
	}
	return acts, blocks, nil
}

// planName is the name of a field of the plan form's block b.
func planName(b int, field string) string { return fmt.Sprintf("plan%d-%s", b, field) }

// planFieldOf points the service's "activities[i].x" at the form's field.
func planFieldOf(err error, blocks []int) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadInput || !strings.HasPrefix(ae.Field, "activities[") {
		return err
	}
	idx, rest, ok := strings.Cut(strings.TrimPrefix(ae.Field, "activities["), "]")
	i, convErr := strconv.Atoi(idx)
	if !ok || convErr != nil || i < 0 || i >= len(blocks) {
		return err
	}
	field := map[string]string{".title": "title", ".description": "description", ".quarters": "q1", ".responsible": "responsible",
		".principles": "p1", ".indicators[0].name": "indicator", ".indicators[0].unit": "unit", ".indicators.target": "target"}[rest]
	if field == "" {
		field = "title"
	}
	return &apperr.Error{Code: ae.Code, Field: planName(blocks[i], field), Message: ae.Message, Err: err}
}

// formField is one input of a follow-up form: its id on the page (the
// name with the form's suffix), name, label, hint, kept value and message.
type formField struct {
	ID, Name, Label, Hint, Value, Error, Prefix string
}

func newField(p *Page, name, suffix, label, hint, value string) formField {
	f := formField{ID: name + suffix, Name: name, Label: p.L.T(label), Value: value, Error: p.FieldErr(name + suffix), Prefix: p.L.T("error.prefix")}
	if hint != "" {
		f.Hint = p.L.T(hint)
	}
	return f
}

// planBlock is one activity of the plan form, with the ids of its fields
// on the page (suffixed by the action), its kept input and messages.
type planBlock struct {
	N                                                int
	Title, Description, Responsible, Indicator, Unit formField
	Target                                           formField
	Quarters, Principles                             []planCheck
	QuartersError, PrinciplesError                   string
	Choices                                          []planChoice
}

type planCheck struct {
	ID, Name, Label string
	Checked         bool
}

type planChoice struct {
	Value, Label string
	Selected     bool
}

// PlanBlocks are the blocks of the plan form.
func (d subformData) PlanBlocks() []planBlock {
	suffix := "-" + d.Action.Transition
	text := func(b int, name, label, hint string) formField {
		return newField(d.P, planName(b, name), suffix, label, hint, d.Kept[planName(b, name)])
	}
	var out []planBlock
	for b := 1; b <= planBlocks; b++ {
		pb := planBlock{N: b,
			Title:       text(b, "title", "followup.plan.title", ""),
			Description: text(b, "description", "followup.plan.description", ""),
			Responsible: text(b, "responsible", "followup.plan.responsible", ""),
			Indicator:   text(b, "indicator", "followup.plan.indicator", "followup.plan.indicator_hint"),
			Unit:        text(b, "unit", "followup.plan.unit", ""),
			Target:      text(b, "target", "followup.plan.target", "followup.number_hint"),
		}
		for q := 1; q <= 4; q++ {
			n := planName(b, "q"+strconv.Itoa(q))
			pb.Quarters = append(pb.Quarters, planCheck{ID: n + suffix, Name: n, Label: d.P.L.T("followup.plan.quarter", q), Checked: d.Kept[n] == "yes"})
		}
		pb.QuartersError = d.P.FieldErr(planName(b, "q1") + suffix)
		for i, p := range registry.Principles {
			n := planName(b, "p"+strconv.Itoa(i+1))
			pb.Principles = append(pb.Principles, planCheck{ID: n + suffix, Name: n, Label: d.P.L.T("principle." + p), Checked: d.Kept[n] == "yes"})
		}
		pb.PrinciplesError = d.P.FieldErr(planName(b, "p1") + suffix)
		for _, v := range []string{"region", "sector", "both"} {
			pb.Choices = append(pb.Choices, planChoice{Value: v, Label: d.P.L.T("followup.party." + v), Selected: d.Kept[planName(b, "responsible")] == v})
		}
		out = append(out, pb)
	}
	return out
}

// Text is one text input of a follow-up form: its id suffixed by the
// action, its kept value and message.
func (d subformData) Text(name, label, hint string) formField {
	return newField(d.P, name, "-"+d.Action.Transition, label, hint, d.Kept[name])
}

// followupData is the follow-up's page.
type followupData struct {
	ID       uuid.UUID
	Year     int
	Workflow string
	State    string
	Version  int
	Deadline *time.Time
	Overdue  bool
	// HasPlan tells whether the year has an action plan.
	HasPlan bool
	// Private tells whether the viewer may read the parties' reports.
	Private    bool
	Activities []followupActivity
	Missing    []string
	// Council is, while the council reviews, each side's approvals.
	Council []councilSide
	// Party is the viewer's party when they may report now.
	Party   string
	Actions []followupAction
	// Approved tells that the viewer has given their approval.
	Approved bool
	Report   *store.AnnualReport
	Done     string
}

type followupActivity struct {
	ID          uuid.UUID
	Title       string
	Description string
	Quarters    string
	Responsible string
	Principles  string
	Indicators  []followupIndicator
	Reports     []reportRow
	// Form is the viewer's report on it, when they may give one.
	Form *reportForm
}

type followupIndicator struct {
	ID     uuid.UUID
	Name   string
	Unit   string
	Target string
	// Values are the parties' values for the year, e.g. "Regionen: 12".
	Values []string
}

type reportRow struct {
	Party    string
	Outcome  string
	Comments string
	By       string
	At       time.Time
}

// reportForm is a party's report on one activity: field ids suffixed by
// the activity's id.
type reportForm struct {
	Action     string
	ActivityID uuid.UUID
	Outcome    formField
	Comments   formField
	// Values is the indicators' fieldset; its field is its first input.
	ValuesField string
	ValuesError string
	Values      []reportValue
}

type reportValue struct {
	ID, Name, Label, Value string
}

// followupAction is a form on the follow-up page, its extra inputs
// already rendered.
type followupAction struct {
	actionForm
	Fields template.HTML
	Kept   string
}

func (h *Handler) followUpPage(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	h.renderFollowUp(w, r, pr, id, http.StatusOK, "", nil)
}

func (h *Handler) renderFollowUp(w http.ResponseWriter, r *http.Request, pr authz.Principal, id uuid.UUID, status int, failed string, errs []FieldError) {
	ctx := r.Context()
	in, err := h.readOfKind(ctx, pr, id, followup.Kind)
	if apperr.IsCode(err, apperr.NotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "tasks", "followup.title", nil)
	p.Errors = errs
	year := followup.Year(in)
	d := followupData{ID: in.ID, Year: year, Workflow: in.Kind, State: in.State, Version: in.Version, Overdue: h.o.FollowUp.IsOverdue(in),
		Private: h.o.Engine.CanReadPrivate(ctx, pr, in)}
	def, err := h.o.Engine.Definition(in.Kind, in.DefinitionVersion)
	if err == nil {
		d.Workflow = inLanguage(def.Title, p.L.Lang)
		d.State = inLanguage(def.StateTitle(workflows.State(in.State)), p.L.Lang)
	}
	if t, ok := followup.ReportDeadline(in); ok {
		d.Deadline = &t
	}
	kept := func(action string) map[string]string {
		out := map[string]string{}
		if failed == action {
			out = keptInput(r)
		}
		return out
	}
	party, mayReport := h.o.FollowUp.MayReport(ctx, pr, in)
	if mayReport {
		d.Party = p.L.T("followup.party." + party)
	}
	var people []uuid.UUID
	reports, err := h.o.FollowUp.Reports(ctx, pr, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, rep := range reports {
		people = append(people, rep.ReportedBy)
	}
	approvals, err := h.o.Engine.Approvals(ctx, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, a := range approvals {
		people = append(people, a.ApproverID)
	}
	names, err := h.personNames(ctx, people)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	plan, err := h.o.FollowUp.PlanFor(ctx, in.SubjectID, year)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if plan != nil {
		d.HasPlan = true
		acts, err := h.o.FollowUp.Activities(ctx, plan.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Activities, err = h.followUpActivities(r, p, in, acts, reports, names, party, mayReport, failed)
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if d.Missing, err = h.o.FollowUp.MissingReports(ctx, in); err != nil {
		h.fail(w, r, err)
		return
	}
	d.Council = approvalSides(p.L, h.o.Engine.PendingApprovals(in, approvals), "", names)
	published, err := h.o.FollowUp.AnnualReports(ctx, in.SubjectID, year)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, a := range published {
		if a.InstanceID == in.ID {
			d.Report = a
		}
	}
	// The forms: moving the deadline, then the transitions the engine
	// offers the viewer.
	var forms []actionForm
	if h.o.FollowUp.MayExtendDeadline(ctx, pr, in) {
		forms = append(forms, actionForm{Transition: followupExtend, Title: p.L.T("followup.extend"), Form: true,
			formSpec: formSpec{Fields: "followup-deadline"}})
	}
	available := h.o.Engine.AvailableActions(ctx, pr, in, approvals)
	for i, a := range h.actionForms(p.L, in, available) {
		// An approval the viewer has given is said, not offered again.
		if available[i].Approved {
			d.Approved = true
			continue
		}
		if a.Form {
			forms = append(forms, a)
		}
	}
	p.Data = d // what the forms' partials read (the follow-up's id)
	for _, a := range forms {
		fa := followupAction{actionForm: a}
		k := kept(a.Transition)
		fa.Kept = k["reason"]
		if a.Fields != "" {
			var buf bytes.Buffer
			if err := h.pages["followup"].ExecuteTemplate(&buf, a.Fields, subformData{P: p, Action: a, Kept: k}); err != nil {
				h.fail(w, r, err)
				return
			}
			fa.Fields = template.HTML(buf.String())
		}
		d.Actions = append(d.Actions, fa)
	}
	if done := r.URL.Query().Get("done"); done == followupExtend || done == followupReport {
		d.Done = p.L.T("followup.done." + done)
	} else if def != nil {
		if t, ok := def.Transition(done); ok {
			d.Done = inLanguage(t.Title, p.L.Lang)
		}
	}
	p.Title = p.L.T("followup.heading", year)
	if len(errs) > 0 {
		p.Title = p.L.T("error.prefix") + " " + p.Title
	}
	p.Data = d
	h.render(w, r, status, "followup", p)
}

// followUpActivities is the year's plan with the reports and values in,
// and the viewer's report form for each activity their party answers for.
func (h *Handler) followUpActivities(r *http.Request, p *Page, in *store.Instance, acts []*store.Activity, reports []*store.ActivityReport,
	names map[uuid.UUID]string, party string, mayReport bool, failed string) ([]followupActivity, error) {
	ctx := r.Context()
	ids := make([]uuid.UUID, len(acts))
	for i, a := range acts {
		ids[i] = a.ID
	}
	inds, err := h.o.FollowUp.Indicators(ctx, ids)
	if err != nil {
		return nil, err
	}
	indIDs := make([]uuid.UUID, len(inds))
	for i, ind := range inds {
		indIDs[i] = ind.ID
	}
	values, err := h.o.FollowUp.IndicatorValues(ctx, indIDs)
	if err != nil {
		return nil, err
	}
	year := followup.Year(in)
	valueOf := map[string]float64{}
	for _, v := range values {
		if v.Year == year {
			valueOf[v.IndicatorID.String()+v.Party] = v.Value
		}
	}
	var out []followupActivity
	for _, a := range acts {
		if a.Status == "cancelled" {
			continue
		}
		fa := followupActivity{ID: a.ID, Title: a.Title, Description: a.Description, Responsible: p.L.T("followup.party." + a.Responsible),
			Principles: strings.Join(a.Principles, ", ")}
		var qs []string
		for _, q := range a.Quarters {
			qs = append(qs, p.L.T("followup.plan.quarter", q))
		}
		fa.Quarters = strings.Join(qs, ", ")
		var own *store.ActivityReport
		for _, rep := range reports {
			if rep.ActivityID != a.ID {
				continue
			}
			fa.Reports = append(fa.Reports, reportRow{Party: p.L.T("followup.party." + rep.Party), Outcome: rep.Outcome,
				Comments: rep.Comments, By: names[rep.ReportedBy], At: rep.ReportedAt})
			if rep.Party == party {
				own = rep
			}
		}
		var mine []*store.Indicator
		for _, ind := range inds {
			if ind.ActivityID != a.ID {
				continue
			}
			fi := followupIndicator{ID: ind.ID, Name: ind.Name, Unit: ind.Unit}
			if ind.Target != nil {
				fi.Target = Decimal(*ind.Target)
			}
			for _, pt := range []string{"region", "sector"} {
				if v, ok := valueOf[ind.ID.String()+pt]; ok {
					fi.Values = append(fi.Values, p.L.T("followup.party."+pt)+": "+Decimal(v))
				}
			}
			fa.Indicators = append(fa.Indicators, fi)
			mine = append(mine, ind)
		}
		if mayReport && followup.Responsible(a, party) {
			fa.Form = reportFormOf(r, p, a, own, mine, valueOf, party, failed)
		}
		out = append(out, fa)
	}
	return out, nil
}

// reportFormOf is the viewer's report form on an activity: their input
// when it came back, else their party's report so far.
func reportFormOf(r *http.Request, p *Page, a *store.Activity, own *store.ActivityReport, inds []*store.Indicator,
	valueOf map[string]float64, party, failed string) *reportForm {
	action := followupReport + "-" + a.ID.String()
	suffix := "-" + a.ID.String()
	back := failed == action
	value := func(name, saved string) string {
		if back {
			return r.PostForm.Get(name)
		}
		return saved
	}
	var outcome, comments string
	if own != nil {
		outcome, comments = own.Outcome, own.Comments
	}
	field := func(name, label, hint, saved string) formField {
		return newField(p, name, suffix, label, hint, value(name, saved))
	}
	f := &reportForm{Action: action, ActivityID: a.ID,
		Outcome:     field("outcome", "followup.report.outcome", "followup.report.outcome_hint", outcome),
		Comments:    field("comments", "followup.report.comments", "", comments),
		ValuesField: "indicatorValues" + suffix}
	f.ValuesError = p.FieldErr(f.ValuesField)
	for i, ind := range inds {
		v := reportValue{ID: "ind-" + ind.ID.String(), Name: "ind-" + ind.ID.String(), Label: ind.Name}
		if ind.Unit != "" {
			v.Label += " (" + ind.Unit + ")"
		}
		if i == 0 {
			v.ID = f.ValuesField
		}
		saved := ""
		if x, ok := valueOf[ind.ID.String()+party]; ok {
			saved = strconv.FormatFloat(x, 'f', -1, 64)
		}
		v.Value = value(v.Name, saved)
		f.Values = append(f.Values, v)
	}
	return f
}

// followUpAct decodes a form of the follow-up page and calls the one
// service method it names; bad input brings the page back with the input
// kept and the message at the field.
func (h *Handler) followUpAct(w http.ResponseWriter, r *http.Request) {
	pr, id, ok := h.viewerAndID(w, r)
	if !ok {
		return
	}
	action, f := r.PathValue("action"), r.PostForm
	if _, ok := followupForms[action]; !ok && action != followupExtend && action != followupReport {
		h.actionFailed(w, r, apperr.New(apperr.NotFound, "Det finns ingen sådan åtgärd. / There is no such action."))
		return
	}
	st, ok := h.step(w, r, id)
	if !ok {
		return
	}
	_, err := h.readOfKind(r.Context(), pr, id, followup.Kind)
	if err != nil {
		h.actionFailed(w, r, err)
		return
	}
	failed, suffix := action, "-"+action
	if action == followupReport {
		actID, _ := uuid.Parse(f.Get("activityId"))
		failed, suffix = followupReport+"-"+actID.String(), "-"+actID.String()
		err = h.submitReport(r, pr, st, actID)
	} else {
		_, err = h.fireFollowUp(r, pr, action, st)
	}
	if err != nil {
		errs, err := fieldErrors(h.localizer(r), err)
		if err != nil {
			h.actionFailed(w, r, err)
			return
		}
		for i := range errs {
			errs[i].Field += suffix
		}
		h.renderFollowUp(w, r, pr, id, http.StatusBadRequest, failed, errs)
		return
	}
	http.Redirect(w, r, "/followups/"+id.String()+"?done="+action, http.StatusSeeOther)
}

// submitReport is a party's report on an activity: its outcome, comments
// and the values of its indicators.
func (h *Handler) submitReport(r *http.Request, pr authz.Principal, st workflows.Step, activity uuid.UUID) error {
	f := r.PostForm
	values := map[uuid.UUID]float64{}
	for k := range f {
		raw, ok := strings.CutPrefix(k, "ind-")
		if !ok {
			continue
		}
		id, err := uuid.Parse(raw)
		v := strings.TrimSpace(f.Get(k))
		if err != nil || v == "" {
			continue
		}
		x, ok := parseNumber(v)
		if !ok {
			return &apperr.Error{Code: apperr.BadInput, Field: "indicatorValues", Message: h.localizer(r).T("followup.err.number")}
		}
		values[id] = x
	}
	_, err := h.o.FollowUp.SubmitReport(r.Context(), pr, followup.ReportInput{Step: st, ActivityID: activity,
		Outcome: f.Get("outcome"), Comments: f.Get("comments"), IndicatorValues: values})
	return renamed(err, map[string]string{"activityId": "outcome"})
}

// openFollowUp is an annual follow-up of the agreement in force that has
// not ended, for a link to its page.
type openFollowUp struct {
	ID       uuid.UUID
	Year     int
	State    string
	Deadline *time.Time
}

// openFollowUps are the follow-ups under way, so that those who take part
// find where the year is reported on (from "Mina organisationer").
func (h *Handler) openFollowUps(r *http.Request, l Localizer) ([]openFollowUp, error) {
	_, v, err := h.agreementInForce(r.Context())
	if err != nil || v == nil {
		return nil, err
	}
	all, err := h.o.FollowUp.FollowUps(r.Context(), v.ID)
	if err != nil {
		return nil, err
	}
	var out []openFollowUp
	for _, in := range all {
		if in.Final {
			continue
		}
		o := openFollowUp{ID: in.ID, Year: followup.Year(in), State: in.State}
		if def, err := h.o.Engine.Definition(in.Kind, in.DefinitionVersion); err == nil {
			o.State = inLanguage(def.StateTitle(workflows.State(in.State)), l.Lang)
		}
		if t, ok := followup.ReportDeadline(in); ok && in.State == string(followup.CollectingReports) {
			o.Deadline = &t
		}
		out = append(out, o)
	}
	return out, nil
}
