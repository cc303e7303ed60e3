package processes_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/publiccache"
	"github.com/samverkan/samverkan/internal/testdb"
)

// anonymous posts a query without a token and returns the body and whether
// the public-read cache answered it.
func anonymous(t *testing.T, addr, query string, vars map[string]any) (string, string) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	resp, err := http.Post("http://"+addr+"/graphql", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b), resp.Header.Get(publiccache.HitHeader)
}

// Two API processes on one database, each with its public-read cache: a
// change committed through one is in the very next anonymous read from the
// other, whose cache held the answer from before.
func TestPublicReadOnOneAPIShowsTheCommitMadeThroughTheOther(t *testing.T) {
	db := testdb.New(t)
	dataDir := t.TempDir()
	grant(t, db, dataDir, "official", "region_official", "region")
	writer, reader := start(t, db, dataDir, "api"), start(t, db, dataDir, "api")
	official := tokenFor(t, dataDir, "official")

	reg := post(t, writer.addr, official, `mutation { registerOrganisation(input: {organisation: {name: "Föreningen Före",
		organisationNumber: "212000-1355", legalForm: IDEELL_FORENING, sector: IDEA_BASED}}) { organisation { id } } }`, nil)
	require.Equal(t, "OK", reg.code(), reg.Errors)
	var o struct {
		RegisterOrganisation struct{ Organisation struct{ ID string } }
	}
	require.NoError(t, json.Unmarshal(reg.Data, &o))

	const q = `query($s: String) { organisations(search: $s) { edges { node { name } } } }`
	vars := map[string]any{"s": "Föreningen"}
	body, how := anonymous(t, reader.addr, q, vars)
	require.Contains(t, body, "Föreningen Före")
	require.Equal(t, "miss", how)
	_, how = anonymous(t, reader.addr, q, vars)
	require.Equal(t, "hit", how, "the reader's cache holds the answer")

	for _, name := range []string{"Föreningen Efter", "Föreningen Sist"} {
		up := post(t, writer.addr, official, `mutation($id: ID!, $n: String!) { updateOrganisation(input: {id: $id, name: $n, legalForm: IDEELL_FORENING}) {
			organisation { name } } }`, map[string]any{"id": o.RegisterOrganisation.Organisation.ID, "n": name})
		require.Equal(t, "OK", up.code(), up.Errors)
		body, _ = anonymous(t, reader.addr, q, vars)
		require.Contains(t, body, name, "the next public read on the other process shows the commit")
	}
}
