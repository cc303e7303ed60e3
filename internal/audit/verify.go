package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/samverkan/samverkan/internal/store"
)

// Problem is what is wrong with an event.
type Problem string

const (
	// SequenceGap: the event's seq is not its predecessor's plus one (or 1
	// for a stream's first event). An event before it was removed.
	SequenceGap Problem = "sequence gap"
	// ChainBroken: the event's prev_hash is not the stored hash of the
	// event before it (or is set on a stream's first event). The event
	// before it was removed or rewritten with a recomputed hash.
	ChainBroken Problem = "chain broken"
	// ContentChanged: the stored hash is not the hash of the event's
	// content. The event was altered after it was written.
	ContentChanged Problem = "content changed"
)

// Break is an event that fails the checks.
type Break struct {
	EventID int64  `json:"eventId"`
	Stream  string `json:"stream"`
	Seq     int    `json:"seq"`
	// Problem is the first of Problems, in the order sequence, chain,
	// content.
	Problem  Problem   `json:"problem"`
	Problems []Problem `json:"problems"`
	Detail   string    `json:"detail"`
}

// Result is what Verify found.
type Result struct {
	OK      bool `json:"ok"`
	Events  int  `json:"events"`
	Streams int  `json:"streams"`
	// Digest condenses the heads of every stream (see Digest).
	Digest string `json:"digest"`
	// Broken is the first event, in (stream, seq) order, that fails.
	Broken *Break `json:"broken,omitempty"`
	// BrokenEvents counts every event that fails.
	BrokenEvents int `json:"brokenEvents"`
}

// Progress reports how far Verify has come. Total is an estimate taken
// before the walk (events may be appended meanwhile).
type Progress struct {
	Events int
	Total  int
}

// progressEvery is how many events pass between progress reports.
const progressEvery = 1000

// Verify walks every event in (stream, seq) order, in one query and thus
// one snapshot, and checks that each stream's seq starts at 1 and grows by
// one, that each prev_hash is the stored hash of the event before it (nil
// for the first), and that each stored hash is the hash Go computes from
// the event's content. It computes the digest from the heads it read.
// report, when not nil, is called now and then and once at the end.
//
// A rewrite of a stream's newest event with a recomputed hash, or the
// removal of a stream's newest events, leaves a valid chain; only a digest
// noted earlier reveals it.
func Verify(ctx context.Context, q store.Querier, report func(Progress)) (Result, error) {
	var res Result
	total := 0
	if report != nil {
		heads, err := store.StreamHeads(ctx, q)
		if err != nil {
			return res, err
		}
		total = eventCount(heads)
		report(Progress{Total: total})
	}
	var (
		heads    []store.Head
		prevSeq  int
		prevHash []byte
	)
	err := store.ScanAllEvents(ctx, q, func(e store.Event) error {
		first := len(heads) == 0 || heads[len(heads)-1].Stream != e.Stream
		if first {
			heads = append(heads, store.Head{})
			prevSeq, prevHash = 0, nil
		}
		var problems []Problem
		var detail []string
		if e.Seq != prevSeq+1 {
			problems = append(problems, SequenceGap)
			detail = append(detail, fmt.Sprintf("seq %d follows seq %d", e.Seq, prevSeq))
		}
		switch {
		case first && e.PrevHash != nil:
			problems = append(problems, ChainBroken)
			detail = append(detail, fmt.Sprintf("the stream's first event has prev_hash %x", e.PrevHash))
		case !first && !bytes.Equal(e.PrevHash, prevHash):
			problems = append(problems, ChainBroken)
			detail = append(detail, fmt.Sprintf("prev_hash %x is not the hash %x of seq %d", e.PrevHash, prevHash, prevSeq))
		}
		if h := Hash(e); !bytes.Equal(h, e.Hash) {
			problems = append(problems, ContentChanged)
			detail = append(detail, fmt.Sprintf("stored hash %x, content hashes to %x", e.Hash, h))
		}
		if len(problems) > 0 {
			res.BrokenEvents++
			if res.Broken == nil {
				res.Broken = &Break{EventID: e.ID, Stream: e.Stream, Seq: e.Seq, Problem: problems[0],
					Problems: problems, Detail: strings.Join(detail, "; ")}
			}
		}
		heads[len(heads)-1] = store.Head{Stream: e.Stream, Seq: e.Seq, Hash: e.Hash}
		prevSeq, prevHash = e.Seq, e.Hash
		res.Events++
		if report != nil && res.Events%progressEvery == 0 {
			report(Progress{Events: res.Events, Total: max(total, res.Events)})
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	res.Streams = len(heads)
	res.Digest = digest(heads)
	res.OK = res.Broken == nil
	if report != nil {
		report(Progress{Events: res.Events, Total: res.Events})
	}
	return res, nil
}

// Digest condenses the history into one value from the heads of its
// streams, in one query: the SHA-256, in hex, of "<stream>:<seq>:<head
// hash hex>\n" for every stream in byte order of the stream names. It also
// returns the number of events, which is the sum of the heads' seq: the
// count the digest commits to, equal to the number of rows while the
// chains are intact (Verify checks that). Verify's digest is the same
// value, computed from what it read.
func Digest(ctx context.Context, q store.Querier) (string, int, error) {
	heads, err := store.StreamHeads(ctx, q)
	if err != nil {
		return "", 0, err
	}
	return digest(heads), eventCount(heads), nil
}

func eventCount(heads []store.Head) int {
	n := 0
	for _, h := range heads {
		n += h.Seq
	}
	return n
}

// digest sorts by stream name bytewise rather than trusting the
// database's ORDER BY, whose collation may differ between servers (a
// restore elsewhere must give the same digest).
func digest(heads []store.Head) string {
	heads = slices.Clone(heads)
	slices.SortFunc(heads, func(a, b store.Head) int { return strings.Compare(a.Stream, b.Stream) })
	h := sha256.New()
	for _, s := range heads {
		fmt.Fprintf(h, "%s:%d:%x\n", s.Stream, s.Seq, s.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))
}
