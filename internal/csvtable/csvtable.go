// Package csvtable reads the CSV files people export from a spreadsheet to
// import lists: a header line naming the columns, then one line a record.
// It takes a byte-order mark, a comma or a semicolon (Swedish Excel), and
// columns in any order, and tells, per line, why a line cannot be read.
package csvtable

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/samverkan/samverkan/internal/apperr"
)

// MaxBytes is the largest file read; the rest is ignored.
const MaxBytes = 20 << 20

// Line is one record of the file: its line number and its cells by column.
type Line struct {
	Number int
	cells  []string
	col    map[string]int
}

// Get is the trimmed cell of the named column ("" for a column the file
// does not have).
func (l Line) Get(name string) string {
	if i, ok := l.col[name]; ok {
		return strings.TrimSpace(l.cells[i])
	}
	return ""
}

// Problem is a line that cannot be read, and why.
type Problem struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// Read reads the file: its lines, the lines it cannot read, or a BAD_INPUT
// error on field "file" when the header cannot be read or lacks one of
// required (optional names the columns that may also be given, for the
// message).
func Read(r io.Reader, required, optional []string) ([]Line, []Problem, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes))
	if err != nil {
		return nil, nil, err
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	first, _, _ := strings.Cut(text, "\n")
	cr := csv.NewReader(strings.NewReader(text))
	if strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, &apperr.Error{Code: apperr.BadInput, Field: "file", Err: err,
			Message: fmt.Sprintf("Rubrikraden går inte att läsa (%v). / The header line cannot be read (%v).", err, err)}
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, w := range required {
		if _, ok := col[w]; !ok {
			cols := strings.Join(required, ", ")
			sv, en := "", ""
			if len(optional) > 0 {
				sv, en = " (och gärna "+strings.Join(optional, ", ")+")", " (and optionally "+strings.Join(optional, ", ")+")"
			}
			return nil, nil, apperr.Invalid("file", "Rubrikraden ska ha kolumnerna %s%s; %q saknas. / The header must have the columns %s%s; %q is missing.",
				cols, sv, w, cols, en, w)
		}
	}
	var lines []Line
	var problems []Problem
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		n, _ := cr.FieldPos(0)
		if err != nil {
			problems = append(problems, Problem{Line: n, Reason: csvProblem(err)})
			continue
		}
		if len(rec) < len(header) {
			problems = append(problems, Problem{Line: n, Reason: fmt.Sprintf("Raden har %d kolumner, %d väntades. / The line has %d columns, %d expected.",
				len(rec), len(header), len(rec), len(header))})
			continue
		}
		lines = append(lines, Line{Number: n, cells: rec, col: col})
	}
	return lines, problems, nil
}

// csvProblem says why a line cannot be read as CSV.
func csvProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return "Ett citattecken står mitt i ett fält som inte är citerat. / A quote stands inside a field that is not quoted."
	case errors.Is(err, csv.ErrQuote):
		return "Ett citerat fält saknar sitt avslutande citattecken eller har ett för mycket. / A quoted field lacks its closing quote or has one too many."
	}
	return fmt.Sprintf("Raden går inte att läsa som CSV. / The line cannot be read as CSV: %v.", err)
}
