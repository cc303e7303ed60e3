// Command gqlgen-post is the second half of `make generate`: it rewrites
// the executor gqlgen writes (graph/generated.go) in two ways that gqlgen
// v0.17.98 has no setting for, and that the graph package's hand-written
// helpers (graph/marshal.go) back:
//
//   - The lists named with -in-order (GraphQL type names of their
//     elements, e.g. SignatoryEdge) are marshalled one element after the
//     other by marshalSliceInOrder instead of graphql.MarshalSliceConcurrently,
//     which starts a goroutine per element. Name only lists whose elements'
//     resolvers never wait for a loader batch that is not already sent: an
//     element that waits for an unprimed loader would wait for it alone,
//     one element after the other.
//   - Every object's deferred group is made by deferredGroupOf, which
//     builds it (and the full path it labels its payloads with) only when
//     one of the object's fields carries @defer, instead of
//     graphql.NewDeferredGroup for every object of every answer.
//   - Every plain leaf field (a scalar or enum bound straight to a struct
//     field or method, see leaves.go) hands its value to its marshaller
//     instead of going through graphql.ResolveField: on a page of 100
//     signatories that is 400 fields, each some ten allocations fewer.
//   - Every plain field of object type keeps its field context but skips
//     the rest of graphql.ResolveField (objects.go), and every object
//     without deferred fields is written by writeObject rather than by
//     graphql.FieldSet, which makes a map per object and a heap copy of
//     each field to write it.
//   - Every object none of whose fields is resolved concurrently keeps its
//     values in a plainObject, one allocation instead of three (plain.go).
//   - The answer is written into a buffer sized from the answers before
//     (marshalAnswer) rather than one grown from nothing.
//   - Every object collects its fields through its type's memo
//     (collectFieldsOf) rather than the operation's locked cache.
//
// It fails when a pattern it rewrites is not found, so that a gqlgen upgrade
// that changes its templates is noticed rather than silently undoing the
// rewrite. Running it twice gives the same file.
//
//	go run ./cmd/gqlgen-post -in-order SignatoryEdge graph/generated.go
package main

import (
	"flag"
	"fmt"
	"go/format"
	"os"
	"regexp"
	"strings"
)

const (
	concurrentSlice = "graphql.MarshalSliceConcurrently("
	inOrderSlice    = "marshalSliceInOrder("
	eagerDeferred   = "deferred := graphql.NewDeferredGroup(ctx)"
	lazyDeferred    = "deferred := deferredGroupOf(ctx, fields)"
)

// listMarshaller matches the first line of a generated list marshaller and
// captures its element's GraphQL type name: marshalN (non-null) or marshalO
// (nullable), the type name, then the mangled Go type of a slice ("2ᚕ").
var listMarshaller = regexp.MustCompile(`^func \(ec \*executionContext\) marshal[NO]([A-Za-z0-9_]+)2ᚕ`)

func main() {
	inOrder := flag.String("in-order", "", "comma-separated GraphQL element types whose lists are marshalled in order, without a goroutine per element")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: gqlgen-post [-in-order Type,...] graph/generated.go")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	path := flag.Arg(0)
	src, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	var types []string
	if *inOrder != "" {
		types = strings.Split(*inOrder, ",")
	}
	out, err := rewrite(src, types)
	if err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gqlgen-post:", err)
	os.Exit(1)
}

// rewrite applies the rewrites to the source of generated.go and
// formats the result.
func rewrite(src []byte, inOrder []string) ([]byte, error) {
	want := map[string]bool{}
	for _, t := range inOrder {
		if t = strings.TrimSpace(t); t != "" {
			want[t] = true
		}
	}
	done := map[string]bool{}
	lines := strings.Split(string(src), "\n")
	current := "" // the element type of the list marshaller we are in, if chosen
	deferredGroups := 0
	for i, line := range lines {
		if strings.HasPrefix(line, "func ") {
			current = ""
			if m := listMarshaller.FindStringSubmatch(line); m != nil && want[m[1]] {
				current = m[1]
			}
		}
		if current != "" && strings.Contains(line, concurrentSlice) {
			lines[i] = strings.Replace(line, concurrentSlice, inOrderSlice, 1)
			done[current] = true
		}
		if current != "" && strings.Contains(line, inOrderSlice) {
			done[current] = true // already rewritten
		}
		if strings.TrimSpace(line) == eagerDeferred {
			lines[i] = strings.Replace(line, eagerDeferred, lazyDeferred, 1)
			deferredGroups++
		} else if strings.TrimSpace(line) == lazyDeferred {
			deferredGroups++
		}
	}
	for t := range want {
		if !done[t] {
			return nil, fmt.Errorf("no list of %s marshalled with %s (is it a list of objects in the schema? did gqlgen's template change?)", t, concurrentSlice)
		}
	}
	if deferredGroups == 0 {
		return nil, fmt.Errorf("no %q found (did gqlgen's template change?)", eagerDeferred)
	}
	out, leaves := rewriteLeaves(strings.Join(lines, "\n"))
	if leaves == 0 {
		return nil, fmt.Errorf("no plain leaf field resolved with graphql.ResolveField found (did gqlgen's template change?)")
	}
	out, objectFields := rewriteObjectFields(out)
	if objectFields == 0 {
		return nil, fmt.Errorf("no plain object field resolved with graphql.ResolveField found (did gqlgen's template change?)")
	}
	out, objects := rewriteObjectEnds(out)
	if objects == 0 {
		return nil, fmt.Errorf("no object marshaller ending %q found (did gqlgen's template change?)", objectEnd)
	}
	out, plain := rewritePlainObjects(out)
	if plain == 0 {
		return nil, fmt.Errorf("no object marshaller without concurrent fields starting %q found (did gqlgen's template change?)", fieldSet)
	}
	out, collects := rewriteCollects(out)
	if collects == 0 {
		return nil, fmt.Errorf("no object marshaller collecting its fields with graphql.CollectFields found (did gqlgen's template change?)")
	}
	out, answers := rewriteAnswers(out)
	if answers != 2 {
		return nil, fmt.Errorf("the query's and the mutation's data are not both written into a bytes.Buffer (did gqlgen's template change?)")
	}
	return format.Source([]byte(out))
}
