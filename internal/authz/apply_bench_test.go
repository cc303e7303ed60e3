package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

// BenchmarkRoleChange compares what one role change costs an instance that
// hears of it, with policies of different sizes: applying the notice's line
// (now) against reloading the whole policy (what every notice cost before,
// and what a gap still costs).
func BenchmarkRoleChange(b *testing.B) {
	for _, n := range []int{1_000, 20_000} {
		b.Run(fmt.Sprintf("assignments=%d", n), func(b *testing.B) {
			db := testdb.New(b)
			ctx := context.Background()
			_, err := db.Pool.Exec(ctx, `INSERT INTO casbin_rule (ptype, v0, v1, v2)
				SELECT 'g', 'user:' || gen_random_uuid(), 'sector_representative', 'org:' || gen_random_uuid()
				FROM generate_series(1, $1)`, n)
			require.NoError(b, err)
			p, err := NewPolicyEnforcer(ctx, store.New(db.Pool), db.Pool, slog.New(slog.DiscardHandler))
			require.NoError(b, err)
			b.Cleanup(p.Close)
			// An official whose decisions are cached, as during a list.
			official := Principal{UserID: uuid.New()}
			p.applying.Lock()
			p.applyBatch([]string{notice(b, p.version.Load()+1, "add", "g", UserSubject(official.UserID), RoleRegionOfficial, ScopeRegion)})
			p.applying.Unlock()
			require.True(b, p.Can(official, "organisation.update", ScopeRegion))

			b.Run("apply", func(b *testing.B) {
				p.applying.Lock()
				defer p.applying.Unlock()
				user := UserSubject(uuid.New())
				op := []string{"add", "remove"}
				var scope string
				for i := 0; b.Loop(); i++ {
					if i%2 == 0 {
						scope = OrgScope(uuid.New())
					}
					p.applyBatch([]string{notice(b, p.version.Load()+1, op[i%2], "g", user, RoleSectorRepresentative, scope)})
				}
				b.StopTimer()
				require.True(b, p.Can(official, "organisation.update", ScopeRegion))
			})
			b.Run("reload", func(b *testing.B) {
				p.applying.Lock()
				defer p.applying.Unlock()
				for b.Loop() {
					require.NoError(b, p.reload())
				}
			})
		})
	}
}

func notice(b *testing.B, seq int64, op string, line ...string) string {
	n := policyNotice{Seq: seq}
	if op == "add" {
		n.Add = [][]string{line}
	} else {
		n.Remove = [][]string{line}
	}
	out, err := json.Marshal(n)
	require.NoError(b, err)
	return string(out)
}
