package followup_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/workflows/followup"
)

// The pages ask who may report and move the deadline: the official for the
// Region and the sector's council member for the sector while reports are
// collected; the deadline moves for the official before the council, and
// for no one after.
func TestWhoMayReportAndExtendTheDeadline(t *testing.T) {
	f := newFixture(t)
	in, err := f.FollowUp.Open(ctx, f.official, f.version, 2040)
	require.NoError(t, err)
	_, ok := f.FollowUp.MayReport(ctx, f.official, in)
	require.False(t, ok, "no reports before collecting starts")
	require.True(t, f.FollowUp.MayExtendDeadline(ctx, f.official, in))

	deadline := f.Clock.Now().Add(30 * 24 * time.Hour)
	in, err = f.FollowUp.StartCollecting(ctx, f.official, step(in, ""), &deadline)
	require.NoError(t, err)
	party, ok := f.FollowUp.MayReport(ctx, f.official, in)
	require.True(t, ok)
	require.Equal(t, "region", party)
	party, ok = f.FollowUp.MayReport(ctx, f.councilSector, in)
	require.True(t, ok)
	require.Equal(t, "sector", party)
	_, ok = f.FollowUp.MayReport(ctx, f.councilRegion, in)
	require.False(t, ok, "the Region's council members do not report; its officials do")
	require.True(t, f.FollowUp.MayExtendDeadline(ctx, f.official, in))
	require.False(t, f.FollowUp.MayExtendDeadline(ctx, f.councilSector, in))
	require.True(t, followup.Responsible(f.sharedAct, "sector"))
	require.False(t, followup.Responsible(f.regionAct, "sector"))

	in = f.report(t, f.official, in, f.regionAct, nil)
	in = f.report(t, f.official, in, f.sharedAct, nil)
	in = f.report(t, f.councilSector, in, f.sharedAct, nil)
	in, err = f.FollowUp.SubmitToCouncil(ctx, f.official, step(in, ""))
	require.NoError(t, err)
	_, ok = f.FollowUp.MayReport(ctx, f.official, in)
	require.False(t, ok, "no reports while the council reviews")
	require.False(t, f.FollowUp.MayExtendDeadline(ctx, f.official, in))
}
