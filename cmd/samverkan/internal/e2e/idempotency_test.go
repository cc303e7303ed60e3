package e2e_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
)

func registerVars(number string) map[string]any {
	return map[string]any{"o": map[string]any{"name": "Idempotenta föreningen " + number, "organisationNumber": number,
		"legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED"}}
}

func TestIdempotencyKeyReplaysTheFirstResult(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	u := env.NewUser("Ivar Idempotent")
	key := map[string]string{"Idempotency-Key": "register-1"}

	first := env.DoWithHeaders(u, registerOrg, registerVars(orgNumber(1)), key)
	require.Empty(t, first.Errors)
	again := env.DoWithHeaders(u, registerOrg, registerVars(orgNumber(1)), key)
	require.Empty(t, again.Errors, "a retry is not refused as a duplicate registration")
	require.JSONEq(t, string(first.Data), string(again.Data), "the retry gets the first result")
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM organisations`), "the work was done once")

	other := env.DoWithHeaders(u, registerOrg, registerVars(orgNumber(2)), key)
	require.Equal(t, "CONFLICT", other.Errors[0].Code(), "the same key with other input")
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM organisations`))

	// Keys are per person: someone else's key of the same name is theirs.
	v := env.NewUser("Vera Annan")
	r := env.DoWithHeaders(v, registerOrg, registerVars(orgNumber(3)), key)
	require.Empty(t, r.Errors)

	// After the key expires (24 h) the cleanup job removes it.
	env.AdvanceTo(env.Clock.Now().Add(25 * time.Hour))
	require.Eventually(t, func() bool { return env.Count(`SELECT count(*) FROM idempotency_keys`) == 0 },
		5*time.Second, 50*time.Millisecond)
	r = env.DoWithHeaders(u, registerOrg, registerVars(orgNumber(4)), key)
	require.Empty(t, r.Errors, "an expired key may be used again")
}

func TestConcurrentRetriesWithOneKeyDoTheWorkOnce(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	u := env.NewUser("Ivar Idempotent")
	key := map[string]string{"Idempotency-Key": "burst"}
	var wg sync.WaitGroup
	codes := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := env.DoWithHeaders(u, registerOrg, registerVars(orgNumber(7)), key)
			if len(r.Errors) > 0 {
				codes <- r.Errors[0].Code()
			} else {
				codes <- "OK"
			}
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		require.Contains(t, []string{"OK", "CONFLICT"}, c, "a retry either gets the result or is told the first is in progress")
	}
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM organisations`))
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM history_events WHERE kind = 'organisation_registered'`))
}
