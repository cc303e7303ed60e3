// Package graphiql serves the GraphiQL explorer with its React and GraphiQL
// builds embedded in the binary (assets/README.md names their versions and
// licences), so it loads nothing from another origin.
package graphiql

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Handler serves the explorer under prefix (e.g. "/graphiql/"): the page at
// the prefix itself and its scripts under prefix+"assets/". It talks to
// /graphql on the same origin.
func Handler(prefix string) http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix(prefix+"assets/", http.FileServerFS(sub))
	page, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == prefix {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write(page)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}
