// Package demo loads the demo story: Överenskommelsen Värmland adopted on
// 2018-01-30, 35 invented organisations signing at the ceremony of
// 2018-04-20, 15 more in the autumn, one withdrawing, and the follow-up of
// 2018 opened in January 2019. Every step goes
// through the real services with a clock set to the story's dates, so the
// history reads as it would have. The people are invented.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/signing"
)

// Progress reports how far the seeding has come.
type Progress interface {
	Step(step string, done, total int)
}

// AgreementName identifies the demo agreement; seeding stops when it exists.
const AgreementName = "Överenskommelsen Värmland"

// People of the demo; `samverkan token --subject <subject>` signs in as them.
var People = []struct{ Subject, Name, Role, Scope string }{
	{"demo-admin", "Alva Admin", authz.RoleAdmin, authz.ScopeAll},
	{"demo-official", "Oskar Tjänsteperson", authz.RoleRegionOfficial, authz.ScopeRegion},
	{"demo-politician", "Petra Förtroendevald", authz.RoleRegionPolitician, authz.ScopeRegion},
	{"demo-council-region", "Rune Rådsledamot", authz.RoleCouncilMember, authz.ScopeRegion},
	{"demo-council-sector", "Siv Sektorsledamot", authz.RoleCouncilMember, authz.ScopeSector},
}

var names = []string{
	"Föreningen Solrosen", "Klarälvens Vänner", "Fryksdalens Idrottsallians", "Värmlands Läsfrämjare",
	"Stiftelsen Bergslagsbryggan", "Kooperativet Gröna Händer", "Nätverket Unga i Värmland", "Arvika Kulturförening",
	"Hammarö Seniorer", "Torsby Samverkansråd", "Kristinehamns Stödcentrum", "Filipstads Hembygdsgille",
	"Sunne Musikförening", "Säffle Integrationsnätverk", "Karlskoga Fritidsgårdar", "Forshaga Friluftsliv",
	"Munkfors Bygdeförening", "Grums Föräldraförening", "Storfors Idéhus", "Eda Gränslandsförening",
	"Årjängs Ungdomsråd", "Kils Trädgårdssällskap", "Hagfors Brukshistoria", "Värmlands Schackförbund",
	"Trossamfundet Ljusglimten", "Ekonomiska föreningen Vävstolen", "Väddö Vänskap", "Molkoms Byalag",
	"Karlstads Stadsmission Demo", "Värmlands Körförbund", "Deje Dragspelsklubb", "Skoghalls Scoutkår",
	"Charlottenbergs Idéforum", "Ransäters Folkbildare", "Edsvalla Samråd", "Vålbergs Vävare",
	"Glava Glasbruksvänner", "Lesjöfors Lokalhistoriker", "Ekshärads Ungdomsteater", "Gräsmarks Bygdegård",
	"Töcksfors Tillsammans", "Brunskogs Naturskydd", "Nyeds Nätverk", "Älvdalens Föreningsråd",
	"Vitsands Vänner", "Höljes Hembygd", "Bograngens Byaråd", "Lysviks Lokalutveckling",
	"Rottneros Röda Kors Demo", "Sifferbo Solidaritet",
}

// Seed loads the story unless it is there; it reports whether it loaded.
func Seed(ctx context.Context, a *app.App, p Progress) (bool, error) {
	existing, err := a.Services.Registry.Agreements(ctx)
	if err != nil {
		return false, err
	}
	for _, ag := range existing {
		if ag.Name == AgreementName {
			return false, nil
		}
	}
	story := clock.NewTest(time.Date(2018, 1, 10, 9, 0, 0, 0, clock.Stockholm))
	eng := workflows.New(a.DB, a.Services.Policy, story, a.Logger())
	eng.SetJobClient(a.River)
	sign, err := signing.NewService(eng)
	if err != nil {
		return false, err
	}
	reg := registry.New(a.DB, a.Services.Policy, story, a.Logger())

	people := map[string]authz.Principal{}
	for i, person := range People {
		id, err := a.Grant(ctx, person.Subject, person.Name, person.Role, person.Scope)
		if err != nil {
			return false, err
		}
		if err := store.SetUserEmail(ctx, a.DB.Pool, id, person.Subject+"@example.org"); err != nil {
			return false, err
		}
		people[person.Subject] = authz.Principal{UserID: id, Name: person.Name}
		p.Step("people", i+1, len(People))
	}
	official := people["demo-official"]

	region, _, err := reg.RegisterOrganisation(ctx, official, registry.OrganisationInput{Name: "Region Värmland",
		OrganisationNumber: "232100-0156", LegalForm: "other", Sector: registry.SectorPublic, Municipality: "Karlstad",
		Website: "https://www.regionvarmland.se"})
	if err != nil {
		return false, err
	}
	story.AdvanceTo(time.Date(2018, 1, 30, 15, 0, 0, 0, clock.Stockholm))
	_, v1, err := reg.CreateAgreement(ctx, official, AgreementName, region.ID, registry.VersionInput{
		Title:     "Överenskommelse om samverkan mellan Region Värmland och den idéburna sektorn i Värmland",
		Body:      "Överenskommelsen är en avsiktsförklaring för långsiktig samverkan inom det sociala området, byggd på principerna dialog, kvalitet, mångfald, självständighet och öppenhet.",
		AdoptedOn: time.Date(2018, 1, 30, 0, 0, 0, 0, time.UTC), DecisionReference: "Landstingsstyrelsen 2018-01-30 (demo)",
		ScopeNote: "Det sociala området / the social area",
	})
	if err != nil {
		return false, err
	}
	story.AdvanceTo(time.Date(2018, 2, 5, 10, 0, 0, 0, clock.Stockholm))
	ceremony, err := sign.CreateCeremony(ctx, official, signing.CeremonyInput{AgreementVersionID: v1.ID,
		Title: "Signeringsceremoni för Överenskommelsen", HeldOn: time.Date(2018, 4, 20, 0, 0, 0, 0, time.UTC), Place: "Karlstad"})
	if err != nil {
		return false, err
	}

	var instances []*store.Instance
	var reps []authz.Principal
	for i, name := range names {
		if i == 35 {
			story.AdvanceTo(time.Date(2018, 4, 20, 10, 0, 0, 0, clock.Stockholm))
			for _, in := range instances {
				if _, err := eng.Fire(ctx, workflows.FireParams{InstanceID: in.ID, Transition: "sign_at_ceremony", Actor: authz.SystemPrincipal}); err != nil {
					return false, err
				}
			}
			story.AdvanceTo(time.Date(2018, 9, 3, 10, 0, 0, 0, clock.Stockholm))
		}
		story.Advance(time.Hour)
		subject := fmt.Sprintf("demo-rep-%02d", i+1)
		// The registrant asks to represent the organisation; the official confirms.
		rep, err := a.EnsureUser(ctx, subject, "Företrädare för "+name)
		if err != nil {
			return false, err
		}
		if err := store.SetUserEmail(ctx, a.DB.Pool, rep, subject+"@example.org"); err != nil {
			return false, err
		}
		pr := authz.Principal{UserID: rep, Name: "Företrädare för " + name}
		in, err := register(ctx, reg, sign, pr, official, i, name, v1.ID)
		if err != nil {
			return false, err
		}
		if i < 35 {
			_, err = sign.AttachToCeremony(ctx, official, workflows.Step{ID: in.ID}, ceremony.ID)
		} else {
			_, err = sign.Sign(ctx, pr, workflows.Step{ID: in.ID})
		}
		if err != nil {
			return false, err
		}
		instances = append(instances, in)
		reps = append(reps, pr)
		p.Step("organisations", i+1, len(names))
	}
	story.AdvanceTo(time.Date(2018, 11, 12, 14, 0, 0, 0, clock.Stockholm))
	if _, err := sign.Withdraw(ctx, reps[7], workflows.Step{ID: instances[7].ID,
		Reason: "Föreningen har gått samman med en annan förening. (demo)"}); err != nil {
		return false, err
	}
	// The follow-up of 2018 opens in January 2019; its timers fire on the
	// story's dates: collecting starts, the council is reminded of the
	// report deadline and the officials told it passed, by e-mail
	// (./var/mail without an SMTP server).
	story.AdvanceTo(time.Date(2019, 1, 15, 6, 0, 0, 0, clock.Stockholm))
	schedule, err := followup.ScheduleFrom(a.Config())
	if err != nil {
		return false, err
	}
	fu, err := followup.NewService(eng, schedule)
	if err != nil {
		return false, err
	}
	in, err := fu.Open(ctx, official, v1.ID, 2018)
	if err != nil {
		return false, err
	}
	if err := runTimers(ctx, a, eng, story, in.ID, 3); err != nil {
		return false, err
	}
	return true, nil
}

// runTimers fires the instance's next n timers at their moments on the
// story's clock (River would fire them at today's date, too late for a
// reminder).
func runTimers(ctx context.Context, a *app.App, eng *workflows.Engine, story *clock.Test, id uuid.UUID, n int) error {
	w := &workflows.TimerWorker{Engine: eng}
	for range n {
		in, err := store.GetInstance(ctx, a.DB.Pool, id)
		if err != nil {
			return err
		}
		timers, err := store.PendingTimers(ctx, a.DB.Pool, id, in.Round)
		if err != nil || len(timers) == 0 {
			return err
		}
		story.AdvanceTo(timers[0].FireAt)
		if err := w.Work(ctx, &river.Job[workflows.TimerArgs]{JobRow: &rivertype.JobRow{}, Args: workflows.TimerArgs{TimerID: timers[0].ID}}); err != nil {
			return err
		}
	}
	return nil
}

func register(ctx context.Context, reg *registry.Service, sign *signing.Service, rep, official authz.Principal, i int, name string, version uuid.UUID) (*store.Instance, error) {
	legal := []string{"ideell_forening", "ideell_forening", "stiftelse", "kooperativ", "ekonomisk_forening", "natverk", "trossamfund"}[i%7]
	o, claim, err := reg.RegisterOrganisation(ctx, rep, registry.OrganisationInput{Name: name, OrganisationNumber: Number(i + 1),
		LegalForm: legal, Sector: registry.SectorIdeaBased, Municipality: "Värmland",
		Description: "Invented organisation of the demo story.", ContactEmail: fmt.Sprintf("kontakt%02d@example.org", i+1)})
	if err != nil {
		return nil, err
	}
	// The official confirms that the registrant represents it.
	if _, err := reg.ConfirmRepresentation(ctx, official, claim.ID, ""); err != nil {
		return nil, err
	}
	in, err := sign.Apply(ctx, rep, o.ID, version, signing.Declarations{RegionalPerspective: true, DemocraticValues: true, Independent: true})
	if err != nil {
		return nil, err
	}
	if _, err := sign.StartReview(ctx, official, workflows.Step{ID: in.ID}); err != nil {
		return nil, err
	}
	return sign.Approve(ctx, official, workflows.Step{ID: in.ID}, signing.Eligibility{RegionalPerspective: true, DemocraticValues: true, Independent: true})
}

// Number is the n-th invented organisation number of an ideell förening
// (802xxx-xxxx with a valid check digit).
func Number(n int) string { return orgnr.Complete(fmt.Sprintf("8029%05d", n)).String() }
