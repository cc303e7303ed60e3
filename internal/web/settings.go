package web

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/notify"
	"github.com/samverkan/samverkan/internal/store"
)

// A person's notification settings (the page every e-mail links to):
// reminders on or off, the weekly digest, the secret calendar address; and
// the page of a reminder's one-click unsubscribe URL. Each calls one
// notify.Service method.

// settingsData is the settings page.
type settingsData struct {
	Prefs *store.NotificationPreferences
	// CalendarURL is the person's feed address ("" until they ask for
	// one).
	CalendarURL string
	Done        string
}

func (h *Handler) notificationSettings(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	prefs, err := h.o.Notify.Preferences(r.Context(), pr)
	if err != nil {
		h.actionFailed(w, r, err)
		return
	}
	d := settingsData{Prefs: prefs}
	if prefs.CalendarToken != "" {
		if d.CalendarURL, err = h.o.Notify.CalendarURL(r.Context(), pr, false); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	p := h.page(r, "settings", "settings.title", nil)
	switch r.URL.Query().Get("done") {
	case "saved":
		d.Done = p.L.T("settings.saved")
	case "calendar":
		d.Done = p.L.T("settings.calendar.made")
	case "renewed":
		d.Done = p.L.T("settings.calendar.renewed")
	}
	p.Data = d
	h.render(w, r, http.StatusOK, "settings_notifications", p)
}

func (h *Handler) saveNotificationSettings(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	if _, err := h.o.Notify.SetPreferences(r.Context(), pr, f.Get("reminders") == "yes", f.Get("weeklyDigest") == "yes"); err != nil {
		h.actionFailed(w, r, err)
		return
	}
	http.Redirect(w, r, notify.SettingsPath+"?done=saved", http.StatusSeeOther)
}

// renewCalendar makes the person's calendar address, or a new one (the old
// stops working).
func (h *Handler) renewCalendar(w http.ResponseWriter, r *http.Request) {
	pr, ok := h.viewer(w, r)
	if !ok {
		return
	}
	renew := r.PostForm.Get("renew") == "yes"
	if _, err := h.o.Notify.CalendarURL(r.Context(), pr, renew); err != nil {
		h.actionFailed(w, r, err)
		return
	}
	done := "calendar"
	if renew {
		done = "renewed"
	}
	http.Redirect(w, r, notify.SettingsPath+"?done="+done, http.StatusSeeOther)
}

// unsubscribeData is the one-click unsubscribe page.
type unsubscribeData struct {
	Action string
	Done   bool
}

// unsubscribePage is what opening a reminder's unsubscribe URL shows: a
// button that does it (RFC 8058: a GET must not unsubscribe, as mail
// scanners follow links).
func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "", "unsubscribe.title", unsubscribeData{Action: r.URL.Path})
	h.render(w, r, http.StatusOK, "unsubscribe", p)
}

// unsubscribe turns the reminders off of the person the URL was sent to,
// without signing in: a mail program's one-click POST
// (List-Unsubscribe=One-Click) or the page's button.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	id, err1 := uuid.Parse(r.PathValue("id"))
	secret, err2 := uuid.Parse(r.PathValue("secret"))
	if err1 != nil || err2 != nil {
		h.notFound(w, r)
		return
	}
	err := h.o.Notify.Unsubscribe(r.Context(), id, secret)
	if apperr.IsCode(err, apperr.NotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "", "unsubscribe.done_title", unsubscribeData{Action: r.URL.Path, Done: true})
	h.render(w, r, http.StatusOK, "unsubscribe", p)
}
