package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/samverkan/samverkan/internal/clock"
)

//go:embed messages/*.json
var messageFiles embed.FS

// Languages the pages come in; the first is the default.
var Languages = []string{"sv", "en"}

// langCookie remembers the language a person chose.
const langCookie = "samverkan_lang"

// catalogues maps a language to its messages (key → text with fmt verbs).
type catalogues map[string]map[string]string

// loadCatalogues reads every messages/*.json: "sv.json" and "en.json", and
// one pair per area of the pages, "<area>.sv.json" and "<area>.en.json", so
// that each area keeps its own texts. A key may be defined only once.
func loadCatalogues() (catalogues, error) {
	out := catalogues{}
	for _, lang := range Languages {
		out[lang] = map[string]string{}
	}
	files, err := fs.Glob(messageFiles, "messages/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range files {
		base := strings.TrimSuffix(path.Base(name), ".json")
		lang := base[strings.LastIndex(base, ".")+1:]
		if !supported(lang) {
			return nil, fmt.Errorf("%s: the file name ends in no supported language", name)
		}
		b, err := messageFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for k, v := range m {
			if _, dup := out[lang][k]; dup {
				return nil, fmt.Errorf("%s: %q is defined in another %s catalogue too", name, k, lang)
			}
			out[lang][k] = v
		}
	}
	for key := range out["sv"] {
		if _, ok := out["en"][key]; !ok {
			return nil, fmt.Errorf("the English catalogues lack %q", key)
		}
	}
	for key := range out["en"] {
		if _, ok := out["sv"][key]; !ok {
			return nil, fmt.Errorf("the Swedish catalogues lack %q", key)
		}
	}
	return out, nil
}

// chooseLanguage is the remembered choice, else the first supported
// language the browser asks for (Accept-Language, by weight), else Swedish.
func chooseLanguage(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	best, bestQ := "", -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if base == "nb" || base == "nn" || base == "no" || base == "da" {
			base = "sv" // the Scandinavian neighbours read Swedish better than English
		}
		if supported(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	if best != "" {
		return best
	}
	return Languages[0]
}

func supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Localizer renders texts, dates and numbers for one language. Dates are
// shown in Europe/Stockholm; numbers in the Swedish form in both languages
// (a space between thousands, a decimal comma), as the service is Swedish.
type Localizer struct {
	Lang string
	msgs map[string]string
}

// T is the message key formatted with args; a missing key shows as itself
// (the catalogue test keeps that from happening).
func (l Localizer) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Other is the language the switch offers.
func (l Localizer) Other() string {
	if l.Lang == "sv" {
		return "en"
	}
	return "sv"
}

var months = map[string][12]string{
	"sv": {"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// Date is "1 december 2026" ("1 December 2026" in English). Dates stored
// as midnight UTC (calendar dates) are shown as that day.
func (l Localizer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if !isCalendarDate(t) {
		t = t.In(clock.Stockholm)
	}
	return fmt.Sprintf("%d %s %d", t.Day(), months[l.Lang][t.Month()-1], t.Year())
}

// DateTime is "1 december 2026 kl. 14.05" ("1 December 2026, 14:05").
func (l Localizer) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(clock.Stockholm)
	d := fmt.Sprintf("%d %s %d", t.Day(), months[l.Lang][t.Month()-1], t.Year())
	if l.Lang == "sv" {
		return fmt.Sprintf("%s kl. %02d.%02d", d, t.Hour(), t.Minute())
	}
	return fmt.Sprintf("%s, %02d:%02d", d, t.Hour(), t.Minute())
}

// ISODate is the machine-readable date for <time datetime>.
func (l Localizer) ISODate(t time.Time) string {
	if !isCalendarDate(t) {
		t = t.In(clock.Stockholm)
	}
	return t.Format("2006-01-02")
}

func isCalendarDate(t time.Time) bool {
	u := t.UTC()
	return t.Location() == time.UTC && u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0
}

// nbsp keeps the groups of a number together on one line.
const nbsp = "\u00a0"

// Number is an integer with its thousands grouped: "1 250 000".
func Number(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(nbsp)
		}
		b.WriteRune(r)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// Decimal is a value with up to two decimals, Swedish style: "1 250,5".
func Decimal(v float64) string {
	cents := int64(v*100 + 0.5)
	if v < 0 {
		cents = int64(v*100 - 0.5)
	}
	whole, frac := cents/100, cents%100
	if frac < 0 {
		frac = -frac
	}
	s := Number(whole)
	if whole == 0 && cents < 0 {
		s = "−0"
	}
	switch {
	case frac == 0:
		return s
	case frac%10 == 0:
		return fmt.Sprintf("%s,%d", s, frac/10)
	default:
		return fmt.Sprintf("%s,%02d", s, frac)
	}
}

// Money is an amount in hundredths of SEK: "1 250 000 kr", with öre only
// when there are any ("12,50 kr").
func Money(hundredths int64) string {
	s := Number(hundredths / 100)
	if ore := hundredths % 100; ore != 0 {
		if ore < 0 {
			ore = -ore
		}
		s = fmt.Sprintf("%s,%02d", s, ore)
	}
	return s + nbsp + "kr"
}
