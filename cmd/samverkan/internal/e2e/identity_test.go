package e2e_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/app"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/token"
)

const viewerQuery = `{ viewer { user { name email } roles { role scope } } }`

func TestViewerAndRoleAssignmentIsAudited(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	admin := env.NewUser("Ada Admin", "admin@*")
	anna := env.NewUser("Anna Andersson")

	var v struct {
		Viewer struct {
			User  *struct{ Name, Email string }
			Roles []struct{ Role, Scope string }
		}
	}
	env.MustDo(nil, viewerQuery, nil, &v)
	require.Nil(t, v.Viewer.User, "the anonymous viewer has no user")

	env.MustDo(anna, viewerQuery, nil, &v)
	require.Equal(t, "Anna Andersson", v.Viewer.User.Name)
	require.Empty(t, v.Viewer.Roles)

	env.MustDo(admin, `mutation($u: ID!) { assignRole(input: {userId: $u, role: REGION_OFFICIAL, scope: "region"}) { assignment { role scope user { name } } } }`,
		map[string]any{"u": userGID(anna)}, nil)
	env.MustDo(anna, viewerQuery, nil, &v)
	require.Equal(t, []struct{ Role, Scope string }{{"REGION_OFFICIAL", "region"}}, v.Viewer.Roles)

	// Assigning a role twice, a role in a scope it cannot hold, and an
	// unknown person are refused with their codes.
	env.MustFail(admin, "CONFLICT", `mutation($u: ID!) { assignRole(input: {userId: $u, role: REGION_OFFICIAL, scope: "region"}) { assignment { role } } }`,
		map[string]any{"u": userGID(anna)})
	e := env.MustFail(admin, "BAD_INPUT", `mutation($u: ID!) { assignRole(input: {userId: $u, role: ADMIN, scope: "region"}) { assignment { role } } }`,
		map[string]any{"u": userGID(anna)})
	require.Contains(t, e.Message, "cannot hold in scope")
	env.MustFail(admin, "NOT_FOUND", `mutation($u: ID!) { assignRole(input: {userId: $u, role: REGION_OFFICIAL, scope: "region"}) { assignment { role } } }`,
		map[string]any{"u": gid("User", uuid.New())})

	env.MustDo(admin, `mutation($u: ID!) { revokeRole(input: {userId: $u, role: REGION_OFFICIAL, scope: "region"}) { assignment { role } } }`,
		map[string]any{"u": userGID(anna)}, nil)
	env.MustDo(anna, viewerQuery, nil, &v)
	require.Empty(t, v.Viewer.Roles)

	// Both changes are in the append-only history with who and when.
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM history_events WHERE stream = 'roles' AND kind = 'role_assigned'
		AND actor_id = $1 AND input->>'userId' = $2 AND input->>'role' = 'region_official'`, admin.ID, anna.ID.String()))
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM history_events WHERE stream = 'roles' AND kind = 'role_revoked' AND actor_id = $1`, admin.ID))

	var all struct {
		RoleAssignments []struct {
			Role string
			User struct{ Name string }
		}
	}
	env.MustDo(admin, `{ roleAssignments { role user { name } } }`, nil, &all)
	require.Contains(t, all.RoleAssignments, struct {
		Role string
		User struct{ Name string }
	}{"ADMIN", struct{ Name string }{"Ada Admin"}})
	env.MustFail(anna, "FORBIDDEN", `{ roleAssignments { role } }`, nil)
	env.MustFail(nil, "UNAUTHENTICATED", `{ roleAssignments { role } }`, nil)
}

func TestBadTokensAreUnauthenticated(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	good := env.NewUser("Gunnar Giltig")

	expired, err := env.Keys.Sign(token.TokenRequest{Subject: "x", TTL: time.Hour, Now: env.Clock.Now().Add(-2 * time.Hour)})
	require.NoError(t, err)
	future, err := env.Keys.Sign(token.TokenRequest{Subject: "x", TTL: time.Hour, Now: env.Clock.Now().Add(24 * time.Hour)})
	require.NoError(t, err)
	parts := strings.Split(good.Token, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	other, err := token.LoadOrCreateDevIssuer(t.TempDir())
	require.NoError(t, err)
	unknownKey, err := other.Sign(token.TokenRequest{Subject: "x", Now: env.Clock.Now()})
	require.NoError(t, err)
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."

	for name, tok := range map[string]string{"expired": expired, "not yet valid": future, "tampered": tampered,
		"unknown key": unknownKey, "alg none": none, "garbage": "not-a-token"} {
		r := env.Do(&apptest.User{Token: tok}, viewerQuery, nil)
		require.Equal(t, 401, r.Status, name)
		require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code(), name)
		require.NotContains(t, r.Errors[0].Message, tok, "the token is not echoed")
	}
	r := env.Do(good, viewerQuery, nil)
	require.Empty(t, r.Errors)
}

func TestDevTokensRefusedWhenDevModeIsOff(t *testing.T) {
	t.Parallel()
	dev := apptest.Start(t, apptest.Options{})
	u := dev.NewUser("Dora Dev")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := config.MustDefaults()
	cfg.DatabaseURL, cfg.DataDir, cfg.Dev, cfg.Workers, cfg.ShutdownTimeout, cfg.LogFormat = dev.DB.URL, t.TempDir(), false, 2, 5*time.Second, "text"
	a, err := app.Open(context.Background(), app.Options{Config: cfg, Mode: app.ModeAPI, Logger: slog.New(slog.DiscardHandler), Listener: ln})
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() { _ = a.Close() })
	prod := &apptest.Env{T: t, URL: "http://" + a.Addr()}
	r := prod.Do(u, viewerQuery, nil)
	require.Equal(t, 401, r.Status)
	require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code())
}

// Two servers on one database: a role revoked through A is refused by B
// within a second.
func TestRoleRevocationReachesTheOtherInstanceWithinASecond(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t, apptest.Options{})
	b := apptest.Start(t, apptest.Options{DB: a.DB, DataDir: a.App.DataDir(), Mode: app.ModeAPI})
	admin := a.NewUser("Ada Admin", "admin@*")
	official := a.NewUser("Olle Official", "region_official@region")
	var reg struct {
		RegisterOrganisation struct{ Organisation struct{ ID string } }
	}
	a.MustDo(official, registerOrg, map[string]any{"o": map[string]any{"name": "Region Värmland", "organisationNumber": "232100-0156",
		"legalForm": "OTHER", "sector": "PUBLIC"}}, &reg)
	body := map[string]any{"body": reg.RegisterOrganisation.Organisation.ID}
	// B learns of the grant made through A.
	require.Eventually(t, func() bool { return len(b.Do(official, createAgreement, body).Errors) == 0 },
		time.Second, 5*time.Millisecond, "instance B does not know the granted role")

	a.MustDo(admin, `mutation($u: ID!) { revokeRole(input: {userId: $u, role: REGION_OFFICIAL, scope: "region"}) { assignment { role } } }`,
		map[string]any{"u": userGID(official)}, nil)
	revoked := time.Now()
	require.Eventually(t, func() bool {
		r := b.Do(official, createAgreement, body)
		return len(r.Errors) > 0 && r.Errors[0].Code() == "FORBIDDEN"
	}, time.Second, 5*time.Millisecond, "instance B still honours the revoked role")
	t.Logf("revocation reached instance B after %v", time.Since(revoked))
}

// An OIDC access token often carries neither name nor e-mail. Signing in
// with one keeps the name and e-mail an earlier token gave, and the admin
// still finds the person by name; a token that carries a new name changes it.
func TestTokenWithoutProfileClaimsKeepsNameAndEmail(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	admin := env.NewUser("Ada Admin", "admin@*")
	sign := func(name, email string) *apptest.User {
		tok, err := env.Keys.Sign(token.TokenRequest{Subject: "berit-7", Name: name, Email: email, TTL: time.Hour, Now: env.Clock.Now()})
		require.NoError(t, err)
		return &apptest.User{Subject: "berit-7", Token: tok}
	}
	type user struct{ Name, Email string }
	var v struct{ Viewer struct{ User *user } }
	env.MustDo(sign("Berit Bengtsson", "berit@example.org"), viewerQuery, nil, &v)
	require.Equal(t, &user{"Berit Bengtsson", "berit@example.org"}, v.Viewer.User)

	for _, bare := range []*apptest.User{sign("", ""), sign("", "berit@example.org"), sign("Berit Bengtsson", "")} {
		env.MustDo(bare, viewerQuery, nil, &v)
		require.Equal(t, &user{"Berit Bengtsson", "berit@example.org"}, v.Viewer.User, "the token left a claim out")
		var found struct{ Users []user }
		env.MustDo(admin, `{ users(search: "Bengtsson") { name email } }`, nil, &found)
		require.Equal(t, []user{{"Berit Bengtsson", "berit@example.org"}}, found.Users)
	}
	require.Equal(t, 1, env.Count(`SELECT count(*) FROM users WHERE subject = 'berit-7' AND name = 'Berit Bengtsson' AND email = 'berit@example.org'`))

	env.MustDo(sign("Berit Lind", ""), viewerQuery, nil, &v)
	require.Equal(t, &user{"Berit Lind", "berit@example.org"}, v.Viewer.User, "a name the token carries is taken")
	env.MustDo(sign("", ""), viewerQuery, nil, &v)
	require.Equal(t, &user{"Berit Lind", "berit@example.org"}, v.Viewer.User)
}
