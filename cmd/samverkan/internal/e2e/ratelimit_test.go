package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/config"
)

// Issue 15 item 2: one signed-in person registering organisations without
// end. Beyond the configured number an hour the API answers RATE_LIMITED,
// in Swedish then English, and nothing of the refused request is stored;
// other people may still register.
func TestRegistrationsBeyondTheLimitAreRateLimited(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.RegistrationsPerHour = 3 }})
	flooder, other := env.NewUser("Flo Flood"), env.NewUser("Olle Annan")
	register := func(n int) map[string]any {
		return map[string]any{"o": map[string]any{"name": fmt.Sprintf("Flodföreningen %d", n), "organisationNumber": orgNumber(900 + n),
			"legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}}
	}
	for n := range 3 {
		env.MustDo(flooder, registerOrg, register(n), nil)
	}
	before := env.Checksums()
	e := env.MustFail(flooder, "RATE_LIMITED", registerOrg, register(3))
	require.Equal(t, "För många registrerade organisationer: högst 3 per timme. Försök igen om 60 minuter. / "+
		"Too many organisations registered: at most 3 per hour. Try again in 60 minutes.", e.Message)
	require.Equal(t, before, env.Checksums(), "the refused registration changed the database")

	env.MustDo(other, registerOrg, register(4), nil)
	env.Clock.Advance(time.Hour)
	env.MustDo(flooder, registerOrg, register(5), nil)
}
