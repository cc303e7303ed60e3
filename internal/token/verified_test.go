package token_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/token"
)

// A token remembered as verified is refused once it expires, and a token
// changed by one character is checked afresh (and refused).
func TestRememberedTokensStillExpire(t *testing.T) {
	t.Parallel()
	d := loadDev(t, t.TempDir())
	issued := time.Date(2018, 3, 1, 9, 0, 0, 0, time.UTC)
	raw, err := d.Sign(token.TokenRequest{Subject: "dev-1", Now: issued, TTL: time.Hour})
	require.NoError(t, err)
	now := issued
	v := d.Verifier(token.WithClock(func() time.Time { return now }))
	for range 2 {
		c, err := v.Verify(t.Context(), raw)
		require.NoError(t, err)
		require.Equal(t, "dev-1", c.Subject)
	}
	tampered := raw[:len(raw)-2] + map[bool]string{true: "A", false: "B"}[raw[len(raw)-2] != 'A'] + raw[len(raw)-1:]
	requireUnauthenticated(t, tampered, nil, func() error { _, err := v.Verify(t.Context(), tampered); return err }())
	now = issued.Add(time.Hour + time.Second)
	requireUnauthenticated(t, raw, nil, func() error { _, err := v.Verify(t.Context(), raw); return err }())
}

// BenchmarkVerify is the cost of checking a bearer token, paid by every
// signed-in request: the signature check the first time a token is seen,
// and the lookup afterwards.
func BenchmarkVerify(b *testing.B) {
	d, err := token.LoadOrCreateDevIssuer(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	raw, err := d.Sign(token.TokenRequest{Subject: "bench", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("first_time", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Verifier().Verify(b.Context(), raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("seen_before", func(b *testing.B) {
		v := d.Verifier()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(b.Context(), raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
