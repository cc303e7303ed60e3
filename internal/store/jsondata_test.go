package store

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeData gives what json.Unmarshal gives, value for value and error
// for error, on instance data as PostgreSQL writes it and on documents it
// must hand over (escapes, non-ASCII, odd numbers, malformed text).
func TestDecodeDataIsJSONUnmarshal(t *testing.T) {
	docs := []string{
		`{}`, `null`, ` { } `, `{"a": 1}`,
		`{"endsAt": "2028-01-01T23:00:00Z", "activated": true, "partyNames": {"60487f5e-8799-49d0-9e9c-cdd904925c60": "Föräldraföreningen Karlstad"}, "publicBodyId": "e7e34b33-f43e-4ac9-880e-dba115c52137", "ownInitiative": false, "ideaBasedPartyIds": ["60487f5e-8799-49d0-9e9c-cdd904925c60"], "decisionDraftVersion": 1}`,
		`{"n": [0, -0, 1.5, -2e10, 3E-2, 12345678901234567890, 0.1]}`,
		`{"s": "tab\tquote\"slash\\uni\u00e5 \ud83d\ude00 nul\u0000"}`,
		`{"dup": 1, "dup": 2}`, `{"nested": [[], {}, [{"a": [null, true, false]}]]}`,
		`{"big": 1e400}`, `{"lead": 01}`, `{"dot": 1.}`, `{"plus": +1}`, `{"a": 1,}`, `{"a" 1}`, `[1, 2]`, `"x"`, `{"a": 1} x`,
		`{"a": tru}`, `{"a": "unterminated}`, "{\"bad\": \"\xff\"}", "{\"ctl\": \"a\x01b\"}", ``, `{`,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b, err := json.Marshal(randomObject(r, 3))
		require.NoError(t, err)
		docs = append(docs, string(b))
		docs = append(docs, strings.ReplaceAll(strings.ReplaceAll(string(b), ":", ": "), ",", ", "))
	}
	for _, doc := range docs {
		got, gotErr := decodeData([]byte(doc))
		var want map[string]any
		wantErr := json.Unmarshal([]byte(doc), &want)
		if wantErr != nil {
			require.Error(t, gotErr, doc)
			continue
		}
		require.NoError(t, gotErr, doc)
		require.Equal(t, want, got, doc)
	}
}

func randomObject(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range r.IntN(6) {
		m[randomString(r)] = randomValue(r, depth-1)
	}
	return m
}

func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(8); {
	case k == 0 && depth > 0:
		return randomObject(r, depth)
	case k == 1 && depth > 0:
		list := []any{}
		for range r.IntN(4) {
			list = append(list, randomValue(r, depth-1))
		}
		return list
	case k == 2:
		return r.NormFloat64() * 1e6
	case k == 3:
		return float64(r.IntN(100))
	case k == 4:
		return r.IntN(2) == 0
	case k == 5:
		return nil
	default:
		return randomString(r)
	}
}

func randomString(r *rand.Rand) string {
	alphabet := []rune("abcXYZ019-_:. åäöÅÄÖ\"\\\n\t<>&\u2028é€😀")
	n := r.IntN(12)
	out := make([]rune, n)
	for i := range out {
		out[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(out)
}
