package authz

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/samverkan/samverkan/internal/store"
)

// A policy notice is the payload of a NOTIFY on store.PolicyChannel: the
// number of the change (store.NextPolicyVersion) and the lines it added and
// removed, so that every instance applies just those lines instead of
// reloading the whole policy. A change too large for a notification says
// Reload instead of listing its lines.
type policyNotice struct {
	Seq int64 `json:"seq"`
	// Rules are written as Casbin's CSV lines are: ptype first, then the
	// values, without trailing empty ones.
	Add    [][]string `json:"add,omitempty"`
	Remove [][]string `json:"remove,omitempty"`
	Reload bool       `json:"reload,omitempty"`
}

// maxNoticeBytes keeps a payload under PostgreSQL's limit (8000 bytes).
const maxNoticeBytes = 7000

// announceTx numbers a change to casbin_rule made in tx and announces its
// lines to every instance on commit. Call it after the change, in the same
// transaction.
func announceTx(ctx context.Context, q store.Querier, add, remove []store.CasbinRule) error {
	seq, err := store.NextPolicyVersion(ctx, q)
	if err != nil {
		return err
	}
	n := policyNotice{Seq: seq}
	for _, r := range add {
		n.Add = append(n.Add, noticeLine(r))
	}
	for _, r := range remove {
		n.Remove = append(n.Remove, noticeLine(r))
	}
	payload, err := json.Marshal(n)
	if err != nil {
		return err
	}
	if len(payload) > maxNoticeBytes {
		payload, _ = json.Marshal(policyNotice{Seq: seq, Reload: true})
	}
	return store.NotifyPolicyChanged(ctx, q, string(payload))
}

// announceReloadTx numbers a change and tells every instance to reload.
func announceReloadTx(ctx context.Context, q store.Querier) error {
	seq, err := store.NextPolicyVersion(ctx, q)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(policyNotice{Seq: seq, Reload: true})
	return store.NotifyPolicyChanged(ctx, q, string(payload))
}

func noticeLine(r store.CasbinRule) []string {
	vals := r.V[:]
	for len(vals) > 0 && vals[len(vals)-1] == "" {
		vals = vals[:len(vals)-1]
	}
	return append([]string{r.PType}, vals...)
}

// parseNotice reads a payload; ok is false for anything that is not a
// numbered notice (such as ReconnectedPayload or Watcher.Update's).
func parseNotice(payload string) (n policyNotice, ok bool) {
	if !strings.HasPrefix(payload, "{") {
		return n, false
	}
	if err := json.Unmarshal([]byte(payload), &n); err != nil || n.Seq <= 0 {
		return n, false
	}
	for _, lines := range [][][]string{n.Add, n.Remove} {
		for _, l := range lines {
			if len(l) < 2 || len(l) > 1+len(store.CasbinRule{}.V) || l[0] == "" {
				return n, false
			}
		}
	}
	return n, true
}

func lineRule(l []string) store.CasbinRule {
	r := store.CasbinRule{PType: l[0]}
	copy(r.V[:], l[1:])
	return r
}
