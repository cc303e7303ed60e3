package signing

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/csvtable"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
	"github.com/samverkan/samverkan/workflows"
)

// ImportRow is one line of a paper list of signatories.
type ImportRow struct {
	Line               int
	Name               string
	OrganisationNumber string
	LegalForm          string
	Municipality       string
	SignedOn           time.Time
	number             orgnr.Number
	skeleton           string
}

// ImportProblem is an invalid line and why.
type ImportProblem = csvtable.Problem

// ImportReport says what an import found and did.
type ImportReport struct {
	Rows     int             `json:"rows"`
	Valid    int             `json:"valid"`
	Problems []ImportProblem `json:"problems"`
	Imported int             `json:"imported"`
	// NewOrganisations were registered by the import.
	NewOrganisations int `json:"newOrganisations"`
}

// legalForms maps what people write in a list to the registry's forms.
var legalForms = map[string]string{
	"ideell förening": "ideell_forening", "ideell_forening": "ideell_forening", "ekonomisk förening": "ekonomisk_forening",
	"ekonomisk_forening": "ekonomisk_forening", "stiftelse": "stiftelse", "trossamfund": "trossamfund", "nätverk": "natverk",
	"natverk": "natverk", "kooperativ": "kooperativ", "annan": "other", "other": "other", "": "other",
}

// ReadImportCSV reads a list with the header
// name,organisation_number,legal_form,municipality,signed_on (comma or
// semicolon separated, as spreadsheets save it). Lines that cannot be read
// become problems; the others are returned for checking.
func ReadImportCSV(r io.Reader) ([]ImportRow, []ImportProblem, error) {
	want := []string{"name", "organisation_number", "legal_form", "municipality", "signed_on"}
	lines, problems, err := csvtable.Read(r, want, nil)
	if err != nil {
		return nil, nil, err
	}
	var rows []ImportRow
	for _, l := range lines {
		line, get := l.Number, l.Get
		row := ImportRow{Line: line, Name: get("name"), OrganisationNumber: get("organisation_number"),
			LegalForm: strings.ToLower(get("legal_form")), Municipality: get("municipality")}
		if row.SignedOn, err = time.Parse("2006-01-02", get("signed_on")); err != nil {
			problems = append(problems, ImportProblem{Line: line, Reason: fmt.Sprintf("signed_on %q är inget datum ÅÅÅÅ-MM-DD. / signed_on %q is not a date YYYY-MM-DD.",
				get("signed_on"), get("signed_on"))})
			continue
		}
		rows = append(rows, row)
	}
	// The lines the CSV reader could not read come back first; the list
	// reads in line order.
	slices.SortStableFunc(problems, func(a, b ImportProblem) int { return a.Line - b.Line })
	return rows, problems, nil
}

// Import checks every row and, unless dryRun or any row is invalid, puts
// them all on the version's list in one transaction: missing organisations
// are registered, and each signing is recorded in the history as imported.
// It is all or nothing.
func (s *Service) Import(ctx context.Context, pr authz.Principal, versionID uuid.UUID, rows []ImportRow, problems []ImportProblem, dryRun bool,
	progress func(done, total int)) (ImportReport, error) {
	rep := ImportReport{Rows: len(rows) + len(problems), Problems: problems}
	if err := s.eng.Policy().Authorize(ctx, pr, "signing.import", []string{authz.ScopeAll, authz.ScopeRegion}); err != nil {
		return rep, err
	}
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		v, err := registry.VersionTx(ctx, tx, versionID)
		if err != nil {
			return err
		}
		today := clock.Today(s.eng.Clock().Now())
		seen := map[orgnr.Number]int{}
		for i := range rows {
			r := &rows[i]
			if reason := s.checkRow(ctx, tx, r, v, today, seen); reason != "" {
				rep.Problems = append(rep.Problems, ImportProblem{Line: r.Line, Reason: reason})
				continue
			}
			rep.Valid++
		}
		// The lines that could not be read come first; report in line order.
		slices.SortStableFunc(rep.Problems, func(a, b ImportProblem) int { return a.Line - b.Line })
		if dryRun || len(rep.Problems) > 0 {
			return nil
		}
		for i, r := range rows {
			created, err := s.importRow(ctx, tx, pr, v, r)
			if err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			if created {
				rep.NewOrganisations++
			}
			rep.Imported++
			if progress != nil {
				progress(i+1, len(rows))
			}
		}
		return nil
	})
	if err != nil {
		rep.Imported, rep.NewOrganisations = 0, 0
	}
	return rep, err
}

func (s *Service) checkRow(ctx context.Context, tx pgx.Tx, r *ImportRow, v *store.AgreementVersion, today time.Time, seen map[orgnr.Number]int) string {
	if err := validate.Text("name", r.Name, 1, 300); err != nil {
		return message(err)
	}
	if err := validate.Text("municipality", r.Municipality, 0, 100); err != nil {
		return message(err)
	}
	n, err := orgnr.Parse(r.OrganisationNumber)
	if err != nil {
		return message(err)
	}
	r.number = n
	name, skeleton, err := registry.OrganisationName(ctx, tx, r.Name, string(n))
	if err != nil {
		return message(err)
	}
	r.Name, r.skeleton = name, skeleton
	if prev, dup := seen[n]; dup {
		return fmt.Sprintf("organisationsnumret %s finns redan på rad %d / organisation number %s is already on line %d", n, prev, n, prev)
	}
	seen[n] = r.Line
	form, ok := legalForms[r.LegalForm]
	if !ok {
		return fmt.Sprintf("okänd organisationsform %q / unknown legal form %q", r.LegalForm, r.LegalForm)
	}
	r.LegalForm = form
	if r.SignedOn.Before(v.AdoptedOn) {
		return fmt.Sprintf("undertecknad %s, före antagandet %s / signed %s, before the adoption on %s",
			r.SignedOn.Format("2006-01-02"), v.AdoptedOn.Format("2006-01-02"), r.SignedOn.Format("2006-01-02"), v.AdoptedOn.Format("2006-01-02"))
	}
	if r.SignedOn.After(today) {
		return fmt.Sprintf("undertecknad %s, i framtiden / signed %s, in the future", r.SignedOn.Format("2006-01-02"), r.SignedOn.Format("2006-01-02"))
	}
	if org, err := store.OrganisationByNumber(ctx, tx, string(n)); err == nil {
		if _, err := store.CurrentSignatory(ctx, tx, v.ID, org.ID); err == nil {
			return fmt.Sprintf("%s har redan undertecknat den här versionen / %s has already signed this version", org.Name, org.Name)
		}
	}
	return ""
}

func message(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Message
	}
	return err.Error()
}

func (s *Service) importRow(ctx context.Context, tx pgx.Tx, pr authz.Principal, v *store.AgreementVersion, r ImportRow) (bool, error) {
	now := s.eng.Clock().Now()
	created := false
	org, err := store.OrganisationByNumber(ctx, tx, string(r.number))
	if apperr.IsCode(err, apperr.NotFound) {
		org = &store.Organisation{Name: r.Name, OrganisationNumber: string(r.number), LegalForm: r.LegalForm,
			Sector: registry.SectorIdeaBased, Municipality: r.Municipality, CreatedAt: now, NameSkeleton: r.skeleton}
		if err := store.InsertOrganisation(ctx, tx, org); err != nil {
			return false, err
		}
		created = true
	} else if err != nil {
		return false, err
	}
	in, err := s.eng.StartTx(ctx, tx, workflows.StartParams{
		Kind: Kind, SubjectType: "organisation", SubjectID: org.ID, Scopes: Scopes(org.ID), Actor: pr, State: Signed,
		Event: "imported", Public: true,
		Data:  map[string]any{keyOrganisation: org.ID.String(), keyVersion: v.ID.String(), keySigned: true},
		Input: map[string]any{"signedOn": r.SignedOn.Format("2006-01-02"), "line": r.Line},
	})
	if err != nil {
		return false, err
	}
	return created, store.InsertSignatory(ctx, tx, &store.Signatory{AgreementVersionID: v.ID, OrganisationID: org.ID,
		InstanceID: &in.ID, SignedOn: r.SignedOn, How: "imported", CreatedAt: now})
}
