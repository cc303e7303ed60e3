package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
)

// Service is what people and admins do with notifications: preferences,
// the calendar feed, failed deliveries and resending them. Every method
// asks the policy point.
type Service struct {
	DB        *store.DB
	Policy    *authz.PolicyEnforcer
	Clock     clock.Clock
	PublicURL string
	// Title names a workflow definition (the engine's Definition title).
	Title func(kind string, version int) string
}

// Preferences reads the signed-in person's preferences.
func (s *Service) Preferences(ctx context.Context, pr authz.Principal) (*store.NotificationPreferences, error) {
	if err := s.Policy.Authorize(ctx, pr, "notification.manage_own", []string{authz.ScopeAll}); err != nil {
		return nil, err
	}
	return store.GetNotificationPreferences(ctx, s.DB.Pool, pr.UserID)
}

// SetPreferences turns reminders on or off and chooses the weekly digest
// for the signed-in person; legal notices are sent whatever the choice.
// The change is recorded in the person's history stream.
func (s *Service) SetPreferences(ctx context.Context, pr authz.Principal, reminders, weeklyDigest bool) (*store.NotificationPreferences, error) {
	if err := s.Policy.Authorize(ctx, pr, "notification.manage_own", []string{authz.ScopeAll}); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var out *store.NotificationPreferences
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		p, err := store.GetNotificationPreferences(ctx, tx, pr.UserID)
		if err != nil {
			return err
		}
		p.Reminders, p.WeeklyDigest, p.UpdatedAt = reminders, weeklyDigest, now
		if err := store.SetNotificationPreferences(ctx, tx, p); err != nil {
			return err
		}
		out = p
		return store.AppendEvent(ctx, tx, &store.Event{Stream: "user:" + pr.UserID.String(), OccurredAt: now, ActorID: &pr.UserID,
			Kind:  "notification_preferences_changed",
			Input: store.MarshalInput(map[string]bool{"reminders": reminders, "weeklyDigest": weeklyDigest})})
	})
	return out, err
}

// Unsubscribe turns reminders off for the person a reminder was sent to,
// without signing in: the delivery's one-click unsubscribe URL (RFC 8058)
// carries its id and secret, and the secret is the authority, as a
// calendar feed's token is (a mail program cannot sign in). Legal notices
// are sent whatever the choice; the weekly digest choice is kept. A wrong
// secret is NOT_FOUND, as an unknown delivery. It is recorded in the
// person's history stream as a change of their preferences.
func (s *Service) Unsubscribe(ctx context.Context, deliveryID, secret uuid.UUID) error {
	now := s.Clock.Now()
	return s.DB.InTx(ctx, func(tx pgx.Tx) error {
		userID, ok, err := store.UnsubscribeUser(ctx, tx, deliveryID, secret)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "Länken gäller inte. / The link is not valid.")
		}
		p, err := store.GetNotificationPreferences(ctx, tx, userID)
		if err != nil {
			return err
		}
		p.Reminders, p.UpdatedAt = false, now
		if err := store.SetNotificationPreferences(ctx, tx, p); err != nil {
			return err
		}
		return store.AppendEvent(ctx, tx, &store.Event{Stream: "user:" + userID.String(), OccurredAt: now, ActorID: &userID,
			Kind:  "notification_preferences_changed",
			Input: store.MarshalInput(map[string]any{"reminders": false, "weeklyDigest": p.WeeklyDigest, "via": "one-click unsubscribe"})})
	})
}

// CalendarURL is the signed-in person's secret iCalendar feed address,
// made on first asking; renew gives a new secret (the old URL stops
// working).
func (s *Service) CalendarURL(ctx context.Context, pr authz.Principal, renew bool) (string, error) {
	if err := s.Policy.Authorize(ctx, pr, "notification.manage_own", []string{authz.ScopeAll}); err != nil {
		return "", err
	}
	p, err := store.GetNotificationPreferences(ctx, s.DB.Pool, pr.UserID)
	if err != nil {
		return "", err
	}
	token := p.CalendarToken
	if token == "" || renew {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		token = hex.EncodeToString(b)
		if err := store.SetCalendarToken(ctx, s.DB.Pool, pr.UserID, token, s.Clock.Now()); err != nil {
			return "", err
		}
	}
	return strings.TrimRight(s.PublicURL, "/") + CalendarPath + token + ".ics", nil
}

// CalendarPath is where the feeds are served: CalendarPath<token>.ics.
const CalendarPath = "/kalender/"

// Calendar builds the feed a token opens: the person's deadlines ahead.
// An unknown token is NOT_FOUND.
func (s *Service) Calendar(ctx context.Context, token string) (*ical.Calendar, error) {
	if len(token) != 48 {
		return nil, apperr.New(apperr.NotFound, "Kalendern finns inte. / The calendar does not exist.")
	}
	userID, err := store.UserByCalendarToken(ctx, s.DB.Pool, token)
	if apperr.IsCode(err, apperr.NotFound) {
		return nil, apperr.New(apperr.NotFound, "Kalendern finns inte. / The calendar does not exist.")
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	events, err := store.CalendarEvents(ctx, s.DB.Pool, userID, now.AddDate(0, 0, -1))
	if err != nil {
		return nil, err
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Överenskommelsen Värmland//samverkan//SV")
	cal.Props.SetText("X-WR-CALNAME", "Överenskommelsen Värmland – tidsfrister / deadlines")
	// The time zone the dates are in; also what keeps a calendar without
	// deadlines valid (RFC 5545 wants at least one component).
	cal.Children = append(cal.Children, stockholm())
	base := strings.TrimRight(s.PublicURL, "/")
	for _, e := range events {
		ev := ical.NewEvent()
		ev.Props.SetText(ical.PropUID, e.UID+"@samverkan")
		ev.Props.SetDateTime(ical.PropDateTimeStamp, now.UTC())
		summary := e.Name
		if e.InstanceKind == "partnership_report" {
			summary = "IOP-rapport / IOP report: " + e.Name
		} else if s.Title != nil {
			summary = s.Title(e.InstanceKind, e.Version) + ": " + e.Name
		}
		ev.Props.SetText(ical.PropSummary, summary)
		if e.AllDay {
			ev.Props.SetDate(ical.PropDateTimeStart, e.At.UTC())
		} else {
			ev.Props.SetDateTime(ical.PropDateTimeStart, e.At.UTC())
			ev.Props.SetDateTime(ical.PropDateTimeEnd, e.At.UTC().Add(30*time.Minute))
		}
		d := &store.Delivery{InstanceID: e.InstanceID, InstanceKind: e.InstanceKind, SubjectID: e.SubjectID}
		if e.InstanceKind == "partnership_report" {
			d.PartnershipID = e.SubjectID
		}
		ev.Props.SetText(ical.PropURL, base+ActionPath(d))
		cal.Children = append(cal.Children, ev.Component)
	}
	return cal, nil
}

// FailedDeliveries lists deliveries refused for good, latest first
// (admins).
func (s *Service) FailedDeliveries(ctx context.Context, pr authz.Principal, first int) ([]*store.Delivery, error) {
	if err := s.Policy.Authorize(ctx, pr, "notification.read_failed", []string{authz.ScopeAll}); err != nil {
		return nil, err
	}
	return store.FailedDeliveries(ctx, s.DB.Pool, first)
}

// Resend makes a failed delivery pending again with a new job (admins),
// recorded in the history.
func (s *Service) Resend(ctx context.Context, pr authz.Principal, id uuid.UUID) (*store.Delivery, error) {
	if err := s.Policy.Authorize(ctx, pr, "notification.resend", []string{authz.ScopeAll}); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var out *store.Delivery
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		ok, err := store.RequeueDelivery(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := store.GetDelivery(ctx, tx, id); err != nil {
				return apperr.New(apperr.NotFound, "Utskicket finns inte. / The delivery does not exist.")
			}
			return apperr.New(apperr.InvalidTransition, "Bara ett misslyckat utskick kan skickas igen. / Only a failed delivery can be sent again.")
		}
		if out, err = store.GetDelivery(ctx, tx, id); err != nil {
			return err
		}
		actor := pr.UserID
		return store.AppendEvent(ctx, tx, &store.Event{Stream: "mail", OccurredAt: now, ActorID: &actor, Kind: "delivery_resent",
			Input: store.MarshalInput(map[string]string{"deliveryId": id.String(), "address": out.Address})})
	})
	return out, err
}

// CalendarHandler serves the feeds at CalendarPath<token>.ics (no sign-in:
// the token is the secret; calendar programs cannot send a bearer token).
func (s *Service) CalendarHandler(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
		if !ok {
			http.NotFound(w, r)
			return
		}
		cal, err := s.Calendar(r.Context(), token)
		if apperr.IsCode(err, apperr.NotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			log.ErrorContext(r.Context(), "calendar feed", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Cache-Control", "private, max-age=300")
		if err := ical.NewEncoder(w).Encode(cal); err != nil {
			log.WarnContext(r.Context(), "calendar feed", "err", err)
		}
	})
}

// stockholm is the VTIMEZONE of Europe/Stockholm (CET/CEST, EU rules).
func stockholm() *ical.Component {
	rule := func(name, from, to, tzname, start, month string) *ical.Component {
		c := ical.NewComponent(name)
		c.Props.SetText("TZOFFSETFROM", from)
		c.Props.SetText("TZOFFSETTO", to)
		c.Props.SetText("TZNAME", tzname)
		c.Props.SetText("DTSTART", start)
		c.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: "FREQ=YEARLY;BYMONTH=" + month + ";BYDAY=-1SU"})
		return c
	}
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.SetText(ical.PropTimezoneID, "Europe/Stockholm")
	tz.Children = []*ical.Component{
		rule(ical.CompTimezoneDaylight, "+0100", "+0200", "CEST", "19700329T020000", "3"),
		rule(ical.CompTimezoneStandard, "+0200", "+0100", "CET", "19701025T030000", "10"),
	}
	return tz
}

// Inbox lists the notifications delivered to the signed-in person, newest
// first, with the number still unread.
func (s *Service) Inbox(ctx context.Context, pr authz.Principal, after *store.InboxCursor, limit int) ([]*store.InboxItem, int, error) {
	if err := s.Policy.Authorize(ctx, pr, "notification.manage_own", []string{authz.ScopeAll}); err != nil {
		return nil, 0, err
	}
	items, err := store.Inbox(ctx, s.DB.Pool, pr.UserID, after, limit)
	if err != nil {
		return nil, 0, err
	}
	unread, err := store.CountUnread(ctx, s.DB.Pool, pr.UserID)
	return items, unread, err
}

// MarkRead marks one of the signed-in person's notifications read; another
// person's is NOT_FOUND, as one that does not exist.
func (s *Service) MarkRead(ctx context.Context, pr authz.Principal, deliveryID uuid.UUID) error {
	if err := s.Policy.Authorize(ctx, pr, "notification.manage_own", []string{authz.ScopeAll}); err != nil {
		return err
	}
	ok, err := store.MarkRead(ctx, s.DB.Pool, pr.UserID, deliveryID, s.Clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return &apperr.Error{Code: apperr.NotFound, Field: "notificationId", Message: "Meddelandet finns inte. / The notification does not exist."}
	}
	return nil
}

// Open is one of the signed-in person's notifications, marked read as it
// is opened; another person's is NOT_FOUND, as one that does not exist.
func (s *Service) Open(ctx context.Context, pr authz.Principal, deliveryID uuid.UUID) (*store.InboxItem, error) {
	if err := s.MarkRead(ctx, pr, deliveryID); err != nil {
		return nil, err
	}
	item, err := store.InboxItemOf(ctx, s.DB.Pool, pr.UserID, deliveryID)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, &apperr.Error{Code: apperr.NotFound, Field: "notificationId", Message: "Meddelandet finns inte. / The notification does not exist."}
	}
	return item, nil
}

// Recipients lists who a notification the person received was meant for.
func (s *Service) Recipients(ctx context.Context, notificationID int64) ([]string, error) {
	return store.RecipientNames(ctx, s.DB.Pool, notificationID)
}

// CanSeeFailed tells whether pr may list failed deliveries and resend them.
func (s *Service) CanSeeFailed(pr authz.Principal) bool {
	return s.Policy.Can(pr, "notification.read_failed", authz.ScopeAll)
}
