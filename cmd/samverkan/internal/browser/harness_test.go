package browser_test

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

//go:embed testdata/axe.min.js
var axeSource string

// chromiumPath finds Debian's chromium; without it the browser tests fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the browser tests need Chromium: run `make test` as root to install it, or `sudo apt-get install -y chromium`")
	return ""
}

// browser is a headless Chromium tab on the service, recording every URL
// the page requests.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	requests []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("lang", "sv-SE"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.requests = append(b.requests, e.Request.URL)
			b.mu.Unlock()
		}
	}))
	// The first Run starts the browser; it lives as long as ctx.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	return b
}

// open navigates to a path of the service and waits for the page.
func (b *browser) open(path string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, chromedp.Navigate(b.base+path), chromedp.WaitReady("body")), path)
}

// follow runs an action that loads a new page (a click on a link or a
// submit button) and waits until the new page has loaded.
func (b *browser) follow(action chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.eval(`document.documentElement.dataset.left = "yes"; ""`)
	require.NoError(b.t, chromedp.Do(b.ctx, action))
	require.Eventually(b.t, func() bool {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.dataset.left || document.readyState`))
		return err == nil && v == "complete"
	}, 15*time.Second, 20*time.Millisecond, "no new page loaded")
}

func (b *browser) eval(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	require.NoError(b.t, err, expr)
	return v
}

// foreignRequests are the requested URLs that are not the service's.
func (b *browser) foreignRequests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	base, _ := url.Parse(b.base)
	var out []string
	for _, raw := range b.requests {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "data" && u.Scheme != "about" && u.Host != base.Host) {
			out = append(out, raw)
		}
	}
	return out
}

// axeResult is what axe-core reports for a page.
type axeResult struct {
	Violations []struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
	} `json:"violations"`
	Passes     int `json:"passes"`
	Incomplete int `json:"incomplete"`
}

// axe injects axe-core into the page (the service never serves it) and
// runs the WCAG 2.1 A and AA rules.
func (b *browser) axe() axeResult {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource))
	require.NoError(b.t, err)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](`axe.run(document, {runOnly: {type: 'tag',
		values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']}).then(r => ({
		violations: r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
			nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.html.slice(0, 200))})),
		passes: r.passes.length, incomplete: r.incomplete.length}))`, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err)
	return res
}

// screenshot writes the page's top 1280×1400 pixels to
// docs/screenshots/<name>.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	img, err := chromedp.Run(b.ctx, chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, tg, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng,
			CaptureBeyondViewport: new(true), Clip: &page.Viewport{X: 0, Y: 0, Width: 1280, Height: 1400, Scale: 1}})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	require.NoError(b.t, err)
	dir := filepath.Join(repoRoot(b.t), "docs", "screenshots")
	require.NoError(b.t, os.MkdirAll(dir, 0o755))
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644))
}

func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found")
		dir = parent
	}
}

// fetch GETs a path and returns its status, body and headers.
func fetch(t *testing.T, u string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Header
}

type quiet struct{}

func (quiet) Step(string, int, int) {}

// startDemo boots the service with the demo story loaded.
func startDemo(t *testing.T, o apptest.Options) *apptest.Env {
	t.Helper()
	env := apptest.Start(t, o)
	loaded, err := demo.Seed(t.Context(), env.App, quiet{})
	require.NoError(t, err)
	require.True(t, loaded)
	return env
}

func summary(r axeResult) string {
	var b strings.Builder
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\n  %s (%s): %s\n    %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n    "))
	}
	return b.String()
}
