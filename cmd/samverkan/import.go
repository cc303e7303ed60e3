package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/urfave/cli/v3"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/workflows/signing"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:  "import",
		Usage: "load data that exists elsewhere",
		Commands: []*cli.Command{{
			Name: "signatories",
			Usage: "put a paper list of signatories on an agreement version: a CSV with the header " +
				"name,organisation_number,legal_form,municipality,signed_on (comma or semicolon separated)",
			Flags: append(config.Flags(),
				&cli.StringFlag{Name: "file", Required: true, Usage: "the CSV file"},
				&cli.StringFlag{Name: "agreement-version", Required: true, Usage: "the version's id (UUID or GraphQL ID)"},
				&cli.BoolFlag{Name: "dry-run", Usage: "check every line and report problems; change nothing"},
				&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			),
			Action: withDatabase(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
				version, err := parseVersionID(cmd.String("agreement-version"))
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				f, err := os.Open(cmd.String("file"))
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				defer f.Close()
				rows, problems, err := signing.ReadImportCSV(f)
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				if err := a.Build(ctx); err != nil {
					return err
				}
				progress := newProgress(os.Stderr)
				rep, err := a.Services.Signing.Import(ctx, authz.SystemPrincipal, version, rows, problems, cmd.Bool("dry-run"),
					func(done, total int) { progress.Step("importing", done, total) })
				if err != nil {
					return err
				}
				if cmd.Bool("json") {
					if err := json.NewEncoder(cmd.Writer).Encode(rep); err != nil {
						return err
					}
				} else {
					for _, p := range rep.Problems {
						fmt.Fprintf(cmd.Writer, "line %d: %s\n", p.Line, p.Reason)
					}
					fmt.Fprintf(cmd.Writer, "%d rows, %d valid, %d with problems, %d imported (%d new organisations)\n",
						rep.Rows, rep.Valid, len(rep.Problems), rep.Imported, rep.NewOrganisations)
				}
				if len(rep.Problems) > 0 {
					msg := "nothing was imported: fix the lines above and run again"
					if cmd.Bool("dry-run") {
						msg = "the list has problems"
					}
					return cli.Exit(msg, 1)
				}
				return nil
			}),
		}},
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
	return uuid.Nil, fmt.Errorf("--agreement-version %q is neither a UUID nor an agreement version's ID", s)
}
