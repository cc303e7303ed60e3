package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/clock"
)

// pdf is a document of n bytes that starts as a PDF does.
func pdf(n int) []byte {
	b := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	copy(b, "%PDF-1.7\n")
	return b
}

// The documents promised up to 5 MB are accepted over HTTP, sent in base64
// in the GraphQL request by a party of the partnership: 900 KB (which the
// 1 MiB body limit used to refuse) and 4.9 MB are stored whole. A file over
// 5 MB is BAD_INPUT from the domain; a body beyond what a 5 MB document
// needs is BAD_INPUT (413) saying the limit; an anonymous request keeps
// the 1 MiB limit. A refused document changes nothing.
func TestDocumentsUpToFiveMBAreAccepted(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	s.env.AdvanceTo(time.Date(2018, 6, 1, 9, 0, 0, 0, clock.Stockholm))
	s.council = council{region: s.env.NewUser("Rolf Råd", "council_member@region"), sector: s.env.NewUser("Sara Råd", "council_member@sector"),
		politician: s.env.NewUser("Pia Politiker", "region_politician@region")}
	f := s.fixture(t, 1)
	f.partnershipTo(t, "negotiation")
	const attach = `mutation($p: ID!, $c: String!) { attachPartnershipDocument(input: {partnershipId: $p, kind: INITIATIVE,
		title: "Initiativ", contentBase64: $c, mediaType: "application/pdf"}) { partnership { state } } }`
	for _, size := range []int{900_000, 4_900_000, 5 << 20} {
		r := s.env.Do(f.rep, attach, map[string]any{"p": f.vars["p"], "c": base64.StdEncoding.EncodeToString(pdf(size))})
		require.Empty(t, r.Errors, "a document of %d bytes", size)
		require.Equal(t, 1, s.env.Count(`SELECT count(*) FROM partnership_documents WHERE octet_length(content) = $1 AND media_type = 'application/pdf'`, size),
			"the %d bytes are stored whole", size)
	}

	before := s.env.Checksums()
	// Just over 5 MB: the body fits, the domain refuses the file.
	r := s.env.Do(f.rep, attach, map[string]any{"p": f.vars["p"], "c": base64.StdEncoding.EncodeToString(pdf(5<<20 + 1))})
	require.NotEmpty(t, r.Errors)
	require.Equal(t, "BAD_INPUT", r.Errors[0].Code(), r.Errors[0].Message)
	require.Equal(t, "content", r.Errors[0].Extensions["field"])
	require.Contains(t, r.Errors[0].Message, "Filen är för stor")
	require.Contains(t, r.Errors[0].Message, " / The file is too large")

	// 6 MB: the body is over what a 5 MB document needs.
	r = s.env.Do(f.rep, attach, map[string]any{"p": f.vars["p"], "c": base64.StdEncoding.EncodeToString(pdf(6 << 20))})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	require.NotEmpty(t, r.Errors)
	require.Equal(t, "BAD_INPUT", r.Errors[0].Code())
	sv, en, ok := strings.Cut(r.Errors[0].Message, " / ")
	require.True(t, ok, r.Errors[0].Message)
	require.Contains(t, sv, "Förfrågan är för stor: högst 6.7 MiB")
	require.Contains(t, en, "The request body is too large: at most 6.7 MiB")

	// The same, sent without a length (chunked): refused while reading.
	body, err := json.Marshal(map[string]any{"query": attach, "variables": map[string]any{"p": f.vars["p"], "c": base64.StdEncoding.EncodeToString(pdf(6 << 20))}})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, s.env.URL+"/graphql", struct{ *bytes.Reader }{bytes.NewReader(body)})
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.rep.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	// Anonymous requests attach nothing and keep the 1 MiB limit.
	r = s.env.Do(nil, attach, map[string]any{"p": f.vars["p"], "c": base64.StdEncoding.EncodeToString(pdf(900_000))})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	require.Contains(t, r.Errors[0].Message, "at most 1.0 MiB")
	require.Equal(t, before, s.env.Checksums(), "refused documents change nothing")
}
