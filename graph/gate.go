package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/samverkan/samverkan/internal/identity"
	"github.com/samverkan/samverkan/internal/validate"
)

// Defaults for the limits that protect gqlgen's validation, whose rule for
// merging fields compares every pair of selections with the same response
// name and every pair of fragments spread in one selection set: its cost
// grows with the square of those counts (9,900 `__typename` took 5 s).
const (
	defaultMaxRepeats   = 20
	defaultMaxFragments = 50
	defaultMaxMergeWork = 20000
)

// documentGate refuses an oversize or hostile document before gqlgen
// validates it, in time linear in the document's size: it parses the
// document itself (bounded by the token limit) and walks it once, with
// fragments expanded but the walk stopped as soon as a limit is passed.
// Refusals are remembered by the document's hash, so that repeating one
// costs a lookup; a document in the query cache passed already.
//
// It also refuses a NUL character in any string the request carries, in
// its variables and in the document's literals: PostgreSQL cannot store it,
// and it would otherwise surface as an internal error.
type documentGate struct {
	limits    Limits
	maxTokens int
	// anonTokens is the lower token limit for requests without a token:
	// validation's cost is linear in the tokens past the other limits
	// (an error each for 3,000 unknown input fields costs 25 ms).
	anonTokens int
	valid      graphql.Cache[*ast.QueryDocument]
	refused    *lru.LRU[*gqlerror.Error]
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = documentGate{}

func (documentGate) ExtensionName() string                   { return "DocumentGate" }
func (documentGate) Validate(graphql.ExecutableSchema) error { return nil }

func (g documentGate) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if err := nulInVariables(p.Variables); err != nil {
		return err
	}
	if _, ok := g.valid.Get(ctx, p.Query); ok {
		return nil
	}
	tokens, anonymous := g.maxTokens, false
	if !identity.FromContext(ctx).Authenticated() && g.anonTokens > 0 && (tokens == 0 || g.anonTokens < tokens) {
		tokens, anonymous = g.anonTokens, true
	}
	sum := sha256.Sum256([]byte(p.Query))
	key := hex.EncodeToString(sum[:]) + ":" + strconv.Itoa(tokens)
	if err, ok := g.refused.Get(ctx, key); ok {
		return cloneErr(err)
	}
	err := g.check(p.Query, tokens, anonymous)
	if err != nil {
		g.refused.Add(ctx, key, err)
		return cloneErr(err)
	}
	return nil
}

func cloneErr(e *gqlerror.Error) *gqlerror.Error {
	c := *e
	c.Extensions = maps.Clone(e.Extensions)
	return &c
}

// check parses the document and measures it; nil means gqlgen may go on
// and validate it.
func (g documentGate) check(query string, tokens int, anonymous bool) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, tokens)
	if err != nil {
		e, ok := err.(*gqlerror.Error)
		if !ok {
			e = gqlerror.Wrap(err)
		}
		out := &gqlerror.Error{Locations: e.Locations}
		switch {
		case strings.HasPrefix(e.Message, "exceeded token limit") && anonymous:
			out.Message = fmt.Sprintf("Frågan har för många symboler för en fråga utan inloggning (högst %d). / The query has too many tokens for a request without sign-in (at most %d).", tokens, tokens)
		case strings.HasPrefix(e.Message, "exceeded token limit"):
			out.Message = fmt.Sprintf("Frågan har för många symboler (högst %d). / The query has too many tokens (at most %d).", tokens, tokens)
		default:
			out.Message = fmt.Sprintf("Frågan kunde inte tolkas%s. / The query could not be parsed: %s.", at(e), strings.TrimSuffix(e.Message, "."))
		}
		errcode.Set(out, errcode.ParseFailed)
		return out
	}
	if len(doc.Fragments) > g.limits.MaxFragments {
		return limitErr("Frågan definierar för många fragment (fler än %d). / The query defines too many fragments (more than %d).",
			g.limits.MaxFragments, g.limits.MaxFragments)
	}
	if err := nulInDocument(doc); err != nil {
		return err
	}
	work := 0
	for _, set := range roots(doc) {
		n, err := g.measure(doc, set)
		if err != nil {
			return err
		}
		work = min(work+n, saturated)
	}
	if work > g.limits.MaxMergeWork {
		return limitErr("Frågan är för kostsam att kontrollera: samma fält väljs för många gånger i varandra. / The query is too costly to check: the same fields are selected too many times within each other.")
	}
	return nil
}

// roots are the selection sets gqlgen validates on their own: each
// operation's and each fragment's.
func roots(doc *ast.QueryDocument) []ast.SelectionSet {
	var out []ast.SelectionSet
	for _, op := range doc.Operations {
		out = append(out, op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		out = append(out, f.SelectionSet)
	}
	return out
}

// saturated caps the merge-work estimate, far above any limit.
const saturated = 1 << 40

func at(e *gqlerror.Error) string {
	if len(e.Locations) == 0 {
		return ""
	}
	return fmt.Sprintf(" (rad %d, kolumn %d)", e.Locations[0].Line, e.Locations[0].Column)
}

func limitErr(format string, a ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, a...), Extensions: map[string]any{"code": "BAD_INPUT"}}
}

// walk measures one operation or fragment with its fragments expanded. It
// stops at the first limit passed, so its work is bounded by the limits,
// not by what the fragments would expand to.
type walk struct {
	l         Limits
	doc       *ast.QueryDocument
	fields    int
	spreads   int
	aliases   int
	repeated  string // a response name selected too often in one set
	expanding map[string]bool
}

// measure walks one root and returns its merge work (see level).
func (g documentGate) measure(doc *ast.QueryDocument, set ast.SelectionSet) (int, *gqlerror.Error) {
	w := &walk{l: g.limits, doc: doc, expanding: map[string]bool{}}
	work, err := w.level(set, 1)
	if err != nil {
		return 0, err
	}
	switch {
	case w.aliases > w.l.MaxAliases:
		return 0, limitErr("Frågan använder för många alias (fler än %d). / The query uses too many aliases (more than %d).", w.l.MaxAliases, w.l.MaxAliases)
	case w.repeated != "":
		return 0, limitErr("Frågan väljer %s fler än %d gånger på samma nivå. / The query selects %s more than %d times at one level.",
			validate.Clip(w.repeated), w.l.MaxRepeats, validate.Clip(w.repeated), w.l.MaxRepeats)
	}
	return work, nil
}

// group is the selections of one response name in one merged set: how
// many, and the most merge work below any one of them.
type group struct{ count, below int }

// level measures a selection set whose fields are at nesting depth d, and
// estimates the work of gqlgen's rule that fields merge: it compares every
// pair of selections of one name, and for each pair their sub-selections,
// so a set's work is the sum over its names of count² × (1 + the work
// below). For a query that repeats nothing this is about its field count;
// repeats nested in repeats multiply.
func (w *walk) level(set ast.SelectionSet, d int) (int, *gqlerror.Error) {
	if d > w.l.MaxDepth {
		return 0, limitErr("Frågan är för djup (fler än %d nivåer). / The query is nested too deeply (more than %d levels).", w.l.MaxDepth, w.l.MaxDepth)
	}
	names := map[string]*group{}
	if err := w.flat(set, d, names, map[string]bool{}); err != nil {
		return 0, err
	}
	work := 0
	for _, g := range names {
		work = min(work+g.count*g.count*(1+g.below), saturated)
	}
	return work, nil
}

// flat walks the selections that gqlgen merges into one set: the set's own
// fields and those of its inline fragments and fragment spreads. A fragment
// spread again in the same set is merged once by gqlgen: its fields count
// again towards the fields, not towards the repeats (names is nil).
func (w *walk) flat(set ast.SelectionSet, d int, names map[string]*group, spread map[string]bool) *gqlerror.Error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if w.fields++; w.fields > w.l.MaxFields {
				return limitErr("Frågan väljer för många fält (fler än %d). / The query selects too many fields (more than %d).", w.l.MaxFields, w.l.MaxFields)
			}
			name := sel.Alias
			if name == "" {
				name = sel.Name
			}
			if name != sel.Name {
				w.aliases++
			}
			below := 0
			if len(sel.SelectionSet) > 0 {
				var err *gqlerror.Error
				if below, err = w.level(sel.SelectionSet, d+1); err != nil {
					return err
				}
			}
			if names != nil {
				g := names[name]
				if g == nil {
					g = &group{}
					names[name] = g
				}
				g.count++
				g.below = max(g.below, below)
				if g.count > w.l.MaxRepeats && w.repeated == "" {
					w.repeated = name
				}
			}
		case *ast.InlineFragment:
			if err := w.spread(); err != nil {
				return err
			}
			if err := w.flat(sel.SelectionSet, d, names, spread); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if err := w.spread(); err != nil {
				return err
			}
			f := w.doc.Fragments.ForName(sel.Name)
			if f == nil || w.expanding[sel.Name] {
				continue // unknown or cyclic: validation says so
			}
			n := names
			if spread[sel.Name] {
				n = nil
			}
			spread[sel.Name] = true
			w.expanding[sel.Name] = true
			err := w.flat(f.SelectionSet, d, n, spread)
			delete(w.expanding, sel.Name)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// spread counts a fragment expanded; fragments that only spread others
// could otherwise make the walk long without selecting a field.
func (w *walk) spread() *gqlerror.Error {
	if w.spreads++; w.spreads > w.l.MaxFields {
		return limitErr("Frågan väljer för många fält (fler än %d). / The query selects too many fields (more than %d).", w.l.MaxFields, w.l.MaxFields)
	}
	return nil
}

func nulErr(field, sv, en string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf("%s innehåller ett NUL-tecken (U+0000), som inte är tillåtet. / %s contains a NUL character (U+0000), which is not allowed.", sv, en),
		Extensions: map[string]any{"code": "BAD_INPUT", "field": field},
	}
}

// nulInVariables finds a NUL in any string, or object key, of the
// variables.
func nulInVariables(vars map[string]any) *gqlerror.Error {
	for name, v := range vars {
		if hasNUL(v) || strings.ContainsRune(name, 0) {
			n := validate.Clip(strings.ReplaceAll(name, "\x00", ""))
			return nulErr(name, "Variabeln $"+n, "The variable $"+n)
		}
	}
	return nil
}

func hasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, 0)
	case []any:
		for _, x := range v {
			if hasNUL(x) {
				return true
			}
		}
	case map[string]any:
		for k, x := range v {
			if strings.ContainsRune(k, 0) || hasNUL(x) {
				return true
			}
		}
	}
	return false
}

// nulInDocument finds a NUL in any literal of the document, as written
// (each definition once, fragments not expanded).
func nulInDocument(doc *ast.QueryDocument) *gqlerror.Error {
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			if valueHasNUL(v.DefaultValue) {
				return nulErr(v.Variable, "Standardvärdet för $"+v.Variable, "The default value of $"+v.Variable)
			}
		}
		if err := nulInDirectives(op.Directives); err != nil {
			return err
		}
		if err := nulInSet(op.SelectionSet); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		if err := nulInDirectives(f.Directives); err != nil {
			return err
		}
		if err := nulInSet(f.SelectionSet); err != nil {
			return err
		}
	}
	return nil
}

func nulInSet(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if err := nulInArguments(sel.Arguments); err != nil {
				return err
			}
			if err := nulInDirectives(sel.Directives); err != nil {
				return err
			}
			if err := nulInSet(sel.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := nulInDirectives(sel.Directives); err != nil {
				return err
			}
			if err := nulInSet(sel.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if err := nulInDirectives(sel.Directives); err != nil {
				return err
			}
		}
	}
	return nil
}

func nulInDirectives(list ast.DirectiveList) *gqlerror.Error {
	for _, d := range list {
		if err := nulInArguments(d.Arguments); err != nil {
			return err
		}
	}
	return nil
}

func nulInArguments(args ast.ArgumentList) *gqlerror.Error {
	for _, a := range args {
		if valueHasNUL(a.Value) {
			return nulErr(a.Name, "Argumentet "+a.Name, "The argument "+a.Name)
		}
	}
	return nil
}

func valueHasNUL(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if (v.Kind == ast.StringValue || v.Kind == ast.BlockValue) && strings.ContainsRune(v.Raw, 0) {
		return true
	}
	for _, c := range v.Children {
		if strings.ContainsRune(c.Name, 0) || valueHasNUL(c.Value) {
			return true
		}
	}
	return false
}
