// Package mailtest runs a real SMTP server on loopback for tests
// (emersion/go-smtp, with STARTTLS on a certificate made for the test) and
// records what it accepts; a test scripts its answers.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// Received is one accepted message.
type Received struct {
	From string
	To   []string
	Data []byte
}

// Server is the recording SMTP server.
type Server struct {
	Addr string
	// TLS is a client configuration that trusts the server's certificate.
	TLS *tls.Config

	mu       sync.Mutex
	received []Received
	replies  []error
	always   error
	// onAccept runs after a message is accepted (before the reply).
	onAccept func(Received)
	// countOnly keeps no messages (benchmarks), only their number.
	countOnly bool
	accepted  int
	// dropAfterAccept: close the connection after answering 250 to this
	// many more messages.
	dropAfterAccept int
	// conns are the connections open now; opened counts them all.
	conns  map[*trackedConn]bool
	opened int
}

// Connections is how many connections clients opened so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

// Open is how many connections are open now.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// DropConnections closes every open connection, without a word to the
// client (a server restarting, or a network failure).
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]*trackedConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// DropAfterAccept makes the server close the connection right after it
// answered 250 to the next message (the client's RSET finds it closed).
func (s *Server) DropAfterAccept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropAfterAccept++
}

// listener counts and keeps the connections it accepts.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	l.s.mu.Lock()
	l.s.conns[tc] = true
	l.s.opened++
	l.s.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	s *Server
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

// CountOnly makes the server keep no messages, only count them.
func (s *Server) CountOnly() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.countOnly = true
}

// Accepted is how many messages the server accepted.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Start listens on 127.0.0.1 and stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	cert, pool := certificate(t)
	s := &Server{TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		conns: map[*trackedConn]bool{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, conn: c}, nil }))
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.AllowInsecureAuth = false
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(&listener{Listener: ln, s: s}) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the SAMVERKAN_SMTP_URL of the server (STARTTLS).
func (s *Server) URL() string { return "smtp://" + s.Addr }

// Reply makes the next messages' DATA answer these errors, in turn (nil
// accepts), before the server goes back to accepting.
func (s *Server) Reply(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, errs...)
}

// Always makes every DATA answer err (nil: accept again).
func (s *Server) Always(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = err
}

// OnAccept runs f after each accepted message, before the server answers.
func (s *Server) OnAccept(f func(Received)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAccept = f
}

// Received is what the server accepted so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Answer is an SMTP error reply.
func Answer(code int, enhanced smtp.EnhancedCode, text string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: text}
}

// ErrDropConnection, as a Reply, makes the server close the connection after reading
// the message's data, without answering.
var ErrDropConnection = errors.New("mailtest: drop the connection")

type session struct {
	s    *Server
	conn *smtp.Conn
	from string
	to   []string
	// drop: close the connection at the reset after the 250.
	drop bool
}

func (c *session) Reset() {
	c.from, c.to = "", nil
	if c.drop {
		c.drop = false
		_ = c.conn.Conn().Close()
	}
}
func (c *session) Logout() error { return nil }
func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	c.from = from
	return nil
}
func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	s := c.s
	s.mu.Lock()
	var reply error
	switch {
	case len(s.replies) > 0:
		reply, s.replies = s.replies[0], s.replies[1:]
	default:
		reply = s.always
	}
	if reply != nil {
		s.mu.Unlock()
		if reply == ErrDropConnection {
			_ = c.conn.Conn().Close()
		}
		return reply
	}
	rec := Received{From: c.from, To: append([]string(nil), c.to...), Data: b.Bytes()}
	s.accepted++
	if s.dropAfterAccept > 0 {
		s.dropAfterAccept--
		c.drop = true
	}
	if !s.countOnly {
		s.received = append(s.received, rec)
	}
	f := s.onAccept
	s.mu.Unlock()
	if f != nil {
		f(rec)
	}
	return nil
}

// certificate makes a self-signed certificate for 127.0.0.1.
func certificate(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
