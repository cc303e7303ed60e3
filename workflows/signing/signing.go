// Package signing is the workflow by which an organisation signs
// Överenskommelsen: it applies, an official checks the three eligibility
// criteria (regional perspective, democratic values, independence from the
// public sector), and once approved it signs — at a signing ceremony, on the
// ceremony's date, or directly — and appears on the public list. It may
// withdraw. After a revision, signatories of the old version re-confirm the
// new one or drop off its list when their deadline passes.
package signing

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
)

// Kind is the workflow's kind.
const Kind = "signing"

// The states.
const (
	Applied                 workflows.State = "applied"
	UnderReview             workflows.State = "under_review"
	NeedsInformation        workflows.State = "needs_information"
	Rejected                workflows.State = "rejected"
	Approved                workflows.State = "approved"
	AwaitingCeremony        workflows.State = "awaiting_ceremony"
	Signed                  workflows.State = "signed"
	Withdrawn               workflows.State = "withdrawn"
	ReconfirmationRequested workflows.State = "reconfirmation_requested"
	Dropped                 workflows.State = "dropped"
)

// Data keys of a signing instance.
const (
	keyOrganisation      = "organisationId"
	keyVersion           = "agreementVersionId"
	keyCeremony          = "ceremonyId"
	keyCeremonyDate      = "ceremonyDate"
	KeyReconfirmDeadline = "reconfirmDeadline"
	keySigned            = "signed"
)

// Definition is version 1 of the signing workflow.
func Definition() *workflows.Definition {
	return &workflows.Definition{
		Kind: Kind, Version: 1, Title: "Signering / Signing",
		Initial: Applied,
		// Re-confirmation requests start as such; imported paper lists
		// start signed.
		Entry: []workflows.State{ReconfirmationRequested, Signed},
		// Applications are private to the organisation and the officials;
		// a signature, and what becomes of it, is public.
		Public: func(in *store.Instance) bool {
			signed, _ := in.Data[keySigned].(bool)
			return signed || in.State == string(ReconfirmationRequested) || in.State == string(Dropped)
		},
		States: []workflows.StateSpec{
			{Name: Applied, Title: "ansökt / applied"},
			{Name: UnderReview, Title: "under granskning / under review"},
			{Name: NeedsInformation, Title: "komplettering begärd / more information requested"},
			{Name: Rejected, Title: "avslagen / rejected"},
			{Name: Approved, Title: "godkänd / approved"},
			{Name: AwaitingCeremony, Title: "väntar på signeringsceremoni / awaiting the signing ceremony", Timers: []workflows.Timer{
				{Name: "ceremony", Fire: "sign_at_ceremony", At: func(in *store.Instance) (time.Time, bool) {
					return workflows.DataTime(in, keyCeremonyDate)
				}},
			}},
			{Name: Signed, Title: "undertecknad / signed"},
			{Name: Withdrawn, Title: "utträtt / withdrawn", Final: true},
			{Name: ReconfirmationRequested, Title: "bekräftelse begärd / re-confirmation requested", Timers: []workflows.Timer{
				{Name: "reconfirmation reminder", Recipient: authz.RoleSectorRepresentative,
					Reminder: "Påminnelse: bekräfta den nya versionen av överenskommelsen före tidsfristen. / Reminder: confirm the new version of the agreement before the deadline.",
					At: func(in *store.Instance) (time.Time, bool) {
						t, ok := workflows.DataTime(in, KeyReconfirmDeadline)
						return t.AddDate(0, 0, -14), ok
					}},
				{Name: "reconfirmation deadline", Fire: "drop", At: func(in *store.Instance) (time.Time, bool) {
					return workflows.DataTime(in, KeyReconfirmDeadline)
				}},
			}},
			{Name: Dropped, Title: "struken från listan / dropped from the list", Final: true},
		},
		Transitions: []*workflows.Transition{
			{Name: "start_review", Title: "börja granska / start the review", From: []workflows.State{Applied}, To: UnderReview, Action: "signing.start_review"},
			{Name: "request_information", Title: "begära komplettering / request more information", From: []workflows.State{UnderReview}, To: NeedsInformation,
				Action: "signing.request_information", RequireReason: true},
			{Name: "provide_information", Title: "komplettera / provide information", From: []workflows.State{NeedsInformation}, To: UnderReview,
				Action: "signing.provide_information"},
			{Name: "approve", Title: "godkänna / approve", From: []workflows.State{UnderReview}, To: Approved, Action: "signing.approve", Guard: eligibilityChecked},
			{Name: "reject", Title: "avslå / reject", From: []workflows.State{Applied, UnderReview, NeedsInformation}, To: Rejected,
				Action: "signing.reject", RequireReason: true},
			{Name: "reopen", Title: "öppna igen / reopen for review", From: []workflows.State{Rejected}, To: UnderReview,
				Action: "signing.reopen", RequireReason: true},
			{Name: "attach_to_ceremony", Title: "anmäla till signeringsceremoni / attach to a signing ceremony", From: []workflows.State{Approved},
				To: AwaitingCeremony, Action: "signing.attach_to_ceremony", Guard: ceremonyPlanned},
			{Name: "detach_from_ceremony", Title: "ta bort från ceremonin / detach from the ceremony", From: []workflows.State{AwaitingCeremony},
				To: Approved, Action: "signing.detach_from_ceremony", RequireReason: true},
			{Name: "sign", Title: "underteckna / sign", From: []workflows.State{Approved}, To: Signed, Action: "signing.sign",
				Effect: addSignatory("direct"), Public: true},
			{Name: "sign_at_ceremony", Title: "undertecknad vid ceremonin / signed at the ceremony", From: []workflows.State{AwaitingCeremony},
				To: Signed, Effect: addSignatory("ceremony"), Public: true},
			{Name: "confirm", Title: "bekräfta den nya versionen / confirm the new version", From: []workflows.State{ReconfirmationRequested},
				To: Signed, Action: "signing.confirm", Effect: addSignatory("reconfirmed"), Public: true},
			{Name: "drop", Title: "stryka från listan / drop from the list", From: []workflows.State{ReconfirmationRequested}, To: Dropped,
				Effect: noticeDropped, Public: true},
			{Name: "withdraw", Title: "träda ut / withdraw",
				From: []workflows.State{Applied, UnderReview, NeedsInformation, Rejected, Approved, AwaitingCeremony, Signed, ReconfirmationRequested},
				To:   Withdrawn, Action: "signing.withdraw", RequireReason: true, Effect: endSignature, Public: true},
		},
	}
}

func ids(in *store.Instance) (org, version uuid.UUID) {
	org, _ = uuid.Parse(stringOf(in.Data[keyOrganisation]))
	version, _ = uuid.Parse(stringOf(in.Data[keyVersion]))
	return org, version
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// eligibilityChecked requires the official to confirm each criterion; an
// application that fails one is rejected with a reason instead.
func eligibilityChecked(_ context.Context, f *workflows.Firing) error {
	for _, c := range []struct{ key, sv, en string }{
		{"regionalPerspective", "regionalt perspektiv", "a regional perspective"},
		{"democraticValues", "demokratiska värderingar", "democratic values"},
		{"independent", "organisatoriskt oberoende av offentlig sektor", "organisational independence from the public sector"},
	} {
		if ok, _ := f.Input[c.key].(bool); !ok {
			if c.key == "independent" && f.Input["publicBody"] == true {
				continue
			}
			return apperr.Invalid(c.key, "Bekräfta att organisationen har %s innan ansökan godkänns, eller avslå den med ett skäl. / Confirm that the organisation has %s before approving, or reject the application with a reason.", c.sv, c.en)
		}
	}
	return nil
}

// ceremonyPlanned checks the ceremony and remembers its date for the timer.
func ceremonyPlanned(ctx context.Context, f *workflows.Firing) error {
	id, err := uuid.Parse(stringOf(f.Input["ceremonyId"]))
	if err != nil {
		return apperr.Invalid("ceremonyId", "Ange en signeringsceremoni. / Give a signing ceremony.")
	}
	c, err := store.GetCeremony(ctx, f.Tx(), id)
	if err != nil {
		if apperr.IsCode(err, apperr.NotFound) {
			return apperr.Invalid("ceremonyId", "Signeringsceremonin finns inte. / The signing ceremony does not exist.")
		}
		return err
	}
	_, version := ids(f.Instance)
	if c.AgreementVersionID != version {
		return apperr.Invalid("ceremonyId", "Ceremonin gäller en annan version av överenskommelsen. / The ceremony is for another version of the agreement.")
	}
	day := ceremonyMoment(c.HeldOn)
	if c.Status != "planned" || !day.After(f.Now) {
		return apperr.Invalid("ceremonyId", "Ceremonin %s har redan ägt rum. / The ceremony of %s has already taken place.",
			c.HeldOn.Format("2006-01-02"), c.HeldOn.Format("2006-01-02"))
	}
	f.Instance.Data[keyCeremony] = c.ID.String()
	f.Instance.Data[keyCeremonyDate] = day.UTC().Format(time.RFC3339)
	return nil
}

// ceremonyMoment is when a ceremony signs its applications: the start of
// its day in Stockholm, so that they are signed on that date.
func ceremonyMoment(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, clock.Stockholm)
}

// Today is the date of t in Stockholm, as a date.
func Today(t time.Time) time.Time {
	s := t.In(clock.Stockholm)
	return time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
}

func addSignatory(how string) func(context.Context, pgx.Tx, *workflows.Firing) error {
	return func(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
		org, version := ids(f.Instance)
		s := &store.Signatory{AgreementVersionID: version, OrganisationID: org, InstanceID: &f.Instance.ID,
			SignedOn: Today(f.Now), How: how, CreatedAt: f.Now}
		if how == "ceremony" {
			cid, err := uuid.Parse(stringOf(f.Instance.Data[keyCeremony]))
			if err != nil {
				return err
			}
			c, err := store.GetCeremony(ctx, tx, cid)
			if err != nil {
				return err
			}
			s.CeremonyID, s.SignedOn = &cid, c.HeldOn
			if err := store.MarkCeremonyHeld(ctx, tx, cid); err != nil {
				return err
			}
		}
		f.Instance.Data[keySigned] = true
		return store.InsertSignatory(ctx, tx, s)
	}
}

func endSignature(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	if f.From != Signed {
		return nil
	}
	org, version := ids(f.Instance)
	_, err := store.EndSignatory(ctx, tx, version, org, Today(f.Now), "withdrawn")
	return err
}

func noticeDropped(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	org, _ := ids(f.Instance)
	return store.InsertNotification(ctx, tx, &store.Notification{
		DedupeKey: "dropped:" + f.Instance.ID.String(), InstanceID: &f.Instance.ID, OrganisationID: &org,
		RecipientRole: authz.RoleSectorRepresentative, Kind: "notice",
		Subject:   "Er organisation har strukits från listan över undertecknare / Your organisation was removed from the list of signatories",
		Body:      "Den nya versionen av överenskommelsen bekräftades inte före tidsfristen. Ni kan ansöka om att underteckna igen. / The new version of the agreement was not confirmed before the deadline. You may apply to sign again.",
		CreatedAt: f.Now,
	})
}
