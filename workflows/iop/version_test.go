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

// snapshot is what a command could change of a partnership: its instance's
// version and state, its record, its history, drafts, comments, notes,
// documents and the approvals given.
func (e *env) snapshot(t testing.TB, id uuid.UUID) string {
	t.Helper()
	var s string
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `
		SELECT format('version %s, %s; %s, %s, updated %s; %s events, %s drafts, %s comments, %s notes, %s documents, %s approvals',
			i.version, i.state, p.title, p.goals, p.updated_at,
			(SELECT count(*) FROM history_events h WHERE h.instance_id = i.id),
			(SELECT count(*) FROM partnership_drafts d WHERE d.partnership_id = p.id),
			(SELECT count(*) FROM partnership_draft_comments c WHERE c.partnership_id = p.id),
			(SELECT count(*) FROM partnership_notes n WHERE n.partnership_id = p.id),
			(SELECT count(*) FROM partnership_documents d WHERE d.partnership_id = p.id),
			(SELECT count(*) FROM workflow_approvals a WHERE a.instance_id = i.id AND a.withdrawn_at IS NULL))
		FROM partnerships p JOIN workflow_instances i ON i.id = p.instance_id WHERE p.id = $1`, id).Scan(&s))
	return s
}

// version is the version of the partnership's instance a client reads.
func (e *env) version(t testing.TB, id uuid.UUID) int {
	t.Helper()
	return e.count(t, `SELECT i.version FROM partnerships p JOIN workflow_instances i ON i.id = p.instance_id WHERE p.id = $1`, id)
}

// A person who acts on a version of the partnership older than the current
// one is refused with CONFLICT and nothing changes; with the current version
// the same command goes through.
func TestStaleVersionIsConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Föreningen Gemenskap")
	rep := c.reps[0]

	in := c.proposal(day(2041, 3, 1), day(2043, 12, 31))
	p, _, err := e.svc.Propose(ctx, rep, in)
	require.NoError(t, err)
	read := e.version(t, p.ID)

	// Someone else acts meanwhile: the version read is stale.
	_, err = e.svc.StartAssessment(ctx, c.official, workflows.Step{ID: p.ID, ExpectedVersion: read})
	require.NoError(t, err)
	require.Greater(t, e.version(t, p.ID), read)
	stale := workflows.Step{ID: p.ID, ExpectedVersion: read, Reason: "Jag läste en äldre version. / I read an older version."}

	refused := func(name string, do func() error) {
		t.Helper()
		before := e.snapshot(t, p.ID)
		requireCode(t, apperr.Conflict, do())
		require.Equal(t, before, e.snapshot(t, p.ID), "%s: nothing changes", name)
	}
	changed := in.Record
	changed.Goals = "250 deltagare per år. / 250 participants a year."
	refused("update", func() error { _, err := e.svc.Update(ctx, rep, stale, changed); return err })
	refused("assess", func() error { _, _, err := e.svc.Assess(ctx, c.official, stale, suitable()); return err })
	refused("note", func() error { _, err := e.svc.AddNote(ctx, rep, stale, "Anteckning / Note"); return err })
	refused("withdraw", func() error { _, err := e.svc.Withdraw(ctx, rep, stale); return err })

	// With the version read now, the same commands go through.
	_, err = e.svc.Update(ctx, rep, workflows.Step{ID: p.ID, ExpectedVersion: e.version(t, p.ID)}, changed)
	require.NoError(t, err)
	require.Equal(t, changed.Goals, e.record(t, p.ID).Goals)
	_, _, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID, ExpectedVersion: e.version(t, p.ID)}, suitable())
	require.NoError(t, err)
	require.Equal(t, string(iop.Negotiation), e.state(t, p.ID))

	// Negotiation: a draft, a comment on it, the decision.
	read = e.version(t, p.ID)
	d, err := e.svc.AddDraft(ctx, rep, workflows.Step{ID: p.ID, ExpectedVersion: read}, "Utkast 1 / Draft 1")
	require.NoError(t, err)
	stale = workflows.Step{ID: p.ID, ExpectedVersion: read}
	refused("draft", func() error { _, err := e.svc.AddDraft(ctx, rep, stale, "Utkast 2 / Draft 2"); return err })
	refused("comment", func() error {
		_, err := e.svc.CommentDraft(ctx, c.official, stale, d.ID, "Förtydliga. / Clarify.")
		return err
	})
	refused("submit", func() error { _, err := e.svc.SubmitForDecision(ctx, rep, stale); return err })
	_, err = e.svc.CommentDraft(ctx, c.official, workflows.Step{ID: p.ID, ExpectedVersion: e.version(t, p.ID)}, d.ID, "Förtydliga. / Clarify.")
	require.NoError(t, err)
	_, err = e.svc.SubmitForDecision(ctx, rep, workflows.Step{ID: p.ID, ExpectedVersion: e.version(t, p.ID)})
	require.NoError(t, err)

	// Decision: a stale approval records nothing, nor does a stale
	// withdrawal of an approval take it back.
	read = e.version(t, p.ID)
	res, err := e.svc.Approve(ctx, c.politician, workflows.Step{ID: p.ID, ExpectedVersion: read})
	require.NoError(t, err)
	require.False(t, res.Moved)
	stale = workflows.Step{ID: p.ID, ExpectedVersion: read}
	refused("approve", func() error { _, err := e.svc.Approve(ctx, rep, stale); return err })
	refused("withdraw approval", func() error {
		_, err := e.svc.WithdrawApproval(ctx, c.politician, stale, iop.AgreementResolution)
		return err
	})
	refused("send back", func() error {
		_, err := e.svc.SendBack(ctx, c.politician, workflows.Step{ID: p.ID, ExpectedVersion: read, Reason: "Nej. / No."})
		return err
	})
	res, err = e.svc.Approve(ctx, rep, workflows.Step{ID: p.ID, ExpectedVersion: e.version(t, p.ID)})
	require.NoError(t, err)
	require.True(t, res.Moved)

	// Active: a stale notice of termination or amendment is refused too.
	stale = workflows.Step{ID: p.ID, ExpectedVersion: read, Reason: "Vi avslutar. / We end it."}
	refused("terminate", func() error { _, err := e.svc.Terminate(ctx, rep, stale, c.orgs[0]); return err })
	refused("amend", func() error {
		_, _, err := e.svc.Amend(ctx, rep, stale, iop.AmendmentInput{Description: "Nya mål", Fields: map[string]string{"goals": "300"}})
		return err
	})
	require.Equal(t, string(iop.Active), e.state(t, p.ID))
}

// The comment on a draft names the partnership it belongs to: a draft of
// another partnership is one that does not exist, and nothing is stored.
func TestCommentOnDraftOfAnotherPartnership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, t0, nil)
	c := e.cast(t, "Föreningen Gemenskap")
	var ids []uuid.UUID
	for range 2 {
		p, _, err := e.svc.Propose(ctx, c.official, c.proposal(day(2041, 3, 1), day(2043, 12, 31)))
		require.NoError(t, err)
		_, _, err = e.svc.Assess(ctx, c.official, workflows.Step{ID: p.ID}, suitable())
		require.NoError(t, err)
		ids = append(ids, p.ID)
	}
	d, err := e.svc.AddDraft(ctx, c.official, workflows.Step{ID: ids[0]}, "Utkast / Draft")
	require.NoError(t, err)
	before := e.snapshot(t, ids[1])
	_, err = e.svc.CommentDraft(ctx, c.reps[0], workflows.Step{ID: ids[1]}, d.ID, "Fel partnerskap. / Wrong partnership.")
	ae := requireCode(t, apperr.NotFound, err)
	require.Equal(t, "draftId", ae.Field)
	require.Equal(t, before, e.snapshot(t, ids[1]))
	require.Zero(t, e.count(t, `SELECT count(*) FROM partnership_draft_comments`))
	_, err = e.svc.CommentDraft(ctx, c.reps[0], workflows.Step{ID: ids[0]}, d.ID, "Rätt partnerskap. / Right partnership.")
	require.NoError(t, err)
	require.Equal(t, 1, e.count(t, `SELECT count(*) FROM partnership_draft_comments`))
}
