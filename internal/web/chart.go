package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Point is one year's value of a series.
type Point struct {
	Year  int
	Value float64
}

// barChart draws a series as an SVG bar chart on the server: one bar per
// year with its value above it and the year below, a zero line and a
// labelled top line. It is an image with a title; the table beside it
// carries the same numbers for screen readers and copying.
func barChart(id, title string, points []Point) template.HTML {
	const (
		width, height = 480, 240
		left, right   = 48, 12
		top, bottom   = 28, 36
	)
	maxV := 0.0
	for _, p := range points {
		maxV = math.Max(maxV, p.Value)
	}
	if maxV <= 0 {
		maxV = 1
	}
	scale := niceCeiling(maxV)
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-title" xmlns="http://www.w3.org/2000/svg">`,
		width, height, esc(id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, esc(id), esc(title))
	baseY := float64(top) + plotH
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, left, baseY, width-right, baseY)
	fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, top, width-right, top)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, left-6, top+4, esc(Decimal(scale)))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">0</text>`, left-6, baseY+4)
	n := len(points)
	if n > 0 {
		slot := plotW / float64(n)
		barW := math.Min(slot*0.6, 64)
		for i, p := range points {
			h := plotH * math.Max(p.Value, 0) / scale
			x := float64(left) + slot*float64(i) + (slot-barW)/2
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x, baseY-h, barW, h)
			cx := x + barW/2
			fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, cx, baseY-h-6, esc(Decimal(p.Value)))
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%d</text>`, cx, baseY+20, p.Year)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text in it is escaped above
}

// niceCeiling rounds v up to 1, 2 or 5 times a power of ten.
func niceCeiling(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
