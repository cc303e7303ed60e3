package browser_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// signedIn is an HTTP client signed in through the dev sign-in form.
type signedIn struct {
	t    *testing.T
	base string
	c    *http.Client
}

func signInOverHTTP(t *testing.T, base, subject string) *signedIn {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	s := &signedIn{t: t, base: base, c: &http.Client{Jar: jar}}
	_, page := s.get("/sign-in")
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(t, m, "the sign-in form carries a CSRF token")
	resp, err := s.c.PostForm(base+"/sign-in/dev", url.Values{"csrf": {m[1]}, "person": {subject}, "next": {"/tasks"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "/tasks", resp.Request.URL.Path, "signed in, on to the tasks")
	return s
}

func (s *signedIn) get(path string) (int, string) {
	s.t.Helper()
	resp, err := s.c.Get(s.base + path)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, string(body)
}

// The signed-in pages issue as many SQL statements for a long list as for
// a short one: the representative's organisations and tasks, the
// official's tasks and notifications, and an
// application's page with a short and a long history.
func TestSignedInPageStatementsDoNotGrowWithTheList(t *testing.T) {
	counter := &statementCounter{}
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative(), QueryTracer: counter})
	officialID, err := env.App.EnsureUser(t.Context(), "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	op := authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}
	sig := env.App.Services.Signing
	n := 0
	// apply starts an application; asked, the official then asks the
	// representative for more information (a task and a notification for
	// them).
	apply := func(asked bool) uuid.UUID {
		t.Helper()
		n++
		id := applyForSigning(t, env, "Filipstads Läsecirkel "+itoa(n), demo.Number(900+n))
		if asked {
			_, err := sig.StartReview(t.Context(), op, workflows.Step{ID: id})
			require.NoError(t, err)
			_, err = sig.RequestInformation(t.Context(), op, workflows.Step{ID: id, Reason: "Skicka stadgarna."})
			require.NoError(t, err)
		}
		return id
	}
	apply(true)
	apply(false)
	env.WaitForJobs()
	rep := signInOverHTTP(t, env.URL, "rita")
	official := signInOverHTTP(t, env.URL, "demo-official")
	type page struct {
		who  *signedIn
		name string
		path string
		// item counts the list's items in the page.
		item *regexp.Regexp
	}
	pages := []page{
		{rep, "rep", "/my-organisations", regexp.MustCompile(`<tr>\s*<td><a href="/organisations/`)},
		{rep, "rep", "/tasks", regexp.MustCompile(`href="/instances/`)},
		{official, "official", "/tasks", regexp.MustCompile(`href="/instances/`)},
		{official, "official", "/notifications", regexp.MustCompile(`<li class="notification`)},
	}
	measure := func(p page) (statements int64, items int) {
		t.Helper()
		before := counter.n.Load()
		status, body := p.who.get(p.path)
		require.Equal(t, http.StatusOK, status, p.path)
		return counter.n.Load() - before, len(p.item.FindAllStringIndex(body, -1))
	}
	short := make([][2]int64, len(pages))
	for i, p := range pages {
		s, items := measure(p)
		require.Positive(t, items, "%s %s: a list of one or more", p.name, p.path)
		short[i] = [2]int64{s, int64(items)}
	}

	// Six more applications, three of them asked for information; and two
	// in the same state, with histories of three and five events.
	for i := range 6 {
		id := apply(i%2 == 0)
		// And a notice about it for the Region's officials.
		require.NoError(t, store.InsertNotification(t.Context(), env.App.DB.Pool, &store.Notification{
			DedupeKey: "statements-test:" + id.String(), InstanceID: &id, RecipientRole: authz.RoleRegionOfficial, Kind: "notice",
			Subject: "Ny ansökan / New application", Body: "En ansökan väntar. / An application waits.", CreatedAt: time.Now()}))
	}
	three, five := apply(true), apply(true)
	_, err = sig.ProvideInformation(t.Context(), rep.principal(t, env), workflows.Step{ID: five, Reason: "Här är stadgarna."})
	require.NoError(t, err)
	_, err = sig.RequestInformation(t.Context(), op, workflows.Step{ID: five, Reason: "Och årsberättelsen."})
	require.NoError(t, err)
	env.WaitForJobs()

	for i, p := range pages {
		s, items := measure(p)
		t.Logf("%-8s %-18s %2d statements with %d items, %2d with %d", p.name, p.path, short[i][0], short[i][1], s, items)
		require.Equal(t, short[i][0], s, "%s %s: statements", p.name, p.path)
		require.Greater(t, int64(items), short[i][1], "%s %s: the list grew", p.name, p.path)
	}
	instance := func(id uuid.UUID) (int64, int) {
		before := counter.n.Load()
		status, body := official.get("/instances/" + id.String())
		require.Equal(t, http.StatusOK, status)
		return counter.n.Load() - before, strings.Count(body, "<tr>")
	}
	s3, rows3 := instance(three)
	s5, rows5 := instance(five)
	t.Logf("official /instances/{id}  %2d statements with %d history rows, %2d with %d", s3, rows3, s5, rows5)
	require.Greater(t, rows5, rows3)
	require.Equal(t, s3, s5, "an application's page: statements")
}

// principal is the signed-in person of the representative's client: rita.
func (s *signedIn) principal(t *testing.T, env *apptest.Env) authz.Principal {
	t.Helper()
	id, err := env.App.EnsureUser(t.Context(), "rita", "Rita Representant")
	require.NoError(t, err)
	return authz.Principal{UserID: id, Name: "Rita Representant"}
}
