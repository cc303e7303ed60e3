package followup_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/docblock"
	"github.com/samverkan/samverkan/workflows/followup"
)

func TestReadmeDiagram(t *testing.T) {
	require.NoError(t, followup.Definition().Validate())
	docblock.Check(t, "../../README.md", "followup", "```mermaid\n"+followup.Definition().Mermaid()+"```\n")
}

// The year whose follow-up is due: the year just ended once the opening
// moment of this year has passed, the one before until then.
func TestDueYear(t *testing.T) {
	s, err := followup.ScheduleFrom(config.MustDefaults())
	require.NoError(t, err)
	at := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, clock.Stockholm)
	}
	require.Equal(t, 2017, s.DueYear(at(2019, 1, 15, 5, 59)))
	require.Equal(t, 2018, s.DueYear(at(2019, 1, 15, 6, 0)))
	require.Equal(t, 2018, s.DueYear(at(2019, 12, 31, 23, 59)))
	custom, err := followup.ParseSchedule("03-01 08:30", time.Hour)
	require.NoError(t, err)
	require.Equal(t, 2018, custom.DueYear(at(2019, 3, 1, 8, 30)))
	_, err = followup.ParseSchedule("15 januari", time.Hour)
	require.Error(t, err)
}
