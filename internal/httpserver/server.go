// Package httpserver is the service's HTTP front: routes, health and
// readiness probes, the GraphiQL page, body and time limits, and graceful
// shutdown. The GraphQL handler and the web pages are built by the graph
// and web packages and handed in.
package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/samverkan/samverkan/internal/graphiql"
)

// ReadyFunc reports whether the service can do its work; a non-nil error
// makes /readyz answer 503 with the error's text.
type ReadyFunc func(ctx context.Context) error

// Options configure the server.
type Options struct {
	// GraphQL serves /graphql.
	GraphQL http.Handler
	// Extra routes mounted as they are (pattern → handler).
	Extra map[string]http.Handler
	// Web serves the pages at / (everything no other route claims).
	Web http.Handler
	// Ready checks readiness for /readyz.
	Ready ReadyFunc
	// GraphiQL serves the explorer at /graphiql/.
	GraphiQL bool
	// MaxBodyBytes caps request bodies.
	MaxBodyBytes int64
	// MaxDocumentBodyBytes caps the /graphql bodies of requests that carry
	// credentials (an Authorization header), which may attach a document
	// in base64: it is at least MaxBodyBytes, and the wiring makes it fit
	// the largest document (iop.MaxDocumentBody). Anonymous requests,
	// which attach nothing, keep MaxBodyBytes.
	MaxDocumentBodyBytes int64
	// RequestTimeout bounds a request's context, which pgx honours.
	RequestTimeout time.Duration
	// CORSOrigins may call /graphql from a browser.
	CORSOrigins []string
	// Tracing wraps the server in OpenTelemetry's HTTP instrumentation.
	Tracing bool
	Logger  *slog.Logger
}

// Server is a running HTTP server.
type Server struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// New builds the server on ln.
func New(ln net.Listener, o Options) *Server {
	mux := http.NewServeMux()
	mux.Handle("/graphql", cors(o.CORSOrigins, csrfGuard(withTimeout(bulky(limitBody(requestGuard(o.GraphQL), o.MaxBodyBytes, max(o.MaxBodyBytes, o.MaxDocumentBodyBytes))), o.RequestTimeout))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := o.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if o.GraphiQL {
		mux.Handle("GET /graphiql/", graphiql.Handler("/graphiql/"))
		mux.Handle("GET /graphiql", http.RedirectHandler("/graphiql/", http.StatusMovedPermanently))
	}
	if o.Web != nil {
		mux.Handle("/", withTimeout(limitBody(o.Web, o.MaxBodyBytes, o.MaxBodyBytes), o.RequestTimeout))
	}
	for pattern, h := range o.Extra {
		mux.Handle(pattern, h)
	}
	var h http.Handler = mux
	if o.Tracing {
		h = otelhttp.NewHandler(mux, "samverkan")
	}
	return &Server{
		ln:  ln,
		log: o.Logger,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
		},
	}
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown; it returns nil after a graceful shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting requests and waits for running ones.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// limitBody caps a request's body at limit, or at signedIn when the
// request carries an Authorization header. A body over the cap is
// BAD_INPUT (413) saying both.
func limitBody(h http.Handler, limit, signedIn int64) http.Handler {
	if limit <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := limit
		if r.Header.Get("Authorization") != "" {
			limit = max(limit, signedIn)
		}
		if r.ContentLength > limit {
			writeJSON(w, http.StatusRequestEntityTooLarge, errBodyTooLarge(limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

func errBodyTooLarge(limit int64) any {
	mib := float64(limit) / (1 << 20)
	return graphQLError("BAD_INPUT", fmt.Sprintf("Förfrågan är för stor: högst %.1f MiB (en inloggad förfrågan rymmer ett dokument på högst 5 MB i base64). / "+
		"The request body is too large: at most %.1f MiB (a signed-in request holds a document of at most 5 MB in base64).", mib, mib))
}

// bulkyBytes is the size above which a request counts as bulky: twice the
// largest operation the test client sends (with all its fragments), far
// below a document sent in base64.
const bulkyBytes = 8 << 10

// bulky serves bulky requests (a large body, a long URL, or a body of
// unknown length) a few at a time, half as many as there are cores, so
// that clients sending large documents in a loop cannot take every core
// from everyone else: each costs milliseconds to read, decode and parse,
// and without a bound eight of them slowed a small read 100 times. A
// bulky request waits for its turn until its request timeout.
func bulky(h http.Handler) http.Handler {
	slots := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength >= 0 && r.ContentLength <= bulkyBytes && len(r.URL.RawQuery) <= bulkyBytes {
			h.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-r.Context().Done():
			writeJSON(w, http.StatusServiceUnavailable, graphQLError("UNAVAILABLE",
				"Tjänsten är hårt belastad just nu; försök igen om en stund. / The service is busy right now; try again shortly."))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// csrfGuard refuses POSTs a browser could send cross-site without a CORS
// preflight (form, multipart and text/plain bodies): an operation is posted
// as application/json.
func csrfGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeJSON(w, http.StatusUnsupportedMediaType, graphQLError("BAD_INPUT",
					"POST /graphql tar emot application/json. / POST /graphql takes application/json."))
				return
			}
		}
		if r.Method != http.MethodPost && r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET, POST")
			writeJSON(w, http.StatusMethodNotAllowed, graphQLError("BAD_INPUT", "Använd GET eller POST. / Use GET or POST."))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cors lets the configured browser origins call the API; others get no
// CORS headers, so browsers keep their pages from reading the answers.
func cors(origins []string, h http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[strings.TrimRight(o, "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && allowed[origin] {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Vary", "Origin")
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
				w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
				w.Header().Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func withTimeout(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

func graphQLError(code, message string) map[string]any {
	return map[string]any{"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}}}
}

// badGET says what is wrong with a GET request's parameters, which
// gqlgen's GET transport would refuse in English only.
func badGET(r *http.Request) string {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "Frågeparametrarna i adressen är felaktigt kodade. / The URL's query parameters are not properly encoded."
	}
	if !utf8.ValidString(q.Get("query")) {
		return "Förfrågan är inte giltig UTF-8. / The request is not valid UTF-8."
	}
	for _, name := range []string{"variables", "extensions"} {
		v := strings.TrimSpace(q.Get(name))
		if v == "" || v == "null" {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(v), &obj); err != nil {
			return fmt.Sprintf("%s ska vara ett JSON-objekt. / %s must be a JSON object.", name, name)
		}
	}
	return ""
}

// requestGuard refuses a POST body that is not a GraphQL request — not
// UTF-8, not JSON, not an object with a query string, variables that are
// not an object — with BAD_INPUT, before gqlgen would answer with its own
// uncoded message that quotes the body back.
func requestGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if msg := badGET(r); msg != "" {
				writeJSON(w, http.StatusBadRequest, graphQLError("BAD_INPUT", msg))
				return
			}
		}
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeJSON(w, http.StatusRequestEntityTooLarge, errBodyTooLarge(tooLarge.Limit))
			} else {
				writeJSON(w, http.StatusBadRequest, graphQLError("BAD_INPUT", "Förfrågan kunde inte läsas. / The request body could not be read."))
			}
			return
		}
		if !utf8.Valid(body) {
			writeJSON(w, http.StatusBadRequest, graphQLError("BAD_INPUT", "Förfrågan är inte giltig UTF-8. / The request is not valid UTF-8."))
			return
		}
		var req struct {
			Query     *string         `json:"query"`
			Variables json.RawMessage `json:"variables"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Query == nil {
			writeJSON(w, http.StatusBadRequest, graphQLError("BAD_INPUT",
				"Förfrågan ska vara ett JSON-objekt med en query-sträng. / The request must be a JSON object with a query string."))
			return
		}
		if v := bytes.TrimSpace(req.Variables); len(v) > 0 && v[0] != '{' && !bytes.Equal(v, []byte("null")) {
			writeJSON(w, http.StatusBadRequest, graphQLError("BAD_INPUT", "variables ska vara ett JSON-objekt. / variables must be a JSON object."))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}
