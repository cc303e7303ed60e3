package token_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/token"
)

func loadDev(t *testing.T, dir string) *token.DevIssuerKeys {
	t.Helper()
	d, err := token.LoadOrCreateDevIssuer(dir)
	require.NoError(t, err)
	return d
}

func TestDevIssuerRoundTrip(t *testing.T) {
	t.Parallel()
	d := loadDev(t, t.TempDir())

	raw, err := d.Sign(token.TokenRequest{Subject: "dev-1", Name: "Dev Person", Email: "dev@example.se"})
	require.NoError(t, err)

	claims, err := d.Verifier().Verify(t.Context(), raw)
	require.NoError(t, err)
	require.Equal(t, &token.Claims{Issuer: token.DevIssuer, Subject: "dev-1", Name: "Dev Person", Email: "dev@example.se"}, claims)

	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	var header map[string]any
	decodeSegment(t, parts[0], &header)
	require.Equal(t, "ES256", header["alg"])
	require.NotEmpty(t, header["kid"])
	var payload map[string]any
	decodeSegment(t, parts[1], &payload)
	for _, claim := range []string{"iss", "sub", "aud", "exp", "iat", "nbf", "name", "email"} {
		require.Contains(t, payload, claim)
	}
	require.Equal(t, token.DevAudience, payload["aud"])
}

func decodeSegment(t *testing.T, segment string, v any) {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(segment)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
}

func TestDevIssuerDefaultTTLAndClock(t *testing.T) {
	t.Parallel()
	d := loadDev(t, t.TempDir())
	issued := time.Date(2018, 3, 1, 9, 0, 0, 0, time.UTC)
	raw, err := d.Sign(token.TokenRequest{Subject: "dev-1", Now: issued})
	require.NoError(t, err)

	at := func(now time.Time) error {
		_, err := d.Verifier(token.WithClock(func() time.Time { return now })).Verify(t.Context(), raw)
		return err
	}
	require.NoError(t, at(issued.Add(11*time.Hour)))
	requireUnauthenticated(t, raw, nil, at(issued.Add(12*time.Hour+time.Second)))
	// The wall clock is years past 2018.
	requireUnauthenticated(t, raw, nil, func() error { _, err := d.Verifier().Verify(t.Context(), raw); return err }())
}

func TestDevIssuerSignRejectsBadRequests(t *testing.T) {
	t.Parallel()
	d := loadDev(t, t.TempDir())

	_, err := d.Sign(token.TokenRequest{})
	require.True(t, apperr.IsCode(err, apperr.BadInput), "got %v", err)

	_, err = d.Sign(token.TokenRequest{Subject: "dev-1", TTL: -time.Hour})
	require.True(t, apperr.IsCode(err, apperr.BadInput), "got %v", err)
}

func TestDevIssuerKeyIsCreatedOnceAndReused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dev-issuer")
	keyPath := filepath.Join(dir, "signing-key.pem")

	first := loadDev(t, dir)
	raw, err := first.Sign(token.TokenRequest{Subject: "dev-1"})
	require.NoError(t, err)

	dirInfo, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), dirInfo.Mode().Perm())
	keyInfo, err := os.Stat(keyPath)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), keyInfo.Mode().Perm())
	pemBefore, err := os.ReadFile(keyPath)
	require.NoError(t, err)

	reloaded := loadDev(t, dir)

	claims, err := reloaded.Verifier().Verify(t.Context(), raw)
	require.NoError(t, err)
	require.Equal(t, "dev-1", claims.Subject)
	pemAfter, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	require.Equal(t, pemBefore, pemAfter)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files are left behind")
}

func TestDevIssuerConcurrentFirstUseAgreesOnOneKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "dev-issuer")
	const n = 16

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		keys  [n]*token.DevIssuerKeys
		errs  [n]error
	)
	for i := range n {
		wg.Go(func() {
			<-start
			keys[i], errs[i] = token.LoadOrCreateDevIssuer(dir)
		})
	}
	close(start)
	wg.Wait()

	for i := range n {
		require.NoError(t, errs[i])
	}
	verifier := keys[0].Verifier()
	for i := range n {
		raw, err := keys[i].Sign(token.TokenRequest{Subject: "dev-1"})
		require.NoError(t, err)
		_, err = verifier.Verify(t.Context(), raw)
		require.NoError(t, err, "key %d differs from key 0", i)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files are left behind")
}

func TestDevIssuerRefusesCorruptKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "signing-key.pem")
	require.NoError(t, os.WriteFile(keyPath, []byte("not a key"), 0o600))

	_, err := token.LoadOrCreateDevIssuer(dir)
	require.Error(t, err)

	data, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	require.Equal(t, "not a key", string(data), "a bad key file is reported, never replaced")
}

func TestDevAndRealIssuersDoNotAcceptEachOthersTokens(t *testing.T) {
	t.Parallel()
	d := loadDev(t, t.TempDir())
	is := newTestIssuer(t)
	// Both expect audience DevAudience, so only issuer and key tell them apart.
	real := is.verifier(t)
	dev := d.Verifier()

	devToken, err := d.Sign(token.TokenRequest{Subject: "dev-1"})
	require.NoError(t, err)
	claims, err := real.Verify(t.Context(), devToken)
	requireUnauthenticated(t, devToken, claims, err)

	realToken := is.sign(t, is.claims())
	claims, err = dev.Verify(t.Context(), realToken)
	requireUnauthenticated(t, realToken, claims, err)

	// The real issuer's key cannot pass itself off as the dev issuer either.
	forged := is.claims()
	forged["iss"] = token.DevIssuer
	forgedToken := is.sign(t, forged)
	claims, err = dev.Verify(t.Context(), forgedToken)
	requireUnauthenticated(t, forgedToken, claims, err)
}
