// Package idempotency makes retries safe: a client may send an
// Idempotency-Key header with a mutation; a retry with the same key and the
// same body gets the first response without the work being done twice, and
// the same key with another body is refused with CONFLICT. Keys are per
// person and expire; a River job removes expired ones.
//
// A crash cannot leave a key stuck. The request holding a key holds it for
// a lease (the request timeout and a second); its mutation's transaction
// marks the key committed in the same transaction as the effect (see
// store.WithIdempotencyClaim). A retry after the holder's lease ran out
// takes over a key with nothing committed and does the work; a key whose
// mutation committed but whose response was never stored (the process died
// in between) is answered with CONFLICT saying that the work was done.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/identity"
	"github.com/samverkan/samverkan/internal/store"
)

// Header is the request header carrying the key.
const Header = "Idempotency-Key"

// Keys remembers requests by key.
type Keys struct {
	db    *store.DB
	ttl   time.Duration
	lease time.Duration
	clock clock.Clock
	log   *slog.Logger
}

// New returns the key store. Keys are remembered for ttl; a request holds
// its key for at most lease, which must outlast the longest request (the
// request timeout).
func New(db *store.DB, ttl, lease time.Duration, clk clock.Clock, log *slog.Logger) *Keys {
	return &Keys{db: db, ttl: ttl, lease: lease, clock: clk, log: log}
}

// Middleware replays or refuses requests whose key was seen before. It runs
// after authentication: keys are per principal.
func (k *Keys) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(Header)
		if key == "" || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 200 {
			refuse(w, http.StatusBadRequest, "BAD_INPUT", "Idempotency-Key får ha högst 200 tecken. / Idempotency-Key may have at most 200 characters.")
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			refuse(w, http.StatusRequestEntityTooLarge, "BAD_INPUT", "Förfrågan kunde inte läsas. / The request could not be read.")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		principal := identity.FromContext(r.Context()).Subject()
		now := k.clock.Now()
		claim := store.IdempotencyClaim{Principal: principal, Key: key, Owner: uuid.New()}
		prev, err := store.ClaimIdempotencyKey(r.Context(), k.db.Pool, principal, key, sum[:], claim.Owner, now, now.Add(k.lease), now.Add(k.ttl))
		if err != nil {
			k.log.ErrorContext(r.Context(), "claiming idempotency key", "err", err)
			refuse(w, http.StatusServiceUnavailable, "UNAVAILABLE", "Tjänsten är inte tillgänglig just nu; försök igen. / The service is unavailable; try again.")
			return
		}
		switch {
		case prev == nil:
			k.run(w, r.WithContext(store.WithIdempotencyClaim(r.Context(), claim)), next, claim)
		case !bytes.Equal(prev.RequestHash, sum[:]):
			refuse(w, http.StatusUnprocessableEntity, "CONFLICT",
				"Idempotency-Key har redan använts för en annan förfrågan. / The Idempotency-Key was already used for a different request.")
		case prev.Status == store.KeyCommitted && !now.Before(prev.LeaseUntil):
			// Its holder committed the work, then died before storing the
			// response: the work must not be redone, and the client
			// learns that it was done.
			refuseAs(w, http.StatusConflict, "CONFLICT", "done_response_lost",
				"Förfrågan med denna Idempotency-Key genomfördes, men svaret gick förlorat när tjänsten avbröts; läs det aktuella läget i stället för att göra om den. / "+
					"The request with this Idempotency-Key was carried out, but its response was lost when the service was interrupted; read the current state instead of redoing it.")
		case prev.Status != store.KeyDone:
			if wait := prev.LeaseUntil.Sub(now); wait > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			}
			refuseAs(w, http.StatusConflict, "CONFLICT", "in_progress",
				"En förfrågan med samma Idempotency-Key pågår; försök igen strax. / A request with this Idempotency-Key is in progress; retry shortly.")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.ResponseStatus)
			_, _ = w.Write(prev.ResponseBody)
		}
	})
}

// run serves the request that owns the key and remembers its response
// before sending it, so that a client that got a response finds it stored;
// a response saying the service failed is forgotten so a retry can run.
func (k *Keys) run(w http.ResponseWriter, r *http.Request, next http.Handler, claim store.IdempotencyClaim) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	ctx := context.WithoutCancel(r.Context())
	if failedInService(rec.status, rec.body.Bytes()) {
		if err := store.ReleaseIdempotencyKey(ctx, k.db.Pool, claim, k.clock.Now()); err != nil {
			k.log.ErrorContext(ctx, "releasing idempotency key", "err", err)
		}
	} else if err := store.FinishIdempotencyKey(ctx, k.db.Pool, claim, rec.status, rec.body.Bytes()); err != nil {
		k.log.ErrorContext(ctx, "storing idempotent response", "err", err)
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

func failedInService(status int, body []byte) bool {
	if status >= 500 {
		return true
	}
	var resp struct {
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &resp) != nil {
		return true
	}
	for _, e := range resp.Errors {
		if e.Extensions.Code == "INTERNAL" || e.Extensions.Code == "UNAVAILABLE" {
			return true
		}
	}
	return false
}

// recorder keeps the response (headers go to the real writer's map, which
// is sent with the status later).
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.body.Write(b)
}

func refuse(w http.ResponseWriter, status int, code, message string) {
	refuseAs(w, status, code, "", message)
}

// refuseAs answers an error; reason (extensions.idempotency) tells a
// client's code which of the key's states it met.
func refuseAs(w http.ResponseWriter, status int, code, reason, message string) {
	ext := map[string]any{"code": code}
	if reason != "" {
		ext["idempotency"] = reason
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": message, "extensions": ext}}})
}

// CleanupArgs is the periodic job removing expired keys.
type CleanupArgs struct{}

// Kind is the job kind.
func (CleanupArgs) Kind() string { return "idempotency_cleanup" }

// CleanupWorker runs CleanupArgs.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Keys *Keys
}

// Work deletes expired keys.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	n, err := store.DeleteExpiredIdempotencyKeys(ctx, w.Keys.db.Pool, w.Keys.clock.Now())
	if n > 0 {
		w.Keys.log.InfoContext(ctx, "expired idempotency keys removed", "count", n)
	}
	return err
}
