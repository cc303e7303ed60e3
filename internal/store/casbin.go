package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
)

// CasbinRule is one row of casbin_rule: a policy type ("p", "g", ...) and
// up to six values; unused values are empty strings, as the table stores
// them.
type CasbinRule struct {
	PType string
	V     [6]string
}

// PolicyChannel is the NOTIFY channel on which policy changes are announced.
const PolicyChannel = "samverkan_policy"

// CasbinRules returns every rule in insertion order, which Casbin keeps as
// the policy order.
func CasbinRules(ctx context.Context, q Querier) ([]CasbinRule, error) {
	rows, err := q.Query(ctx, `SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rule ORDER BY id`)
	if err != nil {
		return nil, translate(err, "read the authorization rules")
	}
	rules, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CasbinRule, error) {
		var r CasbinRule
		err := row.Scan(&r.PType, &r.V[0], &r.V[1], &r.V[2], &r.V[3], &r.V[4], &r.V[5])
		return r, err
	})
	if err != nil {
		return nil, translate(err, "read the authorization rules")
	}
	return rules, nil
}

// InsertCasbinRule adds r; a rule that already exists is left as it is.
func InsertCasbinRule(ctx context.Context, q Querier, r CasbinRule) error {
	_, err := q.Exec(ctx, `
		INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`,
		r.PType, r.V[0], r.V[1], r.V[2], r.V[3], r.V[4], r.V[5])
	return translate(err, "add an authorization rule")
}

// DeleteCasbinRule deletes the rule equal to r in every value and returns
// how many rows went (0 or 1).
func DeleteCasbinRule(ctx context.Context, q Querier, r CasbinRule) (int64, error) {
	tag, err := q.Exec(ctx, `
		DELETE FROM casbin_rule
		WHERE ptype = $1 AND v0 = $2 AND v1 = $3 AND v2 = $4 AND v3 = $5 AND v4 = $6 AND v5 = $7`,
		r.PType, r.V[0], r.V[1], r.V[2], r.V[3], r.V[4], r.V[5])
	if err != nil {
		return 0, translate(err, "delete an authorization rule")
	}
	return tag.RowsAffected(), nil
}

// DeleteCasbinRulesFiltered deletes the rules of ptype whose value
// fieldIndex+i equals values[i], as Casbin's RemoveFilteredPolicy does: an
// empty string in values matches anything, so with no non-empty value every
// rule of ptype goes.
func DeleteCasbinRulesFiltered(ctx context.Context, q Querier, ptype string, fieldIndex int, values ...string) (int64, error) {
	if fieldIndex < 0 || fieldIndex+len(values) > len(CasbinRule{}.V) {
		return 0, fmt.Errorf("delete authorization rules: fields %d to %d do not exist (there are %d)",
			fieldIndex, fieldIndex+len(values)-1, len(CasbinRule{}.V))
	}
	var sql strings.Builder
	sql.WriteString(`DELETE FROM casbin_rule WHERE ptype = $1`)
	args := []any{ptype}
	for i, v := range values {
		if v == "" {
			continue
		}
		args = append(args, v)
		fmt.Fprintf(&sql, ` AND v%d = $%d`, fieldIndex+i, len(args))
	}
	tag, err := q.Exec(ctx, sql.String(), args...)
	if err != nil {
		return 0, translate(err, "delete authorization rules")
	}
	return tag.RowsAffected(), nil
}

// ReplaceCasbinRules makes rules the whole content of the table, keeping
// their order; duplicates among them are stored once. Call it inside a
// transaction, or other sessions may see an empty policy.
func ReplaceCasbinRules(ctx context.Context, q Querier, rules []CasbinRule) error {
	if _, err := q.Exec(ctx, `DELETE FROM casbin_rule`); err != nil {
		return translate(err, "replace the authorization rules")
	}
	if len(rules) == 0 {
		return nil
	}
	// One statement whatever the number of rules: a column array per value.
	var cols [7][]string
	for _, r := range rules {
		cols[0] = append(cols[0], r.PType)
		for i, v := range r.V {
			cols[i+1] = append(cols[i+1], v)
		}
	}
	_, err := q.Exec(ctx, `
		INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5)
		SELECT ptype, v0, v1, v2, v3, v4, v5
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
			WITH ORDINALITY AS r (ptype, v0, v1, v2, v3, v4, v5, ord)
		ORDER BY ord
		ON CONFLICT DO NOTHING`,
		cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6])
	return translate(err, "replace the authorization rules")
}

// NotifyPolicyChanged announces a policy change on PolicyChannel. Inside a
// transaction PostgreSQL delivers it only at commit, and not at all on
// rollback, so listeners never reload before the change is visible.
func NotifyPolicyChanged(ctx context.Context, q Querier, payload string) error {
	_, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, PolicyChannel, payload)
	return translate(err, "announce a policy change")
}

// ListenPolicyChanges subscribes conn to PolicyChannel. It must be a
// connection of its own (not returned to a pool), since it keeps receiving
// notifications until it is closed.
func ListenPolicyChanges(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{PolicyChannel}.Sanitize())
	return translate(err, "listen for policy changes")
}

// WaitForPolicyChange blocks until a notification arrives on a connection
// prepared by ListenPolicyChanges and returns its payload.
func WaitForPolicyChange(ctx context.Context, conn *pgx.Conn) (string, error) {
	n, err := conn.WaitForNotification(ctx)
	if err != nil {
		return "", translate(err, "wait for a policy change")
	}
	return n.Payload, nil
}

// CasbinRuleExists tells whether exactly this rule is stored.
func CasbinRuleExists(ctx context.Context, q Querier, r CasbinRule) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM casbin_rule WHERE ptype = $1 AND v0 = $2 AND v1 = $3
		AND v2 = $4 AND v3 = $5 AND v4 = $6 AND v5 = $7)`, r.PType, r.V[0], r.V[1], r.V[2], r.V[3], r.V[4], r.V[5]).Scan(&ok)
	return ok, translate(err, "look up rule")
}

// NextPolicyVersion numbers a change to the policy: call it in the
// transaction that makes the change. The counter's row stays locked until
// that transaction ends, so the numbers commit in order and without gaps.
func NextPolicyVersion(ctx context.Context, q Querier) (int64, error) {
	var seq int64
	err := q.QueryRow(ctx, `INSERT INTO policy_version AS v (singleton, seq) VALUES (true, 1)
		ON CONFLICT (singleton) DO UPDATE SET seq = v.seq + 1 RETURNING seq`).Scan(&seq)
	return seq, translate(err, "number a policy change")
}

// CasbinRulesWithVersion returns every rule (as CasbinRules) and the
// number of the last change they include, read from one snapshot.
func CasbinRulesWithVersion(ctx context.Context, db *DB) ([]CasbinRule, int64, error) {
	var rules []CasbinRule
	var seq int64
	err := pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT seq FROM policy_version), 0)`).Scan(&seq); err != nil {
			return translate(err, "read the policy version")
		}
		var err error
		rules, err = CasbinRules(ctx, tx)
		return err
	})
	if _, ok := apperr.As(err); ok || err == nil {
		return rules, seq, err
	}
	return nil, 0, translate(err, "read the authorization rules")
}

// PolicyVersion returns the number of the last committed policy change.
func (db *DB) PolicyVersion(ctx context.Context) (int64, error) { return PolicyVersion(ctx, db.Pool) }

// PolicyVersion returns the number of the last committed policy change.
func PolicyVersion(ctx context.Context, q Querier) (int64, error) {
	var seq int64
	err := q.QueryRow(ctx, `SELECT coalesce((SELECT seq FROM policy_version), 0)`).Scan(&seq)
	return seq, translate(err, "read the policy version")
}
