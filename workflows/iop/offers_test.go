package iop_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/iop"
)

// Offers names exactly the commands beyond the transitions each person may
// give now, and each one it names succeeds: drafting while negotiating,
// commenting while negotiating or deciding, an open report once agreed,
// and notice only for the parties one represents while in force.
func TestOffers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Läsfrämjarna", "Scoutkåren")
	p, _, err := e.svc.Propose(ctx, c.reps[0], c.proposal(day(2041, 1, 1), day(2043, 12, 31)))
	require.NoError(t, err)
	offers := func(who int) iop.Offers {
		t.Helper()
		pr := c.official
		if who >= 0 {
			pr = c.reps[who]
		}
		o, err := e.svc.Offers(ctx, pr, p.ID)
		require.NoError(t, err)
		return o
	}
	require.Equal(t, iop.Offers{}, offers(-1), "nothing to draft or comment before the assessment")

	outsider := e.user(t, "Utomstående")
	_, err = e.svc.Offers(ctx, outsider, p.ID)
	requireCode(t, apperr.NotFound, err)

	_, _, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID}, suitable())
	require.NoError(t, err)
	require.Equal(t, iop.Offers{AddDraft: true, CommentDraft: true}, offers(-1))
	require.Equal(t, iop.Offers{AddDraft: true, CommentDraft: true}, offers(1))
	d, err := e.svc.AddDraft(ctx, c.official, workflows.Step{ID: p.ID}, "Utkast 1. / Draft 1.")
	require.NoError(t, err)
	_, err = e.svc.SubmitForDecision(ctx, c.official, workflows.Step{ID: p.ID})
	require.NoError(t, err)
	require.Equal(t, iop.Offers{CommentDraft: true}, offers(0), "deciding: comments, no new draft")
	_, err = e.svc.AddDraft(ctx, c.reps[0], workflows.Step{ID: p.ID}, "Utkast 2. / Draft 2.")
	requireCode(t, apperr.InvalidTransition, err)
	_, err = e.svc.CommentDraft(ctx, c.reps[0], workflows.Step{ID: p.ID}, d.ID, "Bra. / Good.")
	require.NoError(t, err)

	for _, pr := range append(c.reps, c.politician) {
		_, err = e.svc.Approve(ctx, pr, workflows.Step{ID: p.ID})
		require.NoError(t, err)
	}
	require.Equal(t, iop.Offers{TerminateFor: []uuid.UUID{c.orgs[0]}}, offers(0), "each representative gives notice for their own party")
	require.Equal(t, iop.Offers{TerminateFor: []uuid.UUID{c.region}}, offers(-1))

	e.runDue(t, at(2042, 1, 2, 10))
	require.Equal(t, []int{2041}, offers(1).ReportYears)
	_, err = e.svc.SubmitReport(ctx, c.reps[1], workflows.Step{ID: p.ID}, 2041, "Rapport. / Report.")
	require.NoError(t, err)
	require.Empty(t, offers(1).ReportYears, "submitted")

	_, err = e.svc.Terminate(ctx, c.reps[1], workflows.Step{ID: p.ID, Reason: "Vi avslutar. / We end it."}, c.orgs[1])
	require.NoError(t, err)
	require.Empty(t, offers(0).TerminateFor, "notice is given")
}
