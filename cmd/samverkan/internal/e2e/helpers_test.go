package e2e_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
)

type quiet struct{}

func (quiet) Step(string, int, int) {}

func seed(env *apptest.Env) (bool, error) {
	return demo.Seed(context.Background(), env.App, quiet{})
}

// parseGID takes a global ID apart; only tests that must reach a service
// directly do this, clients never need to.
func parseGID(gid string) (string, uuid.UUID, error) {
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		return "", uuid.Nil, err
	}
	typ, id, _ := strings.Cut(string(raw), ":")
	u, err := uuid.Parse(id)
	return typ, u, err
}

func gid(typ string, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id.String()))
}

func mustUUID(t *testing.T, g string) uuid.UUID {
	t.Helper()
	_, id, err := parseGID(g)
	require.NoError(t, err)
	return id
}

func userGID(u *apptest.User) string { return gid("User", u.ID) }
