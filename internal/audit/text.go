package audit

import (
	"fmt"
	"io"
)

// WriteText prints a result for people: what was checked, the digest, and
// OK or the first broken event.
func (r Result) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "events checked:  %d\nstreams checked: %d\ndigest:          %s\n", r.Events, r.Streams, r.Digest)
	if err != nil {
		return err
	}
	if r.Broken == nil {
		_, err = fmt.Fprintln(w, "OK")
		return err
	}
	b := r.Broken
	_, err = fmt.Fprintf(w, "BROKEN: %d event(s) fail; the first is event %d (stream %s, seq %d): %s\n  %s\n",
		r.BrokenEvents, b.EventID, b.Stream, b.Seq, b.Problem, b.Detail)
	return err
}
