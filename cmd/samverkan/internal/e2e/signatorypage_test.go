package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/store"
)

// The public list pages the same with or without the edges' cursors asked
// for: every edge's cursor, and the page's endCursor, continue the list
// right after it. A page costs one statement more than the version alone
// (the page brings the organisations along), whichever organisation fields are
// asked for.
func TestSignatoryPagesWithAndWithoutEdgeCursors(t *testing.T) {
	t.Parallel()
	counter := &statementCounter{}
	env := apptest.Start(t, apptest.Options{QueryTracer: counter})
	official := env.NewUser("Olle Official", "region_official@region")
	ctx := context.Background()
	now := env.Clock.Now()
	v := storeAgreementVersion(t, env, storeRegion(t, env).ID)
	adopted := v.AdoptedOn
	for i := range 23 {
		o := &store.Organisation{Name: fmt.Sprintf("Förening %02d", 23-i), OrganisationNumber: fmt.Sprintf("80200%05d", i), LegalForm: "ideell_forening",
			Sector: "idea_based", Municipality: "Arvika", Description: fmt.Sprintf("Om förening %02d", 23-i), CreatedAt: now}
		require.NoError(t, store.InsertOrganisation(ctx, env.DB.Pool, o))
		require.NoError(t, store.InsertSignatory(ctx, env.DB.Pool, &store.Signatory{AgreementVersionID: v.ID, OrganisationID: o.ID,
			SignedOn: adopted.AddDate(0, 0, i/8), How: "direct", CreatedAt: now}))
	}
	type page struct {
		Node struct {
			Signatories struct {
				Edges []struct {
					Cursor string
					Node   struct {
						Organisation struct{ Name, OrganisationNumber, Municipality, Description string }
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
	}
	statements := func(query string, vars map[string]any, out any) int64 {
		t.Helper()
		before := counter.n.Load()
		env.MustDo(official, query, vars, out)
		return counter.n.Load() - before
	}
	// The version alone (and what signing in costs, once the first
	// request has met the user).
	var version struct{ Node struct{ ID string } }
	statements(`query($v: ID!) { node(id: $v) { id } }`, map[string]any{"v": gid("AgreementVersion", v.ID)}, &version)
	base := statements(`query($v: ID!) { node(id: $v) { id } }`, map[string]any{"v": gid("AgreementVersion", v.ID)}, &version)
	read := func(query string, after any) page {
		t.Helper()
		var out page
		n := statements(query, map[string]any{"v": gid("AgreementVersion", v.ID), "after": after}, &out)
		require.Equal(t, base+1, n, "statements for a page: the version's and one")
		return out
	}
	const (
		withCursors = `query($v: ID!, $after: String) { node(id: $v) { ... on AgreementVersion { signatories(first: 5, after: $after) {
			edges { cursor node { organisation { name organisationNumber municipality } } } pageInfo { hasNextPage endCursor } } } } }`
		withoutCursors = `query($v: ID!, $after: String) { node(id: $v) { ... on AgreementVersion { signatories(first: 5, after: $after) {
			edges { node { organisation { name description } } } pageInfo { hasNextPage endCursor } } } } }`
	)
	// Signed over three days, eight a day, each day in order of name.
	var want []string
	for day := range 3 {
		for i := min(23, 8*(day+1)) - 1; i >= 8*day; i-- {
			want = append(want, fmt.Sprintf("Förening %02d", 23-i))
		}
	}
	walk := func(query string) (names []string, cursors []string) {
		var after any
		for pages := 0; pages < 10; pages++ {
			p := read(query, after).Node.Signatories
			for _, e := range p.Edges {
				names = append(names, e.Node.Organisation.Name)
				cursors = append(cursors, e.Cursor)
			}
			if !p.PageInfo.HasNextPage {
				return names, cursors
			}
			require.NotEmpty(t, p.PageInfo.EndCursor)
			after = p.PageInfo.EndCursor
		}
		t.Fatal("the list does not end")
		return nil, nil
	}
	names, cursors := walk(withCursors)
	require.Equal(t, want, names)
	plain, none := walk(withoutCursors)
	require.Equal(t, want, plain)
	for _, c := range none {
		require.Empty(t, c, "no cursor asked for, none built")
	}
	for i, c := range cursors[:len(cursors)-1] {
		require.NotEmpty(t, c)
		next := read(withoutCursors, c).Node.Signatories.Edges
		require.Equal(t, want[i+1], next[0].Node.Organisation.Name, "the edge's cursor continues the list after it")
	}
	first := read(withCursors, nil).Node.Signatories.Edges[0].Node.Organisation
	require.Equal(t, "802000-0007", first.OrganisationNumber)
	require.Equal(t, "Arvika", first.Municipality)
	desc := read(withoutCursors, nil).Node.Signatories.Edges[0].Node.Organisation
	require.Equal(t, "Om förening "+desc.Name[len("Förening "):], desc.Description, "the description comes along when asked for")

	// A cursor that is not one of ours is the field's bad input, whether
	// or not the version's read would have brought the page along.
	for _, forged := range []string{"not-a-cursor", gid("Signatory", v.ID)} {
		e := env.MustFail(official, "BAD_INPUT", withCursors, map[string]any{"v": gid("AgreementVersion", v.ID), "after": forged})
		require.Contains(t, e.Message, "Ogiltig markör")
	}
}

// Every signatory the API hands out names its organisation, however it is
// reached and however the organisation is asked for: a version's list (by
// id, and from the agreement's versions, with the organisation in a
// fragment), and an organisation's signatures (the organisation is the
// parent, so it comes with no list page at all).
func TestEverySignatoryNamesItsOrganisation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	now := env.Clock.Now()
	v := storeAgreementVersion(t, env, storeRegion(t, env).ID)
	adopted := v.AdoptedOn
	org := &store.Organisation{Name: "Gläntan", OrganisationNumber: "8020000001", LegalForm: "ideell_forening", Sector: "idea_based",
		Municipality: "Arvika", Description: "Om Gläntan", CreatedAt: now}
	require.NoError(t, store.InsertOrganisation(ctx, env.DB.Pool, org))
	require.NoError(t, store.InsertSignatory(ctx, env.DB.Pool, &store.Signatory{AgreementVersionID: v.ID, OrganisationID: org.ID,
		SignedOn: adopted, How: "direct", CreatedAt: now}))

	var byVersion struct {
		Node struct {
			Signatories struct {
				Edges []struct {
					Node struct {
						Organisation struct{ Name, Description string }
					}
				}
			}
		}
	}
	env.MustDo(nil, `query($v: ID!) { node(id: $v) { ... on AgreementVersion { signatories(first: 5) { edges { node { ...S } } } } } }
		fragment S on Signatory { organisation { name description } }`, map[string]any{"v": gid("AgreementVersion", v.ID)}, &byVersion)
	require.Len(t, byVersion.Node.Signatories.Edges, 1)
	require.Equal(t, "Gläntan", byVersion.Node.Signatories.Edges[0].Node.Organisation.Name)
	require.Equal(t, "Om Gläntan", byVersion.Node.Signatories.Edges[0].Node.Organisation.Description)

	var fromAgreements struct {
		Agreements []struct {
			Versions []struct {
				Signatories struct {
					Edges []struct {
						Node struct{ Organisation struct{ Name string } }
					}
				}
			}
		}
	}
	env.MustDo(nil, `{ agreements { versions { signatories(first: 5) { edges { node { organisation { name } } } } } } }`, nil, &fromAgreements)
	require.Len(t, fromAgreements.Agreements, 1)
	require.Equal(t, "Gläntan", fromAgreements.Agreements[0].Versions[0].Signatories.Edges[0].Node.Organisation.Name)

	var signatures struct {
		Node struct {
			Signatures []struct {
				Organisation struct{ Name, Municipality string }
			}
		}
	}
	env.MustDo(nil, `query($o: ID!) { node(id: $o) { ... on Organisation { signatures { organisation { name municipality } } } } }`,
		map[string]any{"o": gid("Organisation", org.ID)}, &signatures)
	require.Len(t, signatures.Node.Signatures, 1)
	require.Equal(t, "Gläntan", signatures.Node.Signatures[0].Organisation.Name)
	require.Equal(t, "Arvika", signatures.Node.Signatures[0].Organisation.Municipality)
}

// storeRegion stores the public body the lists' agreements belong to.
func storeRegion(t *testing.T, env *apptest.Env) *store.Organisation {
	t.Helper()
	body := &store.Organisation{Name: "Region", OrganisationNumber: "2321000156", LegalForm: "other", Sector: "public",
		CreatedAt: env.Clock.Now()}
	require.NoError(t, store.InsertOrganisation(context.Background(), env.DB.Pool, body))
	return body
}

// storeAgreementVersion stores an agreement of the public body and its
// first version, adopted on 30 January 2017.
func storeAgreementVersion(t *testing.T, env *apptest.Env, body uuid.UUID) *store.AgreementVersion {
	t.Helper()
	ctx, now := context.Background(), env.Clock.Now()
	a := &store.Agreement{Name: "Ö", PublicBodyID: body, CreatedAt: now}
	require.NoError(t, store.InsertAgreement(ctx, env.DB.Pool, a))
	adopted := time.Date(2017, 1, 30, 0, 0, 0, 0, time.UTC)
	v := &store.AgreementVersion{AgreementID: a.ID, Number: 1, Title: "v1", AdoptedOn: adopted, ValidFrom: adopted,
		RevisionDue: adopted.AddDate(5, 0, 0), Principles: []string{"Dialog"}, CreatedAt: now}
	require.NoError(t, store.InsertAgreementVersion(ctx, env.DB.Pool, v))
	return v
}
