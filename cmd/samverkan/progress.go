package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// progress reports a long operation: an updating line on a terminal, plain
// lines otherwise (logs, CI).
type progress struct {
	w        io.Writer
	terminal bool
	last     string
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

// Step reports that done of total units of step are finished.
func (p *progress) Step(step string, done, total int) {
	if p.terminal {
		width := 30
		filled := 0
		if total > 0 {
			filled = done * width / total
		}
		fmt.Fprintf(p.w, "\r%-28s [%-*s] %d/%d", step, width, strings.Repeat("#", filled), done, total)
		if done == total {
			fmt.Fprintln(p.w)
		}
		return
	}
	if step != p.last || done == total {
		fmt.Fprintf(p.w, "%s: %d/%d\n", step, done, total)
		p.last = step
	}
}
