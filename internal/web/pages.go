package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
	"github.com/samverkan/samverkan/workflows/revision"
)

// The public pages: what anyone may read without signing in. They read as
// the anonymous principal, so the services decide what is public.
var anonymous = authz.Principal{}

// agreementInForce is the first agreement's version in force (nil when no
// agreement exists yet).
func (h *Handler) agreementInForce(ctx context.Context) (*store.Agreement, *store.AgreementVersion, error) {
	agreements, err := h.o.Registry.Agreements(ctx)
	if err != nil || len(agreements) == 0 {
		return nil, nil, err
	}
	versions, err := h.o.Registry.CurrentVersions(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range versions {
		if v.AgreementID == agreements[0].ID {
			return agreements[0], v, nil
		}
	}
	return agreements[0], nil, nil
}

type startData struct {
	Agreement    *store.Agreement
	Version      *store.AgreementVersion
	Signatories  int
	LatestReport *store.AnnualReport
	Consultation *consultation
}

type consultation struct {
	Deadline time.Time
	Draft    *store.Draft
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := startData{}
	var err error
	if d.Agreement, d.Version, err = h.agreementInForce(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	if d.Version != nil {
		if d.Signatories, err = h.o.Signing.CountSignatories(ctx, d.Version.ID); err != nil {
			h.fail(w, r, err)
			return
		}
		reports, err := h.o.FollowUp.AnnualReports(ctx, d.Version.ID, 0)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(reports) > 0 {
			d.LatestReport = reports[len(reports)-1]
		}
		view, err := h.revisionView(ctx, d.Version.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Consultation = openConsultation(view)
	}
	h.render(w, r, http.StatusOK, "start", h.page(r, "start", "start.title", d))
}

// revisionView is the revision of a version as the public sees it: the
// service keeps to the drafts and comments the public may read.
type revisionView struct {
	Instance *store.Instance
	Drafts   []*store.Draft
	Comments []*store.Comment
}

func (h *Handler) revisionView(ctx context.Context, versionID uuid.UUID) (*revisionView, error) {
	in, err := h.o.Revision.Revision(ctx, versionID)
	if err != nil || in == nil {
		return nil, err
	}
	v := &revisionView{Instance: in}
	if v.Drafts, err = h.o.Revision.Drafts(ctx, anonymous, in); err != nil {
		return nil, err
	}
	if v.Comments, err = h.o.Revision.Comments(ctx, anonymous, in); err != nil {
		return nil, err
	}
	return v, nil
}

func openConsultation(v *revisionView) *consultation {
	if v == nil || v.Instance.State != string(revision.Consultation) {
		return nil
	}
	c := &consultation{}
	c.Deadline, _ = revision.ConsultationDeadline(v.Instance)
	if len(v.Drafts) > 0 {
		c.Draft = v.Drafts[len(v.Drafts)-1]
	}
	return c
}

const signatoriesPerPage = 25

type signatoriesData struct {
	Version        *store.AgreementVersion
	Search         string
	Municipality   string
	LegalForm      string
	Municipalities []string
	LegalForms     []string
	Rows           []store.SignatoryListing
	Total          int
	Page, Pages    int
	CSVURL         string
	JSONURL        string
	PrevURL        string
	NextURL        string
}

// signatoryFilter reads the list's query: q (name), municipality, form,
// page. A page that is not a positive number is a field error.
func signatoryFilter(r *http.Request, versionID uuid.UUID) (store.SignatoryFilter, int, []FieldError) {
	q := r.URL.Query()
	f := store.SignatoryFilter{VersionID: versionID, Search: strings.TrimSpace(q.Get("q")),
		Municipality: q.Get("municipality"), LegalForm: q.Get("form")}
	page := 1
	var errs []FieldError
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			errs = append(errs, FieldError{Field: "page"})
		} else {
			page = n
		}
	}
	return f, page, errs
}

func (h *Handler) signatories(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := h.page(r, "signatories", "signatories.title", nil)
	_, v, err := h.agreementInForce(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := signatoriesData{Version: v}
	p.Data = &d
	if v == nil {
		h.render(w, r, http.StatusOK, "signatories", p)
		return
	}
	f, page, errs := signatoryFilter(r, v.ID)
	for i := range errs {
		errs[i].Message = p.L.T("signatories.page.invalid")
	}
	d.Search, d.Municipality, d.LegalForm, d.Page = f.Search, f.Municipality, f.LegalForm, page
	if d.Municipalities, d.LegalForms, err = h.o.Registry.SignatoryFacets(ctx, v.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	slices.Sort(d.Municipalities)
	f.Offset, f.Limit = (page-1)*signatoriesPerPage, signatoriesPerPage
	if len(errs) == 0 {
		d.Rows, d.Total, err = h.o.Registry.SearchSignatories(ctx, f)
		if errs, err = fieldErrors(p.L, err); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if len(errs) == 0 && len(d.Rows) == 0 && page > 1 {
		// Past the last page: say how many pages there are.
		f.Offset, f.Limit = 0, 1
		if _, d.Total, err = h.o.Registry.SearchSignatories(ctx, f); err != nil {
			h.fail(w, r, err)
			return
		}
		pages := max(1, (d.Total+signatoriesPerPage-1)/signatoriesPerPage)
		errs = []FieldError{{Field: "page", Message: p.L.T("signatories.page.beyond", pages)}}
	}
	status := http.StatusOK
	if len(errs) > 0 {
		p.Errors, d.Rows, d.Total, status = errs, nil, 0, http.StatusBadRequest
		p.Title = p.L.T("error.prefix") + " " + p.Title
	}
	d.Pages = max(1, (d.Total+signatoriesPerPage-1)/signatoriesPerPage)
	query := url.Values{}
	for k, val := range map[string]string{"q": f.Search, "municipality": f.Municipality, "form": f.LegalForm} {
		if val != "" {
			query.Set(k, val)
		}
	}
	d.CSVURL, d.JSONURL = "/signatories.csv", "/signatories.json"
	if q := query.Encode(); q != "" {
		d.CSVURL, d.JSONURL = d.CSVURL+"?"+q, d.JSONURL+"?"+q
	}
	if page > 1 {
		query.Set("page", strconv.Itoa(page-1))
		d.PrevURL = "/signatories?" + query.Encode()
	}
	if page < d.Pages {
		query.Set("page", strconv.Itoa(page+1))
		d.NextURL = "/signatories?" + query.Encode()
	}
	h.render(w, r, status, "signatories", p)
}

// signatoryRecord is one row of the downloads.
type signatoryRecord struct {
	Name               string `json:"name"`
	OrganisationNumber string `json:"organisationNumber"`
	LegalForm          string `json:"legalForm"`
	Municipality       string `json:"municipality"`
	SignedOn           string `json:"signedOn"`
	How                string `json:"how"`
}

func (h *Handler) downloadRows(w http.ResponseWriter, r *http.Request) ([]signatoryRecord, bool) {
	ctx := r.Context()
	_, v, err := h.agreementInForce(ctx)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	if v == nil {
		return []signatoryRecord{}, true
	}
	f, _, errs := signatoryFilter(r, v.ID)
	f.Offset, f.Limit = 0, 0
	rows, _, err := h.o.Registry.SearchSignatories(ctx, f)
	if fe, err := fieldErrors(h.localizer(r), err); err != nil {
		h.fail(w, r, err)
		return nil, false
	} else if len(fe) > 0 || len(errs) > 0 {
		http.Error(w, "Ogiltigt filter. / Invalid filter.", http.StatusBadRequest)
		return nil, false
	}
	out := make([]signatoryRecord, 0, len(rows))
	for _, row := range rows {
		out = append(out, signatoryRecord{Name: row.Organisation.Name, OrganisationNumber: orgnr.Number(row.Organisation.OrganisationNumber).String(),
			LegalForm: row.Organisation.LegalForm, Municipality: row.Organisation.Municipality,
			SignedOn: row.Signatory.SignedOn.Format("2006-01-02"), How: row.Signatory.How})
	}
	return out, true
}

func (h *Handler) signatoriesCSV(w http.ResponseWriter, r *http.Request) {
	rows, ok := h.downloadRows(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="undertecknare.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"name", "organisationNumber", "legalForm", "municipality", "signedOn", "how"})
	for _, s := range rows {
		_ = cw.Write([]string{csvSafe(s.Name), s.OrganisationNumber, s.LegalForm, csvSafe(s.Municipality), s.SignedOn, s.How})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (h *Handler) signatoriesJSON(w http.ResponseWriter, r *http.Request) {
	rows, ok := h.downloadRows(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="undertecknare.json"`)
	_ = json.NewEncoder(w).Encode(map[string]any{"signatories": rows})
}

type organisationData struct {
	Org          *store.Organisation
	Number       string
	Signatures   []signature
	Partnerships []*iop.Partnership
}

type signature struct {
	S       *store.Signatory
	Version *store.AgreementVersion
}

func (h *Handler) organisation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		h.notFound(w, r)
		return
	}
	o, err := h.o.Registry.Organisation(ctx, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if o == nil {
		h.notFound(w, r)
		return
	}
	d := organisationData{Org: o, Number: orgnr.Number(o.OrganisationNumber).String()}
	sigs, err := h.o.Signing.SignaturesOf(ctx, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ids := make([]uuid.UUID, 0, len(sigs))
	for _, s := range sigs {
		ids = append(ids, s.AgreementVersionID)
	}
	versions, err := h.o.Registry.VersionsByIDs(ctx, ids)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	byID := map[uuid.UUID]*store.AgreementVersion{}
	for _, v := range versions {
		byID[v.ID] = v
	}
	for _, s := range sigs {
		d.Signatures = append(d.Signatures, signature{S: s, Version: byID[s.AgreementVersionID]})
	}
	if d.Partnerships, err = h.o.IOP.OfOrganisation(ctx, anonymous, id); err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "signatories", "organisation.title", d)
	p.Title = o.Name
	h.render(w, r, http.StatusOK, "organisation", p)
}

type annualData struct {
	Version    *store.AgreementVersion
	Reports    []*store.AnnualReport
	Indicators []indicatorSeries
}

type indicatorSeries struct {
	ID     string
	Name   string
	Unit   string
	Points []Point
}

func (h *Handler) annualReports(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, v, err := h.agreementInForce(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := annualData{Version: v}
	if v != nil {
		reports, err := h.o.FollowUp.AnnualReports(ctx, v.ID, 0)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		slices.Reverse(reports)
		d.Reports = reports
		points, err := h.o.FollowUp.IndicatorHistory(ctx, v.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, pt := range points {
			if n := len(d.Indicators); n == 0 || d.Indicators[n-1].Name != pt.Name {
				d.Indicators = append(d.Indicators, indicatorSeries{ID: "indicator-" + strconv.Itoa(n+1), Name: pt.Name, Unit: pt.Unit})
			}
			s := &d.Indicators[len(d.Indicators)-1]
			s.Points = append(s.Points, Point{Year: pt.Year, Value: pt.Value})
		}
	}
	h.render(w, r, http.StatusOK, "annual_reports", h.page(r, "annual-reports", "annual.title", d))
}

type revisionData struct {
	Version  *store.AgreementVersion
	View     *revisionView
	Phases   []phase
	Events   []store.Event
	Draft    *store.Draft
	Sections []section
	Deadline time.Time
	Comments []comment
}

type phase struct {
	State   string
	Current bool
	Done    bool
}

type comment struct {
	C   *store.Comment
	Org string
}

// revisionPhases are the phases of making an agreement, in order.
var revisionPhases = []workflows.State{revision.PrePhase, revision.Gathering, revision.Dialogue, revision.Drafting,
	revision.Consultation, revision.Decision, revision.Implementation}

func (h *Handler) revision(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, v, err := h.agreementInForce(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := revisionData{Version: v}
	if v != nil {
		if d.View, err = h.revisionView(ctx, v.ID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if d.View != nil {
		in := d.View.Instance
		current := slices.Index(revisionPhases, workflows.State(in.State))
		for i, s := range revisionPhases {
			d.Phases = append(d.Phases, phase{State: string(s), Current: i == current, Done: current >= 0 && i < current})
		}
		if d.Events, _, err = h.o.Engine.History(ctx, anonymous, in, 0, 100); err != nil {
			h.fail(w, r, err)
			return
		}
		slices.Reverse(d.Events)
		if len(d.View.Drafts) > 0 {
			d.Draft = d.View.Drafts[len(d.View.Drafts)-1]
			d.Sections = sectionsOf(d.Draft.Body)
		}
		d.Deadline, _ = revision.ConsultationDeadline(in)
		orgIDs := make([]uuid.UUID, 0, len(d.View.Comments))
		for _, c := range d.View.Comments {
			orgIDs = append(orgIDs, c.OrganisationID)
		}
		names, err := h.orgNames(ctx, orgIDs)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, c := range d.View.Comments {
			d.Comments = append(d.Comments, comment{C: c, Org: names[c.OrganisationID]})
		}
	}
	h.render(w, r, http.StatusOK, "revision", h.page(r, "revision", "revision.title", d))
}

// orgNames are the organisations' names by id.
func (h *Handler) orgNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := map[uuid.UUID]string{}
	if len(ids) == 0 {
		return out, nil
	}
	orgs, err := h.o.Registry.OrganisationsByIDs(ctx, ids)
	for _, o := range orgs {
		out[o.ID] = o.Name
	}
	return out, err
}

// personNames are the people's names by id.
func (h *Handler) personNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := map[uuid.UUID]string{}
	if len(ids) == 0 {
		return out, nil
	}
	users, err := h.o.Roles.UsersByIDs(ctx, ids)
	for _, u := range users {
		out[u.ID] = u.Name
	}
	return out, err
}

type partnershipRow struct {
	P          *iop.Partnership
	PublicBody string
	IdeaBased  []string
}

type partnershipsData struct {
	States  []string
	State   string
	Rows    []partnershipRow
	NextURL string
}

const partnershipsPerPage = 50

// partnerships lists the partnerships in force, one state at a time (active
// by default), 50 a page.
func (h *Handler) partnerships(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := partnershipsData{State: string(iop.Active)}
	for _, s := range iop.Running {
		d.States = append(d.States, string(s))
	}
	q := r.URL.Query()
	if s := q.Get("state"); s != "" {
		if !slices.Contains(d.States, s) {
			h.notFound(w, r)
			return
		}
		d.State = s
	}
	page := store.PartnershipPage{State: d.State, Limit: partnershipsPerPage + 1}
	if a := q.Get("after"); a != "" {
		id, err := uuid.Parse(a)
		if err != nil {
			h.notFound(w, r)
			return
		}
		page.AfterID = id
	}
	all, err := h.o.IOP.ByState(ctx, anonymous, page)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(all) > partnershipsPerPage {
		all = all[:partnershipsPerPage]
		d.NextURL = "/partnerships?" + url.Values{"state": {d.State}, "after": {all[len(all)-1].Record.ID.String()}}.Encode()
	}
	var ids []uuid.UUID
	for _, p := range all {
		for _, party := range p.Parties {
			ids = append(ids, party.OrganisationID)
		}
	}
	names, err := h.orgNames(ctx, ids)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, p := range all {
		row := partnershipRow{P: p}
		for _, party := range p.Parties {
			if party.Role == "public" {
				row.PublicBody = names[party.OrganisationID]
			} else {
				row.IdeaBased = append(row.IdeaBased, names[party.OrganisationID])
			}
		}
		d.Rows = append(d.Rows, row)
	}
	h.render(w, r, http.StatusOK, "partnerships", h.page(r, "partnerships", "iop.title", d))
}

type historyData struct {
	Events  []store.Event
	NextURL string
}

const eventsPerPage = 50

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := h.page(r, "history", "history.title", nil)
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			h.notFound(w, r)
			return
		}
		before = n
	}
	events, err := h.o.Registry.PublicHistory(ctx, before, eventsPerPage+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := historyData{}
	if len(events) > eventsPerPage {
		events = events[:eventsPerPage]
		d.NextURL = "/history?before=" + strconv.FormatInt(events[len(events)-1].ID, 10)
	}
	d.Events = events
	p.Data = d
	h.render(w, r, http.StatusOK, "history", p)
}

type digestData struct {
	Digest string
	Count  int
	At     time.Time
}

// historyDigest computes the digest of the whole history: it reads every
// chain's newest event, so it has a page of its own.
func (h *Handler) historyDigest(w http.ResponseWriter, r *http.Request) {
	d := digestData{At: h.o.Clock.Now()}
	var err error
	if d.Digest, d.Count, err = h.o.Registry.HistoryDigest(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "history_digest", h.page(r, "history", "history.digest", d))
}
