package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/publiccache"
)

const publicOrganisations = `query($s: String) { organisations(search: $s, first: 10) { edges { node { name municipality } } } }`

func registerForCache(t *testing.T, env *apptest.Env, official *apptest.User) string {
	var reg struct {
		RegisterOrganisation struct{ Organisation struct{ ID string } }
	}
	env.MustDo(official, `mutation { registerOrganisation(input: {organisation: {name: "Cacheföreningen", organisationNumber: "212000-1355",
		legalForm: IDEELL_FORENING, sector: IDEA_BASED, municipality: "Arvika"}}) { organisation { id } } }`, nil, &reg)
	return reg.RegisterOrganisation.Organisation.ID
}

// An anonymous read is answered from the cache until a mutation commits,
// and the next anonymous read after it shows the change; signed-in reads
// are never cached.
func TestPublicCacheNeverServesAnAnswerOlderThanTheLastCommit(t *testing.T) {
	t.Parallel()
	for _, trust := range []bool{false, true} {
		t.Run(map[bool]string{false: "reading the generation", true: "trusting notifications"}[trust], func(t *testing.T) {
			t.Parallel()
			env := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.PublicCacheTrustNotify = trust }})
			official := env.NewUser("Olga Official", "region_official@region")
			id := registerForCache(t, env, official)
			vars := map[string]any{"s": "Cache"}

			first := env.Do(nil, publicOrganisations, vars)
			require.Empty(t, first.Errors)
			require.Contains(t, string(first.Data), `"Cacheföreningen"`)
			require.Equal(t, "miss", first.Header.Get(publiccache.HitHeader))
			again := env.Do(nil, "query($s: String) {\n  organisations(search: $s, first: 10) {\n edges { node { name, municipality } } } } # same", vars)
			require.Equal(t, "hit", again.Header.Get(publiccache.HitHeader), "the same query, spaced differently, is answered from the cache")
			require.JSONEq(t, string(first.Data), string(again.Data))

			env.MustDo(official, `mutation($id: ID!) { updateOrganisation(input: {id: $id, name: "Cacheföreningen Nya", legalForm: IDEELL_FORENING,
				municipality: "Karlstad"}) { organisation { name } } }`, map[string]any{"id": id}, nil)
			after := env.Do(nil, publicOrganisations, vars)
			require.Empty(t, after.Errors)
			require.Contains(t, string(after.Data), `"Cacheföreningen Nya"`, "the next read after the mutation shows it")
			require.Contains(t, string(after.Data), `"Karlstad"`)
			require.Equal(t, "miss", after.Header.Get(publiccache.HitHeader))

			// A change committed without this process's GraphQL (another
			// process, a job): read through the generation at once, or once
			// the notification has arrived.
			_, err := env.DB.Pool.Exec(context.Background(), `UPDATE organisations SET municipality = 'Torsby' WHERE name = 'Cacheföreningen Nya'`)
			require.NoError(t, err)
			if trust {
				require.Eventually(t, func() bool {
					return contains(env.Do(nil, publicOrganisations, vars).Data, `"Torsby"`)
				}, 5*time.Second, 5*time.Millisecond)
			} else {
				require.Contains(t, string(env.Do(nil, publicOrganisations, vars).Data), `"Torsby"`)
			}

			signedIn := env.Do(official, publicOrganisations, vars)
			require.Empty(t, signedIn.Errors)
			require.Empty(t, signedIn.Header.Get(publiccache.HitHeader), "a signed-in read is not cached")
			mutation := env.Do(nil, `mutation { markNotificationRead(id: "x") { notification { id } } }`, nil)
			require.NotEmpty(t, mutation.Errors)
			require.Empty(t, mutation.Header.Get(publiccache.HitHeader), "an anonymous mutation is not cached")
		})
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// A public GET carries an ETag and Cache-Control; asked again with
// If-None-Match it gets 304 without a body, and after a change 200 with
// the new answer and another ETag.
func TestPublicCacheETagRoundTrip(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	official := env.NewUser("Olga Official", "region_official@region")
	id := registerForCache(t, env, official)
	u := env.URL + "/graphql?" + url.Values{"query": {publicOrganisations}, "variables": {`{"s":"Cache"}`}}.Encode()
	get := func(etag string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	first, body := get("")
	require.Equal(t, http.StatusOK, first.StatusCode, body)
	require.Contains(t, body, "Cacheföreningen")
	etag := first.Header.Get("ETag")
	require.NotEmpty(t, etag)
	require.Equal(t, "public, no-cache", first.Header.Get("Cache-Control"))

	again, body := get(etag)
	require.Equal(t, http.StatusNotModified, again.StatusCode)
	require.Empty(t, body)
	require.Equal(t, etag, again.Header.Get("ETag"))

	env.MustDo(official, `mutation($id: ID!) { updateOrganisation(input: {id: $id, name: "Cacheföreningen Nya", legalForm: IDEELL_FORENING}) {
		organisation { name } } }`, map[string]any{"id": id}, nil)
	changed, body := get(etag)
	require.Equal(t, http.StatusOK, changed.StatusCode)
	require.Contains(t, body, "Cacheföreningen Nya")
	require.NotEqual(t, etag, changed.Header.Get("ETag"))
}
