package e2e_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
)

// typeRef is an introspected type reference, three levels deep (enough for
// [X!]!).
type typeRef struct {
	Kind   string
	Name   string
	OfType *typeRef
}

func (r *typeRef) named() string {
	for r != nil && r.Name == "" {
		r = r.OfType
	}
	if r == nil {
		return ""
	}
	return r.Name
}

// inputTypes reads the schema's input objects: for each, its fields and
// their named types.
type inputTypes map[string]map[string]string

func readInputTypes(t *testing.T, env *apptest.Env) inputTypes {
	var schema struct {
		Schema struct {
			Types []struct {
				Kind        string
				Name        string
				InputFields []struct {
					Name string
					Type typeRef
				}
			}
		} `json:"__schema"`
	}
	env.MustDo(nil, `{ __schema { types { kind name inputFields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`, nil, &schema)
	out := inputTypes{}
	for _, ty := range schema.Schema.Types {
		if ty.Kind != "INPUT_OBJECT" {
			continue
		}
		out[ty.Name] = map[string]string{}
		for _, f := range ty.InputFields {
			out[ty.Name][f.Name] = f.Type.named()
		}
	}
	return out
}

// stringFields are the names of the input fields that are of type String
// wherever they occur.
func (it inputTypes) stringFields() map[string]bool {
	str, other := map[string]bool{}, map[string]bool{}
	for _, fields := range it {
		for name, ty := range fields {
			if ty == "String" {
				str[name] = true
			} else {
				other[name] = true
			}
		}
	}
	for n := range other {
		delete(str, n)
	}
	return str
}

// takesText tells whether an input object has a String field, itself or
// in an input object it holds.
func (it inputTypes) takesText(name string, seen map[string]bool) bool {
	if seen[name] {
		return false
	}
	seen[name] = true
	for _, ty := range it[name] {
		if ty == "String" || (it[ty] != nil && it.takesText(ty, seen)) {
			return true
		}
	}
	return false
}

var (
	stringLiteral = regexp.MustCompile(`(\w+):\s*"((?:[^"\\]|\\.)*)"`)
	variableRef   = regexp.MustCompile(`(\w+):\s*\$(\w+)`)
)

// Every mutation that takes free text refuses a control character in it —
// an ANSI escape, a BEL — as BAD_INPUT naming the field, and changes
// nothing in the database (every table's checksum). Each mutation of the
// role matrix is prepared as there (a valid target: an instance in the
// state the mutation acts on) and sent by someone allowed to; each String
// field it sends, as a literal or a variable, is replaced in turn.
func TestEveryFreeTextRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	s.env.AdvanceTo(time.Date(2018, 6, 1, 9, 0, 0, 0, clock.Stockholm))
	users := map[string]*apptest.User{
		"admin":             s.admin,
		"region_official":   s.official,
		"region_politician": s.env.NewUser("Pia Politiker", "region_politician@region"),
		"council_region":    s.env.NewUser("Rolf Råd", "council_member@region"),
		"council_sector":    s.env.NewUser("Sara Råd", "council_member@sector"),
	}
	s.council = council{region: users["council_region"], sector: users["council_sector"], politician: users["region_politician"]}
	for _, u := range users {
		s.env.MustDo(u, `{ viewer { user { name } } }`, nil, nil)
	}
	types := readInputTypes(t, s.env)
	strs := types.stringFields()

	var schema struct {
		Schema struct {
			MutationType struct {
				Fields []struct {
					Name string
					Args []struct {
						Name string
						Type typeRef
					}
				}
			}
		} `json:"__schema"`
	}
	s.env.MustDo(nil, `{ __schema { mutationType { fields { name args { name type { kind name ofType { kind name ofType { kind name } } } } } } } }`, nil, &schema)
	cases := matrixCases()
	var names []string
	inputOf := map[string]string{}
	for _, f := range schema.Schema.MutationType.Fields {
		names = append(names, f.Name)
		for _, a := range f.Args {
			if a.Name == "input" {
				inputOf[f.Name] = a.Type.named()
			}
		}
	}
	sort.Strings(names)

	bad := map[string]string{"ANSI escape": `x\u001b[31mx`, "BEL": `x\u0007x`}
	preference := []string{"region_official", "admin", "rep", "region_politician", "council_region", "council_sector"}
	n := 0
	covered := map[string][]string{}
	for _, name := range names {
		c := cases[name]
		actor := ""
		for _, a := range preference {
			if contains(c.allowed, a) {
				actor = a
				break
			}
		}
		if actor == "" {
			continue
		}
		// A literal, a variable, or a String field of the input the query
		// does not send, added to it.
		type target struct {
			field, variable string
			added           bool
		}
		var targets []target
		for _, m := range stringLiteral.FindAllStringSubmatch(c.query, -1) {
			if strs[m[1]] {
				targets = append(targets, target{field: m[1]})
			}
		}
		for _, m := range variableRef.FindAllStringSubmatch(c.query, -1) {
			if strs[m[1]] {
				targets = append(targets, target{field: m[1], variable: m[2]})
			}
		}
		if strings.Contains(c.query, "(input: {") {
			var added []string
			for field, ty := range types[inputOf[name]] {
				if ty == "String" && !regexp.MustCompile(`[{,\s]`+field+`:`).MatchString(c.query) {
					added = append(added, field)
				}
			}
			sort.Strings(added)
			for _, field := range added {
				targets = append(targets, target{field: field, added: true})
			}
		}
		for i, tg := range targets {
			n++
			f := s.fixture(t, 2000+n)
			if c.prepare != nil {
				c.prepare(t, f)
			}
			u := users[actor]
			if actor == "rep" {
				u = f.rep
			}
			before := s.env.Checksums()
			for what, value := range bad {
				query, vars := c.query, map[string]any{}
				for k, v := range f.vars {
					vars[k] = v
				}
				switch {
				case tg.added:
					query = strings.Replace(c.query, "(input: {", fmt.Sprintf(`(input: {%s: "%s", `, tg.field, value), 1)
				case tg.variable == "":
					k := 0
					query = stringLiteral.ReplaceAllStringFunc(c.query, func(lit string) string {
						m := stringLiteral.FindStringSubmatch(lit)
						if !strs[m[1]] {
							return lit
						}
						k++
						if k-1 != i { // the literals come first among the targets, in order
							return lit
						}
						return fmt.Sprintf(`%s: "%s"`, m[1], value)
					})
				default:
					if _, ok := vars[tg.variable].(string); !ok {
						continue
					}
					vars[tg.variable] = strings.ReplaceAll(strings.ReplaceAll(value, `\u001b`, "\u001b"), `\u0007`, "\u0007")
				}
				r := s.env.Do(u, query, vars)
				require.NotEmpty(t, r.Errors, "%s.%s with a %s was accepted", name, tg.field, what)
				e := r.Errors[0]
				require.Equal(t, "BAD_INPUT", e.Code(), "%s.%s with a %s: %s", name, tg.field, what, e.Message)
				field, _ := e.Extensions["field"].(string)
				require.Contains(t, field, tg.field, "%s.%s with a %s: %s", name, tg.field, what, e.Message)
				sv, en, ok := strings.Cut(e.Message, " / ")
				require.True(t, ok && sv != en, "Swedish, then English: %s", e.Message)
			}
			require.Equal(t, before, s.env.Checksums(), "%s.%s refused changed the database", name, tg.field)
			covered[name] = append(covered[name], tg.field)
		}
	}
	// Every mutation with a String argument or input field is covered.
	var missing []string
	for _, f := range schema.Schema.MutationType.Fields {
		takesText := false
		for _, a := range f.Args {
			takesText = takesText || a.Type.named() == "String" || types.takesText(a.Type.named(), map[string]bool{})
		}
		if takesText && len(covered[f.Name]) == 0 {
			missing = append(missing, f.Name)
		}
	}
	sort.Strings(missing)
	t.Logf("covered %d mutations: %v", len(covered), covered)
	require.ElementsMatch(t, freeTextNotCovered, missing, "mutations taking input whose free text this test does not reach")
}

// freeTextNotCovered are the mutations taking free text that this test
// does not reach.
var freeTextNotCovered = []string{}
