package browser_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/config"
)

// Against an OpenID Connect provider (mockoidc, which checks the PKCE
// verifier against the challenge), a person signs in with the
// authorization code flow: S256 challenge, state and nonce; a replayed
// callback is refused.
func TestOIDCSignInWithPKCE(t *testing.T) {
	m, err := mockoidc.Run()
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown() })
	env := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) {
		c.OIDCIssuer, c.OIDCAudience, c.OIDCClientID, c.OIDCClientSecret = m.Issuer(), m.ClientID, m.ClientID, m.ClientSecret
		c.Dev, c.PublicURL = false, "http://"+c.Addr
	}})
	b := newBrowser(t, env.URL)
	b.open("/lang/sv?next=/sign-in%3Fnext%3D/history")
	require.Equal(t, "0", b.eval(`String(document.querySelectorAll('input[name=person]').length)`), "no demo people outside dev mode")
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.follow(chromedp.Click(`a.button-link`))
	require.Eventually(t, func() bool { return b.eval(`location.pathname`) == "/history" }, 15*time.Second, 50*time.Millisecond)
	require.Equal(t, "Inloggad som jane.doe", b.eval(`document.querySelector('.signed-in-as').innerText`))
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM users WHERE issuer = $1 AND subject = '1234567890' AND email = 'jane.doe@example.com'`,
		m.Issuer()))

	var authorize, callback *url.URL
	b.mu.Lock()
	for _, raw := range b.requests {
		if strings.HasPrefix(raw, m.AuthorizationEndpoint()) {
			authorize, _ = url.Parse(raw)
		}
		if strings.HasPrefix(raw, env.URL+"/sign-in/callback") {
			callback, _ = url.Parse(raw)
		}
	}
	b.mu.Unlock()
	require.NotNil(t, authorize)
	q := authorize.Query()
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.Len(t, q.Get("code_challenge"), 43, "a base64url SHA-256")
	require.NotEmpty(t, q.Get("state"))
	require.NotEmpty(t, q.Get("nonce"))
	require.Equal(t, env.URL+"/sign-in/callback", q.Get("redirect_uri"))
	require.Equal(t, "code", q.Get("response_type"))

	// The callback replayed: the pending sign-in went with the old session.
	require.NotNil(t, callback)
	b.open(callback.RequestURI())
	require.Contains(t, b.eval(`document.querySelector('h1').innerText`), "Inloggningen misslyckades")

	issuer, _ := url.Parse(m.Issuer())
	for _, raw := range b.foreignRequests() {
		u, _ := url.Parse(raw)
		require.Equal(t, issuer.Host, u.Host, "the only other origin is the identity provider the person signs in with")
	}
}
