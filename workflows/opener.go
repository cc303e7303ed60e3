package workflows

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/samverkan/samverkan/internal/store"
)

// Opener opens the instances that are due (the yearly follow-ups, the
// revisions): what is due is read from the database, so running it again,
// late, or in two processes at once opens nothing twice.
type Opener interface {
	OpenDue(ctx context.Context) (int, error)
}

// OpenDueArgs is the periodic job that runs one opener.
type OpenDueArgs struct {
	What string `json:"what"`
}

// Kind is the job kind.
func (OpenDueArgs) Kind() string { return "open_due" }

// OpenDueWorker runs the openers.
type OpenDueWorker struct {
	river.WorkerDefaults[OpenDueArgs]
	DB      *store.DB
	Openers map[string]Opener
}

// Work runs the opener, unless another process is running it right now
// (ticks pile up while a long opening runs; they then find nothing to do).
func (w *OpenDueWorker) Work(ctx context.Context, job *river.Job[OpenDueArgs]) error {
	o, ok := w.Openers[job.Args.What]
	if !ok {
		return river.JobCancel(fmt.Errorf("no opener %q", job.Args.What))
	}
	_, err := w.DB.Exclusively(ctx, "open-due:"+job.Args.What, func() error {
		_, err := o.OpenDue(ctx)
		return err
	})
	return err
}

// PeriodicOpen runs the opener what every interval, and once at start so
// that a moment missed while the service was down is caught up.
func PeriodicOpen(what string, interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return OpenDueArgs{What: what}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
