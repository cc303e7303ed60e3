package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/internal/token"
	"github.com/samverkan/samverkan/internal/web"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/signing"
)

// benchRep is the person the benchmark registers organisations as, to
// measure the representative's pages.
const benchRepSubject, benchRepName = "bench-web-rep", "Rita Representant (bench)"

// BenchmarkPages renders the web pages over HTTP against the bench dataset
// (5 % scale, as BenchmarkReads), reporting statements per page: the
// public pages, and the signed-in pages of the bench official (tasks,
// notifications, an application's page) and of a representative of ten
// organisations with an application each (my organisations, tasks).
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	db := testdb.New(b)
	sc := DefaultScale().Percent(5)
	s := newSeeder(db.Pool, sc, noProgress{}, time.Now())
	counter := &statementCounter{}
	srv, _, err := startInProc(ctx, b.TempDir(), db.URL, counter,
		web.DevPerson{Subject: officialSubject, Name: officialName, Role: authz.RoleRegionOfficial},
		web.DevPerson{Subject: benchRepSubject, Name: benchRepName, Role: authz.RoleSectorRepresentative})
	require.NoError(b, err)
	b.Cleanup(func() { _ = srv.Stop() })
	_, err = s.seed(ctx, srv.app.Grant)
	require.NoError(b, err)
	application := applications(b, srv.app, 10)
	_, err = db.Pool.Exec(ctx, `VACUUM ANALYZE`)
	require.NoError(b, err)
	visitor := &pageClient{b: b, base: srv.URL(), c: http.DefaultClient}
	org := regexp.MustCompile(`href="(/organisations/[0-9a-f-]{36})"`).FindStringSubmatch(visitor.get("/signatories"))
	require.NotNil(b, org, "the signatory list links to organisations")
	official, rep := signIn(b, srv.URL(), officialSubject), signIn(b, srv.URL(), benchRepSubject)
	require.Eventually(b, func() bool { return strings.Contains(official.get("/notifications"), `<li class="notification`) },
		30*time.Second, 100*time.Millisecond, "the notices are delivered")
	for _, p := range []struct {
		name, path string
		as         *pageClient
	}{
		{"start", "/", visitor}, {"signatories", "/signatories", visitor}, {"signatories-page-3", "/signatories?page=3", visitor},
		{"organisation", org[1], visitor}, {"annual-reports", "/annual-reports", visitor}, {"revision", "/revision", visitor},
		{"partnerships", "/partnerships", visitor}, {"history", "/history", visitor}, {"history-digest", "/history/digest", visitor},
		{"official-tasks", "/tasks", official}, {"official-notifications", "/notifications", official},
		{"official-instance", "/instances/" + application.String(), official},
		{"rep-my-organisations", "/my-organisations", rep}, {"rep-tasks", "/tasks", rep},
	} {
		b.Run(p.name, func(b *testing.B) {
			before := counter.n.Load()
			for b.Loop() {
				p.as.get(p.path)
			}
			b.ReportMetric(float64(counter.n.Load()-before)/float64(b.N), "statements/op")
		})
	}
}

// applications has the bench representative register n organisations,
// which the bench official confirms; each applies to sign, the official
// asks every other one for more information, and a notice about each goes
// to the Region's officials. It returns an application with a history of
// three events.
func applications(b *testing.B, a *app.App, n int) uuid.UUID {
	ctx := context.Background()
	svc := a.Services
	repID, err := a.EnsureUser(ctx, benchRepSubject, benchRepName)
	require.NoError(b, err)
	rep := authz.Principal{UserID: repID, Name: benchRepName}
	officialID, err := a.EnsureUser(ctx, officialSubject, officialName)
	require.NoError(b, err)
	official := authz.Principal{UserID: officialID, Name: officialName}
	// Notices reach people with an e-mail address.
	require.NoError(b, store.UpsertUser(ctx, a.DB.Pool, &store.User{Issuer: token.DevIssuer, Subject: officialSubject, Name: officialName,
		Email: "bench-official@example.org"}))
	versions, err := svc.Registry.CurrentVersions(ctx)
	require.NoError(b, err)
	var asked uuid.UUID
	for i := range n {
		o, claim, err := svc.Registry.RegisterOrganisation(ctx, rep, registry.OrganisationInput{
			Name: fmt.Sprintf("Bänkföreningen %02d", i+1), OrganisationNumber: orgNumber("809", i), LegalForm: "ideell_forening",
			Sector: registry.SectorIdeaBased, Municipality: "Filipstad", ContactEmail: "bank@example.org"})
		require.NoError(b, err)
		_, err = svc.Registry.ConfirmRepresentation(ctx, official, claim.ID, "")
		require.NoError(b, err)
		in, err := svc.Signing.Apply(ctx, rep, o.ID, versions[0].ID, signing.Declarations{RegionalPerspective: true, DemocraticValues: true, Independent: true})
		require.NoError(b, err)
		if i%2 == 0 {
			_, err = svc.Signing.StartReview(ctx, official, workflows.Step{ID: in.ID})
			require.NoError(b, err)
			_, err = svc.Signing.RequestInformation(ctx, official, workflows.Step{ID: in.ID, Reason: "Skicka stadgarna."})
			require.NoError(b, err)
			asked = in.ID
		}
		require.NoError(b, store.InsertNotification(ctx, a.DB.Pool, &store.Notification{
			DedupeKey: "bench-pages:" + in.ID.String(), InstanceID: &in.ID, RecipientRole: authz.RoleRegionOfficial, Kind: "notice",
			Subject: "Ny ansökan / New application", Body: "En ansökan väntar. / An application waits.", CreatedAt: time.Now()}))
	}
	return asked
}

// pageClient GETs pages, signed in when its client carries a session.
type pageClient struct {
	b    *testing.B
	base string
	c    *http.Client
}

func (p *pageClient) get(path string) string {
	resp, err := p.c.Get(p.base + path)
	if err != nil {
		p.b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != strings.SplitN(path, "?", 2)[0] {
		p.b.Fatalf("%s: %d at %s", path, resp.StatusCode, resp.Request.URL.Path)
	}
	return string(body)
}

// signIn signs a dev person in through the sign-in form.
func signIn(b *testing.B, base, subject string) *pageClient {
	jar, err := cookiejar.New(nil)
	require.NoError(b, err)
	p := &pageClient{b: b, base: base, c: &http.Client{Jar: jar}}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(p.get("/sign-in"))
	require.NotNil(b, m)
	resp, err := p.c.PostForm(base+"/sign-in/dev", url.Values{"csrf": {m[1]}, "person": {subject}, "next": {"/tasks"}})
	require.NoError(b, err)
	resp.Body.Close()
	require.Equal(b, "/tasks", resp.Request.URL.Path, "signed in")
	return p
}
