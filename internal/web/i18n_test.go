package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/clock"
)

func TestSwedishNumbersAndDates(t *testing.T) {
	sv := Localizer{Lang: "sv"}
	en := Localizer{Lang: "en"}
	sp := func(s string) string { return strings.ReplaceAll(s, nbsp, " ") }
	require.Equal(t, "1 250 000 kr", sp(Money(125000000)))
	require.Equal(t, "12,50 kr", sp(Money(1250)))
	require.Equal(t, "999", Number(999))
	require.Equal(t, "1 000", sp(Number(1000)))
	require.Equal(t, "−12 345", sp(Number(-12345)))
	require.Equal(t, "1 250,5", sp(Decimal(1250.5)))
	require.Equal(t, "0,25", Decimal(0.25))
	require.Equal(t, "42", Decimal(42))

	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // a calendar date as PostgreSQL returns it
	require.Equal(t, "1 december 2026", sv.Date(day))
	require.Equal(t, "1 December 2026", en.Date(day))
	// A moment is shown in Stockholm: 23:30 UTC on 30 November is 1 December there.
	late := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC).In(time.FixedZone("x", 0))
	require.Equal(t, "1 december 2026", sv.Date(late))
	require.Equal(t, "1 december 2026 kl. 00.30", sv.DateTime(late))
	require.Equal(t, "1 December 2026, 00:30", en.DateTime(late))
	require.Equal(t, "2026-12-01", sv.ISODate(late.In(clock.Stockholm)))
}

func TestLanguageComesFromTheCookieThenTheBrowser(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	require.Equal(t, "sv", chooseLanguage(r), "Swedish by default")
	r.Header.Set("Accept-Language", "en-GB,en;q=0.9,sv;q=0.5")
	require.Equal(t, "en", chooseLanguage(r))
	r.Header.Set("Accept-Language", "de-DE,sv;q=0.8,en;q=0.7")
	require.Equal(t, "sv", chooseLanguage(r))
	r.Header.Set("Accept-Language", "fr")
	require.Equal(t, "sv", chooseLanguage(r))
	r.Header.Set("Accept-Language", "en")
	r.AddCookie(&http.Cookie{Name: langCookie, Value: "sv"})
	require.Equal(t, "sv", chooseLanguage(r), "the remembered choice wins")
}

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	c, err := loadCatalogues()
	require.NoError(t, err)
	require.Equal(t, len(c["sv"]), len(c["en"]))
	for k, v := range c["sv"] {
		require.NotEmpty(t, v, k)
		require.Equal(t, strings.Count(v, "%"), strings.Count(c["en"][k], "%"), "the same placeholders in %s", k)
	}
}

func TestRedirectsStayOnTheSite(t *testing.T) {
	for in, want := range map[string]string{
		"/signatories?q=a": "/signatories?q=a", "": "/", "//evil.example": "/", "https://evil.example/": "/",
		"/\\evil.example": "/", "javascript:alert(1)": "/",
	} {
		require.Equal(t, want, localPath(in), in)
	}
}

func TestChartDrawsEveryYearWithItsValue(t *testing.T) {
	svg := string(barChart("c1", "Deltagare <per år>", []Point{{2019, 120}, {2020, 80.5}, {2021, 0}}))
	require.Contains(t, svg, `role="img"`)
	require.Contains(t, svg, "Deltagare &lt;per år&gt;")
	for _, s := range []string{">2019<", ">2020<", ">2021<", ">120<", ">80,5<"} {
		require.Contains(t, svg, s)
	}
	require.Equal(t, 3, strings.Count(svg, `<rect class="bar"`))
}
