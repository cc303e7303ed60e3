package notify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/config"
	"github.com/samverkan/samverkan/internal/jobs"
	"github.com/samverkan/samverkan/internal/jobs/jobstest"
	"github.com/samverkan/samverkan/internal/mail"
	"github.com/samverkan/samverkan/internal/mail/mailtest"
	"github.com/samverkan/samverkan/internal/notify"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
	"github.com/samverkan/samverkan/workflows"
	"github.com/samverkan/samverkan/workflows/followup"
	"github.com/samverkan/samverkan/workflows/iop"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// t0 is in the future so that River works a job only once the test clock
// reaches it (see workflows/iop's tests).
var t0 = time.Date(2044, 2, 1, 10, 0, 0, 0, clock.Stockholm)

type env struct {
	db       *testdb.Database
	eng      *workflows.Engine
	iop      *iop.Service
	followup *followup.Service
	clock    *clock.Test
	policy   *authz.PolicyEnforcer
	river    *jobs.Client
	smtp     *mailtest.Server
	sender   *mail.SMTP
	worker   *notify.Worker
	notify   *notify.Service
	counts   *counter
	orgs     atomic.Int64
}

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Delivery(outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[outcome]++
}

func (c *counter) get(outcome string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[outcome]
}

// envOptions change the mail side of an env: how many deliveries are sent
// at once, over how many SMTP connections, and the mail queue's fetch
// cooldown (zero: the tests' short one).
type envOptions struct {
	mailWorkers, connections int
	mailFetchCooldown        time.Duration
	// dbMaxConns sizes the database pool as a server's (testdb's pool has
	// pgxpool's default, four on two cores); 0 keeps testdb's.
	dbMaxConns int
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, envOptions{mailWorkers: 4, connections: mail.DefaultConnections})
}

func newEnvWith(t testing.TB, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	db := testdb.New(t)
	if o.dbMaxConns > 0 {
		cfg, err := pgxpool.ParseConfig(db.URL)
		require.NoError(t, err)
		store.ConfigurePool(cfg)
		cfg.MaxConns = int32(o.dbMaxConns)
		db.Pool, err = pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(db.Pool.Close)
	}
	clk := clock.NewTest(t0)
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("SAMVERKAN_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	policy, err := authz.NewPolicyEnforcer(ctx, store.New(db.Pool), db.Pool, log)
	require.NoError(t, err)
	t.Cleanup(policy.Close)
	eng := workflows.New(store.New(db.Pool), policy, clk, log)
	cfg, err := config.Defaults()
	require.NoError(t, err)
	svc, err := iop.NewService(eng, iop.OptionsFrom(cfg))
	require.NoError(t, err)
	schedule, err := followup.ScheduleFrom(cfg)
	require.NoError(t, err)
	fu, err := followup.NewService(eng, schedule)
	require.NoError(t, err)
	srv := mailtest.Start(t)
	sender, err := mail.NewSMTP(srv.URL(), mail.WithTLSConfig(srv.TLS), mail.WithConnections(o.connections))
	require.NoError(t, err)
	counts := &counter{n: map[string]int{}}
	w := &notify.Worker{DB: store.New(db.Pool), Sender: sender, From: "Överenskommelsen Värmland <noreply@samverkan.example>",
		PublicURL: "http://127.0.0.1:8080", Clock: clk, Log: log, Observer: counts}
	workers := river.NewWorkers()
	river.AddWorker(workers, &workflows.TimerWorker{Engine: eng})
	river.AddWorker(workers, w)
	svc.AddWorkers(workers)
	rc, err := jobs.NewClient(db.Pool, jobs.Options{Workers: workers, Clock: clk, Logger: log, WorkerCount: 4, MailWorkers: o.mailWorkers,
		MailFetchCooldown: o.mailFetchCooldown, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	eng.SetJobClient(rc)
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, rc.Stop(ctx))
		require.NoError(t, sender.Close())
	})
	ns := &notify.Service{DB: store.New(db.Pool), Policy: policy, Clock: clk, PublicURL: "http://127.0.0.1:8080",
		Title: func(kind string, version int) string {
			def, err := eng.Definition(kind, version)
			require.NoError(t, err)
			return def.Title
		}}
	return &env{db: db, eng: eng, iop: svc, followup: fu, clock: clk, policy: policy, river: rc, smtp: srv, sender: sender, worker: w, notify: ns, counts: counts}
}

// user stores a person holding roles written "role@scope".
func (e *env) user(t testing.TB, name string, roles ...string) *store.User {
	t.Helper()
	u := &store.User{Issuer: "test", Subject: strings.ToLower(strings.ReplaceAll(name, " ", "-")), Name: name,
		Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.org"}
	require.NoError(t, store.UpsertUser(context.Background(), e.db.Pool, u))
	for _, r := range roles {
		role, scope, _ := strings.Cut(r, "@")
		e.grant(t, authz.Assignment{UserID: u.ID, Role: role, Scope: scope})
	}
	return u
}

func (e *env) grant(t testing.TB, a authz.Assignment) {
	t.Helper()
	require.NoError(t, e.eng.DB().InTx(context.Background(), func(tx pgx.Tx) error {
		return authz.GrantTx(context.Background(), tx, authz.SystemPrincipal, a, e.clock.Now())
	}))
	e.policy.Remember(a)
}

func (e *env) revoke(t testing.TB, a authz.Assignment) {
	t.Helper()
	require.NoError(t, e.eng.DB().InTx(context.Background(), func(tx pgx.Tx) error {
		return authz.RevokeTx(context.Background(), tx, authz.SystemPrincipal, a, e.clock.Now())
	}))
	e.policy.Forget(a)
}

func (e *env) org(t testing.TB, name, sector, contact string) uuid.UUID {
	t.Helper()
	o := &store.Organisation{Name: name, OrganisationNumber: fmt.Sprintf("80%08d", e.orgs.Add(1)), LegalForm: "ideell_forening",
		Sector: sector, ContactEmail: contact, CreatedAt: e.clock.Now()}
	require.NoError(t, store.InsertOrganisation(context.Background(), e.db.Pool, o))
	return o.ID
}

// partnership stores an agreed partnership from 2043 to 2045 between a
// public body and an idea-based organisation, its report due each 31 March,
// the way a bulk import would.
func (e *env) partnership(t testing.TB, region, org uuid.UUID) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	var id uuid.UUID
	require.NoError(t, e.db.Pool.QueryRow(ctx, `INSERT INTO partnerships (title, purpose, own_initiative, report_due_month, report_due_day,
			start_date, end_date, notice_months, activated_at, created_at, updated_at)
		VALUES ('IOP Läxhjälp', 'Syfte / Purpose', false, 3, 31, '2043-01-01', '2045-12-31', 3, $1, $1, $1) RETURNING id`,
		e.clock.Now()).Scan(&id))
	_, err := e.db.Pool.Exec(ctx, `INSERT INTO partnership_parties (partnership_id, organisation_id, role)
		VALUES ($1, $2, 'public'), ($1, $3, 'idea_based')`, id, region, org)
	require.NoError(t, err)
	return id
}

// runDue moves the clock to at and works every job due by then; it returns
// the failures of jobs.
func (e *env) runDue(t testing.TB, at time.Time) string {
	t.Helper()
	e.clock.AdvanceTo(at)
	return jobstest.RunDue(t, e.db.Pool, e.river, e.clock.Now(), 20*time.Second)
}

func (e *env) deliveries(t testing.TB, where string, args ...any) []*store.Delivery {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT id FROM notification_deliveries WHERE `+where+` ORDER BY address`, args...)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	require.NoError(t, err)
	out := make([]*store.Delivery, 0, len(ids))
	for _, id := range ids {
		d, err := store.GetDelivery(context.Background(), e.db.Pool, id)
		require.NoError(t, err)
		out = append(out, d)
	}
	return out
}

// message is a received e-mail as a reader sees it.
type message struct {
	Header    netmail.Header
	Subject   string
	MessageID string
	To        string
	Text      string
	HTML      string
}

func parse(t testing.TB, r mailtest.Received) message {
	t.Helper()
	m, err := netmail.ReadMessage(strings.NewReader(string(r.Data)))
	require.NoError(t, err)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	to, err := dec.DecodeHeader(m.Header.Get("To"))
	require.NoError(t, err)
	out := message{Header: m.Header, Subject: subject, MessageID: m.Header.Get("Message-Id"), To: to}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			out.Text = string(b)
		case "text/html":
			out.HTML = string(b)
		}
	}
	return out
}

func principal(u *store.User) authz.Principal { return authz.Principal{UserID: u.ID, Name: u.Name} }

func at(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, clock.Stockholm)
}
