// Package mail turns a delivery into an e-mail (Swedish first, then
// English; plain text and HTML alternatives from the templates embedded
// here) and sends it: over SMTP (SAMVERKAN_SMTP_URL), or, with none
// configured, into a folder of .eml files and the log.
package mail

import (
	"context"
	"embed"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"
)

//go:embed templates/*.tmpl
var templates embed.FS

var (
	subjectTemplate = texttemplate.Must(texttemplate.ParseFS(templates, "templates/subject.txt.tmpl"))
	textTemplate    = texttemplate.Must(texttemplate.ParseFS(templates, "templates/message.txt.tmpl"))
	htmlTemplate    = htmltemplate.Must(htmltemplate.ParseFS(templates, "templates/message.html.tmpl"))
)

// Message is what one e-mail says, to one recipient.
type Message struct {
	// ID makes the Message-ID <ID@domain of From>; the delivery's id, so
	// that a message sent again is recognisable as the same one.
	ID      string
	To      string
	Name    string
	Subject string // "Svensk text / English text"
	Body    string // "Svensk text. / English text."
	// DueOn is the date the message is about, if any.
	DueOn *time.Time
	// Link is the page where the person acts.
	Link string
	// Reminder messages carry List-Unsubscribe: OneClickUnsubscribe, with
	// List-Unsubscribe-Post (RFC 8058), when there is one, else
	// UnsubscribeLink (the settings page, which the text links to).
	Reminder            bool
	UnsubscribeLink     string
	OneClickUnsubscribe string
	Date                time.Time
}

// unsubscribe sets List-Unsubscribe: the one-click URL (a POST to it
// unsubscribes, RFC 8058) when there is one, else the settings page.
func unsubscribe(msg *gomail.Msg, oneClick, settings string) {
	if oneClick != "" {
		msg.SetGenHeader("List-Unsubscribe", "<"+oneClick+">")
		msg.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		return
	}
	if settings != "" {
		msg.SetGenHeader("List-Unsubscribe", "<"+settings+">")
	}
}

// templateData is what the templates see: each text split into its
// Swedish and English halves.
type templateData struct {
	Subject, SubjectSv, SubjectEn, BodySv, BodyEn string
	Name, Link, UnsubscribeLink, DueOn            string
	Reminder                                      bool
	// Prefix: a reminder whose subject does not say so itself.
	Prefix bool
}

// split cuts a bilingual text "Svenska / English" at its first " / ".
func split(s string) (string, string) {
	if sv, en, ok := strings.Cut(s, " / "); ok {
		return strings.TrimSpace(sv), strings.TrimSpace(en)
	}
	return s, s
}

// Compose builds the e-mail from the templates.
func Compose(from string, m Message) (*gomail.Msg, error) {
	d := templateData{Name: m.Name, Link: m.Link, UnsubscribeLink: m.UnsubscribeLink, Reminder: m.Reminder}
	if d.Name == "" {
		d.Name = m.To
	}
	if m.DueOn != nil {
		d.DueOn = m.DueOn.Format(time.DateOnly)
	}
	d.SubjectSv, d.SubjectEn = split(m.Subject)
	d.BodySv, d.BodyEn = split(m.Body)
	d.Prefix = m.Reminder && !strings.Contains(strings.ToLower(d.SubjectSv), "påminnelse")
	var subject strings.Builder
	if err := subjectTemplate.Execute(&subject, d); err != nil {
		return nil, err
	}
	d.Subject = strings.TrimSpace(subject.String())

	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, err
	}
	if m.Name != "" {
		if err := msg.AddToFormat(m.Name, m.To); err != nil {
			return nil, err
		}
	} else if err := msg.To(m.To); err != nil {
		return nil, err
	}
	msg.Subject(d.Subject)
	msg.SetMessageIDWithValue(m.ID + "@" + domainOf(from))
	msg.SetDateWithValue(m.Date)
	msg.SetGenHeader(gomail.HeaderContentLang, "sv, en")
	if m.Reminder {
		unsubscribe(msg, m.OneClickUnsubscribe, m.UnsubscribeLink)
	}
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if err := msg.SetBodyTextTemplate(textTemplate, d); err != nil {
		return nil, err
	}
	if err := msg.AddAlternativeHTMLTemplate(htmlTemplate, d); err != nil {
		return nil, err
	}
	return msg, nil
}

func domainOf(from string) string {
	addr := from
	if i := strings.LastIndex(addr, "<"); i >= 0 {
		addr = strings.TrimSuffix(addr[i+1:], ">")
	}
	if _, domain, ok := strings.Cut(addr, "@"); ok && domain != "" {
		return strings.TrimSpace(domain)
	}
	return "samverkan.invalid"
}

// Sender sends a composed message.
type Sender interface {
	Send(ctx context.Context, msg *gomail.Msg) error
}

var (
	digestSubjectTemplate = texttemplate.Must(texttemplate.ParseFS(templates, "templates/digest-subject.txt.tmpl"))
	digestTextTemplate    = texttemplate.Must(texttemplate.ParseFS(templates, "templates/digest.txt.tmpl"))
	digestHTMLTemplate    = htmltemplate.Must(htmltemplate.ParseFS(templates, "templates/digest.html.tmpl"))
)

// Digest is one person's weekly e-mail of reminders.
type Digest struct {
	ID              string
	To, Name        string
	Items           []Message // Subject, Body, DueOn and Link of each
	UnsubscribeLink string
	// OneClickUnsubscribe is the List-Unsubscribe URL a POST to which
	// unsubscribes (RFC 8058); "" uses UnsubscribeLink.
	OneClickUnsubscribe string
	Date                time.Time
}

type digestData struct {
	Subject, Name, UnsubscribeLink string
	Items                          []templateData
}

// ComposeDigest builds a weekly digest from its templates.
func ComposeDigest(from string, dg Digest) (*gomail.Msg, error) {
	d := digestData{Name: dg.Name, UnsubscribeLink: dg.UnsubscribeLink}
	if d.Name == "" {
		d.Name = dg.To
	}
	for _, m := range dg.Items {
		it := templateData{Link: m.Link}
		if m.DueOn != nil {
			it.DueOn = m.DueOn.Format(time.DateOnly)
		}
		it.SubjectSv, it.SubjectEn = split(m.Subject)
		it.BodySv, it.BodyEn = split(m.Body)
		d.Items = append(d.Items, it)
	}
	var subject strings.Builder
	if err := digestSubjectTemplate.Execute(&subject, d); err != nil {
		return nil, err
	}
	d.Subject = strings.TrimSpace(subject.String())
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, err
	}
	if err := msg.AddToFormat(d.Name, dg.To); err != nil {
		return nil, err
	}
	msg.Subject(d.Subject)
	msg.SetMessageIDWithValue(dg.ID + "@" + domainOf(from))
	msg.SetDateWithValue(dg.Date)
	msg.SetGenHeader(gomail.HeaderContentLang, "sv, en")
	unsubscribe(msg, dg.OneClickUnsubscribe, dg.UnsubscribeLink)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if err := msg.SetBodyTextTemplate(digestTextTemplate, d); err != nil {
		return nil, err
	}
	if err := msg.AddAlternativeHTMLTemplate(digestHTMLTemplate, d); err != nil {
		return nil, err
	}
	return msg, nil
}
