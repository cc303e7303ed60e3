package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits bound the shape of an operation before it runs (OWASP's GraphQL
// cheat sheet): how deep it nests, how many fields it selects once
// fragments are expanded, and how many aliases it uses.
type Limits struct {
	MaxDepth   int
	MaxFields  int
	MaxAliases int
	// MaxRepeats bounds how often one response name is selected in one
	// selection set (fragments merged in), and MaxFragments how many
	// fragments a document defines: gqlgen's validation compares those in
	// pairs. MaxMergeWork bounds the estimate of that rule's work (see
	// walk.level). Zero means the defaults (20, 50 and 20,000).
	MaxRepeats   int
	MaxFragments int
	MaxMergeWork int
}

// shapeLimit is the gqlgen extension enforcing Limits. It runs before the
// complexity limit: fragments are counted once each (memoised), so a
// "fragment bomb" that would expand exponentially is measured in linear
// time and refused here.
type shapeLimit struct{ Limits }

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

type shape struct {
	depth, fields, aliases int
}

func (l shapeLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil
	}
	memo := map[string]shape{}
	s := l.measure(op.SelectionSet, oc.Doc, memo, 0)
	switch {
	case s.depth > l.MaxDepth:
		return limitErr("Frågan är för djup (%d nivåer, högst %d). / The query is nested too deeply (%d levels, at most %d).", s.depth, l.MaxDepth, s.depth, l.MaxDepth)
	case s.fields > l.MaxFields:
		return limitErr("Frågan väljer för många fält (fler än %d). / The query selects too many fields (more than %d).", l.MaxFields, l.MaxFields)
	case s.aliases > l.MaxAliases:
		return limitErr("Frågan använder för många alias (fler än %d). / The query uses too many aliases (more than %d).", l.MaxAliases, l.MaxAliases)
	}
	return nil
}

// measure returns the depth, expanded field count and alias count of a
// selection set; counts saturate just above the limits.
func (l shapeLimit) measure(set ast.SelectionSet, doc *ast.QueryDocument, memo map[string]shape, guard int) shape {
	var out shape
	if guard > 64 {
		// Deeper than any sane query; validation refuses cycles already.
		return shape{depth: guard}
	}
	add := func(s shape) {
		out.fields = saturate(out.fields+s.fields, l.MaxFields)
		out.aliases = saturate(out.aliases+s.aliases, l.MaxAliases)
		out.depth = max(out.depth, s.depth)
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			child := l.measure(sel.SelectionSet, doc, memo, guard+1)
			child.fields = saturate(child.fields+1, l.MaxFields)
			if sel.Alias != "" && sel.Alias != sel.Name {
				child.aliases = saturate(child.aliases+1, l.MaxAliases)
			}
			child.depth++
			add(child)
		case *ast.InlineFragment:
			add(l.measure(sel.SelectionSet, doc, memo, guard+1))
		case *ast.FragmentSpread:
			s, ok := memo[sel.Name]
			if !ok {
				if f := doc.Fragments.ForName(sel.Name); f != nil {
					s = l.measure(f.SelectionSet, doc, memo, guard+1)
				}
				memo[sel.Name] = s
			}
			add(s)
		}
	}
	return out
}

func saturate(n, limit int) int {
	if n > limit+1 {
		return limit + 1
	}
	return n
}

// connectionCost makes a connection's complexity its page size times the
// cost of each item, so that asking for 100 of something costs 100 times one.
func connectionCost(child int, first *int) int {
	// first is checked (0..100) by the resolver, which says so clearly;
	// here it is only clamped so that a wild value cannot overflow the sum.
	n := 20
	if first != nil {
		n = min(max(*first, 0), 100)
	}
	return 1 + n*child
}
