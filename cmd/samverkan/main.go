// Command samverkan runs the samverkan service and its tools.
//
//	samverkan [serve]            API and job workers in one process (default)
//	samverkan api                API only
//	samverkan worker             job workers only
//	samverkan migrate up|down|status
//	samverkan token              a development token
//	samverkan admin grant        a role, straight in the database
//	samverkan seed demo          the demo story
//	samverkan import signatories a paper list of signatories
//	samverkan import followups   past years' follow-ups, done before the installation
//	samverkan audit verify       check the hash-chained history
//	samverkan healthcheck        for container health checks
//	samverkan version
//
// Every subcommand has --help.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/urfave/cli/v3"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCommand().Run(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "samverkan:", personMessage(err))
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

func rootCommand() *cli.Command {
	serve := serverCommand(app.ModeServe, "run the API and the job workers in one process")
	return &cli.Command{
		Name:  "samverkan",
		Usage: "workflows for Överenskommelsen between a region and the idea-based sector",
		// With no subcommand, samverkan serves. These flags are local: a
		// subcommand lists only the flags it takes.
		Flags:  config.Flags(config.All),
		Action: serve.Action,
		Commands: []*cli.Command{
			serve,
			serverCommand(app.ModeAPI, "run the GraphQL API only"),
			serverCommand(app.ModeWorker, "run the job workers only"),
			migrateCommand(),
			tokenCommand(),
			adminCommand(),
			seedCommand(),
			healthcheckCommand(),
			importCommand(),
			auditCommand(),
			benchCommand(),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(_ context.Context, cmd *cli.Command) error {
					_, err := fmt.Fprintln(cmd.Writer, buildVersion())
					return err
				},
			},
		},
	}
}

func serverCommand(mode app.Mode, usage string) *cli.Command {
	return &cli.Command{
		Name:  string(mode),
		Usage: usage,
		Flags: config.Flags(config.All),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			cfg, err := config.FromCommand(cmd)
			if err != nil {
				return err
			}
			return serve(ctx, cfg, mode)
		},
	}
}

// serve runs until ctx ends (Ctrl-C, SIGTERM) or a part of the service
// stops by itself, then shuts everything down in order.
func serve(ctx context.Context, cfg config.Config, mode app.Mode) error {
	tuneGarbageCollection()
	a, err := app.Open(ctx, app.Options{Config: cfg, Mode: mode, Version: buildVersion(), DevPeople: demoPeople()})
	if err != nil {
		return err
	}
	if !cfg.Migrate {
		if err := requireSchema(ctx, a); err != nil {
			_ = a.Close()
			return err
		}
	}
	if cfg.SeedDemoIfEmpty {
		if err := seedIfEmpty(ctx, a); err != nil {
			_ = a.Close()
			return err
		}
	}
	if err := a.Start(ctx); err != nil {
		_ = a.Close()
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-a.Done():
	}
	return errors.Join(runErr, a.Close())
}

// tuneGarbageCollection lets a server's heap grow to three times what is
// live between collections (GOGC 200, Go's default is 100) under a soft
// limit of 100 MiB, unless Go's own GOGC or GOMEMLIMIT say otherwise: the
// reads allocate a lot that dies at once, so collecting half as often
// saves 10-20% of their CPU, and the limit keeps the process near 130 MB
// however busy it is (the collector works harder as the heap nears it).
func tuneGarbageCollection() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(200)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(100 << 20)
	}
}

// seedIfEmpty loads the demo story into a database without agreements.
func seedIfEmpty(ctx context.Context, a *app.App) error {
	if err := a.Build(ctx); err != nil {
		return err
	}
	agreements, err := a.Services.Registry.Agreements(ctx)
	if err != nil || len(agreements) > 0 {
		return err
	}
	a.Logger().Info("empty database: loading the demo story (samverkan seed demo)")
	_, err = demo.Seed(ctx, a, newProgress(os.Stderr))
	return err
}

// personMessage is what a person is told of an error that ends a command:
// a domain error's message (Swedish, then English) without its cause, and
// never a database error's SQL text.
func personMessage(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Message
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Sprintf("Databasen svarade med ett fel (SQLSTATE %s). / The database answered with an error (SQLSTATE %s).", pgErr.Code, pgErr.Code)
	}
	return err.Error()
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

// demoPeople are the demo story's people, offered on the web sign-in page
// in dev mode.
func demoPeople() []web.DevPerson {
	out := make([]web.DevPerson, 0, len(demo.People))
	for _, p := range demo.People {
		out = append(out, web.DevPerson{Subject: p.Subject, Name: p.Name, Role: p.Role})
	}
	return out
}
