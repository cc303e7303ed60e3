package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP sends over an SMTP server given by a URL: smtp://user:pass@host:587
// (STARTTLS, required) or smtps://user:pass@host:465 (TLS from the start).
type SMTP struct {
	host string
	opts []gomail.Option
}

// SMTPOption changes how the server is reached (tests trust their own
// certificate).
type SMTPOption func(*[]gomail.Option)

// WithTLSConfig sets the TLS configuration (e.g. the roots to trust).
func WithTLSConfig(c *tls.Config) SMTPOption {
	return func(o *[]gomail.Option) { *o = append(*o, gomail.WithTLSConfig(c)) }
}

// NewSMTP parses the server URL.
func NewSMTP(raw string, extra ...SMTPOption) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("SAMVERKAN_SMTP_URL: %w", err)
	}
	opts := []gomail.Option{gomail.WithTimeout(30 * time.Second)}
	port := 587
	switch u.Scheme {
	case "smtp":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("SAMVERKAN_SMTP_URL: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SAMVERKAN_SMTP_URL: port: %w", err)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	for _, o := range extra {
		o(&opts)
	}
	if u.Hostname() == "" {
		return nil, errors.New("SAMVERKAN_SMTP_URL: no host")
	}
	return &SMTP{host: u.Hostname(), opts: opts}, nil
}

// Send opens a connection, sends the message and closes it. The error is a
// *SendError telling a temporary failure from a permanent one.
func (s *SMTP) Send(ctx context.Context, msg *gomail.Msg) error {
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return &SendError{Temporary: false, Answer: err.Error(), err: err}
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	return classify(err)
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
