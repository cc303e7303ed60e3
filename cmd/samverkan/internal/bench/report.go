package bench

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// checkAnswers asks each read once and checks that the answer holds what
// the benchmark means to measure, so that a fast error is never measured.
func checkAnswers(ctx context.Context, c *client, db *pgxpool.Pool, t *targets, today time.Time, sc Scale) error {
	var sig struct {
		Data struct {
			Node struct {
				Signatories struct {
					Edges []struct {
						Node struct {
							SignedOn     string
							Organisation struct{ Name, OrganisationNumber string }
						}
					}
					PageInfo struct{ HasNextPage bool }
				}
			}
		}
	}
	if err := c.do(ctx, querySignatories, map[string]any{"id": globalID("AgreementVersion", t.versions[0]), "after": nil}, &sig); err != nil {
		return fmt.Errorf("signatory list: %w", err)
	}
	if e := sig.Data.Node.Signatories.Edges; len(e) != min(100, sc.SignatoriesPerVersion) || e[0].Node.Organisation.Name == "" {
		return fmt.Errorf("signatory list: %d signatories on the first page", len(e))
	}
	var inst struct {
		Data struct {
			Node struct {
				State            string
				AvailableActions []struct{ Name string }
				History          struct {
					Edges []struct {
						Node struct {
							Kind  string
							Actor *struct{ Name string }
						}
					}
				}
			}
		}
	}
	if err := c.do(ctx, queryInstance, map[string]any{"id": globalID("WorkflowInstance", t.instances[0])}, &inst); err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	if n := inst.Data.Node; len(n.History.Edges) != 50 || len(n.AvailableActions) == 0 {
		return fmt.Errorf("instance: %d events and %d actions (want 50 and some)", len(n.History.Edges), len(n.AvailableActions))
	}
	var exp struct {
		Data struct {
			PartnershipsExpiring struct {
				Edges []struct {
					Node struct {
						Title            string
						PublicBody       *struct{ Name string }
						IdeaBasedParties []struct{ Name string }
						Contributions    []struct{ Amount, Kind string }
					}
				}
			}
		}
	}
	if err := c.do(ctx, queryExpiring, map[string]any{}, &exp); err != nil {
		return fmt.Errorf("expiring partnerships: %w", err)
	}
	list := exp.Data.PartnershipsExpiring.Edges
	want := min(sc.Expiring, 100)
	if len(list) != want || (len(list) > 0 && (list[0].Node.PublicBody == nil || len(list[0].Node.IdeaBasedParties) == 0 ||
		len(list[0].Node.Contributions) == 0)) {
		return fmt.Errorf("expiring partnerships: %d (want the first page of %d, with parties and contributions)", len(list), want)
	}
	// The baselines too.
	if err := rawSignatories(ctx, db, t.versions[0], pageCursor{}); err != nil {
		return err
	}
	if err := rawInstance(ctx, db, t.instances[0]); err != nil {
		return err
	}
	return rawExpiring(ctx, db, today)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func (r *run) printTable() {
	res := r.res
	out := r.o.Out
	fmt.Fprintf(out, "\nsamverkan bench — %s\ncommit %s%s, PostgreSQL %s (%s), %s; %d clients, %s per measurement after %s warm-up\n\n",
		res.Machine, res.Commit, map[bool]string{true: " + uncommitted changes"}[res.Dirty], res.Postgres, res.Database, res.Go,
		res.Config.Concurrency, time.Duration(res.Config.DurationSeconds*float64(time.Second)), time.Duration(res.Config.WarmupSeconds*float64(time.Second)))
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measurement\tservice/s\traw/s\tratio\tp50 ms\tp95 ms\tp99 ms\traw p99 ms\tsrv CPU ms/req\tdb CPU ms/req\ttarget met\t")
	row := func(c Compared, met bool) {
		name := c.Name
		if c.HitRatio != nil {
			name += fmt.Sprintf(" (hits %.0f%%)", 100**c.HitRatio)
		}
		fmt.Fprintf(w, "%s\t%.0f\t%.0f\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%s\t\n", name, c.RPS, c.RawRPS, c.Ratio, c.P50, c.P95, c.P99,
			c.Raw.P99, c.Service.ServerCPUMs, c.Service.DBCPUMs, yes(met))
	}
	for _, c := range res.Reads {
		row(c, readMet(c))
	}
	for _, c := range []Compared{res.Transitions, res.TransitionsWithJob} {
		row(c, writeMet(c))
	}
	w.Flush()
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "target\tgoal\tmeasured\tmet")
	for _, t := range res.Targets {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.Name, t.Target, t.Value, yes(t.Met))
	}
	w.Flush()
	fmt.Fprintf(out, "\ncold start against the running database: %.2f s; machine busy with other work before the run: %.0f%%\n",
		res.ColdStartExternal, res.BackgroundBusyPct)
}
