package browser_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/observe"
)

// The signatory list searches, filters and pages through the form alone,
// and the downloads hold the same selection.
func TestSignatoryListSearchesFiltersPagesAndDownloads(t *testing.T) {
	env := startDemo(t, apptest.Options{})
	b := newBrowser(t, env.URL)
	b.open("/lang/sv?next=/signatories")
	require.Contains(t, b.eval(`document.querySelector('.result-count').innerText`), "49 undertecknare matchar")
	require.Equal(t, "25", b.eval(`String(document.querySelectorAll('tbody tr').length)`), "25 per page")

	// Next page by the link, then by the page field.
	b.follow(chromedp.Click(`a[rel="next"]`))
	require.Equal(t, "24", b.eval(`String(document.querySelectorAll('tbody tr').length)`))
	require.Equal(t, "2", b.eval(`document.getElementById('page').value`))

	// Search and filter by legal form, by typing and choosing as a person does.
	b.open("/signatories")
	require.NoError(t, chromedp.Do(b.ctx, chromedp.SendKeys(`#search`, "förening"), chromedp.SetValue(`#legalForm`, "ekonomisk_forening")))
	b.follow(chromedp.Click(`form.filter button`))
	u, err := url.Parse(b.eval(`location.href`))
	require.NoError(t, err)
	require.Equal(t, "förening", u.Query().Get("q"))
	require.Equal(t, "ekonomisk_forening", u.Query().Get("form"))
	require.Equal(t, "förening", b.eval(`document.getElementById('search').value`), "the search is kept")
	names := b.eval(`[...document.querySelectorAll('tbody tr td:first-child')].map(td => td.innerText).join('|')`)
	require.Contains(t, names, "Ekonomiska föreningen Vävstolen")
	for _, row := range strings.Split(b.eval(`[...document.querySelectorAll('tbody tr')].map(tr => tr.innerText).join('|')`), "|") {
		require.Contains(t, strings.ToLower(row), "förening")
		require.Contains(t, row, "Ekonomisk förening")
	}
	shown := len(strings.Split(names, "|"))

	// The downloads hold the same selection.
	csvLink := b.eval(`document.querySelector('a[href^="/signatories.csv"]').getAttribute('href')`)
	status, body, h := fetch(t, env.URL+csvLink)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "text/csv; charset=utf-8", h.Get("Content-Type"))
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"name", "organisationNumber", "legalForm", "municipality", "signedOn", "how"}, rows[0])
	require.Len(t, rows[1:], shown)
	jsonLink := b.eval(`document.querySelector('a[href^="/signatories.json"]').getAttribute('href')`)
	status, body, _ = fetch(t, env.URL+jsonLink)
	require.Equal(t, http.StatusOK, status)
	var out struct {
		Signatories []struct{ Name, OrganisationNumber, LegalForm, SignedOn string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	require.Len(t, out.Signatories, shown)
	for _, s := range out.Signatories {
		require.Equal(t, "ekonomisk_forening", s.LegalForm)
		require.Regexp(t, `^\d{6}-\d{4}$`, s.OrganisationNumber)
	}
	// The whole list, name order, the withdrawn organisation left out.
	_, body, _ = fetch(t, env.URL+"/signatories.csv")
	rows, err = csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows[1:], 49)
	var all []string
	for _, r := range rows[1:] {
		all = append(all, r[0])
	}
	require.NotContains(t, all, "Arvika Kulturförening", "withdrew in November 2018")
	require.Contains(t, all, "Föreningen Solrosen")
}

// Bad input comes back as GOV.UK's pattern: an error summary at the top
// linking to each field, the message at the field, the input kept.
func TestBadInputShowsTheErrorSummaryAndKeepsTheInput(t *testing.T) {
	env := startDemo(t, apptest.Options{})
	b := newBrowser(t, env.URL)
	long := strings.Repeat("a", 201)
	for _, lang := range []string{"sv", "en"} {
		b.open("/lang/" + lang + "?next=/signatories?q=" + long + "%26page=x")
		require.Equal(t, "true", b.eval(`String(document.querySelector('.error-summary') !== null)`))
		links := b.eval(`[...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href')).join(' ')`)
		require.Equal(t, "#page", links, "the page number is checked first; the search is not run with a bad page")
		require.Equal(t, "x", b.eval(`document.getElementById('page').value`), "the input is kept")
		require.Equal(t, "true", b.eval(`document.getElementById('page').getAttribute('aria-invalid')`))
		require.Contains(t, b.eval(`document.getElementById('page').getAttribute('aria-describedby')`), "page-error")
		require.True(t, strings.HasPrefix(b.eval(`document.title`), map[string]string{"sv": "Fel:", "en": "Error:"}[lang]))

		b.open("/signatories?q=" + long)
		require.Equal(t, "#search", b.eval(`[...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href')).join(' ')`))
		msg := b.eval(`document.getElementById('search-error').innerText`)
		want := map[string]string{"sv": "högst 200", "en": "at most 200"}[lang]
		require.Contains(t, msg, want, "one message in the page's language")
		require.NotContains(t, msg, " / ")
		require.Equal(t, long, b.eval(`document.getElementById('search').value`), "the input is kept")
		require.Equal(t, "search", b.eval(`document.querySelector('.error-summary a').hash.slice(1)`))
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
	}
	status, _, _ := fetch(t, env.URL+"/signatories?page=0")
	require.Equal(t, http.StatusBadRequest, status)
	status, body, _ := fetch(t, env.URL+"/signatories?page=9", "Accept-Language", "sv")
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "Sidan finns inte. Listan har 2 sidor.", "past the last page")
	status, _, _ = fetch(t, env.URL+"/signatories.csv?form=aktiebolag")
	require.Equal(t, http.StatusBadRequest, status)
}

// A keyboard user's first Tab reaches the skip link, shown with the
// yellow focus; Enter takes them to the main content.
func TestKeyboardSkipLinkAndVisibleFocus(t *testing.T) {
	env := startDemo(t, apptest.Options{})
	b := newBrowser(t, env.URL)
	b.open("/signatories")
	require.NoError(t, chromedp.Do(b.ctx, chromedp.KeyEvent("\t")))
	require.Equal(t, "skip-link", b.eval(`document.activeElement.className`))
	require.Equal(t, "rgb(255, 221, 0)", b.eval(`getComputedStyle(document.activeElement).backgroundColor`))
	require.NotEqual(t, "-9999px", b.eval(`getComputedStyle(document.activeElement).left`), "the skip link shows when focused")
	require.NoError(t, chromedp.Do(b.ctx, chromedp.KeyEvent("\r")))
	require.Eventually(t, func() bool { return b.eval(`location.hash`) == "#main" }, 5*time.Second, 50*time.Millisecond)
	// The next Tab goes on inside main: the search field.
	require.NoError(t, chromedp.Do(b.ctx, chromedp.KeyEvent("\t")))
	require.Equal(t, "search", b.eval(`document.activeElement.id`))
	require.Equal(t, "rgb(255, 221, 0)", b.eval(`getComputedStyle(document.activeElement).outlineColor`))
}

// The language follows the browser until a person chooses; the choice is
// remembered in a cookie.
func TestLanguageFollowsTheBrowserUntilChosen(t *testing.T) {
	env := startDemo(t, apptest.Options{})
	_, body, _ := fetch(t, env.URL+"/")
	require.Contains(t, body, `<html lang="sv">`)
	require.Contains(t, body, "30 januari 2018")
	_, body, _ = fetch(t, env.URL+"/", "Accept-Language", "en-GB,en;q=0.9")
	require.Contains(t, body, `<html lang="en">`)
	require.Contains(t, body, "30 January 2018")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(env.URL + "/lang/sv?next=/history")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/history", resp.Header.Get("Location"))
	cookie := resp.Cookies()[0]
	require.True(t, cookie.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	_, body, _ = fetch(t, env.URL+"/", "Accept-Language", "en", "Cookie", cookie.Name+"="+cookie.Value)
	require.Contains(t, body, `<html lang="sv">`, "the choice wins over the browser")
	resp, err = noRedirect.Get(env.URL + "/lang/en?next=//evil.example/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/", resp.Header.Get("Location"), "the switch only returns to our own pages")
}

// GraphiQL works from its embedded assets with the network closed.
func TestGraphiQLLoadsFromTheBinary(t *testing.T) {
	env := startDemo(t, apptest.Options{})
	b := newBrowser(t, env.URL)
	b.open("/graphiql/")
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(`.graphiql-container`)))
	require.Empty(t, b.foreignRequests())
	status, _, _ := fetch(t, env.URL+"/graphiql/")
	require.Equal(t, http.StatusOK, status)

	off := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.GraphiQL = false }})
	status, _, _ = fetch(t, off.URL+"/graphiql/")
	require.Equal(t, http.StatusNotFound, status, "off, /graphiql/ is not served")
}

// statementCounter counts the SQL statements run for requests (background
// jobs have no request ID).
type statementCounter struct{ n atomic.Int64 }

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if observe.RequestID(ctx) != "" {
		c.n.Add(1)
	}
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A page issues as many statements for a long list as for a short one.
func TestPageStatementsDoNotGrowWithTheList(t *testing.T) {
	counter := &statementCounter{}
	env, pub := startStory(t, apptest.Options{QueryTracer: counter})
	env.WaitForJobs()
	statements := func(path string) int64 {
		before := counter.n.Load()
		status, _, _ := fetch(t, env.URL+path)
		require.Equal(t, http.StatusOK, status, path)
		return counter.n.Load() - before
	}
	_, hist, _ := fetch(t, env.URL+"/history")
	require.Contains(t, hist, `rel="next"`)
	for _, pair := range [][2]string{
		{"/signatories?q=Solrosen", "/signatories"},
		{"/signatories.csv?q=Solrosen", "/signatories.csv"},
		{"/history?before=5", "/history"},
	} {
		short, long := statements(pair[0]), statements(pair[1])
		t.Logf("%s: %d statements, %s: %d", pair[0], short, pair[1], long)
		require.Equal(t, short, long, "%s and %s", pair[0], pair[1])
	}
	for _, path := range []string{"/", "/organisations/" + pub.firstOrg.String(), "/annual-reports", "/revision", "/partnerships",
		"/history/digest"} {
		t.Logf("%s: %d statements", path, statements(path))
	}
}

// Server render times on the story's data, measured over loopback (an
// upper bound of the server's own time).
func TestRenderTimes(t *testing.T) {
	env, pub := startStory(t, apptest.Options{})
	env.WaitForJobs()
	for _, path := range []string{"/", "/signatories", "/organisations/" + pub.firstOrg.String(), "/annual-reports", "/revision",
		"/partnerships", "/history", "/history/digest", "/signatories.csv"} {
		var times []time.Duration
		for range 21 {
			start := time.Now()
			status, _, _ := fetch(t, env.URL+path)
			times = append(times, time.Since(start))
			require.Equal(t, http.StatusOK, status)
		}
		slices.Sort(times)
		t.Logf("%-60s p50 %6.2f ms  max %6.2f ms", path, float64(times[10].Microseconds())/1000, float64(times[20].Microseconds())/1000)
		require.Less(t, times[10], 200*time.Millisecond, "%s renders in well under 200 ms at p50 even on a shared machine", path)
	}
}
