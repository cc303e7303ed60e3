package mail_test

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	sammail "github.com/samverkan/samverkan/internal/mail"
	"github.com/samverkan/samverkan/internal/mail/mailtest"
)

const from = "Överenskommelsen Värmland <noreply@samverkan.example>"

func sender(t *testing.T, srv *mailtest.Server, opts ...sammail.SMTPOption) *sammail.SMTP {
	t.Helper()
	s, err := sammail.NewSMTP(srv.URL(), append([]sammail.SMTPOption{sammail.WithTLSConfig(srv.TLS)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// send composes and sends the message with id id to <id>@example.org.
func send(t *testing.T, s *sammail.SMTP, id string) error {
	t.Helper()
	msg, err := sammail.Compose(from, sammail.Message{ID: id, To: id + "@example.org", Subject: "Påminnelse / Reminder",
		Body: "Svensk text. / English text.", Link: "http://127.0.0.1:8080/", Date: time.Now()})
	require.NoError(t, err)
	return s.Send(context.Background(), msg)
}

// messageIDs are the Message-IDs of what the server received, by recipient.
func messageIDs(t *testing.T, srv *mailtest.Server) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, rec := range srv.Received() {
		m, err := mail.ReadMessage(strings.NewReader(string(rec.Data)))
		require.NoError(t, err)
		require.Len(t, rec.To, 1)
		out[rec.To[0]] = append(out[rec.To[0]], m.Header.Get("Message-Id"))
	}
	return out
}

func answer(t *testing.T, err error) *sammail.SendError {
	t.Helper()
	var se *sammail.SendError
	require.True(t, errors.As(err, &se), "a *mail.SendError, not %v", err)
	return se
}

// Messages sent from many workers at once go over at most the configured
// connections, and each arrives once with its own Message-ID.
func TestPooledConnectionsCarryEachMessageOnce(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	s := sender(t, srv, sammail.WithConnections(3))
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	ids := make(chan string, n)
	for i := range n {
		ids <- fmt.Sprintf("d%03d", i)
	}
	close(ids)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				msg, err := sammail.Compose(from, sammail.Message{ID: id, To: id + "@example.org", Subject: "a / b", Body: "c / d", Date: time.Now()})
				if err != nil {
					errs <- err
					continue
				}
				errs <- s.Send(context.Background(), msg)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got := messageIDs(t, srv)
	require.Len(t, got, n)
	for i := range n {
		id := fmt.Sprintf("d%03d", i)
		require.Equal(t, []string{"<" + id + "@samverkan.example>"}, got[id+"@example.org"], "once, with its Message-ID")
	}
	require.LessOrEqual(t, srv.Connections(), 3, "over at most three connections")
	require.Equal(t, srv.Connections(), s.Dialed())
}

// On one connection, the server answers 451 to the second of three
// messages: only that one fails (temporarily), the third goes over the same
// connection, and the second arrives when sent again. A 550 is permanent,
// and that connection too goes on.
func TestRefusalOnSharedConnectionIsThatMessagesOnly(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	s := sender(t, srv, sammail.WithConnections(1))
	srv.Reply(nil, mailtest.Answer(451, smtp.EnhancedCode{4, 3, 0}, "Try again later"))
	require.NoError(t, send(t, s, "m1"))
	se := answer(t, send(t, s, "m2"))
	require.True(t, se.Temporary)
	require.Equal(t, 451, se.Code)
	require.Contains(t, se.Answer, "Try again later")
	require.NoError(t, send(t, s, "m3"))
	require.Equal(t, map[string][]string{"m1@example.org": {"<m1@samverkan.example>"}, "m3@example.org": {"<m3@samverkan.example>"}}, messageIDs(t, srv))
	require.NoError(t, send(t, s, "m2"), "sent again")
	require.Equal(t, []string{"<m2@samverkan.example>"}, messageIDs(t, srv)["m2@example.org"])

	srv.Reply(mailtest.Answer(550, smtp.EnhancedCode{5, 1, 1}, "No such user here"))
	se = answer(t, send(t, s, "m4"))
	require.False(t, se.Temporary)
	require.Equal(t, 550, se.Code)
	require.NoError(t, send(t, s, "m5"))
	require.Len(t, srv.Received(), 4)
	require.Equal(t, 1, srv.Connections(), "all over one connection")
}

// The server drops the open connection between two messages: the next
// message goes over a new connection and arrives once, without an error.
func TestDroppedConnectionIsReplaced(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	s := sender(t, srv, sammail.WithConnections(1))
	for _, id := range []string{"a1", "a2", "a3"} {
		require.NoError(t, send(t, s, id))
	}
	require.Equal(t, 1, srv.Connections())
	srv.DropConnections()
	require.Eventually(t, func() bool { return srv.Open() == 0 }, 5*time.Second, 10*time.Millisecond)
	for _, id := range []string{"b1", "b2", "b3"} {
		require.NoError(t, send(t, s, id), "sent over a new connection")
	}
	got := messageIDs(t, srv)
	require.Len(t, got, 6)
	for addr, ids := range got {
		require.Len(t, ids, 1, "%s once", addr)
	}
	require.Equal(t, 2, srv.Connections(), "one new connection")
}

// The server drops the connection in the middle of a message (after its
// data, before answering): that message is a temporary failure (the sender
// cannot know whether it arrived; it is sent again with the same
// Message-ID), and the next message goes over a new connection.
func TestConnectionDroppedDuringMessage(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	s := sender(t, srv, sammail.WithConnections(1))
	srv.Reply(nil, mailtest.ErrDropConnection)
	require.NoError(t, send(t, s, "c1"))
	se := answer(t, send(t, s, "c2"))
	require.True(t, se.Temporary, "worth retrying: %s", se.Answer)
	require.NoError(t, send(t, s, "c3"))
	require.NoError(t, send(t, s, "c2"))
	got := messageIDs(t, srv)
	require.Len(t, got, 3)
	require.Equal(t, []string{"<c2@samverkan.example>"}, got["c2@example.org"])
	require.Equal(t, 2, srv.Connections())
}

// A connection unused for the idle timeout is closed (QUIT); the next
// message opens a new one.
func TestIdleConnectionIsClosed(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	s := sender(t, srv, sammail.WithConnections(2), sammail.WithIdleTimeout(100*time.Millisecond))
	require.NoError(t, send(t, s, "i1"))
	require.Equal(t, 1, srv.Open())
	require.Eventually(t, func() bool { return srv.Open() == 0 }, 5*time.Second, 10*time.Millisecond, "closed when idle")
	require.NoError(t, send(t, s, "i2"))
	require.Equal(t, 2, srv.Connections())
	require.Len(t, srv.Received(), 2)
}

// The server accepts a message (250) and then drops the connection, so the
// RSET after it fails: the message is sent (an error would have it sent
// again), and the next goes over a new connection.
func TestConnectionDroppedAfterAcceptanceCountsAsSent(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	s := sender(t, srv, sammail.WithConnections(1))
	srv.DropAfterAccept()
	require.NoError(t, send(t, s, "e1"), "accepted is sent")
	require.NoError(t, send(t, s, "e2"))
	got := messageIDs(t, srv)
	require.Equal(t, map[string][]string{"e1@example.org": {"<e1@samverkan.example>"}, "e2@example.org": {"<e2@samverkan.example>"}}, got)
	require.Equal(t, 2, srv.Connections())
}
