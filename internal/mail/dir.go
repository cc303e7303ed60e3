package mail

import (
	"context"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Dir is the sender when no SMTP server is configured (development): each
// message becomes <dir>/<Message-ID>.eml and a line in the log.
type Dir struct {
	Path string
	Log  *slog.Logger
}

// Send writes the message to the folder.
func (d *Dir) Send(ctx context.Context, msg *gomail.Msg) error {
	if err := os.MkdirAll(d.Path, 0o750); err != nil {
		return &SendError{Temporary: true, Answer: err.Error(), err: err}
	}
	id := strings.Trim(firstHeader(msg, gomail.HeaderMessageID), "<>")
	name := filepath.Join(d.Path, strings.SplitN(id, "@", 2)[0]+".eml")
	tmp := name + ".tmp"
	if err := msg.WriteToFile(tmp); err != nil {
		return &SendError{Temporary: true, Answer: err.Error(), err: err}
	}
	if err := os.Rename(tmp, name); err != nil {
		return &SendError{Temporary: true, Answer: err.Error(), err: err}
	}
	dec := new(mime.WordDecoder)
	to, _ := dec.DecodeHeader(strings.Join(msg.GetToString(), ", "))
	subject, _ := dec.DecodeHeader(firstHeader(msg, gomail.HeaderSubject))
	d.Log.InfoContext(ctx, "mail written (no SMTP server configured)", "file", name, "to", to, "subject", subject)
	return nil
}

func firstHeader(msg *gomail.Msg, h gomail.Header) string {
	if v := msg.GetGenHeader(h); len(v) > 0 {
		return v[0]
	}
	return ""
}
