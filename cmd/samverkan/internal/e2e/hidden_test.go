package e2e_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
)

// Whoever may not see an object is told exactly what they would be told of
// an id that does not exist: reading it by id, and acting on it.
func TestHiddenObjectsAreIndistinguishableFromMissingOnes(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	s.env.AdvanceTo(time.Date(2018, 6, 1, 9, 0, 0, 0, clock.Stockholm))
	s.council = council{politician: s.env.NewUser("Pia Politiker", "region_politician@region")}

	// A private signing application, a partnership under negotiation (and
	// its workflow instance), and a person.
	app := s.fixture(t, 1)
	app.apply(t)
	iop := s.fixture(t, 2)
	iop.partnershipTo(t, "with_draft")
	partnership := iop.vars["p"].(string)
	var inst struct {
		Node struct{ Instance struct{ ID string } }
	}
	s.env.MustDo(iop.rep, `query($id: ID!) { node(id: $id) { ... on Partnership { instance { id } } } }`,
		map[string]any{"id": partnership}, &inst)
	require.NotEmpty(t, inst.Node.Instance.ID)

	hidden := map[string]struct{ id, typ string }{
		"signing application":   {app.instance, "WorkflowInstance"},
		"partnership":           {partnership, "Partnership"},
		"partnership instance":  {inst.Node.Instance.ID, "WorkflowInstance"},
		"another person":        {userGID(app.rep), "User"},
		"a draft by its own id": {gid("RevisionDraft", uuid.New()), "RevisionDraft"},
	}
	// (Those allowed history.read_private — officials, council members,
	// admins — see that the instances exist; the partnership's private side
	// they do not, which the IOP tests show.)
	stranger := s.fixture(t, 3).rep
	viewers := map[string]*apptest.User{"anonymous": nil, "a representative of another organisation": stranger}

	const read = `query($id: ID!) { node(id: $id) { id __typename } }`
	for who, u := range viewers {
		for what, h := range hidden {
			got := s.env.Do(u, read, map[string]any{"id": h.id})
			missing := s.env.Do(u, read, map[string]any{"id": gid(h.typ, uuid.New())})
			require.Empty(t, got.Errors, "%s reads %s", who, what)
			require.JSONEq(t, string(missing.Data), string(got.Data), "%s reads %s: as if it did not exist", who, what)
		}
		// Acting on a hidden instance answers as for one that does not exist:
		// the same code and the same message, naming neither kind nor state.
		for what, h := range hidden {
			if h.typ != "WorkflowInstance" {
				continue
			}
			for _, m := range []string{
				`mutation($id: ID!) { approve(input: {instanceId: $id, transition: "approve"}) { instance { id } } }`,
				`mutation($id: ID!) { withdrawApproval(input: {instanceId: $id, transition: "approve"}) { instance { id } } }`,
				`mutation($id: ID!) { advanceRevision(input: {instanceId: $id}) { instance { id } } }`,
				`mutation($id: ID!) { startSigningReview(input: {instanceId: $id}) { instance { id } } }`,
			} {
				got := s.env.Do(u, m, map[string]any{"id": h.id})
				missing := s.env.Do(u, m, map[string]any{"id": gid("WorkflowInstance", uuid.New())})
				require.Len(t, got.Errors, 1, "%s: %s on %s", who, firstLine(m), what)
				require.Equal(t, "NOT_FOUND", missing.Errors[0].Code())
				require.Equal(t, errorOf(missing), errorOf(got), "%s: %s on %s", who, firstLine(m), what)
			}
		}
	}

	// An official sees the application, yet a revision's command on it
	// answers as for a revision that does not exist (it used to name the
	// application's state).
	r := s.env.Do(s.official, `mutation($id: ID!) { advanceRevision(input: {instanceId: $id}) { instance { id } } }`,
		map[string]any{"id": app.instance})
	missing := s.env.Do(s.official, `mutation($id: ID!) { advanceRevision(input: {instanceId: $id}) { instance { id } } }`,
		map[string]any{"id": gid("WorkflowInstance", uuid.New())})
	require.Equal(t, errorOf(missing), errorOf(r))
}

func errorOf(r apptest.Response) string {
	if len(r.Errors) == 0 {
		return "no error"
	}
	b, _ := json.Marshal(map[string]any{"code": r.Errors[0].Code(), "message": r.Errors[0].Message})
	return string(b)
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
