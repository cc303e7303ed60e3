package main

import (
	"context"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/bench"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name: "bench",
		Usage: "seed a large dataset (in its own data directory) and measure the service against plain SQL: " +
			"reads and transitions over HTTP, the annual fan-out, cold start and memory",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data-dir", Value: "./var/bench", Usage: "directory for the benchmark's embedded cluster, dev key and server log (not the dev data)",
				Sources: cli.EnvVars("SAMVERKAN_BENCH_DIR")},
			&cli.StringFlag{Name: "database-url", Usage: "use this (empty or benchmark) database instead of the embedded cluster", Sources: cli.EnvVars("DATABASE_URL")},
			&cli.StringFlag{Name: "pg-user", Value: "postgres", Usage: "account the embedded cluster runs as when run as root", Sources: cli.EnvVars("SAMVERKAN_PG_USER")},
			&cli.DurationFlag{Name: "duration", Value: 15 * time.Second, Usage: "how long each measurement runs"},
			&cli.DurationFlag{Name: "warmup", Value: 2 * time.Second, Usage: "warm-up before each measurement (not counted)"},
			&cli.IntFlag{Name: "concurrency", Value: 32, Usage: "concurrent clients"},
			&cli.IntFlag{Name: "pool", Value: 30_000, Usage: "instances seeded for each service transition measurement (1.5 times as many for the raw ones)"},
			&cli.BoolFlag{Name: "reseed", Usage: "drop the benchmark dataset and seed it again"},
			&cli.BoolFlag{Name: "keep", Usage: "keep the server running after the measurements, until Ctrl-C"},
			&cli.BoolFlag{Name: "skip-verify", Usage: "do not run audit verify over the seeded history"},
			&cli.StringFlag{Name: "profile-dir", Usage: "run the service in this process and write a CPU profile of each service measurement here"},
			&cli.IntFlag{Name: "scale", Value: 100, Usage: "dataset size in percent of the issue's (for a quick trial)"},
			&cli.StringFlag{Name: "results-dir", Value: "bench/results", Usage: "where the JSON results go (empty: not written)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			_, err := bench.Run(ctx, bench.Options{
				DataDir:     cmd.String("data-dir"),
				DatabaseURL: cmd.String("database-url"),
				PGUser:      cmd.String("pg-user"),
				Duration:    cmd.Duration("duration"),
				Warmup:      cmd.Duration("warmup"),
				Concurrency: int(cmd.Int("concurrency")),
				PoolSize:    int(cmd.Int("pool")),
				Scale:       bench.DefaultScale().Percent(int(cmd.Int("scale"))),
				Reseed:      cmd.Bool("reseed"),
				Keep:        cmd.Bool("keep"),
				SkipVerify:  cmd.Bool("skip-verify"),
				ProfileDir:  cmd.String("profile-dir"),
				ResultsDir:  cmd.String("results-dir"),
				Out:         cmd.Writer,
				Progress:    newProgress(os.Stderr),
			})
			return err
		},
	}
}
