package publiccache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// HitHeader tells whether an answer came from the cache ("hit") or was
// computed and kept ("miss"); absent when the request was not cacheable.
const HitHeader = "X-Public-Cache"

type ctxKey struct{}

// request is what the GraphQL layer reports about one request.
type request struct {
	c      *Cache
	query  bool // the operation was a query by the anonymous principal
	failed bool
}

// Outcome is what the GraphQL layer knows once an operation has answered.
type Outcome struct {
	// Mutation: the operation may have committed changes.
	Mutation bool
	// AnonymousQuery: a query answered for the anonymous principal.
	AnonymousQuery bool
	// Errors: the answer carries errors (never kept).
	Errors bool
}

// Report tells the cache around this request (if any) how its operation
// went. Only a request reported as an AnonymousQuery without Errors is
// kept.
func Report(ctx context.Context, o Outcome) {
	r, ok := ctx.Value(ctxKey{}).(*request)
	if !ok {
		return
	}
	if o.Mutation {
		r.c.changed()
	}
	if o.AnonymousQuery && !o.Errors {
		r.query = true
	} else {
		r.failed = true
	}
}

// Middleware serves and keeps the answers of anonymous queries; next is
// the GraphQL handler.
func (c *Cache) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{c: c}
		ctx := context.WithValue(r.Context(), ctxKey{}, rq)
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		key, ok := requestKey(r)
		if !ok {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		// A client's Cache-Control: no-cache asks for an answer computed
		// now, which is then kept under the newest generation known
		// without reading it: at most the one its statements see, so
		// the answer is never served once anything newer has committed
		// (and only a hit needs to know the newest).
		var gen int64
		if strings.Contains(r.Header.Get("Cache-Control"), "no-cache") {
			gen = c.knownGeneration()
		} else {
			var err error
			if gen, err = c.generation(r.Context()); err != nil {
				c.o.Logger.WarnContext(r.Context(), "public-read cache: read the generation; answering uncached", "err", err)
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			if e := c.get(key, gen); e != nil {
				c.hits.Add(1)
				c.write(w, r, e, "hit")
				return
			}
		}
		c.misses.Add(1)
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		if rec.status == http.StatusOK && rq.query && !rq.failed {
			e := &entry{key: key, gen: gen, at: c.o.Now(), body: rec.body.Bytes(),
				contentType: rec.header.Get("Content-Type"), etag: etagOf(rec.body.Bytes())}
			c.put(e)
			c.write(w, r, e, "miss")
			return
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

func (c *Cache) write(w http.ResponseWriter, r *http.Request, e *entry, how string) {
	h := w.Header()
	h.Set(HitHeader, how)
	h.Set("ETag", e.etag)
	h.Set("Vary", "Authorization, Cookie, Accept")
	if r.Method == http.MethodGet {
		h.Set("Cache-Control", "public, no-cache")
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, e.etag) {
			c.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Type", e.contentType)
	_, _ = w.Write(e.body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if !r.wrote {
		r.status, r.wrote = s, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

// params is a GraphQL request's parts that decide its answer.
type params struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// requestKey is the key of a GraphQL request: its operation name, its
// query with insignificant characters dropped and its variables in
// canonical JSON. A POST's body is read and put back. ok is false for
// what the cache does not consider (extensions, unreadable bodies).
func requestKey(r *http.Request) (key [32]byte, ok bool) {
	var p params
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			p.Variables = json.RawMessage(v)
		}
		if q.Get("extensions") != "" {
			return key, false
		}
	} else {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			return key, false
		}
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		if err != nil {
			return key, false
		}
		if err := json.Unmarshal(body, &p); err != nil || len(p.Extensions) > 0 && string(p.Extensions) != "null" {
			return key, false
		}
	}
	if p.Query == "" {
		return key, false
	}
	vars := []byte("null")
	if len(p.Variables) > 0 && string(p.Variables) != "null" {
		var v any
		d := json.NewDecoder(bytes.NewReader(p.Variables))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return key, false
		}
		var err error
		if vars, err = json.Marshal(v); err != nil { // maps marshal with sorted keys
			return key, false
		}
	}
	h := sha256.New()
	h.Write([]byte(p.OperationName))
	h.Write([]byte{0})
	h.Write(normalise(p.Query))
	h.Write([]byte{0})
	h.Write(vars)
	// The answer's media type follows Accept (application/json or
	// application/graphql-response+json, and the status with it), so
	// answers to different Accepts are kept apart.
	h.Write([]byte{0})
	h.Write([]byte(r.Header.Get("Accept")))
	h.Sum(key[:0])
	return key, true
}

// normalise drops what GraphQL ignores: comments, and runs of white space
// and commas become one space, outside strings.
func normalise(q string) []byte {
	out := make([]byte, 0, len(q))
	space := false
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case ch == '#':
			for i < len(q) && q[i] != '\n' && q[i] != '\r' {
				i++
			}
			space = true
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ',':
			space = true
		case ch == '"':
			if space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = false
			end := stringEnd(q, i)
			out = append(out, q[i:end]...)
			i = end - 1
		default:
			if space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = false
			out = append(out, ch)
		}
	}
	return out
}

// stringEnd is the index after the string literal starting at q[i].
func stringEnd(q string, i int) int {
	if strings.HasPrefix(q[i:], `"""`) {
		if j := strings.Index(q[i+3:], `"""`); j >= 0 {
			return i + 3 + j + 3
		}
		return len(q)
	}
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			j++
		case '"', '\n':
			return j + 1
		}
	}
	return len(q)
}
