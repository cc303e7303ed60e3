package browser_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/web"
)

func demoPeople() []web.DevPerson {
	var out []web.DevPerson
	for _, p := range demo.People {
		out = append(out, web.DevPerson{Subject: p.Subject, Name: p.Name, Role: p.Role})
	}
	return out
}

// In dev mode a person signs in by choosing a demo person, through the
// form alone, and signs out again.
func TestDevSignInAndSignOutInTheBrowser(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: demoPeople()})
	b := newBrowser(t, env.URL)
	b.open("/lang/sv?next=/signatories")
	b.follow(chromedp.Click(`a.sign-in-link`))
	u, err := url.Parse(b.eval(`location.href`))
	require.NoError(t, err)
	require.Equal(t, "/sign-in", u.Path)
	require.Equal(t, "/signatories", u.Query().Get("next"))
	res := b.axe()
	require.Empty(t, res.Violations, summary(res))
	b.screenshot("sign-in-sv")

	// Nobody chosen: the error summary links to the first choice.
	b.follow(chromedp.Click(`form[action="/sign-in/dev"] button`))
	require.Equal(t, "#person-demo-admin", b.eval(`document.querySelector('.error-summary a').getAttribute('href')`))
	require.Contains(t, b.eval(`document.getElementById('person-error').innerText`), "Välj vem du vill logga in som.")
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))

	require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(`#person-demo-official`)))
	b.follow(chromedp.Click(`form[action="/sign-in/dev"] button`))
	require.Equal(t, env.URL+"/signatories", b.eval(`location.href`), "back where sign-in began")
	require.Equal(t, "Inloggad som Oskar Tjänsteperson", b.eval(`document.querySelector('.signed-in-as').innerText`))
	res = b.axe()
	require.Empty(t, res.Violations, summary(res))
	require.Equal(t, "", b.eval(`document.cookie`), "the session cookie is HttpOnly: no script can read it")

	b.follow(chromedp.Click(`form.sign-out button`))
	require.Equal(t, env.URL+"/", b.eval(`location.href`))
	require.Empty(t, b.foreignRequests())
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// The session lives in PostgreSQL behind an HttpOnly, SameSite=Lax cookie
// (Secure over TLS); signing in replaces the visitor's session; a POST
// without the session's CSRF token is refused and changes nothing.
func TestSessionCookieAndCSRF(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: demoPeople()})
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	base, _ := url.Parse(env.URL)

	resp, err := c.Get(env.URL + "/sign-in")
	require.NoError(t, err)
	page := readAll(t, resp)
	visitor := resp.Cookies()
	require.Len(t, visitor, 1)
	require.True(t, visitor[0].HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, visitor[0].SameSite)
	require.False(t, visitor[0].Secure, "plain HTTP on loopback")
	csrf := csrfField.FindStringSubmatch(page)[1]
	sessions := env.Count(`SELECT count(*) FROM web_sessions`)

	post := func(form url.Values) *http.Response {
		resp, err := c.PostForm(env.URL+"/sign-in/dev", form)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	// No token, a wrong token: refused, nobody signed in.
	for _, form := range []url.Values{{"person": {"demo-admin"}}, {"person": {"demo-admin"}, "csrf": {"x" + csrf}}} {
		resp := post(form)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Empty(t, resp.Cookies())
	}
	require.Equal(t, sessions, env.Count(`SELECT count(*) FROM web_sessions`))
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM web_sessions WHERE user_id IS NOT NULL`))
	// An unknown person: the form again.
	require.Equal(t, http.StatusBadRequest, post(url.Values{"person": {"demo-rep-01"}, "csrf": {csrf}}).StatusCode,
		"only the listed people can be chosen")

	resp = post(url.Values{"person": {"demo-admin"}, "csrf": {csrf}, "next": {"//evil.example/"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/", resp.Header.Get("Location"), "sign-in only returns to our own pages")
	signedIn := resp.Cookies()
	require.Len(t, signedIn, 1)
	require.NotEqual(t, visitor[0].Value, signedIn[0].Value, "a new session at sign-in")
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM web_sessions WHERE user_id IS NOT NULL`))
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM web_sessions WHERE token_hash = sha256($1::bytea)`, []byte(visitor[0].Value)),
		"the visitor's session is gone")
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM web_sessions WHERE token_hash = $1::bytea`, []byte(signedIn[0].Value)),
		"the token itself is not stored")

	_, body, _ := fetch(t, env.URL+"/", "Cookie", visitor[0].Name+"="+visitor[0].Value)
	require.NotContains(t, body, "Inloggad som", "the visitor's old token is worth nothing")
	resp, err = c.Get(env.URL + "/")
	require.NoError(t, err)
	body = readAll(t, resp)
	require.Contains(t, body, "Inloggad som Alva Admin")
	csrf = csrfField.FindStringSubmatch(body)[1]

	// Sign-out is a POST with the token, and ends the session in the database.
	resp, err = c.PostForm(env.URL+"/sign-out", url.Values{})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, err = c.PostForm(env.URL+"/sign-out", url.Values{"csrf": {csrf}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM web_sessions WHERE user_id IS NOT NULL`))
	require.Empty(t, jar.Cookies(base), "the cookie is cleared")

	// Behind a TLS proxy the cookie is Secure.
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, env.URL+"/sign-in", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.True(t, resp.Cookies()[0].Secure)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
