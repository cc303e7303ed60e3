package authz

import (
	"fmt"
	"sort"
	"strings"
)

// PolicyTable renders policy.csv as a Markdown table: one row per
// permission, one column per role. README's role table is this output.
func PolicyTable() string {
	cols := append([]string{"signed_in"}, Roles...)
	perms := map[string]map[string]string{}
	for _, r := range Policy() {
		key := r.Resource + "." + r.Action
		if perms[key] == nil {
			perms[key] = map[string]string{}
		}
		if prev := perms[key][r.Role]; prev != "" {
			perms[key][r.Role] = prev + "`, `" + r.Scope
		} else {
			perms[key][r.Role] = r.Scope
		}
	}
	keys := make([]string, 0, len(perms))
	for k := range perms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "| permission | %s |\n", strings.Join(cols, " | "))
	fmt.Fprintf(&b, "|---|%s\n", strings.Repeat("---|", len(cols)))
	for _, k := range keys {
		row := []string{"`" + k + "`"}
		for _, c := range cols {
			if s, ok := perms[k][c]; ok {
				row = append(row, "✓ `"+s+"`")
			} else {
				row = append(row, "")
			}
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	return b.String()
}
