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
	"fmt"
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
	keyReconfirmDeadline = "reconfirmDeadline"
	keySigned            = "signed"
	keyPublicBody        = "publicBody"
)

// Input keys of the approve and attach transitions (recorded in their
// history events).
const (
	inRegionalPerspective = "regionalPerspective"
	inDemocraticValues    = "democraticValues"
	inIndependent         = "independent"
	inCeremony            = "ceremonyId"
)

// The transitions; the Service's typed commands fire them.
const (
	tStartReview        = "start_review"
	tRequestInformation = "request_information"
	tProvideInformation = "provide_information"
	tApprove            = "approve"
	tReject             = "reject"
	tReopen             = "reopen"
	tAttachToCeremony   = "attach_to_ceremony"
	tDetachFromCeremony = "detach_from_ceremony"
	tSign               = "sign"
	tSignAtCeremony     = "sign_at_ceremony"
	tConfirm            = "confirm"
	tDrop               = "drop"
	tWithdraw           = "withdraw"
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
			return workflows.DataBool(in, keySigned) || in.State == string(ReconfirmationRequested) || in.State == string(Dropped)
		},
		States: []workflows.StateSpec{
			{Name: Applied, Title: "ansökt / applied"},
			{Name: UnderReview, Title: "under granskning / under review"},
			{Name: NeedsInformation, Title: "komplettering begärd / more information requested"},
			{Name: Rejected, Title: "avslagen / rejected"},
			{Name: Approved, Title: "godkänd / approved"},
			{Name: AwaitingCeremony, Title: "väntar på signeringsceremoni / awaiting the signing ceremony", Timers: []workflows.Timer{
				{Name: "ceremony", Fire: tSignAtCeremony, At: func(in *store.Instance) (time.Time, bool) {
					return workflows.DataTime(in, keyCeremonyDate)
				}},
			}},
			{Name: Signed, Title: "undertecknad / signed"},
			{Name: Withdrawn, Title: "utträtt / withdrawn", Final: true},
			{Name: ReconfirmationRequested, Title: "bekräftelse begärd / re-confirmation requested", Timers: []workflows.Timer{
				{Name: "reconfirmation reminder", Recipient: authz.RoleSectorRepresentative, Due: ReconfirmDeadline,
					Reminder: "Påminnelse: bekräfta den nya versionen av överenskommelsen före tidsfristen. / Reminder: confirm the new version of the agreement before the deadline.",
					At: func(in *store.Instance) (time.Time, bool) {
						t, ok := workflows.DataTime(in, keyReconfirmDeadline)
						return t.AddDate(0, 0, -14), ok
					}},
				{Name: "reconfirmation deadline", Fire: tDrop, At: func(in *store.Instance) (time.Time, bool) {
					return workflows.DataTime(in, keyReconfirmDeadline)
				}},
			}},
			{Name: Dropped, Title: "struken från listan / dropped from the list", Final: true},
		},
		Transitions: []*workflows.Transition{
			{Name: tStartReview, Title: "börja granska / start the review", From: []workflows.State{Applied}, To: UnderReview, Action: "signing.start_review"},
			{Name: tRequestInformation, Title: "begära komplettering / request more information", From: []workflows.State{UnderReview}, To: NeedsInformation,
				Action: "signing.request_information", RequireReason: true},
			{Name: tProvideInformation, Title: "komplettera / provide information", From: []workflows.State{NeedsInformation}, To: UnderReview,
				Action: "signing.provide_information"},
			{Name: tApprove, Title: "godkänna / approve", From: []workflows.State{UnderReview}, To: Approved, Action: "signing.approve", Guard: all(eligibilityChecked, versionInForce)},
			{Name: tReject, Title: "avslå / reject", From: []workflows.State{Applied, UnderReview, NeedsInformation}, To: Rejected,
				Action: "signing.reject", RequireReason: true},
			{Name: tReopen, Title: "öppna igen / reopen for review", From: []workflows.State{Rejected}, To: UnderReview,
				Action: "signing.reopen", RequireReason: true},
			{Name: tAttachToCeremony, Title: "anmäla till signeringsceremoni / attach to a signing ceremony", From: []workflows.State{Approved},
				To: AwaitingCeremony, Action: "signing.attach_to_ceremony", Guard: all(ceremonyPlanned, versionInForce), Effect: rememberCeremony},
			{Name: tDetachFromCeremony, Title: "ta bort från ceremonin / detach from the ceremony", From: []workflows.State{AwaitingCeremony},
				To: Approved, Action: "signing.detach_from_ceremony", RequireReason: true},
			{Name: tSign, Title: "underteckna / sign", From: []workflows.State{Approved}, To: Signed, Action: "signing.sign",
				Guard: versionInForce, Effect: addSignatory("direct"), Public: true},
			{Name: tSignAtCeremony, Title: "undertecknad vid ceremonin / signed at the ceremony", From: []workflows.State{AwaitingCeremony},
				To: Signed, Effect: addSignatory("ceremony"), Public: true},
			{Name: tConfirm, Title: "bekräfta den nya versionen / confirm the new version", From: []workflows.State{ReconfirmationRequested},
				To: Signed, Action: "signing.confirm", Guard: versionInForce, Effect: addSignatory("reconfirmed"), Public: true},
			{Name: tDrop, Title: "stryka från listan / drop from the list", From: []workflows.State{ReconfirmationRequested}, To: Dropped,
				Effect: noticeDropped, Public: true},
			{Name: tWithdraw, Title: "träda ut / withdraw",
				From: []workflows.State{Applied, UnderReview, NeedsInformation, Rejected, Approved, AwaitingCeremony, Signed, ReconfirmationRequested},
				To:   Withdrawn, Action: "signing.withdraw", RequireReason: true, Effect: endSignature, Public: true, Optional: true},
		},
	}
}

func ids(in *store.Instance) (org, version uuid.UUID) {
	org, _ = workflows.DataUUID(in, keyOrganisation)
	version, _ = workflows.DataUUID(in, keyVersion)
	return org, version
}

// eligibilityChecked requires the official to confirm each criterion that
// applies to the organisation's sector (independence from the public sector
// does not apply to a public body); an application that fails one is
// rejected with a reason instead.
func eligibilityChecked(_ context.Context, f *workflows.Firing) error {
	for _, c := range []struct{ key, sv, en string }{
		{inRegionalPerspective, "regionalt perspektiv", "a regional perspective"},
		{inDemocraticValues, "demokratiska värderingar", "democratic values"},
		{inIndependent, "organisatoriskt oberoende av offentlig sektor", "organisational independence from the public sector"},
	} {
		if ok, _ := f.Input[c.key].(bool); !ok {
			if c.key == inIndependent && workflows.DataBool(f.Instance, keyPublicBody) {
				continue
			}
			return apperr.Invalid(c.key, "Bekräfta att organisationen har %s innan ansökan godkänns, eller avslå den med ett skäl. / Confirm that the organisation has %s before approving, or reject the application with a reason.", c.sv, c.en)
		}
	}
	return nil
}

// all passes when every guard passes; the first refusal is the answer.
func all(guards ...func(context.Context, *workflows.Firing) error) func(context.Context, *workflows.Firing) error {
	return func(ctx context.Context, f *workflows.Firing) error {
		for _, g := range guards {
			if err := g(ctx, f); err != nil {
				return err
			}
		}
		return nil
	}
}

// versionInForce refuses to approve, attach or sign an application onto a
// version that a newer one has superseded (an adoption moves the open
// applications to the new version, so this is a safety net for those left
// on an old one).
func versionInForce(ctx context.Context, f *workflows.Firing) error {
	_, version := ids(f.Instance)
	n, err := store.VersionAndNewest(ctx, f.Tx(), version)
	if err != nil {
		return err
	}
	if n.Newest != n.Number {
		return apperr.New(apperr.InvalidTransition, "Version %d har ersatts av version %d; ansökan kan inte godkännas eller undertecknas på den. Ansök om att underteckna den gällande versionen. / Version %d has been superseded by version %d; the application cannot be approved or signed onto it. Apply to sign the version in force.",
			n.Number, n.Newest, n.Number, n.Newest)
	}
	return nil
}

// ceremonyPlanned refuses a ceremony that does not exist, is for another
// version or has taken place.
func ceremonyPlanned(ctx context.Context, f *workflows.Firing) error {
	_, err := plannedCeremony(ctx, f.Tx(), f)
	return err
}

func plannedCeremony(ctx context.Context, q store.Querier, f *workflows.Firing) (*store.Ceremony, error) {
	id, err := uuid.Parse(stringOf(f.Input[inCeremony]))
	if err != nil {
		return nil, apperr.Invalid("ceremonyId", "Ange en signeringsceremoni. / Give a signing ceremony.")
	}
	c, err := store.GetCeremony(ctx, q, id)
	if err != nil {
		if apperr.IsCode(err, apperr.NotFound) {
			return nil, apperr.Invalid("ceremonyId", "Signeringsceremonin finns inte. / The signing ceremony does not exist.")
		}
		return nil, err
	}
	_, version := ids(f.Instance)
	if c.AgreementVersionID != version {
		return nil, apperr.Invalid("ceremonyId", "Ceremonin gäller en annan version av överenskommelsen. / The ceremony is for another version of the agreement.")
	}
	if c.Status != "planned" || !ceremonyMoment(c.HeldOn).After(f.Now) {
		return nil, apperr.Invalid("ceremonyId", "Ceremonin %s har redan ägt rum. / The ceremony of %s has already taken place.",
			c.HeldOn.Format("2006-01-02"), c.HeldOn.Format("2006-01-02"))
	}
	return c, nil
}

// rememberCeremony keeps the ceremony and its moment for the timer that
// signs at it.
func rememberCeremony(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	c, err := plannedCeremony(ctx, tx, f)
	if err != nil {
		return err
	}
	workflows.SetData(f.Instance, keyCeremony, c.ID)
	workflows.SetData(f.Instance, keyCeremonyDate, ceremonyMoment(c.HeldOn))
	return nil
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// ceremonyMoment is when a ceremony signs its applications: the start of
// its day in Stockholm, so that they are signed on that date.
func ceremonyMoment(d time.Time) time.Time { return clock.StartOfDay(d) }

func addSignatory(how string) func(context.Context, pgx.Tx, *workflows.Firing) error {
	return func(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
		org, version := ids(f.Instance)
		s := &store.Signatory{AgreementVersionID: version, OrganisationID: org, InstanceID: &f.Instance.ID,
			SignedOn: clock.Today(f.Now), How: how, CreatedAt: f.Now}
		if how == "ceremony" {
			cid, ok := workflows.DataUUID(f.Instance, keyCeremony)
			if !ok {
				return fmt.Errorf("signing %s: signed at a ceremony without one", f.Instance.ID)
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
		workflows.SetData(f.Instance, keySigned, true)
		return store.InsertSignatory(ctx, tx, s)
	}
}

func endSignature(ctx context.Context, tx pgx.Tx, f *workflows.Firing) error {
	if f.From != Signed {
		return nil
	}
	org, version := ids(f.Instance)
	_, err := store.EndSignatory(ctx, tx, version, org, clock.Today(f.Now), "withdrawn")
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

// VersionOf is the agreement version an application or signature is for.
func VersionOf(in *store.Instance) uuid.UUID {
	_, v := ids(in)
	return v
}

// OrganisationOf is the organisation an application or signature is of.
func OrganisationOf(in *store.Instance) uuid.UUID {
	org, _ := ids(in)
	return org
}
