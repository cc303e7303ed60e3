package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v3"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/migrate"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply, remove or list database migrations",
		Commands: []*cli.Command{
			{
				Name:  "up",
				Usage: "apply every pending migration (ours, then River's)",
				Flags: config.Flags(),
				Action: withDatabase(func(ctx context.Context, a *app.App, _ *cli.Command) error {
					return a.MigrateUp(ctx)
				}),
			},
			{
				Name:  "down",
				Usage: "remove the whole schema, River's tables included (destroys all data)",
				Flags: append(config.Flags(), &cli.BoolFlag{Name: "yes", Usage: "confirm that all data is to be destroyed"}),
				Action: withDatabase(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
					if !cmd.Bool("yes") {
						return cli.Exit("migrate down destroys all data; add --yes to confirm", 2)
					}
					return a.AsOwner(ctx, func(owner *pgxpool.Pool) error { return migrate.Down(ctx, owner, a.Logger()) })
				}),
			},
			{
				Name:  "status",
				Usage: "list migrations and whether each is applied",
				Flags: append(config.Flags(), &cli.BoolFlag{Name: "json", Usage: "print JSON"}),
				Action: withDatabase(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
					var st []migrate.Status
					err := a.AsOwner(ctx, func(owner *pgxpool.Pool) (err error) {
						st, err = migrate.List(ctx, owner, a.Logger())
						return err
					})
					if err != nil {
						return err
					}
					if cmd.Bool("json") {
						return json.NewEncoder(cmd.Writer).Encode(st)
					}
					w := tabwriter.NewWriter(cmd.Writer, 0, 4, 2, ' ', 0)
					fmt.Fprintln(w, "SOURCE\tVERSION\tNAME\tAPPLIED")
					for _, s := range st {
						fmt.Fprintf(w, "%s\t%d\t%s\t%v\n", s.Source, s.Version, s.Name, s.Applied)
					}
					return w.Flush()
				}),
			},
		},
	}
}

// withDatabase runs a tool against the configured database (starting the
// embedded one when DATABASE_URL is unset) without migrating on open.
func withDatabase(fn func(context.Context, *app.App, *cli.Command) error) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		cfg, err := config.FromCommand(cmd)
		if err != nil {
			return err
		}
		cfg.Migrate = false
		a, err := app.Open(ctx, app.Options{Config: cfg, Version: buildVersion()})
		if err != nil {
			return err
		}
		defer a.Close()
		return fn(ctx, a, cmd)
	}
}
