package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

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
				Flags: config.Flags(migrateFlags),
				Action: withDatabase(func(ctx context.Context, a *app.App, _ *cli.Command) error {
					return migrate.Up(ctx, a.Pool, a.Logger())
				}),
			},
			{
				Name:  "down",
				Usage: "remove the whole schema, River's tables included (destroys all data)",
				Flags: append(config.Flags(migrateFlags), &cli.BoolFlag{Name: "yes", Usage: "confirm that all data is to be destroyed"}),
				Action: withDatabase(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
					if !cmd.Bool("yes") {
						return cli.Exit("migrate down raderar alla data; lägg till --yes för att bekräfta. / migrate down destroys all data; add --yes to confirm.", 2)
					}
					return migrate.Down(ctx, a.Pool, a.Logger())
				}),
			},
			{
				Name:  "status",
				Usage: "list migrations and whether each is applied",
				Flags: append(config.Flags(migrateFlags), &cli.BoolFlag{Name: "json", Usage: "print JSON"}),
				Action: withDatabase(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
					st, err := migrate.List(ctx, a.Pool, a.Logger())
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

// migrateFlags are what the migrate subcommands take: where the database
// is and how to log.
const migrateFlags = config.DataDir | config.Database | config.Logging

// withDatabase runs a tool against the configured database (starting the
// embedded one when DATABASE_URL is unset) without migrating on open.
func withDatabase(fn func(context.Context, *app.App, *cli.Command) error) cli.ActionFunc {
	return openDatabase(false, fn)
}

// withSchema runs a tool that needs the schema. A tool that takes --migrate
// (on by default) first applies pending migrations, as the server does on
// start; otherwise it refuses a database with pending migrations in one
// line that says to run `samverkan migrate up` first.
func withSchema(fn func(context.Context, *app.App, *cli.Command) error) cli.ActionFunc {
	return openDatabase(true, fn)
}

func openDatabase(schema bool, fn func(context.Context, *app.App, *cli.Command) error) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		cfg, err := config.FromCommand(cmd)
		if err != nil {
			return err
		}
		cfg.Migrate = schema && cfg.Migrate && takesFlag(cmd, "migrate")
		a, err := app.Open(ctx, app.Options{Config: cfg, Version: buildVersion()})
		if err != nil {
			return err
		}
		defer a.Close()
		if schema && !cfg.Migrate {
			if err := requireSchema(ctx, a); err != nil {
				return err
			}
		}
		return fn(ctx, a, cmd)
	}
}

// requireSchema refuses a database with pending migrations.
func requireSchema(ctx context.Context, a *app.App) error {
	pending, err := migrate.Pending(ctx, a.Pool, a.Logger())
	if err != nil {
		return err
	}
	if pending > 0 {
		return cli.Exit(schemaMissing, 1)
	}
	return nil
}

// schemaMissing is what a tool says on a database it cannot use yet.
const schemaMissing = "Databasen saknar schemat eller delar av det; kör `samverkan migrate up` först. / " +
	"The database lacks its schema or part of it; run `samverkan migrate up` first."

func takesFlag(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
}
