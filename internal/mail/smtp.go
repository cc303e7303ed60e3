package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// DefaultConnections is how many connections to the SMTP server one process
// keeps open at most (SAMVERKAN_SMTP_CONNECTIONS).
const DefaultConnections = 4

// DefaultIdleTimeout is how long an unused connection stays open; servers
// close idle ones themselves after a few minutes (RFC 5321 asks for at least
// five), so this is well inside.
const DefaultIdleTimeout = 30 * time.Second

// SMTP sends over an SMTP server given by a URL: smtp://user:pass@host:587
// (STARTTLS, required) or smtps://user:pass@host:465 (TLS from the start).
//
// It keeps up to a bounded number of connections open and sends message
// after message over each (RSET between them), so that the TLS handshake and
// the login happen once per connection, not once per message. Every message
// still gets its own answer: a refusal (4xx, 5xx) is that message's, and the
// connection goes on to the next one. A connection that fails is closed and
// a new one opened for the next message; one that stays unused for the idle
// timeout is closed.
type SMTP struct {
	client *gomail.Client
	idle   time.Duration

	// slots bounds the connections open or being opened.
	slots chan struct{}

	mu     sync.Mutex
	free   []*conn // open and unused, the most recently used last
	timer  *time.Timer
	closed bool
	dialed int
}

type conn struct {
	c        *smtp.Client
	lastUsed time.Time
}

// SMTPOption changes how the server is reached (tests trust their own
// certificate) and how many connections are kept.
type SMTPOption func(*smtpConfig)

type smtpConfig struct {
	opts        []gomail.Option
	connections int
	idle        time.Duration
}

// WithTLSConfig sets the TLS configuration (e.g. the roots to trust).
func WithTLSConfig(c *tls.Config) SMTPOption {
	return func(o *smtpConfig) { o.opts = append(o.opts, gomail.WithTLSConfig(c)) }
}

// WithConnections sets the most connections kept open at once (at least 1).
func WithConnections(n int) SMTPOption {
	return func(o *smtpConfig) { o.connections = n }
}

// WithIdleTimeout sets how long an unused connection stays open.
func WithIdleTimeout(d time.Duration) SMTPOption {
	return func(o *smtpConfig) { o.idle = d }
}

// NewSMTP parses the server URL. It opens no connection yet.
func NewSMTP(raw string, extra ...SMTPOption) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("SAMVERKAN_SMTP_URL: %w", err)
	}
	// No NOOP before each message: a connection the server has closed shows
	// at MAIL FROM, before anything of the message is handed over, and is
	// replaced then (see Send).
	cfg := smtpConfig{opts: []gomail.Option{gomail.WithTimeout(30 * time.Second), gomail.WithoutNoop()},
		connections: DefaultConnections, idle: DefaultIdleTimeout}
	port := 587
	switch u.Scheme {
	case "smtp":
		cfg.opts = append(cfg.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "smtps":
		port = 465
		cfg.opts = append(cfg.opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("SAMVERKAN_SMTP_URL: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SAMVERKAN_SMTP_URL: port: %w", err)
		}
	}
	cfg.opts = append(cfg.opts, gomail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		cfg.opts = append(cfg.opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	for _, o := range extra {
		o(&cfg)
	}
	if u.Hostname() == "" {
		return nil, errors.New("SAMVERKAN_SMTP_URL: no host")
	}
	if cfg.connections < 1 {
		return nil, fmt.Errorf("SAMVERKAN_SMTP_CONNECTIONS: at least 1, not %d", cfg.connections)
	}
	c, err := gomail.NewClient(u.Hostname(), cfg.opts...)
	if err != nil {
		return nil, fmt.Errorf("SAMVERKAN_SMTP_URL: %w", err)
	}
	return &SMTP{client: c, idle: cfg.idle, slots: make(chan struct{}, cfg.connections)}, nil
}

// Send sends the message over an open connection, or a new one; it waits
// while all connections are busy. The error is a *SendError telling a
// temporary failure from a permanent one.
func (s *SMTP) Send(ctx context.Context, msg *gomail.Msg) error {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return &SendError{Temporary: true, Answer: ctx.Err().Error(), err: ctx.Err()}
	}
	defer func() { <-s.slots }()

	c := s.take()
	reused := c != nil
	if !reused {
		var err error
		if c, err = s.dial(ctx); err != nil {
			return classify(err)
		}
	}
	err := s.client.SendWithSMTPClient(c.c, msg)
	if err != nil && reused && notHandedOver(err) {
		// The server closed this connection while it was unused (after
		// its own idle timeout, or a restart): nothing of the message
		// reached it. Send it over a new connection.
		_ = c.c.Close()
		if c, err = s.dial(ctx); err != nil {
			return classify(err)
		}
		err = s.client.SendWithSMTPClient(c.c, msg)
	}
	switch {
	case err == nil:
		s.put(c)
		return nil
	case msg.IsDelivered():
		// The server accepted the message; what failed is the RSET after
		// it. The message is sent; the connection is not trusted again.
		_ = c.c.Close()
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 && se.ErrorCode() != 421 {
		// The server refused this message and the connection goes on:
		// RSET ends the transaction (go-mail does it itself after MAIL
		// FROM and RCPT TO, not after DATA).
		if c.c.Reset() == nil {
			s.put(c)
			return classify(err)
		}
	}
	_ = c.c.Close()
	return classify(err)
}

// notHandedOver: the send failed before DATA, on the connection itself (no
// answer, or 421: the server is closing the connection).
func notHandedOver(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Reason {
	case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom:
		return se.ErrorCode() == 0 || se.ErrorCode() == 421
	}
	return false
}

func (s *SMTP) dial(ctx context.Context) (*conn, error) {
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.dialed++
	s.mu.Unlock()
	return &conn{c: c}, nil
}

// take is the most recently used open connection (the ones idle longest
// are closed first by the timer), or nil.
func (s *SMTP) take() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) == 0 {
		return nil
	}
	c := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	return c
}

// put keeps a connection for the next message and makes sure the idle
// timer runs.
func (s *SMTP) put(c *conn) {
	c.lastUsed = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = s.client.CloseWithSMTPClient(c.c)
		return
	}
	s.free = append(s.free, c)
	if s.timer == nil {
		s.timer = time.AfterFunc(s.idle, s.closeIdle)
	}
}

// closeIdle closes (QUIT) the connections unused for the idle timeout and
// sets the timer again for the others.
func (s *SMTP) closeIdle() {
	s.mu.Lock()
	now := time.Now()
	var stale []*conn
	keep := s.free[:0]
	for _, c := range s.free {
		if now.Sub(c.lastUsed) >= s.idle {
			stale = append(stale, c)
		} else {
			keep = append(keep, c)
		}
	}
	s.free = keep
	s.timer = nil
	if len(keep) > 0 && !s.closed {
		s.timer = time.AfterFunc(s.idle-now.Sub(keep[0].lastUsed), s.closeIdle)
	}
	s.mu.Unlock()
	for _, c := range stale {
		_ = s.client.CloseWithSMTPClient(c.c)
	}
}

// Dialed is how many connections were opened so far.
func (s *SMTP) Dialed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialed
}

// Close closes (QUIT) the unused connections; one in use is closed when its
// message is sent.
func (s *SMTP) Close() error {
	s.mu.Lock()
	free := s.free
	s.free, s.closed = nil, true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	var errs []error
	for _, c := range free {
		errs = append(errs, s.client.CloseWithSMTPClient(c.c))
	}
	return errors.Join(errs...)
}

// SendError is a failed send: Temporary ones (4xx answers, connection and
// TLS errors) are worth retrying; the others (5xx) are not. Answer is what
// the server said.
type SendError struct {
	Temporary bool
	Code      int
	Answer    string
	err       error
}

func (e *SendError) Error() string { return e.Answer }
func (e *SendError) Unwrap() error { return e.err }

func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		return &SendError{Temporary: se.IsTemp() || code == 0 || code < 500, Code: code, Answer: err.Error(), err: err}
	}
	return &SendError{Temporary: true, Answer: err.Error(), err: err}
}
