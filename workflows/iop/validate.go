package iop

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
)

// Limits of a partnership record.
const (
	// MaxAmount is the largest amount (money, hours, …) in hundredths:
	// ten billion.
	MaxAmount int64 = 10_000_000_000 * 100
	// MaxYears is the longest period.
	MaxYears = 25
	// MaxNoticeMonths is the longest notice period.
	MaxNoticeMonths = 36
	// MaxDocumentSize is the largest attached file, 5 MB.
	MaxDocumentSize = 5 << 20
	// MaxDocumentBody is the largest request body that attaches a
	// document: MaxDocumentSize in base64 (4 characters for every 3
	// bytes) and 64 KiB for the rest of the request. The HTTP server
	// accepts bodies this large from signed-in callers.
	MaxDocumentBody = (MaxDocumentSize+2)/3*4 + 64<<10
	// MaxIdeaBasedParties is the most idea-based parties of one IOP.
	MaxIdeaBasedParties = 50
	// MaxContributions is the most contribution lines of one IOP.
	MaxContributions = 1000
	longText         = 20000
)

// ContributionKinds are the kinds of contribution.
var ContributionKinds = []string{"money", "staff_hours", "premises", "volunteer_hours", "other"}

// DocumentKinds are the kinds of attached document.
var DocumentKinds = []string{"initiative", "organisation_description", "annual_accounts", "other"}

// MediaTypes are the file types a document may have.
var MediaTypes = []string{"application/pdf", "text/plain", "text/csv", "image/png", "image/jpeg",
	"application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet"}

// ParseAmount reads an amount such as "1250", "1 250,50" or "1250.5" into
// hundredths: not negative, at most two decimals, at most MaxAmount.
func ParseAmount(field, s string) (int64, error) {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(strings.TrimSpace(s))
	if s == "" {
		return 0, apperr.Invalid(field, "Ange ett belopp. / Give an amount.")
	}
	if strings.HasPrefix(s, "-") {
		return 0, apperr.Invalid(field, "Beloppet får inte vara negativt. / The amount must not be negative.")
	}
	whole, frac, hasFrac := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	if whole == "" || !digits(whole) || (hasFrac && (frac == "" || !digits(frac))) {
		return 0, apperr.Invalid(field, "%q är inget belopp; skriv till exempel 1250 eller 1250,50. / %q is not an amount; write e.g. 1250 or 1250.50.", validate.Clip(s), validate.Clip(s))
	}
	if len(frac) > 2 {
		return 0, apperr.Invalid(field, "Beloppet får ha högst två decimaler. / The amount may have at most two decimals.")
	}
	whole = strings.TrimLeft(whole, "0")
	tooLarge := apperr.Invalid(field, "Beloppet är för stort; högsta belopp är 10 000 000 000. / The amount is too large; the largest is 10,000,000,000.")
	if len(whole) > 11 {
		return 0, tooLarge
	}
	var v int64
	for _, c := range whole + (frac + "00")[:2] {
		v = v*10 + int64(c-'0')
	}
	if v > MaxAmount {
		return 0, tooLarge
	}
	return v, nil
}

// FormatAmount writes hundredths as a decimal with two decimals.
func FormatAmount(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Record is the negotiable content of a partnership.
type Record struct {
	Title         string
	Purpose       string
	Background    string
	Preconditions string
	// ValueBaseVersionID is the agreement version whose values the IOP
	// rests on (optional).
	ValueBaseVersionID *uuid.UUID
	SteeringGroup      string
	WorkingGroup       string
	Responsibilities   string
	Goals              string
	TargetGroup        string
	// Contributions of each party per year.
	Contributions []ContributionInput
	// The follow-up plan: indicators, and the month and day each year's
	// report is due (in the following year).
	FollowUpIndicators string
	ReportDueMonth     int
	ReportDueDay       int
	// Budget in SEK, e.g. "250000" or "250 000,50"; empty means none.
	Budget        string
	ExpectedGains string
	// StartDate and EndDate are the first and last day of the first period.
	StartDate         time.Time
	EndDate           time.Time
	NoticeMonths      int
	ChangeHandling    string
	Renegotiation     string
	Rescission        string
	DisputeResolution string
}

// ContributionInput is what a party contributes of one kind in a year.
type ContributionInput struct {
	OrganisationID uuid.UUID `json:"organisationId"`
	Year           int       `json:"year"`
	Kind           string    `json:"kind"`
	// Amount as a decimal, e.g. "120000" or "1 250,50".
	Amount      string `json:"amount"`
	Unit        string `json:"unit,omitempty"`
	Description string `json:"description,omitempty"`
}

// textFields are the record's free-text fields by their input names, with
// their lengths; amendments may change them.
func textFields(p *store.Partnership) []textField {
	return []textField{
		{"title", &p.Title, 1, 300}, {"purpose", &p.Purpose, 1, 5000},
		{"background", &p.Background, 0, longText}, {"preconditions", &p.Preconditions, 0, longText},
		{"steeringGroup", &p.SteeringGroup, 0, longText}, {"workingGroup", &p.WorkingGroup, 0, longText},
		{"responsibilities", &p.Responsibilities, 0, longText}, {"goals", &p.Goals, 0, longText},
		{"targetGroup", &p.TargetGroup, 0, longText}, {"followUpIndicators", &p.FollowUpIndicators, 0, longText},
		{"expectedGains", &p.ExpectedGains, 0, longText}, {"changeHandling", &p.ChangeHandling, 0, longText},
		{"renegotiation", &p.Renegotiation, 0, longText}, {"rescission", &p.Rescission, 0, longText},
		{"disputeResolution", &p.DisputeResolution, 0, longText},
	}
}

type textField struct {
	name     string
	value    *string
	min, max int
}

// apply checks the record and writes it to p; contributions must come from
// the parties.
func (r *Record) apply(p *store.Partnership, parties []uuid.UUID) ([]store.Contribution, error) {
	p.Title, p.Purpose, p.Background, p.Preconditions = strings.TrimSpace(r.Title), r.Purpose, r.Background, r.Preconditions
	p.SteeringGroup, p.WorkingGroup, p.Responsibilities, p.Goals = r.SteeringGroup, r.WorkingGroup, r.Responsibilities, r.Goals
	p.TargetGroup, p.FollowUpIndicators, p.ExpectedGains = r.TargetGroup, r.FollowUpIndicators, r.ExpectedGains
	p.ChangeHandling, p.Renegotiation, p.Rescission, p.DisputeResolution = r.ChangeHandling, r.Renegotiation, r.Rescission, r.DisputeResolution
	for _, f := range textFields(p) {
		if err := validate.Text(f.name, *f.value, f.min, f.max); err != nil {
			return nil, err
		}
	}
	p.ValueBaseVersionID = r.ValueBaseVersionID
	if err := validate.Date("startDate", r.StartDate); err != nil {
		return nil, err
	}
	if err := validate.Date("endDate", r.EndDate); err != nil {
		return nil, err
	}
	p.StartDate, p.EndDate = dateOf(r.StartDate), dateOf(r.EndDate)
	if !p.EndDate.After(p.StartDate) {
		return nil, apperr.Invalid("endDate", "Slutdatumet ska ligga efter startdatumet. / The end date must be after the start date.")
	}
	if p.EndDate.After(p.StartDate.AddDate(MaxYears, 0, 0)) {
		return nil, apperr.Invalid("endDate", "En period får vara högst %d år. / A period may last at most %d years.", MaxYears, MaxYears)
	}
	if r.NoticeMonths < 0 || r.NoticeMonths > MaxNoticeMonths {
		return nil, apperr.Invalid("noticeMonths", "Uppsägningstiden ska vara 0–%d månader. / The notice period must be 0–%d months.", MaxNoticeMonths, MaxNoticeMonths)
	}
	p.NoticeMonths = r.NoticeMonths
	if r.ReportDueMonth < 1 || r.ReportDueMonth > 12 {
		return nil, apperr.Invalid("reportDueMonth", "Ange rapportens förfallomånad, 1–12. / Give the report's due month, 1–12.")
	}
	// February has 28 days every year a report may fall due in.
	days := time.Date(2001, time.Month(r.ReportDueMonth)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if r.ReportDueDay < 1 || r.ReportDueDay > days {
		return nil, apperr.Invalid("reportDueDay", "Ange en dag 1–%d i månaden. / Give a day 1–%d of the month.", days, days)
	}
	p.ReportDueMonth, p.ReportDueDay = r.ReportDueMonth, r.ReportDueDay
	p.Budget = 0
	if strings.TrimSpace(r.Budget) != "" {
		b, err := ParseAmount("budget", r.Budget)
		if err != nil {
			return nil, err
		}
		p.Budget = b
	}
	return contributions("contributions", r.Contributions, parties, p.StartDate.Year(), p.EndDate.Year())
}

// contributions checks contribution lines: from a party, in a year of the
// period, of a known kind, with a sane amount.
func contributions(field string, in []ContributionInput, parties []uuid.UUID, from, to int) ([]store.Contribution, error) {
	if len(in) > MaxContributions {
		return nil, apperr.Invalid(field, "Högst %d rader med insatser. / At most %d contribution lines.", MaxContributions, MaxContributions)
	}
	out := make([]store.Contribution, 0, len(in))
	for i, c := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !slices.Contains(parties, c.OrganisationID) {
			return nil, apperr.Invalid(f+".organisationId", "Insatser kan bara komma från parterna. / Contributions can only come from the parties.")
		}
		if c.Year < from || c.Year > to {
			return nil, apperr.Invalid(f+".year", "Året %d ligger utanför perioden %d–%d. / The year %d is outside the period %d–%d.", c.Year, from, to, c.Year, from, to)
		}
		if !slices.Contains(ContributionKinds, c.Kind) {
			return nil, apperr.Invalid(f+".kind", "Okänt slag av insats %q; möjliga: %s. / Unknown kind of contribution %q; the kinds are: %s.",
				validate.Clip(c.Kind), strings.Join(ContributionKinds, ", "), validate.Clip(c.Kind), strings.Join(ContributionKinds, ", "))
		}
		amount, err := ParseAmount(f+".amount", c.Amount)
		if err != nil {
			return nil, err
		}
		if err := validate.Text(f+".unit", c.Unit, 0, 50); err != nil {
			return nil, err
		}
		if err := validate.Text(f+".description", c.Description, 0, 2000); err != nil {
			return nil, err
		}
		unit := c.Unit
		if unit == "" {
			switch c.Kind {
			case "money":
				unit = "SEK"
			case "staff_hours", "volunteer_hours":
				unit = "h"
			}
		}
		out = append(out, store.Contribution{OrganisationID: c.OrganisationID, Year: c.Year, Kind: c.Kind, Amount: amount,
			Unit: unit, Description: c.Description})
	}
	return out, nil
}

// checkParties checks the shape of the parties before the database is
// asked what they are.
func checkParties(publicBody uuid.UUID, ideaBased []uuid.UUID) error {
	if publicBody == uuid.Nil {
		return apperr.Invalid("publicBodyId", "Ange den offentliga parten. / Give the public body.")
	}
	if len(ideaBased) == 0 {
		return apperr.Invalid("ideaBasedIds", "Ett IOP behöver minst en idéburen organisation som part. / An IOP needs at least one idea-based organisation as a party.")
	}
	if len(ideaBased) > MaxIdeaBasedParties {
		return apperr.Invalid("ideaBasedIds", "Högst %d idéburna parter. / At most %d idea-based parties.", MaxIdeaBasedParties, MaxIdeaBasedParties)
	}
	seen := map[uuid.UUID]bool{publicBody: true}
	for _, id := range ideaBased {
		if seen[id] {
			return apperr.Invalid("ideaBasedIds", "En organisation kan bara vara part en gång. / An organisation can be a party only once.")
		}
		seen[id] = true
	}
	return nil
}

// AssessmentInput is the official's checklist: is it an economic activity,
// is there a market or competition, could support be state aid, is the
// organisation idea-based (a public-benefit purpose in its statutes) — each
// with its justification.
type AssessmentInput struct {
	EconomicActivity                   bool   `json:"economicActivity"`
	EconomicActivityJustification      string `json:"economicActivityJustification"`
	MarketOrCompetition                bool   `json:"marketOrCompetition"`
	MarketOrCompetitionJustification   string `json:"marketOrCompetitionJustification"`
	PossibleStateAid                   bool   `json:"possibleStateAid"`
	PossibleStateAidJustification      string `json:"possibleStateAidJustification"`
	IdeaBasedOrganisation              bool   `json:"ideaBasedOrganisation"`
	IdeaBasedOrganisationJustification string `json:"ideaBasedOrganisationJustification"`
	// Recommendation when an IOP does not fit: "grant" or "procurement";
	// empty lets the checklist decide (procurement when there is an
	// economic activity on a market, otherwise a grant).
	Recommendation string `json:"recommendation,omitempty"`
}

// Suitable tells whether an IOP fits: no economic activity on a market, no
// possible state aid, and an idea-based organisation.
func (a AssessmentInput) Suitable() bool {
	return !(a.EconomicActivity && a.MarketOrCompetition) && !a.PossibleStateAid && a.IdeaBasedOrganisation
}

// recommendation is "iop" when it fits, else the alternative.
func (a AssessmentInput) recommendation() string {
	switch {
	case a.Suitable():
		return "iop"
	case a.Recommendation != "":
		return a.Recommendation
	case a.EconomicActivity && a.MarketOrCompetition:
		return "procurement"
	default:
		return "grant"
	}
}

func (a AssessmentInput) validate() error {
	for _, j := range []struct{ field, text string }{
		{"economicActivityJustification", a.EconomicActivityJustification},
		{"marketOrCompetitionJustification", a.MarketOrCompetitionJustification},
		{"possibleStateAidJustification", a.PossibleStateAidJustification},
		{"ideaBasedOrganisationJustification", a.IdeaBasedOrganisationJustification},
	} {
		if err := validate.Text(j.field, strings.TrimSpace(j.text), 1, 5000); err != nil {
			return apperr.Invalid(j.field, "Motivera varje punkt i bedömningen (%s). / Justify each point of the assessment (%s).", j.field, j.field)
		}
	}
	switch {
	case a.Recommendation == "":
	case a.Suitable():
		return apperr.Invalid("recommendation", "IOP passar enligt checklistan; ingen annan form ska rekommenderas. / An IOP fits according to the checklist; recommend no other form.")
	case a.Recommendation != "grant" && a.Recommendation != "procurement":
		return apperr.Invalid("recommendation", "Rekommendera bidrag (grant) eller upphandling (procurement). / Recommend a grant or procurement.")
	}
	return nil
}

func (a AssessmentInput) row(partnershipID uuid.UUID) *store.PartnershipAssessment {
	return &store.PartnershipAssessment{PartnershipID: partnershipID,
		EconomicActivity: a.EconomicActivity, EconomicActivityNote: a.EconomicActivityJustification,
		MarketOrCompetition: a.MarketOrCompetition, MarketNote: a.MarketOrCompetitionJustification,
		PossibleStateAid: a.PossibleStateAid, StateAidNote: a.PossibleStateAidJustification,
		IdeaBasedOrganisation: a.IdeaBasedOrganisation, IdeaBasedNote: a.IdeaBasedOrganisationJustification,
		Suitable: a.Suitable(), Recommendation: a.recommendation()}
}

// DocumentInput is an attached document: a link, or a file of at most
// MaxDocumentSize with its media type.
type DocumentInput struct {
	Kind      string
	Title     string
	URL       string
	Content   []byte
	MediaType string
}

func (d *DocumentInput) validate() error {
	if !slices.Contains(DocumentKinds, d.Kind) {
		return apperr.Invalid("kind", "Okänt slag av dokument %q; möjliga: %s. / Unknown kind of document %q; the kinds are: %s.",
			validate.Clip(d.Kind), strings.Join(DocumentKinds, ", "), validate.Clip(d.Kind), strings.Join(DocumentKinds, ", "))
	}
	d.Title = strings.TrimSpace(d.Title)
	if err := validate.Text("title", d.Title, 1, 300); err != nil {
		return err
	}
	if err := validate.Text("mediaType", d.MediaType, 0, 200); err != nil {
		return err
	}
	if (d.URL == "") == (d.Content == nil) {
		return apperr.Invalid("content", "Bifoga antingen en länk eller en fil. / Attach either a link or a file.")
	}
	if d.URL != "" {
		d.MediaType = ""
		return validate.URL("url", d.URL)
	}
	if len(d.Content) == 0 {
		return apperr.Invalid("content", "Filen är tom. / The file is empty.")
	}
	if len(d.Content) > MaxDocumentSize {
		return apperr.Invalid("content", "Filen är för stor (%.1f MB); högst 5 MB. / The file is too large (%.1f MB); at most 5 MB.",
			float64(len(d.Content))/(1<<20), float64(len(d.Content))/(1<<20))
	}
	mt, _, err := mime.ParseMediaType(d.MediaType)
	if err != nil || !slices.Contains(MediaTypes, mt) {
		return apperr.Invalid("mediaType", "Filtypen %q tas inte emot; skicka PDF, text, bild eller ett kontorsdokument. / The file type %q is not accepted; send a PDF, text, an image or an office document.",
			validate.Clip(d.MediaType), validate.Clip(d.MediaType))
	}
	d.MediaType = mt
	return nil
}

// AmendmentInput proposes a change of an active partnership.
type AmendmentInput struct {
	Description string
	// Fields are new texts of the record by field name: title, purpose,
	// background, preconditions, steeringGroup, workingGroup,
	// responsibilities, goals, targetGroup, followUpIndicators,
	// expectedGains, changeHandling, renegotiation, rescission,
	// disputeResolution.
	Fields map[string]string
	// Budget is a new budget; empty leaves it.
	Budget string
	// Contributions replace the contributions of every year they mention.
	Contributions []ContributionInput
}

// amendment is a checked amendment with its changes as stored.
type amendment struct {
	Description string          `json:"description"`
	Changes     json.RawMessage `json:"changes"`
}

// changes is the JSON of an amendment's changes; amounts are decimals.
type changes struct {
	Fields        map[string]string   `json:"fields,omitempty"`
	Budget        string              `json:"budget,omitempty"`
	Contributions []ContributionInput `json:"contributions,omitempty"`
}

func (a *AmendmentInput) check(p *store.Partnership, parties []uuid.UUID) (amendment, error) {
	if err := validate.Text("description", strings.TrimSpace(a.Description), 1, 5000); err != nil {
		return amendment{}, err
	}
	var c changes
	probe := *p
	known := map[string]textField{}
	for _, f := range textFields(&probe) {
		known[f.name] = f
	}
	for name, text := range a.Fields {
		f, ok := known[name]
		if !ok {
			return amendment{}, apperr.Invalid("fields", "Fältet %q kan inte ändras. / The field %q cannot be amended.", validate.Clip(name), validate.Clip(name))
		}
		if err := validate.Text(name, text, f.min, f.max); err != nil {
			return amendment{}, err
		}
	}
	if len(a.Fields) > 0 {
		c.Fields = a.Fields
	}
	if strings.TrimSpace(a.Budget) != "" {
		b, err := ParseAmount("budget", a.Budget)
		if err != nil {
			return amendment{}, err
		}
		c.Budget = FormatAmount(b)
	}
	cs, err := contributions("contributions", a.Contributions, parties, p.StartDate.Year(), p.EndDate.Year())
	if err != nil {
		return amendment{}, err
	}
	for _, x := range cs {
		c.Contributions = append(c.Contributions, ContributionInput{OrganisationID: x.OrganisationID, Year: x.Year, Kind: x.Kind,
			Amount: FormatAmount(x.Amount), Unit: x.Unit, Description: x.Description})
	}
	if c.Fields == nil && c.Budget == "" && len(c.Contributions) == 0 {
		return amendment{}, apperr.Invalid("fields", "Ändringen ändrar ingenting. / The amendment changes nothing.")
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return amendment{}, err
	}
	return amendment{Description: strings.TrimSpace(a.Description), Changes: raw}, nil
}

// applyChanges writes an adopted amendment's changes to the record.
func applyChanges(ctx context.Context, tx pgx.Tx, p *store.Partnership, raw json.RawMessage, now time.Time) error {
	var c changes
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("amendment changes: %w", err)
	}
	for _, f := range textFields(p) {
		if text, ok := c.Fields[f.name]; ok {
			*f.value = text
		}
	}
	if c.Budget != "" {
		b, err := ParseAmount("budget", c.Budget)
		if err != nil {
			return err
		}
		p.Budget = b
	}
	p.UpdatedAt = now
	if err := store.UpdatePartnershipRecord(ctx, tx, p); err != nil {
		return err
	}
	if len(c.Contributions) == 0 {
		return nil
	}
	// Checked when proposed: the parties and the years still hold (a
	// renewal only adds years).
	var years []int
	cs := make([]store.Contribution, 0, len(c.Contributions))
	for _, x := range c.Contributions {
		if !slices.Contains(years, x.Year) {
			years = append(years, x.Year)
		}
		amount, err := ParseAmount("contributions.amount", x.Amount)
		if err != nil {
			return err
		}
		cs = append(cs, store.Contribution{OrganisationID: x.OrganisationID, Year: x.Year, Kind: x.Kind, Amount: amount,
			Unit: x.Unit, Description: x.Description})
	}
	return store.ReplaceContributions(ctx, tx, p.ID, years, cs)
}
