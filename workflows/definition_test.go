package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/workflows/signing"
)

// The diagram documents the signing workflow: both ways in, one edge per
// transition and state it leaves from, timer-fired transitions marked, and
// the final states.
func TestMermaidSigning(t *testing.T) {
	t.Parallel()
	require.Equal(t, `stateDiagram-v2
    [*] --> applied
    [*] --> reconfirmation_requested
    applied --> under_review: start_review
    under_review --> needs_information: request_information
    needs_information --> under_review: provide_information
    under_review --> approved: approve
    applied --> rejected: reject
    under_review --> rejected: reject
    needs_information --> rejected: reject
    rejected --> under_review: reopen
    approved --> awaiting_ceremony: attach_to_ceremony
    awaiting_ceremony --> approved: detach_from_ceremony
    approved --> signed: sign
    awaiting_ceremony --> signed: sign_at_ceremony (timer)
    reconfirmation_requested --> signed: confirm
    reconfirmation_requested --> dropped: drop (timer)
    applied --> withdrawn: withdraw
    under_review --> withdrawn: withdraw
    needs_information --> withdrawn: withdraw
    rejected --> withdrawn: withdraw
    approved --> withdrawn: withdraw
    awaiting_ceremony --> withdrawn: withdraw
    signed --> withdrawn: withdraw
    reconfirmation_requested --> withdrawn: withdraw
    withdrawn --> [*]
    dropped --> [*]
`, signing.Definition().Mermaid())
}
