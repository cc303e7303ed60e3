package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/authz"
)

// keyboard drives a browser with key presses only: no clicks, no script
// that submits or focuses. Every stop Tab reaches must show its focus.
type keyboard struct {
	b *browser
	// stops are the focus stops passed, for messages.
	stops []string
}

// focused describes the element that has focus.
func (k *keyboard) focused() string {
	return k.b.eval(`(e => !e ? 'none' : e === document.body ? 'body' : e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
		(e.className ? '.' + String(e.className).split(' ').join('.') : '') + (e.getAttribute('href') ? '[href="' + e.getAttribute('href') + '"]' : ''))(document.activeElement)`)
}

// press sends keys and waits a moment for the page to react.
func (k *keyboard) press(keys string, opts ...chromedp.KeyOption) {
	k.b.t.Helper()
	require.NoError(k.b.t, chromedp.Do(k.b.ctx, chromedp.KeyEvent(keys, opts...)), "%q", keys)
}

// requireVisibleFocus checks that the focused element draws a focus
// indicator: the browser treats it as :focus-visible and its computed
// outline or box-shadow is not none (an outline must not be transparent).
func (k *keyboard) requireVisibleFocus() {
	k.b.t.Helper()
	why := k.b.eval(`(e => {
		if (e === document.body) return 'nothing has focus';
		if (!e.matches(':focus-visible')) return 'not :focus-visible';
		const s = getComputedStyle(e);
		const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && s.outlineColor !== 'rgba(0, 0, 0, 0)';
		return outline || s.boxShadow !== 'none' ? '' : 'outline ' + s.outline + ', box-shadow ' + s.boxShadow;
	})(document.activeElement)`)
	require.Empty(k.b.t, why, "focus on %s is not visible", k.focused())
}

// tab presses Tab (Shift+Tab when back) and checks the new stop.
func (k *keyboard) tab(back bool) string {
	k.b.t.Helper()
	if back {
		k.press(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	} else {
		k.press(kb.Tab)
	}
	k.requireVisibleFocus()
	f := k.focused()
	k.stops = append(k.stops, f)
	return f
}

// tabTo presses Tab until the element matching sel has focus.
func (k *keyboard) tabTo(sel string) {
	k.b.t.Helper()
	k.stops = k.stops[:0]
	for range 80 {
		k.tab(false)
		if k.b.eval(`String(document.activeElement.matches('`+sel+`'))`) == "true" {
			return
		}
	}
	k.b.t.Fatalf("Tab never reached %s; stops: %s", sel, strings.Join(k.stops, " → "))
}

// typeText types s into the focused field.
func (k *keyboard) typeText(s string) {
	k.b.t.Helper()
	k.press(s)
}

// clear empties the focused text field with Backspace.
func (k *keyboard) clear() {
	k.b.t.Helper()
	n := len([]rune(k.b.eval(`document.activeElement.value`)))
	k.press(kb.End)
	k.press(strings.Repeat(kb.Backspace, n))
	require.Empty(k.b.t, k.b.eval(`document.activeElement.value`))
}

// followInPage presses Enter on a link within the page. A link acts on
// Enter's keydown; Chrome then drops the key's character, as it does for
// every keydown a page handled, but a character sent over the DevTools
// protocol is delivered regardless, to whatever the link focused (a text
// field, which it would submit). So this sends the keydown and keyup only.
func (k *keyboard) followInPage() {
	k.b.t.Helper()
	require.NoError(k.b.t, chromedp.Do(k.b.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, e := range kb.Encode('\r') {
			if e.Type == kb.KeyChar {
				continue
			}
			if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, *e); err != nil {
				return err
			}
		}
		return nil
	})))
}

// requireFocusOnErrorSummary waits for the page's autofocus (browsers run
// it at the next rendering update after the page loads) and checks that it
// put focus on the error summary, drawn with the focus outline.
func (k *keyboard) requireFocusOnErrorSummary() {
	k.b.t.Helper()
	require.Eventually(k.b.t, func() bool { return k.focused() == "div.error-summary" }, 5*time.Second, 20*time.Millisecond,
		"after a bad submit, focus is on the error summary, not on %s", k.focused())
	require.NotEqual(k.b.t, "none", k.b.eval(`getComputedStyle(document.activeElement).outlineStyle`), "the summary shows its focus")
}

// enter presses Enter (or Space) on a link or button that loads a page.
func (k *keyboard) enter(key string) {
	k.b.t.Helper()
	k.b.follow(chromedp.KeyEvent(key))
}

// A keyboard-only pass through applying to sign: from the sign-in page a
// person signs in, registers an organisation and applies to sign with Tab,
// Shift+Tab, Space, Enter and the arrow keys alone. The skip link is the
// first stop on every page, every stop shows its focus, and after a bad
// submit focus is on the error summary, whose link takes the person to the
// field.
func TestKeyboardOnlyApplication(t *testing.T) {
	env := startDemo(t, apptest.Options{DevPeople: withRepresentative()})
	b := newBrowser(t, env.URL)
	k := &keyboard{b: b}
	// A headless tab never has the window's focus; emulate it so that
	// :focus and document.hasFocus() behave as in a window in front.
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return chromedp.Void{}, err
	})))
	const name = "Filipstads Läsecirkel"
	firstStopIsSkipLink := func() {
		t.Helper()
		require.Equal(t, "a.skip-link[href=\"#main\"]", k.tab(false), "on %s", b.eval(`location.pathname`))
		require.NotEqual(t, "-9999px", b.eval(`getComputedStyle(document.activeElement).left`), "the skip link shows")
	}
	path := func() string { return b.eval(`location.pathname`) }

	// Sign in: the radios are one stop; the arrow keys choose.
	b.open("/lang/sv?next=/sign-in")
	firstStopIsSkipLink()
	k.tabTo(`input[name="person"]`)
	for b.eval(`document.activeElement.id`) != "person-rita" {
		require.Less(t, len(k.stops), 80)
		k.press(kb.ArrowDown)
		k.stops = append(k.stops, k.focused())
	}
	k.press(" ")
	require.Equal(t, "true", b.eval(`String(document.getElementById('person-rita').checked)`))
	k.tabTo(`form[action="/sign-in/dev"] button`)
	k.enter(kb.Enter)
	require.Contains(t, b.eval(`document.querySelector('.signed-in-as').innerText`), "Rita Representant")

	// To My organisations through the menu, then to the registration form.
	firstStopIsSkipLink()
	k.tabTo(`nav a[href="/my-organisations"]`)
	k.enter(kb.Enter)
	require.Equal(t, "/my-organisations", path())
	firstStopIsSkipLink()
	k.tabTo(`a[href="/organisations/new"]`)
	k.enter(kb.Enter)
	require.Equal(t, "/organisations/new", path())

	// The form, with a wrong organisation number.
	firstStopIsSkipLink()
	k.press(kb.Enter) // the skip link: on to the main content
	require.Eventually(t, func() bool { return b.eval(`location.hash`) == "#main" }, 5*time.Second, 20*time.Millisecond)
	k.tabTo(`#name`)
	k.typeText(name)
	k.tabTo(`#organisationNumber`)
	k.typeText("802900-9006")
	k.tabTo(`#legalForm`)
	k.typeText("Ideell") // a select chooses by typing the option's first letters
	require.Equal(t, "ideell_forening", b.eval(`document.activeElement.value`))
	k.tabTo(`#municipality`)
	k.typeText("Filipstad")
	// Back one stop and forward again: Shift+Tab reaches the select.
	require.Equal(t, "select#legalForm.select", k.tab(true))
	require.Equal(t, "input#municipality.input", k.tab(false))
	k.tabTo(`#contactEmail`)
	k.typeText("kontakt@example.org")
	k.tabTo(`form[action="/organisations"] button`)
	orgs := env.Count(`SELECT count(*) FROM organisations`)
	k.enter(kb.Enter)
	require.Equal(t, "/organisations", path())
	k.requireFocusOnErrorSummary()
	require.Equal(t, orgs, env.Count(`SELECT count(*) FROM organisations`), "nothing is saved")
	// Its link takes the person to the field, which keeps what they typed.
	require.Equal(t, `a[href="#organisationNumber"]`, k.tab(false), "the summary's link is the next stop")
	k.followInPage()
	require.Eventually(t, func() bool { return b.eval(`(document.activeElement || {}).id || ''`) == "organisationNumber" }, 5*time.Second, 20*time.Millisecond,
		"the summary's link moves focus to the field, not to %s", k.focused())
	require.Equal(t, "802900-9006", b.eval(`document.activeElement.value`))
	k.clear()
	k.typeText(demo.Number(900))
	k.tabTo(`form[action="/organisations"] button`)
	k.enter(" ") // Space presses a button too
	require.Equal(t, "/my-organisations", path())
	require.Contains(t, b.eval(`document.querySelector('.notice').innerText`), name)
	require.Equal(t, orgs+1, env.Count(`SELECT count(*) FROM organisations`))

	// An official confirms (not this person's part), and the person applies.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	officialID, err := env.App.EnsureUser(ctx, "demo-official", "Oskar Tjänsteperson")
	require.NoError(t, err)
	official := authz.Principal{UserID: officialID, Name: "Oskar Tjänsteperson"}
	open, err := env.App.Services.Registry.OpenClaims(ctx, official)
	require.NoError(t, err)
	require.Len(t, open, 1)
	_, err = env.App.Services.Registry.ConfirmRepresentation(ctx, official, open[0].ID, "")
	require.NoError(t, err)

	firstStopIsSkipLink()
	k.tabTo(`nav a[href="/my-organisations"]`)
	k.enter(kb.Enter)
	firstStopIsSkipLink()
	k.tabTo(`a[href$="/apply"]`)
	k.enter(kb.Enter)
	require.True(t, strings.HasSuffix(path(), "/apply"))
	firstStopIsSkipLink()
	k.tabTo(`#regionalPerspective`)
	k.press(" ")
	k.tabTo(`form[action$="/apply"] button`)
	k.enter(kb.Enter)
	k.requireFocusOnErrorSummary()
	require.Equal(t, 0, env.Count(`SELECT count(*) FROM workflow_instances w JOIN organisations o ON o.id = w.subject_id WHERE o.name = $1`, name))
	require.Equal(t, `a[href="#regionalPerspective"]`, k.tab(false), "the summary's link is the next stop")
	k.followInPage()
	require.Eventually(t, func() bool { return b.eval(`(document.activeElement || {}).id || ''`) == "regionalPerspective" }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, "true", b.eval(`String(document.activeElement.checked)`), "the box stays ticked")
	require.Equal(t, "input#democraticValues", k.tab(false))
	k.press(" ")
	require.Equal(t, "input#independent", k.tab(false))
	k.press(" ")
	require.Equal(t, "input#democraticValues", k.tab(true))
	require.Equal(t, "true", b.eval(`String(document.activeElement.checked)`))
	k.tabTo(`form[action$="/apply"] button`)
	k.enter(kb.Enter)
	require.True(t, strings.HasPrefix(path(), "/instances/"), path())
	require.Equal(t, "Klart: ansökan är skickad.", b.eval(`document.querySelector('.notice').innerText`))
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM workflow_instances w JOIN organisations o ON o.id = w.subject_id WHERE o.name = $1 AND w.state = 'applied'`, name))
	firstStopIsSkipLink()
	require.Empty(t, b.foreignRequests())
}
