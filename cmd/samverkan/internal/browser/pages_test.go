package browser_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
)

// publicPage is one public page and a text a reader finds on it in each language.
type publicPage struct {
	name, path string
	sv, en     string
}

func publicPages(orgPath string) []publicPage {
	return []publicPage{
		{"start", "/", "De fem principerna", "The five principles"},
		{"signatories", "/signatories", "undertecknare matchar", "signatories match"},
		{"signatories-search", "/signatories?q=solrosen", "Föreningen Solrosen", "Föreningen Solrosen"},
		{"organisation", orgPath, "Underskrifter", "Signatures"},
		{"annual-reports", "/annual-reports", "Årsberättelse 2020", "Indicators over the years"},
		{"revision", "/revision", "Synpunkter senast\n31 mars 2022", "Comments by\n31 March 2022"},
		{"partnerships", "/partnerships", "Läxhjälp i Värmland", "Total public contribution"},
		{"history", "/history", "Offentliga händelser, nyast först", "Public events, newest first"},
		{"history-digest", "/history/digest", "Historikens fingeravtryck", "The history's fingerprint"},
		{"not-found", "/no-such-page", "Sidan finns inte", "Page not found"},
	}
}

// Every public page, in Swedish and in English, passes axe-core's WCAG 2.1
// A and AA rules with no violation, has no script, says its language, and
// loads nothing from another origin; the main pages' screenshots are
// written to docs/screenshots/.
func TestPublicPagesAreAccessibleInBothLanguages(t *testing.T) {
	env, _ := startStory(t, apptest.Options{})
	b := newBrowser(t, env.URL)

	b.open("/signatories?q=solrosen")
	orgPath := b.eval(`document.querySelector('table a').getAttribute('href')`)
	require.True(t, strings.HasPrefix(orgPath, "/organisations/"), orgPath)

	for _, lang := range []string{"sv", "en"} {
		// The language switch is a link; the choice is remembered.
		b.open("/")
		if b.eval(`document.documentElement.lang`) != lang {
			b.open("/lang/" + lang + "?next=/")
		}
		for _, p := range publicPages(orgPath) {
			t.Run(lang+"/"+p.name, func(t *testing.T) {
				b.t = t
				b.open(p.path)
				require.Equal(t, lang, b.eval(`document.documentElement.lang`))
				want := p.sv
				if lang == "en" {
					want = p.en
				}
				require.Contains(t, b.eval(`document.body.innerText`), want)
				require.Equal(t, "0", b.eval(`String(document.scripts.length)`), "the pages need no script")
				require.Equal(t, "1", b.eval(`String(document.querySelectorAll('main#main').length)`))
				require.Equal(t, "#main", b.eval(`document.querySelector('a.skip-link').getAttribute('href')`))
				res := b.axe()
				t.Logf("axe-core %s %s: %d violations, %d rules passed, %d to review", lang, p.path, len(res.Violations), res.Passes, res.Incomplete)
				require.Empty(t, res.Violations, "WCAG 2.1 A/AA violations on %s (%s):%s", p.path, lang, summary(res))
				if lang == "sv" && p.name != "signatories-search" && p.name != "not-found" && p.name != "history-digest" || lang == "en" && p.name == "start" {
					b.screenshot(fmt.Sprintf("%s-%s", p.name, lang))
				}
			})
		}
	}
	b.t = t
	require.Empty(t, b.foreignRequests(), "no page may request anything from another origin")
}

// Each page weighs at most 100 KB with its style sheet.
func TestPagesWeighAtMost100KBWithTheirCSS(t *testing.T) {
	env, _ := startStory(t, apptest.Options{})
	status, css, _ := fetch(t, env.URL+"/static/style.css")
	require.Equal(t, http.StatusOK, status)
	_, list, _ := fetch(t, env.URL+"/signatories?q=solrosen")
	i := strings.Index(list, `href="/organisations/`)
	require.Positive(t, i)
	orgPath := list[i+6 : i+6+len("/organisations/")+36]
	for _, p := range publicPages(orgPath) {
		_, body, _ := fetch(t, env.URL+p.path)
		total := len(body) + len(css)
		t.Logf("%s: %d bytes of HTML + %d of CSS = %.1f KB", p.path, len(body), len(css), float64(total)/1024)
		require.LessOrEqual(t, total, 100*1024, p.path)
	}
}
