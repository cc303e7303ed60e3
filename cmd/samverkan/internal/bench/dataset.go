package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
)

// Scale is the size of the dataset.
type Scale struct {
	Organisations int `json:"organisations"`
	// PublicBodies of the Organisations are public bodies: the first
	// Versions of them are regions (one agreement each), the rest
	// municipalities.
	PublicBodies          int `json:"public_bodies"`
	Versions              int `json:"agreement_versions"`
	SignatoriesPerVersion int `json:"signatories_per_version"`
	Partnerships          int `json:"partnerships"`
	// Expiring partnerships end within the next 90 days (the others later).
	Expiring int `json:"expiring_within_90_days"`
	// Events is the number of history events; what the workflows above
	// do not make up goes to the HotInstances (partnerships with a long
	// history, read by the instance benchmark).
	Events          int `json:"history_events"`
	HotInstances    int `json:"hot_instances"`
	Representatives int `json:"representatives"`
}

// DefaultScale is the dataset.
func DefaultScale() Scale {
	return Scale{Organisations: 10_000, PublicBodies: 100, Versions: 20, SignatoriesPerVersion: 2_000,
		Partnerships: 100_000, Expiring: 100, Events: 1_000_000, HotInstances: 1_000, Representatives: 200}
}

// Percent scales the dataset down (or up) for a quick run; the number of
// agreement versions, public bodies and expiring partnerships stays.
func (s Scale) Percent(p int) Scale {
	f := func(n int) int { return max(1, n*p/100) }
	s.Organisations = max(s.PublicBodies+2*f(s.SignatoriesPerVersion), f(s.Organisations))
	s.SignatoriesPerVersion = f(s.SignatoriesPerVersion)
	s.Partnerships = max(s.Expiring*2, f(s.Partnerships))
	s.Events = f(s.Events)
	s.HotInstances = max(1, min(f(s.HotInstances), s.Partnerships/2))
	return s
}

func (s Scale) check() error {
	idea := s.Organisations - s.PublicBodies
	switch {
	case s.Versions < 1 || s.PublicBodies < s.Versions:
		return errors.New("scale: need at least one region (public body) per agreement version")
	case idea < 2 || s.SignatoriesPerVersion > idea:
		return errors.New("scale: too few idea-based organisations for the signatories")
	case s.Partnerships < 1 || s.Expiring > s.Partnerships || s.HotInstances > s.Partnerships/2:
		return errors.New("scale: bad partnership numbers")
	case s.Representatives < 1:
		return errors.New("scale: need representatives")
	}
	return nil
}

// The people of the dataset. The official's token drives the benchmark.
const (
	officialSubject   = "bench-official"
	officialName      = "Oskar Tjänsteperson (bench)"
	politicianSubject = "bench-politician"
	politicianName    = "Petra Politiker (bench)"
	repIssuer         = "urn:samverkan:bench"
	markerIssuer      = "urn:samverkan:bench"
	markerSubject     = "dataset"
)

var (
	regions = []string{"Värmland", "Stockholm", "Uppsala", "Sörmland", "Östergötland", "Jönköpings län", "Kronoberg",
		"Kalmar län", "Gotland", "Blekinge", "Skåne", "Halland", "Västra Götaland", "Örebro län", "Västmanland", "Dalarna",
		"Gävleborg", "Västernorrland", "Jämtland Härjedalen", "Västerbotten", "Norrbotten"}
	municipalities = []string{"Karlstad", "Arvika", "Kristinehamn", "Säffle", "Hagfors", "Filipstad", "Sunne", "Torsby",
		"Grums", "Kil", "Forshaga", "Munkfors", "Hammarö", "Storfors", "Årjäng", "Eda", "Uppsala", "Enköping", "Norrköping",
		"Linköping", "Jönköping", "Växjö", "Kalmar", "Visby", "Karlskrona", "Malmö", "Lund", "Helsingborg", "Halmstad",
		"Göteborg", "Borås", "Trollhättan", "Örebro", "Västerås", "Falun", "Borlänge", "Gävle", "Sundsvall", "Östersund",
		"Umeå", "Luleå", "Kiruna", "Nyköping", "Eskilstuna", "Södertälje", "Norrtälje", "Varberg", "Kungsbacka", "Skövde",
		"Lidköping"}
	departments = []string{"kommunstyrelsen", "socialförvaltningen", "kultur- och fritidsförvaltningen", "utbildningsförvaltningen"}
	orgKinds    = []string{"Idrottsföreningen", "Hyresgästföreningen", "Studieförbundet", "Scoutkåren", "Röda Korset-kretsen",
		"Pensionärsföreningen", "Kulturföreningen", "Föräldraföreningen", "Naturskyddsföreningen", "Hembygdsföreningen",
		"Stiftelsen Fritidsgården", "Kvinnojouren", "Brukarföreningen", "Musikföreningen", "Läxhjälpen", "Församlingen",
		"Nätverket Unga", "Kooperativet Gröna Händer", "Föreningen Mötesplatsen", "Stadsmissionen"}
	legalForms = []string{"ideell_forening", "ideell_forening", "ideell_forening", "stiftelse", "ekonomisk_forening",
		"trossamfund", "natverk", "kooperativ"}
	themes = []string{"Läxhjälp och studiero", "Mötesplats för äldre", "Stödboende för unga vuxna", "Feriearbete för unga",
		"Språkcafé för nyanlända", "Kvinnojour och skyddat boende", "Fritidsgård på landsbygden", "Matbank och budgetrådgivning",
		"Lovaktiviteter för barn", "Idrott för personer med funktionsnedsättning"}
	principles = []string{"dialog", "kvalitet", "långsiktighet", "mångfald", "självständighet och oberoende", "öppenhet och insyn"}
)

// orgNumber is a valid organisation number: the group digit and two
// more (the third and fourth digits together at least 20), six digits of
// i, and the Luhn check digit.
func orgNumber(prefix string, i int) string {
	return string(orgnr.Complete(prefix + fmt.Sprintf("%06d", i)))
}

type org struct {
	id           uuid.UUID
	name, number string
	municipality string
	public       bool
}

// seeder writes the dataset.
type seeder struct {
	pool     *pgxpool.Pool
	scale    Scale
	progress Progress
	// replica: the connection may turn triggers off (a superuser), so
	// history events are written with their chain computed here; otherwise
	// they go through the trigger.
	replica bool

	now   time.Time
	today time.Time // Stockholm date as UTC midnight
	year  int

	rng        *rand.Rand
	official   uuid.UUID
	politician uuid.UUID
	reps       []uuid.UUID
	orgs       []org
	versions   []uuid.UUID
	adopted    []time.Time
	ceremonies []uuid.UUID
}

func newSeeder(pool *pgxpool.Pool, scale Scale, progress Progress, now time.Time) *seeder {
	s := now.In(clock.Stockholm)
	return &seeder{pool: pool, scale: scale, progress: progress, now: now.Truncate(time.Second),
		today: time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC), year: s.Year(),
		rng: rand.New(rand.NewPCG(2018, 11))}
}

func (s *seeder) id() uuid.UUID {
	var u uuid.UUID
	hi, lo := s.rng.Uint64(), s.rng.Uint64()
	for i := range 8 {
		u[i], u[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

// canDisableTriggers tells whether the session may turn triggers off.
func canDisableTriggers(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var super bool
	err := pool.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super)
	return super, err
}

// chunk rows per transaction; the trigger path takes an advisory lock per
// stream and must stay within the lock table.
const (
	copyChunk        = 100_000
	triggerCopyChunk = 20_000
)

// chanSource feeds CopyFrom from a channel, at most limit rows.
type chanSource struct {
	rows   <-chan []any
	limit  int
	n      int
	cur    []any
	closed bool
}

func (c *chanSource) Next() bool {
	if c.n >= c.limit {
		return false
	}
	r, ok := <-c.rows
	if !ok {
		c.closed = true
		return false
	}
	c.cur = r
	c.n++
	return true
}

func (c *chanSource) Values() ([]any, error) { return c.cur, nil }
func (c *chanSource) Err() error             { return nil }

// copyRows writes what gen emits into table, a transaction per chunk,
// reporting progress as step.
func (s *seeder) copyRows(ctx context.Context, table string, cols []string, step string, total int, gen func(emit func([]any) bool)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows := make(chan []any, 8192)
	go func() {
		defer close(rows)
		gen(func(r []any) bool {
			select {
			case rows <- r:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	viaTrigger := table == "history_events" && !s.replica
	limit := copyChunk
	if viaTrigger {
		limit = triggerCopyChunk
	}
	done := 0
	s.progress.Step(step, 0, total)
	for {
		src := &chanSource{rows: rows, limit: limit}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if s.replica {
				// Triggers (the history chain, foreign keys) are off for
				// this transaction: the rows are consistent by construction.
				if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
					return err
				}
			}
			if !viaTrigger {
				_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS bench_events AS
				SELECT stream, seq, occurred_at, actor_id, kind, instance_id, workflow_kind, transition, from_state, to_state,
					input, reason, public, prev_hash, hash FROM history_events WITH NO DATA`); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_events"}, cols, src); err != nil {
				return err
			}
			// The trigger numbers and chains each event again, in order.
			_, err := tx.Exec(ctx, `INSERT INTO history_events (stream, seq, occurred_at, actor_id, kind, instance_id,
					workflow_kind, transition, from_state, to_state, input, reason, public, hash)
				SELECT stream, seq, occurred_at, actor_id, kind, instance_id, workflow_kind, transition, from_state, to_state,
					input, reason, public, hash FROM bench_events ORDER BY stream, seq;
				TRUNCATE bench_events`)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		done += src.n
		s.progress.Step(step, min(done, total), total)
		if src.closed || src.n == 0 {
			if done != total {
				s.progress.Step(step, total, total)
			}
			return ctx.Err()
		}
	}
}

func numeric(hundredths int64) pgtype.Numeric {
	return pgtype.Numeric{Int: big.NewInt(hundredths), Exp: -2, Valid: true}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// partnership is what the seeder decides about partnership i.
type partnership struct {
	id, instance uuid.UUID
	publicBody   int   // index into orgs
	parties      []int // idea-based, indexes into orgs
	start, end   time.Time
	created      time.Time
	activated    time.Time
	hotExtra     int
	ownInit      bool
	title        string
}

func (s *seeder) ideaBased(k int) int {
	n := s.scale.Organisations - s.scale.PublicBodies
	return s.scale.PublicBodies + ((k%n)+n)%n
}

func (s *seeder) rep(orgIndex int) *uuid.UUID { return &s.reps[orgIndex%len(s.reps)] }

// partnershipPlan decides every partnership (deterministically).
func (s *seeder) partnershipPlan() []partnership {
	sc := s.scale
	out := make([]partnership, sc.Partnerships)
	expEvery := 0
	if sc.Expiring > 0 {
		expEvery = sc.Partnerships / sc.Expiring
	}
	hotEvery := 0
	if sc.HotInstances > 0 {
		hotEvery = sc.Partnerships / sc.HotInstances
	}
	yearStart := time.Date(s.year-1, time.January, 1, 0, 0, 0, 0, time.UTC)
	expiring := 0
	for i := range out {
		p := &out[i]
		p.id, p.instance = s.id(), s.id()
		p.publicBody = i % sc.PublicBodies
		p.parties = []int{s.ideaBased(i * 7)}
		if i%3 == 0 {
			p.parties = append(p.parties, s.ideaBased(i*7+1))
		}
		// Every partnership started last year: exactly one report (on last
		// year) is due now.
		p.start = yearStart.AddDate(0, 0, i%365)
		p.end = p.start.AddDate(3, 0, -1)
		if expEvery > 0 && i%expEvery == 0 && expiring < sc.Expiring {
			p.end = s.today.AddDate(0, 0, 1+expiring%89)
			expiring++
		}
		p.created = time.Date(p.start.Year(), p.start.Month(), p.start.Day(), 9, 0, 0, 0, clock.Stockholm).AddDate(0, 0, -150)
		p.activated = p.created.AddDate(0, 0, 75+len(p.parties)-1)
		p.ownInit = i%4 == 0
		p.title = fmt.Sprintf("%s i %s", themes[i%len(themes)], municipalities[(i/len(themes))%len(municipalities)])
		if hotEvery > 0 && i%hotEvery == 1 {
			p.hotExtra = -1 // decided once the base count is known
		}
	}
	return out
}

// partnershipEvents is the history of partnership p up to its activation
// (and, for a hot instance, its later notes), in order.
func (s *seeder) partnershipEvents(p *partnership) []event {
	inst := p.instance
	ev := func(at time.Time, actor *uuid.UUID, kind, transition, from, to, input string, public bool) event {
		return event{at: at, actor: actor, kind: kind, instance: &inst, wkind: "partnership", transition: transition,
			from: from, to: to, input: input, public: public}
	}
	proposer := &s.official
	if p.ownInit {
		proposer = s.rep(p.parties[0])
	}
	ids := make([]string, len(p.parties))
	for i, k := range p.parties {
		ids[i] = s.orgs[k].id.String()
	}
	t := p.created
	out := []event{
		ev(t, proposer, "started", "", "", "initiative", jsonb(kv{"title", p.title}, kv{"publicBodyId", s.orgs[p.publicBody].id.String()},
			kv{"ideaBasedIds", ids}, kv{"ownInitiative", p.ownInit}), false),
		ev(t.AddDate(0, 0, 7), &s.official, "transition", "start_assessment", "initiative", "assessment", "", false),
		ev(t.AddDate(0, 0, 20), &s.official, "transition", "assess_suitable", "assessment", "negotiation", "", false),
		ev(t.AddDate(0, 0, 60), &s.official, "transition", "submit_for_decision", "negotiation", "decision", "", false),
		ev(t.AddDate(0, 0, 70), &s.politician, "approval", "approve", "decision", "decision", jsonb(kv{"requirement", "public"}), true),
	}
	for i, k := range p.parties {
		out = append(out, ev(t.AddDate(0, 0, 75+i), s.rep(k), "approval", "approve", "decision", "decision",
			jsonb(kv{"requirement", "org:" + ids[i]}), true))
	}
	last := out[len(out)-1]
	out = append(out, ev(last.at, last.actor, "transition", "approve", "decision", "active", "", true))
	if p.hotExtra > 0 {
		span := s.now.Add(-time.Hour).Sub(p.activated)
		for k := range p.hotExtra {
			at := p.activated.Add(span * time.Duration(k+1) / time.Duration(p.hotExtra+1)).Truncate(time.Second)
			if k%2 == 0 {
				out = append(out, ev(at, &s.official, "note_added", "", "active", "active", "", false))
			} else {
				out = append(out, ev(at, s.rep(p.parties[0]), "document_attached", "", "active", "active",
					jsonb(kv{"kind", "other"}, kv{"title", fmt.Sprintf("Bilaga %d", k/2+1)}), false))
			}
		}
	}
	return out
}

// signingEvents is the history of a signature made on signedAt.
func (s *seeder) signingEvents(inst uuid.UUID, orgIndex int, signedAt time.Time) []event {
	decl := jsonb(kv{"regionalPerspective", true}, kv{"democraticValues", true}, kv{"independent", true})
	rep := s.rep(orgIndex)
	e := func(at time.Time, actor *uuid.UUID, kind, transition, from, to, input string, public bool) event {
		return event{at: at, actor: actor, kind: kind, instance: &inst, wkind: "signing", transition: transition, from: from,
			to: to, input: input, public: public}
	}
	return []event{
		e(signedAt.AddDate(0, 0, -30), rep, "started", "", "", "applied", decl, false),
		e(signedAt.AddDate(0, 0, -20), &s.official, "transition", "start_review", "applied", "under_review", "", false),
		e(signedAt.AddDate(0, 0, -10), &s.official, "transition", "approve", "under_review", "approved", decl, false),
		e(signedAt, rep, "transition", "sign", "approved", "signed", "", true),
	}
}

// signatory k of version v: which organisation and when.
func (s *seeder) signatory(v, k int) (orgIndex int, signedAt time.Time) {
	orgIndex = s.ideaBased(v*491 + k)
	adopted := s.adopted[v]
	days := int(s.today.Sub(adopted).Hours()/24) - 2
	d := adopted.AddDate(0, 0, 1+k*days/s.scale.SignatoriesPerVersion)
	return orgIndex, time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, clock.Stockholm).Add(time.Duration(k%600) * time.Second)
}

// endsAt is when the partnership's period is over (the instance's data).
func endsAt(p *partnership) string {
	return time.Date(p.end.Year(), p.end.Month(), p.end.Day()+1, 0, 0, 0, 0, clock.Stockholm).UTC().Format(time.RFC3339)
}
