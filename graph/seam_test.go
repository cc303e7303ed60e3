package graph

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/iop"
	"github.com/samverkan/samverkan/workflows/revision"
	"github.com/samverkan/samverkan/workflows/signing"
)

// The GraphQL edge only translates: it decodes, calls one service method
// and encodes. These tests hold it to that by reading its source: no file
// of graph/ calls a function of internal/store (SQL is the services'), fires
// a transition by name (transitions are the workflow packages' own), or
// builds the engine's low-level parameters.

const storeImport = "github.com/samverkan/samverkan/internal/store"

// lowLevel are the engine's entry points for the workflow packages, not for
// an edge.
var lowLevel = []string{"Fire", "FireTx", "Act", "SetDeadline", "StartTx", "FireParams", "ActParams", "DeadlineParams", "StartParams"}

// seam is what the check knows: the store's functions and every
// transition's name.
type seam struct {
	storeFuncs  map[string]bool
	transitions map[string]bool
}

func loadSeam(t *testing.T) seam {
	t.Helper()
	s := seam{storeFuncs: map[string]bool{}, transitions: map[string]bool{}}
	fset := token.NewFileSet()
	paths, err := filepath.Glob("../internal/store/*.go")
	require.NoError(t, err)
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.IsExported() {
				s.storeFuncs[fn.Name.Name] = true
			}
		}
	}
	require.NotEmpty(t, s.storeFuncs)
	for _, d := range []*workflows.Definition{signing.Definition(), followup.Definition(),
		revision.Definition(revision.OptionsFrom(config.MustDefaults()), nil),
		iop.Definition(iop.OptionsFrom(config.MustDefaults()), nil)} {
		for _, tr := range d.Transitions {
			s.transitions[tr.Name] = true
		}
	}
	require.NotEmpty(t, s.transitions)
	return s
}

// violations lists, as "file:line: what", every place in the file that
// crosses the seam.
func (s seam) violations(fset *token.FileSet, f *ast.File) []string {
	storeName := ""
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == storeImport {
			storeName = "store"
			if imp.Name != nil {
				storeName = imp.Name.Name
			}
		}
	}
	var out []string
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, fset.Position(n.Pos()).String()+": "+fmt.Sprintf(format, args...))
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && storeName != "" && id.Name == storeName && s.storeFuncs[x.Sel.Name] {
				report(x, "calls %s.%s (SQL belongs to the services)", storeName, x.Sel.Name)
			}
			if slices.Contains(lowLevel, x.Sel.Name) {
				report(x, "uses the engine's %s (call the workflow's typed command)", x.Sel.Name)
			}
		case *ast.BasicLit:
			if v, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING && s.transitions[v] {
				report(x, "names the transition %q (transitions are the workflow package's own)", v)
			}
		}
		return true
	})
	return out
}

func TestEdgeOnlyTranslates(t *testing.T) {
	s := loadSeam(t)
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	var all []string
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") || p == "generated.go" {
			continue
		}
		src, err := os.ReadFile(p)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, p, src, 0)
		require.NoError(t, err)
		all = append(all, s.violations(fset, f)...)
		checked++
	}
	require.Greater(t, checked, 10, "the check must read graph/'s files")
	require.Empty(t, all, "graph/ must only translate")
}

// The check itself finds each kind of violation.
func TestEdgeCheckFindsViolations(t *testing.T) {
	s := loadSeam(t)
	const src = `package graph

import (
	db "github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

func (r *Resolver) bad(ctx context.Context) {
	_, _ = db.GetInstance(ctx, nil, id)
	_, _ = r.Engine.Fire(ctx, workflows.FireParams{Transition: "submit_to_council"})
	_ = db.Instance{}
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "bad.go", src, 0)
	require.NoError(t, err)
	got := s.violations(fset, f)
	require.Len(t, got, 4, "%v", got)
	joined := strings.Join(got, "\n")
	require.Contains(t, joined, "db.GetInstance")
	require.Contains(t, joined, "Fire")
	require.Contains(t, joined, "FireParams")
	require.Contains(t, joined, `"submit_to_council"`)
	require.NotContains(t, joined, "db.Instance", "a store type is not a call")
}
