package workflows_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// ledger is a public workflow whose notes are public or private: its
// history is what ReadInstances has to cut for each viewer.
var ledgerActions = map[string][]string{
	"ledger.write":        {authz.RoleRegionOfficial},
	"ledger.read_private": {authz.RoleRegionOfficial},
}

func ledgerV1() *workflows.Definition {
	return &workflows.Definition{
		Kind: "ledger", Version: 1, Title: "Ledger", Initial: "open", PublicStart: true,
		Public: func(*store.Instance) bool { return true },
		States: []workflows.StateSpec{{Name: "open"}},
		Transitions: []*workflows.Transition{
			{Name: "note_public", From: []workflows.State{"open"}, To: "open", Action: "ledger.write", Public: true},
			{Name: "note_private", From: []workflows.State{"open"}, To: "open", Action: "ledger.write"},
		},
	}
}

// TestReadInstancesGivesEachViewerAFullPageOfWhatTheyMaySee reads an
// instance whose newest events are private, with its first history page,
// as one who may see them and as one who may not: the first gets the
// newest events, the second as many of the newest public ones (the page
// read with every event held one public event of four, so it is read
// again), and neither gets an instance that does not exist.
func TestReadInstancesGivesEachViewerAFullPageOfWhatTheyMaySee(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ledgerActions, ledgerV1())
	official := e.user(t, "Olle", authz.RoleRegionOfficial+"@region")
	reader := e.user(t, "Rut", authz.RoleSectorRepresentative+"@org:1")
	in := e.start(t, workflows.StartParams{Kind: "ledger", Scopes: toyScopes, Actor: official})
	for _, note := range []string{"note_public", "note_public", "note_public", "note_private", "note_private", "note_private"} {
		e.fire(t, workflows.FireParams{InstanceID: in.ID, Transition: note, Actor: official})
	}
	seqs := func(events []store.Event) (out []int) {
		for _, ev := range events {
			out = append(out, ev.Seq)
		}
		return out
	}
	ctx := context.Background()
	missing := uuid.New()
	for _, c := range []struct {
		name       string
		viewer     authz.Principal
		limit      int
		publicOnly bool
		seqs       []int
	}{
		{"official, full page", official, 4, false, []int{7, 6, 5, 4}},
		{"reader, page read again", reader, 4, true, []int{4, 3, 2, 1}},
		{"reader, whole history on the page", reader, 10, true, []int{4, 3, 2, 1}},
		{"anonymous", authz.Principal{}, 2, true, []int{4, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			reads, err := e.eng.ReadInstances(ctx, c.viewer, []uuid.UUID{in.ID, missing},
				workflows.Along{Approvals: true, HistoryLimit: c.limit})
			require.NoError(t, err)
			require.Len(t, reads, 1, "the missing instance is left out")
			require.Equal(t, in.ID, reads[0].Instance.ID)
			require.Equal(t, c.publicOnly, reads[0].PublicOnly)
			require.Equal(t, c.seqs, seqs(reads[0].History))
			for _, ev := range reads[0].History {
				require.True(t, ev.Public || !c.publicOnly, "event %d is private", ev.Seq)
			}
			require.Empty(t, reads[0].Approvals)
		})
	}
}
