package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/audit"
	"github.com/samverkan/samverkan/internal/config"
)

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "check the append-only history",
		Commands: []*cli.Command{{
			Name: "verify",
			Usage: "recompute every history event's hash, follow each stream's chain and print the history digest; " +
				"exits 1 when an event was altered or removed",
			Flags: append(config.Flags(config.DataDir|config.Database|config.ToolLogging), &cli.BoolFlag{Name: "json", Usage: "print the result as JSON"}),
			Action: withSchema(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
				var report func(audit.Progress)
				if !cmd.Bool("json") {
					p := newProgress(os.Stderr)
					report = func(pr audit.Progress) { p.Step("verifying history events", pr.Events, pr.Total) }
				}
				res, err := audit.Verify(ctx, a.Pool, report)
				if err != nil {
					return err
				}
				if cmd.Bool("json") {
					err = json.NewEncoder(cmd.Writer).Encode(res)
				} else {
					err = res.WriteText(cmd.Writer)
				}
				if err != nil {
					return err
				}
				if !res.OK {
					return cli.Exit("", 1)
				}
				return nil
			}),
		}},
	}
}
