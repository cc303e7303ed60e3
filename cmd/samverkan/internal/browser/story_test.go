package browser_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/e2e/client"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/token"
)

func at(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, clock.Stockholm)
}

func gid(typ string, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id.String()))
}

func as(env *apptest.Env, u *apptest.User) graphql.Client {
	if u == nil {
		return client.New(env.URL, "")
	}
	return client.New(env.URL, u.Token)
}

// demoRep is the demo story's representative of its n-th organisation.
func demoRep(t *testing.T, env *apptest.Env, n int) *apptest.User {
	subject := fmt.Sprintf("demo-rep-%02d", n)
	tok, err := env.Keys.Sign(token.TokenRequest{Subject: subject, Name: subject, Email: subject + "@example.org",
		TTL: 20 * 365 * 24 * time.Hour, Now: env.Clock.Now()})
	require.NoError(t, err)
	return &apptest.User{Subject: subject, Name: subject, Token: tok}
}

// published is what the story puts on the public pages.
type published struct {
	version      string
	firstOrg     uuid.UUID
	partnership  string
	reportTitles []string
}

// startStory boots the demo and lives on through the public GraphQL API
// from 2018 into February 2022: follow-ups of 2018–2020 with two
// indicators and published annual reports, an IOP agreed with one of the
// signatories, and the five-year revision out on consultation with two
// comments, one answered.
func startStory(t *testing.T, o apptest.Options) (*apptest.Env, published) {
	t.Helper()
	env := startDemo(t, o)
	ctx := context.Background()
	official := env.NewUser("Olle Official", "region_official@region")
	region := env.NewUser("Rune Rådsledamot", "council_member@region")
	sector := env.NewUser("Siv Sektorsledamot", "council_member@sector")
	politician := env.NewUser("Petra Politiker", "region_politician@region")
	ag, err := client.Agreements(ctx, as(env, nil))
	require.NoError(t, err)
	var pub published
	pub.version = ag.Agreements[0].CurrentVersion.Id

	orgs, err := env.App.Services.Registry.ListOrganisations(ctx, store.OrganisationPage{Limit: 100})
	require.NoError(t, err)
	byName := map[string]uuid.UUID{}
	for _, o := range orgs {
		byName[o.Name] = o.ID
	}
	pub.firstOrg = byName["Föreningen Solrosen"]

	plan := func(year int) []client.ActivityInput {
		return []client.ActivityInput{
			{Title: fmt.Sprintf("Vårkonferens %d under folkhälsoveckan", year+1), Quarters: []int{2}, Responsible: client.PartyBoth,
				Principles: []client.Principle{client.PrincipleDialog, client.PrincipleOppenhet},
				Indicators: []client.IndicatorInput{{Name: "Deltagare på vårkonferensen", Unit: "personer", Target: new(150.0)}}},
			{Title: "Nätverksträffar", Quarters: []int{1, 2, 3, 4}, Responsible: client.PartySector,
				Principles: []client.Principle{client.PrincipleMangfald},
				Indicators: []client.IndicatorInput{{Name: "Nätverksträffar", Unit: "st", Target: new(4.0)}}},
		}
	}
	_, err = client.CreateActionPlan(ctx, as(env, official), pub.version, 2018, plan(2017))
	require.NoError(t, err)
	followUp := func(year int) client.FollowUp {
		var found *client.FollowUp
		require.Eventually(t, func() bool {
			r, err := client.FollowUps(ctx, as(env, official), pub.version)
			require.NoError(t, err)
			for _, f := range r.Node.(*client.FollowUpsNodeAgreementVersion).FollowUps {
				if f.Year == year {
					found = &f
					return true
				}
			}
			return false
		}, 10*time.Second, 50*time.Millisecond)
		return *found
	}
	report := func(u *apptest.User, f client.FollowUp, activity int, value float64) {
		a := f.ActionPlan.Activities[activity]
		_, err := client.SubmitActivityReport(ctx, as(env, u), f.Instance.Id, a.Id, "Genomförd enligt plan.",
			[]client.IndicatorValueInput{{IndicatorId: a.Indicators[0].Id, Value: value}})
		require.NoError(t, err)
	}
	// Each party reports its own participants; the public page shows the sum.
	participants := map[int]float64{2018: 120, 2019: 164, 2020: 45}
	regionShare := map[int]float64{2018: 70, 2019: 94, 2020: 25}
	for year := 2018; year <= 2020; year++ {
		env.AdvanceTo(at(year+1, 1, 15, 7))
		followUp(year) // opened by the periodic job; reporting starts a week later
		env.AdvanceTo(at(year+1, 1, 23, 9))
		f := followUp(year)
		require.Equal(t, "collecting_reports", f.Instance.State)
		report(official, f, 0, regionShare[year])
		report(sector, f, 0, participants[year]-regionShare[year])
		report(sector, f, 1, float64(4+year-2018))
		_, err := client.SubmitFollowUpToCouncil(ctx, as(env, official), f.Instance.Id, "")
		require.NoError(t, err)
		for _, u := range []*apptest.User{region, sector} {
			_, err := client.Approve(ctx, as(env, u), f.Instance.Id, "council_approve")
			require.NoError(t, err)
		}
		title := fmt.Sprintf("Årsberättelse %d", year)
		_, err = client.PublishAnnualReport(ctx, as(env, official), f.Instance.Id, title,
			"Året i korthet: vårkonferensen, nätverksträffar i länets alla delar.\n\nRådet för idéburna följde upp handlingsplanen.")
		require.NoError(t, err)
		pub.reportTitles = append(pub.reportTitles, title)
		_, err = client.AdoptNextActivityPlan(ctx, as(env, region), f.Instance.Id, plan(year))
		require.NoError(t, err)
	}

	// An IOP between the Region and a signatory, agreed in 2021.
	env.AdvanceTo(at(2021, 2, 1, 9))
	rep := demoRep(t, env, 1)
	publicBody := gid("Organisation", byName["Region Värmland"])
	p, err := client.ProposePartnership(ctx, as(env, rep), "Läxhjälp i Värmland", "Fler unga klarar skolan.", publicBody,
		[]string{gid("Organisation", pub.firstOrg)}, "2021-04-01", "2024-03-31", 3, []client.ContributionInput{
			{OrganisationId: publicBody, Year: 2021, Kind: client.ContributionKindMoney, Amount: "1250000"},
			{OrganisationId: gid("Organisation", pub.firstOrg), Year: 2021, Kind: client.ContributionKindVolunteerHours, Amount: "800"},
		})
	require.NoError(t, err)
	pub.partnership = p.ProposePartnership.Partnership.Id
	_, err = client.StartPartnershipAssessment(ctx, as(env, official), pub.partnership)
	require.NoError(t, err)
	_, err = client.AssessPartnership(ctx, as(env, official), pub.partnership, false, false, false, true)
	require.NoError(t, err)
	_, err = client.AddPartnershipDraft(ctx, as(env, rep), pub.partnership, "Avtalstext.")
	require.NoError(t, err)
	_, err = client.SubmitPartnershipForDecision(ctx, as(env, rep), pub.partnership)
	require.NoError(t, err)
	_, err = client.ApprovePartnership(ctx, as(env, politician), pub.partnership)
	require.NoError(t, err)
	_, err = client.ApprovePartnership(ctx, as(env, rep), pub.partnership)
	require.NoError(t, err)

	// The revision, out on consultation until 31 March 2022.
	env.AdvanceTo(at(2021, 9, 1, 9))
	open, err := client.OpenRevision(ctx, as(env, official), pub.version)
	require.NoError(t, err)
	rev := open.OpenRevision.Instance.Id
	for range 3 {
		_, err := client.AdvanceRevision(ctx, as(env, official), rev)
		require.NoError(t, err)
	}
	_, err = client.AddRevisionDraft(ctx, as(env, official), rev, "Överenskommelsen, förslag 2022",
		"Överenskommelsen gäller hela den idéburna sektorn i Värmland.\n\nParterna möts i dialog minst fyra gånger om året.")
	require.NoError(t, err)
	env.AdvanceTo(at(2022, 1, 10, 9))
	_, err = client.OpenConsultationRound(ctx, as(env, official), rev, at(2022, 3, 31, 23))
	require.NoError(t, err)
	env.AdvanceTo(at(2022, 2, 1, 9))
	var comments []string
	for i, n := range []int{1, 2} {
		c, err := client.SubmitConsultationComment(ctx, as(env, demoRep(t, env, n)), rev, gid("Organisation", byName[demoNames[n-1]]),
			fmt.Sprintf("%d", i+2), "Lyft fram självständigheten tydligare.")
		require.NoError(t, err)
		comments = append(comments, c.SubmitConsultationComment.Comment.Id)
	}
	_, err = client.RespondToComment(ctx, as(env, region), comments[0], "Tack, vi har förtydligat avsnittet.")
	require.NoError(t, err)
	return env, pub
}

// demoNames are the first of the demo story's organisations.
var demoNames = []string{"Föreningen Solrosen", "Klarälvens Vänner"}
