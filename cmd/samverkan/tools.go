package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/token"
)

func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "print a token from the local development issuer (accepted only by a server in dev mode)",
		Flags: append(config.Flags(config.DataDir),
			&cli.StringFlag{Name: "subject", Required: true, Usage: "who the token is for (a stable user name, e.g. anna)"},
			&cli.StringFlag{Name: "name", Usage: "the person's name"},
			&cli.StringFlag{Name: "email", Usage: "the person's e-mail"},
			&cli.DurationFlag{Name: "ttl", Value: 12 * time.Hour, Usage: "how long the token is valid"},
		),
		Action: func(_ context.Context, cmd *cli.Command) error {
			cfg, err := config.FromCommand(cmd)
			if err != nil {
				return err
			}
			keys, err := token.LoadOrCreateDevIssuer(cfg.DevKeyDir())
			if err != nil {
				return err
			}
			tok, err := keys.Sign(token.TokenRequest{Subject: cmd.String("subject"), Name: cmd.String("name"),
				Email: cmd.String("email"), TTL: cmd.Duration("ttl")})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.Writer, tok)
			return err
		},
	}
}

func adminCommand() *cli.Command {
	return &cli.Command{
		Name:  "admin",
		Usage: "administration straight in the database",
		Commands: []*cli.Command{{
			Name:  "grant",
			Usage: "give a person (by token subject) a role, e.g. the first admin: admin grant --subject anna --role admin",
			Flags: append(config.Flags(config.Tool|config.Issuer),
				&cli.StringFlag{Name: "subject", Required: true, Usage: "the person's token subject"},
				&cli.StringFlag{Name: "name", Usage: "the person's name, if they have not signed in yet"},
				&cli.StringFlag{Name: "role", Required: true, Usage: "admin, region_official, region_politician, council_member or sector_representative"},
				&cli.StringFlag{Name: "scope", Value: "*", Usage: `"*" (admin), "region", "sector" or "org:<uuid>"`},
			),
			Action: withSchema(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
				id, err := a.Grant(ctx, cmd.String("subject"), cmd.String("name"), cmd.String("role"), cmd.String("scope"))
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.Writer, "%s (user %s) now holds %s in %s\n", cmd.String("subject"), id, cmd.String("role"), cmd.String("scope"))
				return err
			}),
		}},
	}
}

func seedCommand() *cli.Command {
	return &cli.Command{
		Name:  "seed",
		Usage: "load data",
		Commands: []*cli.Command{{
			Name:  "demo",
			Usage: "load the 2018 story with invented organisations and people (does nothing when already loaded)",
			Flags: config.Flags(config.Tool | config.Issuer),
			Action: withSchema(func(ctx context.Context, a *app.App, cmd *cli.Command) error {
				if err := a.Build(ctx); err != nil {
					return err
				}
				loaded, err := demo.Seed(ctx, a, newProgress(cmd.Writer))
				if err != nil {
					return err
				}
				if !loaded {
					_, err = fmt.Fprintln(cmd.Writer, "the demo is already loaded")
				}
				return err
			}),
		}},
	}
}

func healthcheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "healthcheck",
		Usage: "exit 0 when a URL answers 200 (for container health checks; images have no shell or curl)",
		Flags: []cli.Flag{&cli.StringFlag{Name: "url", Value: "http://127.0.0.1:8080/readyz", Usage: "the URL to ask"}},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, cmd.String("url"), nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return cli.Exit(fmt.Sprintf("%s answered %d", cmd.String("url"), resp.StatusCode), 1)
			}
			return nil
		},
	}
}
