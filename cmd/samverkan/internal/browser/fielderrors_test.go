package browser_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
)

// Registering with four bad fields at once brings the form back with one
// message at each of the four fields, in the page's language, each linked
// from the error summary (in the form's order), every input kept and
// nothing saved; the page passes axe-core.
func TestEveryBadFieldGetsItsMessage(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	b := newBrowser(t, env.URL)
	orgs := env.Count(`SELECT count(*) FROM organisations`)
	fill := func(sel, v string) { require.NoError(t, chromedp.Do(b.ctx, chromedp.SetValue(sel, v))) }
	for _, lang := range []string{"sv", "en"} {
		b.signInAs("rita", lang)
		b.open("/organisations/new")
		fill(`#name`, " ") // only a space: no name
		fill(`#organisationNumber`, "802900-90")
		fill(`#legalForm`, "ideell_forening")
		fill(`#municipality`, "Filipstad")
		fill(`#contactEmail`, "inte en adress")
		fill(`#website`, "ftp://example.org")
		fill(`#description`, "Vi läser tillsammans.")
		b.follow(chromedp.Click(`form[action="/organisations"] button`))

		want := []string{"name", "organisationNumber", "contactEmail", "website"}
		links := b.eval(`[...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href')).join(' ')`)
		require.Equal(t, "#"+strings.Join(want, " #"), links, "the summary links every bad field, in the form's order")
		for _, f := range want {
			msg := b.eval(`(e => e ? e.innerText : '')(document.getElementById('` + f + `-error'))`)
			require.NotEmpty(t, msg, "%s has its message", f)
			require.NotContains(t, msg, " / ", "%s: one language", f)
			require.Equal(t, "true", b.eval(`document.getElementById('`+f+`').getAttribute('aria-invalid')`), f)
			require.Contains(t, b.eval(`document.getElementById('`+f+`').getAttribute('aria-describedby')`), f+"-error")
			summaryText := b.eval(`document.querySelector('.error-summary a[href="#` + f + `"]').innerText`)
			require.Contains(t, msg, summaryText, "%s: the summary says what the field says", f)
		}
		require.Contains(t, b.eval(`document.getElementById('organisationNumber-error').innerText`),
			map[string]string{"sv": "tio siffror", "en": "ten digits"}[lang])
		require.Equal(t, "0", b.eval(`String(document.querySelectorAll('.has-error #legalForm, .has-error #municipality, .has-error #description').length)`),
			"good fields carry no error")
		for sel, v := range map[string]string{"organisationNumber": "802900-90", "legalForm": "ideell_forening", "municipality": "Filipstad",
			"contactEmail": "inte en adress", "website": "ftp://example.org", "description": "Vi läser tillsammans."} {
			require.Equal(t, v, b.eval(`document.getElementById('`+sel+`').value`), "%s is kept", sel)
		}
		require.Equal(t, orgs, env.Count(`SELECT count(*) FROM organisations`), "nothing is saved")
		res := b.axe()
		require.Empty(t, res.Violations, summary(res))
		if lang == "sv" {
			b.screenshot("register-organisation-fields-sv")
		}
		b.follow(chromedp.Click(`form.sign-out button`))
	}
	require.Empty(t, b.foreignRequests())
}
