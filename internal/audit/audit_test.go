package audit_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/audit"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

// fixture is a small history: a user, a workflow instance, and events on
// three streams.
type fixture struct {
	db       *testdb.Database
	user     uuid.UUID
	instance uuid.UUID
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := testdb.New(t)
	u := &store.User{Issuer: "test", Subject: "ann", Name: "Ann Åström"}
	require.NoError(t, store.UpsertUser(ctx, db.Pool, u))
	now := time.Date(2018, 1, 1, 9, 0, 0, 0, time.UTC)
	in := &store.Instance{ID: uuid.New(), Kind: "signing", DefinitionVersion: 1, SubjectType: "organisation",
		SubjectID: uuid.New(), Scopes: []string{"region"}, State: "applied", StateEnteredAt: now, Round: 1,
		Data: map[string]any{}, Version: 1, CreatedAt: now}
	require.NoError(t, store.InsertInstance(ctx, db.Pool, in))
	return &fixture{db: db, user: u.ID, instance: in.ID}
}

func (f *fixture) append(t *testing.T, e store.Event) store.Event {
	t.Helper()
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Date(2018, 1, 2, 10, 0, 0, 0, time.UTC)
	}
	if e.Kind == "" {
		e.Kind = "transition"
	}
	require.NoError(t, store.AppendEvent(context.Background(), f.db.Pool, &e))
	return e
}

// story appends five events to the instance's stream, two to "roles" and
// one to an organisation's, interleaved.
func (f *fixture) story(t *testing.T) {
	t.Helper()
	s := store.InstanceStream(f.instance)
	org := "organisation:" + uuid.NewString()
	at := time.Date(2018, 3, 1, 8, 0, 0, 123456000, time.UTC)
	for i, tr := range []string{"apply", "start_review", "approve", "sign", "withdraw"} {
		f.append(t, store.Event{Stream: s, OccurredAt: at.Add(time.Duration(i) * time.Hour), ActorID: &f.user,
			InstanceID: &f.instance, WorkflowKind: "signing", Transition: tr, Public: i%2 == 0,
			Input: store.MarshalInput(map[string]any{"step": i}), Reason: "steg " + tr})
		if i == 1 {
			f.append(t, store.Event{Stream: "roles", Kind: "role_assigned", ActorID: &f.user, Input: `{"role": "admin"}`})
			f.append(t, store.Event{Stream: org, Kind: "organisation_registered", Public: true})
		}
		if i == 3 {
			f.append(t, store.Event{Stream: "roles", Kind: "role_revoked", Input: `{"role": "admin"}`})
		}
	}
}

type eventRef struct {
	ID     int64
	Stream string
	Seq    int
}

func (f *fixture) ref(t *testing.T, where string, args ...any) eventRef {
	t.Helper()
	var r eventRef
	require.NoError(t, f.db.Pool.QueryRow(context.Background(),
		`SELECT id, stream, seq FROM history_events WHERE `+where, args...).Scan(&r.ID, &r.Stream, &r.Seq))
	return r
}

// tamper runs statements as the database superuser with the append-only
// trigger switched off for the moment, the way an attacker with full
// database access could.
func (f *fixture) tamper(t *testing.T, stmts ...string) {
	t.Helper()
	tamper(t, f.db.Pool, stmts...)
}

type beginner interface {
	Begin(context.Context) (pgx.Tx, error)
}

func tamper(t *testing.T, db beginner, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	stmts = append(append([]string{`ALTER TABLE history_events DISABLE TRIGGER history_events_no_update`}, stmts...),
		`ALTER TABLE history_events ENABLE TRIGGER history_events_no_update`)
	for _, s := range stmts {
		_, err := tx.Exec(ctx, s)
		require.NoError(t, err, s)
	}
	require.NoError(t, tx.Commit(ctx))
}

func verify(t *testing.T, q store.Querier) audit.Result {
	t.Helper()
	res, err := audit.Verify(context.Background(), q, nil)
	require.NoError(t, err)
	return res
}

func TestAuditHashAgreesWithSQL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	require.NoError(t, err)
	tricky := []store.Event{
		{Stream: "roles", Kind: "role_assigned"}, // empty strings, no actor, no instance, input {}
		{Stream: "instance:" + f.instance.String(), ActorID: &f.user, InstanceID: &f.instance, WorkflowKind: "signing",
			Transition: "withdraw", FromState: "signed", ToState: "withdrawn", Public: true,
			Reason: "Föreningen har lagts ned.\nStyrelsen beslöt det\r\n\tden 5 november. 🎉 ∑ ﷽ e\u0301 \u200b\\ \"citat\" 'apostrof'"},
		{Stream: "organisation:" + uuid.NewString(), Kind: "organisation_updated",
			// Key order, whitespace, duplicate keys, escapes and numbers are
			// all normalised by jsonb; the hash covers its printed form.
			Input: `{"z": 1, "a": {"nested": [1, 2.50, 1e3, -0, {"b": null, "a": true}], "tom": ""},
				"text": "rad 1\nrad 2\t\u00e5\u00e4\u00f6 \ud83d\ude00 \"q\" \\ /", "a": "dup", "": {"": []}}`},
		{Stream: "agreement:" + uuid.NewString(), Kind: "version_adopted", Input: `[]`,
			OccurredAt: time.Date(2018, 1, 30, 23, 59, 59, 999999999, stockholm)}, // nanoseconds, a zone
		{Stream: "agreement:x", Kind: "k", Input: `"just a string"`, OccurredAt: time.Date(1999, 12, 31, 23, 0, 0, 1000, time.UTC)},
		{Stream: "ström:ÅÄÖ\n", Kind: "ünïcödé", WorkflowKind: "日本語", Transition: "→", FromState: " ", ToState: "\n",
			Input: `{"k": "\u0001\u001f"}`, Reason: strings.Repeat("ä", 1000), Public: true},
	}
	for _, e := range tricky {
		f.append(t, e)
	}
	f.append(t, tricky[1]) // a second event in a stream: prev_hash is set
	f.append(t, tricky[1])

	n := 0
	require.NoError(t, store.ScanAllEvents(ctx, f.db.Pool, func(e store.Event) error {
		n++
		var sqlHash []byte
		var sqlInput string
		require.NoError(t, f.db.Pool.QueryRow(ctx, `SELECT history_event_hash(e), e.input::text FROM history_events e WHERE id = $1`,
			e.ID).Scan(&sqlHash, &sqlInput))
		require.Equal(t, sqlInput, e.Input)
		require.Equal(t, hex.EncodeToString(sqlHash), hex.EncodeToString(audit.Hash(e)),
			"event %d of %q: Go's canonical text\n%q", e.Seq, e.Stream, audit.CanonicalText(e))
		require.Equal(t, hex.EncodeToString(e.Hash), hex.EncodeToString(audit.Hash(e)))
		return nil
	}))
	require.Equal(t, len(tricky)+2, n)

	res := verify(t, f.db.Pool)
	require.True(t, res.OK, "%+v", res.Broken)
	require.Equal(t, len(tricky)+2, res.Events)
	require.Equal(t, len(tricky), res.Streams)
}

func TestAuditCanonicalText(t *testing.T) {
	t.Parallel()
	actor := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	e := store.Event{Stream: "roles", Seq: 2, OccurredAt: time.Date(2018, 1, 1, 10, 0, 0, 5000, time.FixedZone("CET", 3600)),
		ActorID: &actor, Kind: "role_assigned", Input: `{"a": "å"}`, Reason: "", Public: false, PrevHash: []byte{0xab, 0x01}}
	require.Equal(t, "samverkan-history-v1"+"5:roles"+"1:2"+"27:2018-01-01T09:00:00.000005Z"+
		"36:11111111-2222-3333-4444-555555555555"+"13:role_assigned"+"0:"+"0:"+"0:"+"0:"+"0:"+
		`11:{"a": "å"}`+"0:"+"5:false"+"4:ab01", string(audit.CanonicalText(e)))
}

func TestAuditVerifyFreshChain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.story(t)
	var progress []audit.Progress
	res, err := audit.Verify(context.Background(), f.db.Pool, func(p audit.Progress) { progress = append(progress, p) })
	require.NoError(t, err)
	require.True(t, res.OK)
	require.Nil(t, res.Broken)
	require.Equal(t, 8, res.Events)
	require.Equal(t, 3, res.Streams)
	require.Equal(t, audit.Progress{Events: 8, Total: 8}, progress[len(progress)-1])

	digest, count, err := audit.Digest(context.Background(), f.db.Pool)
	require.NoError(t, err)
	require.Equal(t, res.Digest, digest)
	require.Equal(t, 8, count)
	require.Len(t, digest, 64)

	// The digest moves with every append.
	f.append(t, store.Event{Stream: "roles", Kind: "role_assigned"})
	again, count, err := audit.Digest(context.Background(), f.db.Pool)
	require.NoError(t, err)
	require.NotEqual(t, digest, again)
	require.Equal(t, 9, count)

	var buf bytes.Buffer
	require.NoError(t, res.WriteText(&buf))
	require.Contains(t, buf.String(), "events checked:  8\n")
	require.True(t, strings.HasSuffix(buf.String(), "\nOK\n"), buf.String())
}

func TestAuditEmptyHistory(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	res := verify(t, db.Pool)
	require.True(t, res.OK)
	require.Zero(t, res.Events)
	digest, count, err := audit.Digest(context.Background(), db.Pool)
	require.NoError(t, err)
	require.Equal(t, res.Digest, digest)
	require.Zero(t, count)
}

func TestTamperContentChanged(t *testing.T) {
	t.Parallel()
	for _, change := range []string{
		`UPDATE history_events SET reason = 'Omskrivet.' WHERE id = %d`,
		`UPDATE history_events SET input = '{"step": 99}' WHERE id = %d`,
		`UPDATE history_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE id = %d`,
		`UPDATE history_events SET public = NOT public WHERE id = %d`,
		`UPDATE history_events SET actor_id = NULL WHERE id = %d`,
	} {
		t.Run(strings.Fields(change)[3], func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.story(t)
			before := verify(t, f.db.Pool)
			target := f.ref(t, `transition = 'approve'`)
			f.tamper(t, fmt.Sprintf(change, target.ID))

			res := verify(t, f.db.Pool)
			require.False(t, res.OK)
			require.Equal(t, &audit.Break{EventID: target.ID, Stream: target.Stream, Seq: 3, Problem: audit.ContentChanged,
				Problems: []audit.Problem{audit.ContentChanged}, Detail: res.Broken.Detail}, res.Broken)
			require.Equal(t, 1, res.BrokenEvents, "the events after it still chain to its stored hash")
			require.Equal(t, before.Digest, res.Digest, "the heads did not change")

			var buf bytes.Buffer
			require.NoError(t, res.WriteText(&buf))
			require.Contains(t, buf.String(), fmt.Sprintf("event %d (stream %s, seq 3): content changed", target.ID, target.Stream))
		})
	}
}

func TestTamperDeletedEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.story(t)
	gone := f.ref(t, `transition = 'approve'`)
	next := f.ref(t, `transition = 'sign'`)
	f.tamper(t, fmt.Sprintf(`DELETE FROM history_events WHERE id = %d`, gone.ID))

	res := verify(t, f.db.Pool)
	require.False(t, res.OK)
	require.Equal(t, next.ID, res.Broken.EventID, "reported at the event after the hole")
	require.Equal(t, 4, res.Broken.Seq)
	require.Equal(t, audit.SequenceGap, res.Broken.Problem)
	require.Equal(t, []audit.Problem{audit.SequenceGap, audit.ChainBroken}, res.Broken.Problems)
	require.Equal(t, 1, res.BrokenEvents)
	require.Equal(t, 7, res.Events)
}

func TestTamperDeletedFirstEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.story(t)
	gone := f.ref(t, `stream = 'roles' AND seq = 1`)
	f.tamper(t, fmt.Sprintf(`DELETE FROM history_events WHERE id = %d`, gone.ID))
	res := verify(t, f.db.Pool)
	require.Equal(t, "roles", res.Broken.Stream)
	require.Equal(t, 2, res.Broken.Seq)
	require.Equal(t, []audit.Problem{audit.SequenceGap, audit.ChainBroken}, res.Broken.Problems)
}

// An attacker who also recomputes the altered event's hash leaves that
// event consistent; the next event's prev_hash still names the old hash.
func TestTamperRecomputedHash(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.story(t)
	target := f.ref(t, `transition = 'approve'`)
	next := f.ref(t, `transition = 'sign'`)
	f.tamper(t,
		fmt.Sprintf(`UPDATE history_events SET reason = 'Omskrivet.' WHERE id = %d`, target.ID),
		fmt.Sprintf(`UPDATE history_events e SET hash = history_event_hash(e) WHERE id = %d`, target.ID))

	res := verify(t, f.db.Pool)
	require.False(t, res.OK)
	require.Equal(t, next.ID, res.Broken.EventID)
	require.Equal(t, target.Stream, res.Broken.Stream)
	require.Equal(t, 4, res.Broken.Seq)
	require.Equal(t, audit.ChainBroken, res.Broken.Problem)
	require.Equal(t, []audit.Problem{audit.ChainBroken}, res.Broken.Problems)
	require.Equal(t, 1, res.BrokenEvents)
}

// Rewriting a stream's newest event with a recomputed hash leaves every
// chain valid; the digest noted before shows it.
func TestTamperHeadShowsInDigest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.story(t)
	noted := verify(t, f.db.Pool).Digest
	head := f.ref(t, `transition = 'withdraw'`)
	f.tamper(t,
		fmt.Sprintf(`UPDATE history_events SET reason = 'Omskrivet.' WHERE id = %d`, head.ID),
		fmt.Sprintf(`UPDATE history_events e SET hash = history_event_hash(e) WHERE id = %d`, head.ID))
	res := verify(t, f.db.Pool)
	require.True(t, res.OK)
	require.NotEqual(t, noted, res.Digest)
}
