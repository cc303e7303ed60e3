// Package docblock keeps generated blocks of README.md (the role table, the
// workflow diagrams) equal to what the code says. A test calls Check; with
// -update it rewrites the block instead.
package docblock

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's generated blocks")

// Check requires the block between <!-- name:begin --> and <!-- name:end -->
// in the file at path to be want.
func Check(t *testing.T, path, name, want string) {
	t.Helper()
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q block", path, name)
	}
	got := doc[i+len(begin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's %q block is out of date; run the test with -update.\nwant:\n%s\ngot:\n%s", path, name, want, got)
}
