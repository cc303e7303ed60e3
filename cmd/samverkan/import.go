package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/urfave/cli/v3"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/signing"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:  "import",
		Usage: "load data that exists elsewhere",
		Commands: []*cli.Command{
			csvImportCommand("signatories", "put a paper list of signatories on an agreement version: a CSV with the header "+
				"name,organisation_number,legal_form,municipality,signed_on (comma or semicolon separated)",
				func(ctx context.Context, a *app.App, version uuid.UUID, f io.Reader, dryRun bool, progress func(done, total int)) (importOutcome, error) {
					rows, problems, err := signing.ReadImportCSV(f)
					if err != nil {
						return importOutcome{}, cli.Exit(personMessage(err), 2)
					}
					if err := a.Build(ctx); err != nil {
						return importOutcome{}, err
					}
					rep, err := a.Services.Signing.Import(ctx, authz.SystemPrincipal, version, rows, problems, dryRun, progress)
					out := importOutcome{report: rep, summary: fmt.Sprintf("%d rader, %d giltiga, %d med problem, %d importerade (%d nya organisationer) / "+
						"%d rows, %d valid, %d with problems, %d imported (%d new organisations)",
						rep.Rows, rep.Valid, len(rep.Problems), rep.Imported, rep.NewOrganisations,
						rep.Rows, rep.Valid, len(rep.Problems), rep.Imported, rep.NewOrganisations)}
					for _, p := range rep.Problems {
						out.problems = append(out.problems, lineProblem{p.Line, p.Reason})
					}
					return out, err
				}),
			csvImportCommand("followups", "record past years' annual follow-ups, done before the installation, on an agreement version: a CSV with the header "+
				"year,title,published_on[,url] (comma or semicolon separated; title is the annual report's, url an optional link to it)",
				func(ctx context.Context, a *app.App, version uuid.UUID, f io.Reader, dryRun bool, progress func(done, total int)) (importOutcome, error) {
					rows, problems, err := followup.ReadImportCSV(f)
					if err != nil {
						return importOutcome{}, cli.Exit(personMessage(err), 2)
					}
					if err := a.Build(ctx); err != nil {
						return importOutcome{}, err
					}
					rep, err := a.Services.FollowUp.Import(ctx, authz.SystemPrincipal, version, rows, problems, dryRun, progress)
					out := importOutcome{report: rep, summary: fmt.Sprintf("%d rader, %d giltiga, %d med problem, %d uppföljningar importerade / "+
						"%d rows, %d valid, %d with problems, %d follow-ups imported",
						rep.Rows, rep.Valid, len(rep.Problems), rep.Imported, rep.Rows, rep.Valid, len(rep.Problems), rep.Imported)}
					for _, p := range rep.Problems {
						out.problems = append(out.problems, lineProblem{p.Line, p.Reason})
					}
					return out, err
				}),
		},
	}
}

// lineProblem is a line of an imported list that cannot be imported.
type lineProblem struct {
	line   int
	reason string
}

// importOutcome is what importing (or checking) a list gave: the report
// for --json, its problems in line order and a summary line.
type importOutcome struct {
	report   any
	problems []lineProblem
	summary  string
}

// csvImportCommand is an import subcommand of a CSV list onto an agreement
// version: all or nothing, --dry-run to check only, the report as text
// (problems in line order, Swedish then English) or JSON on stdout.
func csvImportCommand(name, usage string,
	run func(ctx context.Context, a *app.App, version uuid.UUID, f io.Reader, dryRun bool, progress func(done, total int)) (importOutcome, error)) *cli.Command {
	return &cli.Command{
		Name:  name,
		Usage: usage,
		Flags: append(config.Flags(config.Tool),
			&cli.StringFlag{Name: "file", Required: true, Usage: "the CSV file"},
			&cli.StringFlag{Name: "agreement-version", Required: true, Usage: "the version's id (UUID or GraphQL ID)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "check every line and report problems; change nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
		),
		Action: withSchema(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
			version, err := parseVersionID(cmd.String("agreement-version"))
			if err != nil {
				return cli.Exit(personMessage(err), 2)
			}
			f, err := os.Open(cmd.String("file"))
			if err != nil {
				return cli.Exit(fmt.Sprintf("Filen %q går inte att öppna. / The file %q cannot be opened: %v", cmd.String("file"), cmd.String("file"), errors.Unwrap(err)), 2)
			}
			defer f.Close()
			progress := newProgress(os.Stderr)
			out, err := run(ctx, a, version, f, cmd.Bool("dry-run"), func(done, total int) { progress.Step("importing", done, total) })
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				if err := json.NewEncoder(cmd.Writer).Encode(out.report); err != nil {
					return err
				}
			} else {
				for _, p := range out.problems {
					fmt.Fprintf(cmd.Writer, "rad %d / line %d: %s\n", p.line, p.line, p.reason)
				}
				fmt.Fprintln(cmd.Writer, out.summary)
			}
			if len(out.problems) > 0 {
				msg := "Inget importerades: rätta raderna ovan och kör igen. / Nothing was imported: fix the lines above and run again."
				if cmd.Bool("dry-run") {
					msg = "Listan har problem. / The list has problems."
				}
				return cli.Exit(msg, 1)
			}
			return nil
		}),
	}
}

// parseVersionID takes a UUID or the GraphQL global ID of an agreement
// version.
func parseVersionID(s string) (uuid.UUID, error) {
	if id, err := uuid.Parse(s); err == nil {
		return id, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if rest, ok := strings.CutPrefix(string(raw), "AgreementVersion:"); err == nil && ok {
		return uuid.Parse(rest)
	}
	return uuid.Nil, apperr.Invalid("agreement-version", "--agreement-version %q är varken ett UUID eller id:t för en version av en överenskommelse. / "+
		"--agreement-version %q is neither a UUID nor an agreement version's ID.", s, s)
}
