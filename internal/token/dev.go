package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/samverkan/samverkan/internal/apperr"
)

// The development issuer's identity. The issuer is a URN rather than a URL
// so that it can never collide with a real identity provider's.
const (
	DevIssuer   = "urn:samverkan:dev-issuer"
	DevAudience = "samverkan"
)

const (
	devKeyFile = "signing-key.pem"
	defaultTTL = 12 * time.Hour
)

// DevIssuerKeys signs and verifies tokens of the development issuer.
type DevIssuerKeys struct {
	key *ecdsa.PrivateKey
	kid string
}

// TokenRequest describes a development token. A zero TTL means 12 hours and a
// zero Now means the wall clock.
type TokenRequest struct {
	Subject, Name, Email string
	TTL                  time.Duration
	Now                  time.Time
}

// LoadOrCreateDevIssuer loads the development signing key from
// dir/signing-key.pem, creating dir (0700) and the key (0600) on first use.
// The key is kept so that tokens survive restarts of the service.
func LoadOrCreateDevIssuer(dir string) (*DevIssuerKeys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("token: creating dev issuer directory: %w", err)
	}
	path := filepath.Join(dir, devKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createDevKey(dir, path); err != nil {
			return nil, err
		}
		// Read back rather than use the key just made: a concurrent
		// process may have installed its key first.
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("token: reading dev signing key: %w", err)
	}
	key, err := parseDevKey(data)
	if err != nil {
		return nil, fmt.Errorf("token: dev signing key %s: %w", path, err)
	}
	thumbprint, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("token: dev signing key thumbprint: %w", err)
	}
	// The RFC 7638 thumbprint names the key stably across restarts.
	return &DevIssuerKeys{key: key, kid: base64.RawURLEncoding.EncodeToString(thumbprint)}, nil
}

// createDevKey writes a new key to a temporary file and links it into place.
// Unlike rename, link fails when path exists, so when processes race the
// first key wins and is never replaced under a process that already read it.
func createDevKey(dir, path string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("token: generating dev signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("token: encoding dev signing key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".signing-key-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("token: writing dev signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err == nil {
		// Flushed before linking so a crash cannot leave an empty key behind.
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("token: writing dev signing key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("token: installing dev signing key: %w", err)
	}
	return nil
}

func parseDevKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM-encoded PKCS #8 private key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key")
	}
	return key, nil
}

// Sign issues a development token: a compact ES256 JWS for DevAudience.
func (d *DevIssuerKeys) Sign(r TokenRequest) (string, error) {
	if r.Subject == "" {
		return "", apperr.Invalid("subject", "Användar-id (subject) saknas. / The subject is required.")
	}
	if r.TTL < 0 {
		return "", apperr.Invalid("ttl", "Giltighetstiden får inte vara negativ. / The TTL must not be negative.")
	}
	ttl := r.TTL
	if ttl == 0 {
		ttl = defaultTTL
	}
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	// A JSONWebKey with a KeyID makes go-jose put the kid header in.
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: d.key, KeyID: d.kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("token: dev signer: %w", err)
	}
	raw, err := jwt.Signed(signer).
		Claims(jwt.Claims{
			Issuer:    DevIssuer,
			Subject:   r.Subject,
			Audience:  jwt.Audience{DevAudience},
			Expiry:    jwt.NewNumericDate(now.Add(ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
		}).
		Claims(profileClaims(r)).
		Serialize()
	if err != nil {
		return "", fmt.Errorf("token: signing dev token: %w", err)
	}
	return raw, nil
}

// Verifier returns a Verifier that accepts only this development issuer's
// tokens.
func (d *DevIssuerKeys) Verifier(opts ...Option) Verifier {
	config, now := newConfig(DevAudience, opts)
	config.SupportedSigningAlgs = []string{oidc.ES256}
	keys := &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{d.key.Public()}}
	return newOIDCVerifier(oidc.NewVerifier(DevIssuer, keys, config), now)
}

// profileClaims are the name and e-mail claims a dev token carries: only
// those given, as an identity provider leaves out what it does not send.
func profileClaims(r TokenRequest) map[string]any {
	c := map[string]any{}
	if r.Name != "" {
		c["name"] = r.Name
	}
	if r.Email != "" {
		c["email"] = r.Email
	}
	return c
}
