package followup

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/csvtable"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
	"github.com/samverkan/samverkan/workflows"
)

// ImportRow is one past year's follow-up, done before the installation:
// the year followed up and its published annual report.
type ImportRow struct {
	Line        int
	Year        int
	Title       string
	PublishedOn time.Time
	// URL links to the published report ("" for none).
	URL string
}

// ImportProblem is an invalid line and why.
type ImportProblem = csvtable.Problem

// ImportReport says what an import found and did.
type ImportReport struct {
	Rows     int             `json:"rows"`
	Valid    int             `json:"valid"`
	Problems []ImportProblem `json:"problems"`
	Imported int             `json:"imported"`
}

// importColumns are the columns an import file must have; url may be left
// out (or empty).
var importColumns = []string{"year", "title", "published_on"}

// ReadImportCSV reads a list of past follow-ups with the header
// year,title,published_on[,url] (comma or semicolon separated, as
// spreadsheets save it). Lines that cannot be read become problems; the
// others are returned for checking.
func ReadImportCSV(r io.Reader) ([]ImportRow, []ImportProblem, error) {
	lines, problems, err := csvtable.Read(r, importColumns, []string{"url"})
	if err != nil {
		return nil, nil, err
	}
	var rows []ImportRow
	for _, l := range lines {
		line, get := l.Number, l.Get
		row := ImportRow{Line: line, Title: get("title"), URL: get("url")}
		if row.Year, err = strconv.Atoi(get("year")); err != nil {
			problems = append(problems, ImportProblem{Line: line, Reason: fmt.Sprintf("year %q är inget årtal. / year %q is not a year.", get("year"), get("year"))})
			continue
		}
		if row.PublishedOn, err = time.Parse("2006-01-02", get("published_on")); err != nil {
			problems = append(problems, ImportProblem{Line: line, Reason: fmt.Sprintf("published_on %q är inget datum ÅÅÅÅ-MM-DD. / published_on %q is not a date YYYY-MM-DD.",
				get("published_on"), get("published_on"))})
			continue
		}
		rows = append(rows, row)
	}
	// The lines the CSV reader could not read come back first; the list
	// reads in line order.
	slices.SortStableFunc(problems, func(a, b ImportProblem) int { return a.Line - b.Line })
	return rows, problems, nil
}

// Import checks every row and, unless dryRun or any row is invalid, records
// each as a follow-up already done, in one transaction: the year's
// follow-up, finished (its history says it was imported, with the line),
// and its published annual report. It is all or nothing. A year may be
// imported only once the year has ended, from the year the version was
// adopted, and only when the version has no follow-up of it yet.
func (s *Service) Import(ctx context.Context, pr authz.Principal, versionID uuid.UUID, rows []ImportRow, problems []ImportProblem, dryRun bool,
	progress func(done, total int)) (ImportReport, error) {
	rep := ImportReport{Rows: len(rows) + len(problems), Problems: problems}
	if err := s.eng.Policy().Authorize(ctx, pr, "followup.import", []string{authz.ScopeAll, authz.ScopeRegion}); err != nil {
		return rep, err
	}
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		v, err := registry.VersionTx(ctx, tx, versionID)
		if err != nil {
			return err
		}
		existing, err := store.InstancesOfKind(ctx, tx, Kind, &versionID)
		if err != nil {
			return err
		}
		taken := map[int]bool{}
		for _, in := range existing {
			taken[Year(in)] = true
		}
		today := clock.Today(s.eng.Clock().Now())
		seen := map[int]int{}
		for i := range rows {
			r := &rows[i]
			if reason := checkImportRow(r, v, today, taken, seen); reason != "" {
				rep.Problems = append(rep.Problems, ImportProblem{Line: r.Line, Reason: reason})
				continue
			}
			rep.Valid++
		}
		slices.SortStableFunc(rep.Problems, func(a, b ImportProblem) int { return a.Line - b.Line })
		if dryRun || len(rep.Problems) > 0 {
			return nil
		}
		for i, r := range rows {
			if err := s.importRow(ctx, tx, pr, v, r); err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			rep.Imported++
			if progress != nil {
				progress(i+1, len(rows))
			}
		}
		return nil
	})
	if err != nil {
		rep.Imported = 0
	}
	return rep, err
}

func checkImportRow(r *ImportRow, v *store.AgreementVersion, today time.Time, taken map[int]bool, seen map[int]int) string {
	if err := validate.Text("title", r.Title, 1, 300); err != nil {
		return message(err)
	}
	if err := validate.URL("url", r.URL); err != nil {
		return message(err)
	}
	if prev, dup := seen[r.Year]; dup {
		return fmt.Sprintf("året %d finns redan på rad %d / the year %d is already on line %d", r.Year, prev, r.Year, prev)
	}
	seen[r.Year] = r.Line
	if r.Year < v.AdoptedOn.Year() {
		return fmt.Sprintf("året %d är före antagandet %s / the year %d is before the adoption on %s",
			r.Year, v.AdoptedOn.Format("2006-01-02"), r.Year, v.AdoptedOn.Format("2006-01-02"))
	}
	if r.Year >= today.Year() {
		return fmt.Sprintf("året %d är inte slut / the year %d has not ended", r.Year, r.Year)
	}
	if r.PublishedOn.Year() <= r.Year {
		return fmt.Sprintf("publicerad %s, före årets slut / published %s, before the year ended",
			r.PublishedOn.Format("2006-01-02"), r.PublishedOn.Format("2006-01-02"))
	}
	if r.PublishedOn.After(today) {
		return fmt.Sprintf("publicerad %s, i framtiden / published %s, in the future", r.PublishedOn.Format("2006-01-02"), r.PublishedOn.Format("2006-01-02"))
	}
	if taken[r.Year] {
		return fmt.Sprintf("uppföljningen av %d finns redan / the follow-up of %d already exists", r.Year, r.Year)
	}
	return ""
}

func message(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Message
	}
	return err.Error()
}

func (s *Service) importRow(ctx context.Context, tx pgx.Tx, pr authz.Principal, v *store.AgreementVersion, r ImportRow) error {
	in, err := s.eng.StartTx(ctx, tx, workflows.StartParams{
		Kind: Kind, SubjectType: "agreement_version", SubjectID: v.ID, Scopes: Scopes, Actor: pr, State: PlanAdopted,
		Event: "imported", Public: true,
		Data: map[string]any{keyYear: r.Year, keyVersion: v.ID.String()},
		Input: map[string]any{"year": r.Year, "title": r.Title, "publishedOn": r.PublishedOn.Format("2006-01-02"), "url": r.URL,
			"line": r.Line},
	})
	if err != nil {
		return err
	}
	return store.InsertAnnualReport(ctx, tx, &store.AnnualReport{AgreementVersionID: v.ID, Year: r.Year, InstanceID: in.ID,
		Title: r.Title, PublishedOn: r.PublishedOn, DocumentURL: r.URL})
}
