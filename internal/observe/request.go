package observe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// RequestInfo is filled in as a request passes through the layers, and
// logged in one line when it ends.
type RequestInfo struct {
	ID string
	mu sync.Mutex
	// Operation is the GraphQL operation name.
	operation string
	userID    string
}

// SetOperation records the GraphQL operation's name.
func (i *RequestInfo) SetOperation(name string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.operation = name
}

// SetUser records who made the request.
func (i *RequestInfo) SetUser(id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.userID = id
}

type infoKey struct{}

// Info returns the request's info; a detached one when there is none.
func Info(ctx context.Context) *RequestInfo {
	if i, ok := ctx.Value(infoKey{}).(*RequestInfo); ok {
		return i
	}
	return &RequestInfo{}
}

// RequestID is the request's correlation id, or "" outside a request.
func RequestID(ctx context.Context) string { return Info(ctx).ID }

// Middleware gives each request a correlation id (X-Request-ID, taken from
// the client when it sends a sane one), records its metrics, and logs one
// line with its route, status, duration, operation and user.
func (m *Metrics) Middleware(route string, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if len(id) == 0 || len(id) > 64 {
			id = newID()
		}
		info := &RequestInfo{ID: id}
		w.Header().Set("X-Request-ID", id)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
		d := time.Since(start)
		m.ObserveHTTP(route, sw.status, d)
		info.mu.Lock()
		defer info.mu.Unlock()
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", sw.status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("request_id", id),
			slog.String("operation", info.operation), slog.String("user", info.userID))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
