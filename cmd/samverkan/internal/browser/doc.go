// Package browser holds the browser tests of the web pages: the real
// service on the demo story, driven through headless Chromium with
// chromedp, with axe-core's WCAG 2.1 A/AA rules run on every page in both
// languages, a check that nothing is requested from another origin, and the
// screenshots under docs/screenshots/.
package browser
