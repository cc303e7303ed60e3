package e2e_test

import (
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
)

// Without an SMTP server (make run), the demo story's notices are written
// as .eml files under the data directory's mail folder: the council's two
// members are reminded of the 2018 follow-up's report deadline, and the
// official told that it passed.
func TestDemoNoticesWrittenAsEml(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	loaded, err := seed(env)
	require.NoError(t, err)
	require.True(t, loaded)
	env.Clock.AdvanceTo(time.Date(2019, 3, 13, 9, 0, 0, 0, clock.Stockholm))
	require.Empty(t, jobstest.RunDue(t, env.DB.Pool, env.App.River, env.Clock.Now(), 30*time.Second))

	files, err := filepath.Glob(filepath.Join(env.App.DataDir(), "mail", "*.eml"))
	require.NoError(t, err)
	require.Len(t, files, 3)
	var to []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		m, err := mail.ReadMessage(strings.NewReader(string(b)))
		require.NoError(t, err)
		addr, err := mail.ParseAddress(m.Header.Get("To"))
		require.NoError(t, err)
		to = append(to, addr.Address)
		require.Equal(t, "<"+strings.TrimSuffix(filepath.Base(f), ".eml")+"@samverkan.invalid>", m.Header.Get("Message-Id"))
		require.True(t, strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative"))
	}
	require.ElementsMatch(t, []string{"demo-council-region@example.org", "demo-council-sector@example.org", "demo-official@example.org"}, to)
}
