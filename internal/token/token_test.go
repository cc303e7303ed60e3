package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/token"
)

const issuerKeyID = "issuer-key-1"

// testIssuer simulates a real OpenID Connect provider: discovery document
// and JWKS over HTTP, tokens signed with a key published in the JWKS.
type testIssuer struct {
	url string
	key *ecdsa.PrivateKey
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	is := &testIssuer{key: newKey(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                 is.url,
			"authorization_endpoint": is.url + "/authorize",
			"token_endpoint":         is.url + "/token",
			"jwks_uri":               is.url + "/jwks",
			// "none" is advertised to show that it is still refused.
			"id_token_signing_alg_values_supported": []string{"ES256", "none"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
			Key: is.key.Public(), KeyID: issuerKeyID, Algorithm: string(jose.ES256), Use: "sig",
		}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	is.url = srv.URL
	return is
}

func (is *testIssuer) verifier(t *testing.T) token.Verifier {
	t.Helper()
	v, err := token.NewOIDCVerifier(t.Context(), is.url, token.DevAudience)
	require.NoError(t, err)
	return v
}

// claims returns valid claims; cases change one thing to make them invalid.
func (is *testIssuer) claims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":   is.url,
		"sub":   "user-42",
		"aud":   token.DevAudience,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"name":  "Åsa Öberg",
		"email": "asa@example.se",
	}
}

func (is *testIssuer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	return signWith(t, is.key, issuerKeyID, claims)
}

func signWith(t *testing.T, key *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	jws, err := signer.Sign(payload)
	require.NoError(t, err)
	raw, err := jws.CompactSerialize()
	require.NoError(t, err)
	return raw
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return key
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// requireUnauthenticated checks the error a client would see and that the
// token itself does not leak into it or into the logged cause.
func requireUnauthenticated(t *testing.T, raw string, claims *token.Claims, err error) {
	t.Helper()
	require.Nil(t, claims)
	require.True(t, apperr.IsCode(err, apperr.Unauthenticated), "got %v", err)
	e, ok := apperr.As(err)
	require.True(t, ok)
	require.Equal(t, "Inloggningen är ogiltig eller har gått ut. / The sign-in token is invalid or has expired.", e.Message)
	require.Error(t, e.Err, "the cause is kept for logs")
	if raw != "" {
		require.NotContains(t, err.Error(), raw)
	}
}

func TestOIDCVerifierAcceptsValidToken(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)

	claims, err := is.verifier(t).Verify(t.Context(), is.sign(t, is.claims()))

	require.NoError(t, err)
	require.Equal(t, &token.Claims{Issuer: is.url, Subject: "user-42", Name: "Åsa Öberg", Email: "asa@example.se"}, claims)
}

func TestOIDCVerifierRejects(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	v := is.verifier(t)
	now := time.Now()

	with := func(change func(map[string]any)) string {
		c := is.claims()
		change(c)
		return is.sign(t, c)
	}

	cases := map[string]string{
		"expired": with(func(c map[string]any) {
			c["iat"], c["nbf"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Minute).Unix()
		}),
		// Beyond go-oidc's five minutes' leeway for clock skew.
		"not yet valid": with(func(c map[string]any) {
			c["nbf"], c["exp"] = now.Add(time.Hour).Unix(), now.Add(2*time.Hour).Unix()
		}),
		"wrong issuer":   with(func(c map[string]any) { c["iss"] = "https://elsewhere.example" }),
		"wrong audience": with(func(c map[string]any) { c["aud"] = "another-app" }),
		"no subject":     with(func(c map[string]any) { delete(c, "sub") }),
		"no expiry":      with(func(c map[string]any) { delete(c, "exp") }),
		"alg none": func() string {
			payload, err := json.Marshal(is.claims())
			require.NoError(t, err)
			return b64(`{"alg":"none","typ":"JWT","kid":"`+issuerKeyID+`"}`) + "." + b64(string(payload)) + "."
		}(),
		"tampered payload": func() string {
			parts := strings.Split(is.sign(t, is.claims()), ".")
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			require.NoError(t, err)
			// Still valid JSON, so only the signature can catch it: user-42 → user-43.
			i := strings.Index(string(payload), "user-42") + len("user-4")
			payload[i]++
			parts[1] = base64.RawURLEncoding.EncodeToString(payload)
			return strings.Join(parts, ".")
		}(),
		"unknown key":               signWith(t, newKey(t), "not-in-jwks", is.claims()),
		"unknown key with known id": signWith(t, newKey(t), issuerKeyID, is.claims()),
		"garbage":                   "not-a-token",
		"three garbage parts":       "a.b.c",
		"empty":                     "",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			claims, err := v.Verify(t.Context(), raw)
			requireUnauthenticated(t, raw, claims, err)
		})
	}
}

func TestOIDCVerifierClock(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)
	raw := is.sign(t, is.claims())

	v, err := token.NewOIDCVerifier(t.Context(), is.url, token.DevAudience,
		token.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) }))
	require.NoError(t, err)

	claims, err := v.Verify(t.Context(), raw)
	requireUnauthenticated(t, raw, claims, err)
}

func TestNewOIDCVerifierDiscoveryFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)

	v, err := token.NewOIDCVerifier(context.Background(), srv.URL, token.DevAudience)

	require.Nil(t, v)
	require.True(t, apperr.IsCode(err, apperr.Unavailable), "got %v", err)
	require.ErrorContains(t, err, srv.URL)
}

func TestNewOIDCVerifierIssuerMismatch(t *testing.T) {
	t.Parallel()
	is := newTestIssuer(t)

	// The discovery document names is.url, not this spelling of it.
	_, err := token.NewOIDCVerifier(t.Context(), is.url+"/", token.DevAudience)

	require.True(t, apperr.IsCode(err, apperr.Unavailable), "got %v", err)
}
