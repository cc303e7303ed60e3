package mail_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	gomail "github.com/wneessen/go-mail"

	sammail "github.com/samverkan/samverkan/internal/mail"
	"github.com/samverkan/samverkan/internal/mail/mailtest"
)

// BenchmarkSMTPSend measures messages per second to the loopback SMTP
// server (STARTTLS) from 10 senders at once, without the database: over a
// new connection per message (how mail.SMTP sent before it kept
// connections), and over the pool of mail.DefaultConnections.
//
//	go test -run '^$' -bench SMTPSend -benchtime 2000x ./internal/mail/
func BenchmarkSMTPSend(b *testing.B) {
	const senders = 10
	compose := func(b *testing.B, i int64) *gomail.Msg {
		id := fmt.Sprintf("b%08d", i)
		msg, err := sammail.Compose(from, sammail.Message{ID: id, To: id + "@example.org", Subject: "Påminnelse / Reminder",
			Body: "Svensk text. / English text.", Link: "http://127.0.0.1:8080/", Date: time.Now()})
		require.NoError(b, err)
		return msg
	}
	run := func(b *testing.B, srv *mailtest.Server, send func(*gomail.Msg) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, senders)
		b.ResetTimer()
		start := time.Now()
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
					if err := send(compose(b, i)); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(errs)
		for err := range errs {
			require.NoError(b, err)
		}
		require.Equal(b, b.N, srv.Accepted())
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(srv.Connections()), "connections")
	}
	b.Run("connection per message", func(b *testing.B) {
		srv := mailtest.Start(b)
		srv.CountOnly()
		c, err := gomail.NewClient("127.0.0.1", gomail.WithPort(port(b, srv)), gomail.WithTLSPolicy(gomail.TLSMandatory),
			gomail.WithTLSConfig(srv.TLS), gomail.WithTimeout(30*time.Second))
		require.NoError(b, err)
		run(b, srv, func(m *gomail.Msg) error { return c.DialAndSendWithContext(context.Background(), m) })
	})
	b.Run("pooled", func(b *testing.B) {
		srv := mailtest.Start(b)
		srv.CountOnly()
		s, err := sammail.NewSMTP(srv.URL(), sammail.WithTLSConfig(srv.TLS))
		require.NoError(b, err)
		b.Cleanup(func() { _ = s.Close() })
		run(b, srv, func(m *gomail.Msg) error { return s.Send(context.Background(), m) })
	})
}

func port(b *testing.B, srv *mailtest.Server) int {
	var p int
	_, err := fmt.Sscanf(srv.Addr, "127.0.0.1:%d", &p)
	require.NoError(b, err)
	return p
}
