// Package token verifies the OpenID Connect bearer tokens that identify the
// person behind a request, and provides a local development issuer so the
// service can run without a real identity provider.
package token

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/samverkan/samverkan/internal/apperr"
)

// Claims is what the service learns about the person from a verified token.
type Claims struct {
	Issuer, Subject, Name, Email string
}

// Verifier checks a raw bearer token. Every failure is an *apperr.Error of
// code Unauthenticated whose Err holds the cause for logs.
type Verifier interface {
	Verify(ctx context.Context, raw string) (*Claims, error)
}

// Option adjusts a Verifier.
type Option func(*options)

// options is opaque so that callers can adjust only what is offered here and
// never, say, switch off signature checks in oidc.Config.
type options struct {
	now func() time.Time
}

// WithClock makes the verifier judge expiry and not-before against now
// instead of the wall clock, e.g. clock.Clock.Now in tests.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

func newConfig(audience string, opts []Option) (*oidc.Config, func() time.Time) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return &oidc.Config{ClientID: audience, Now: o.now}, o.now
}

// discoveryTimeout bounds each request to the identity provider. go-oidc
// keeps the discovery HTTP client for fetching keys later, and a fetch that
// hangs would stall every verification that needs a new key.
const discoveryTimeout = 10 * time.Second

// NewOIDCVerifier discovers issuer's configuration and keys via
// /.well-known/openid-configuration and returns a Verifier for tokens issued
// by it for audience. ctx bounds discovery only. The signing algorithms
// accepted are those the provider advertises and go-oidc supports, which
// never include "none".
func NewOIDCVerifier(ctx context.Context, issuer, audience string, opts ...Option) (Verifier, error) {
	if issuer == "" || audience == "" {
		return nil, errors.New("token: OIDC issuer and audience must both be set")
	}
	ctx = oidc.ClientContext(ctx, &http.Client{Timeout: discoveryTimeout})
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, &apperr.Error{
			Code: apperr.Unavailable,
			Message: fmt.Sprintf("Inloggningstjänsten %s kunde inte nås eller är felkonfigurerad. / "+
				"OpenID Connect discovery for issuer %s failed; check that the issuer URL is right and reachable.", issuer, issuer),
			Err: err,
		}
	}
	// SupportedSigningAlgs is left empty so that go-oidc uses what the
	// provider advertises.
	config, now := newConfig(audience, opts)
	return newOIDCVerifier(provider.Verifier(config), now), nil
}

type oidcVerifier struct {
	v        *oidc.IDTokenVerifier
	now      func() time.Time
	verified *verifiedTokens
}

func newOIDCVerifier(v *oidc.IDTokenVerifier, now func() time.Time) *oidcVerifier {
	return &oidcVerifier{v: v, now: now, verified: &verifiedTokens{m: map[[32]byte]verifiedToken{}}}
}

func (o *oidcVerifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if raw == "" {
		return nil, unauthenticated(errors.New("empty token"))
	}
	key := sha256.Sum256([]byte(raw))
	if c, ok := o.verified.get(key, o.now()); ok {
		return c, nil
	}
	idToken, err := o.v.Verify(ctx, raw)
	if err != nil {
		return nil, unauthenticated(err)
	}
	// Without a subject there is no one to attribute the request to.
	if idToken.Subject == "" {
		return nil, unauthenticated(errors.New("token has no sub claim"))
	}
	var profile struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if err := idToken.Claims(&profile); err != nil {
		return nil, unauthenticated(err)
	}
	c := &Claims{Issuer: idToken.Issuer, Subject: idToken.Subject, Name: profile.Name, Email: profile.Email}
	o.verified.put(key, verifiedToken{claims: *c, expiry: idToken.Expiry})
	return c, nil
}

// verifiedTokens remembers tokens whose signature and claims were checked,
// until they expire: checking an ES256 or RS256 signature costs about
// 0.13 ms of CPU, a fifth of a whole approve transition, and a client sends
// the same token with every request. A token is a bearer credential that
// cannot be revoked before its expiry either way; roles are checked per
// request by the policy point, not here.
type verifiedTokens struct {
	mu sync.RWMutex
	m  map[[32]byte]verifiedToken
}

type verifiedToken struct {
	claims Claims
	expiry time.Time
}

// maxVerifiedTokens bounds the memory (about 150 bytes a token); when full
// the map starts over.
const maxVerifiedTokens = 10_000

func (v *verifiedTokens) get(key [32]byte, now time.Time) (*Claims, bool) {
	v.mu.RLock()
	t, ok := v.m[key]
	v.mu.RUnlock()
	if !ok || !now.Before(t.expiry) {
		return nil, false
	}
	c := t.claims
	return &c, true
}

func (v *verifiedTokens) put(key [32]byte, t verifiedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= maxVerifiedTokens {
		v.m = make(map[[32]byte]verifiedToken, maxVerifiedTokens)
	}
	v.m[key] = t
}

// unauthenticated deliberately gives clients one message for every failure:
// telling them which check failed helps an attacker more than a user.
func unauthenticated(cause error) *apperr.Error {
	return &apperr.Error{
		Code:    apperr.Unauthenticated,
		Message: "Inloggningen är ogiltig eller har gått ut. / The sign-in token is invalid or has expired.",
		Err:     cause,
	}
}
