package store

import "fmt"

// What the scanners of long results (history pages, signatory pages)
// share: texts that repeat from row to row made into strings once, and
// rows allocated many at a time.

// maxShared bounds what a scanner keeps of the texts and ids it has seen:
// a scan of the whole history (audit) meets every stream once.
const maxShared = 4096

// texts shares equal texts between the rows of one result.
type texts struct{ seen map[string]string }

func newTexts() *texts { return &texts{seen: map[string]string{}} }

// into is a scan destination that sets *dst to the column's text, the
// string of an equal text seen before when there is one; NULL is an
// error, as when scanning into a string.
func (t *texts) into(dst *string) sharedText { return sharedText{dst: dst, t: t} }

// intoOrEmpty is into for a column that may be NULL, read as "".
func (t *texts) intoOrEmpty(dst *string) sharedText {
	return sharedText{dst: dst, t: t, nullable: true}
}

type sharedText struct {
	dst      *string
	t        *texts
	nullable bool
}

// ScanBytes is pgtype.BytesScanner: b is the driver's memory, valid only
// during the call (the lookup makes no copy of it).
func (s sharedText) ScanBytes(b []byte) error {
	if b == nil && !s.nullable {
		return fmt.Errorf("cannot scan NULL into a text")
	}
	if v, ok := s.t.seen[string(b)]; ok {
		*s.dst = v
		return nil
	}
	v := string(b)
	if len(s.t.seen) < maxShared {
		s.t.seen[v] = v
	}
	*s.dst = v
	return nil
}

// slab hands out pointers to values allocated a chunk at a time, the
// chunks growing from 8 to 256: a page of 100 rows is a handful of
// allocations, a single row one small one.
type slab[T any] struct {
	free []T
	next int
}

func (s *slab[T]) put(v T) *T {
	if len(s.free) == 0 {
		s.next = min(max(2*s.next, 8), 256)
		s.free = make([]T, s.next)
	}
	p := &s.free[0]
	*p = v
	s.free = s.free[1:]
	return p
}
