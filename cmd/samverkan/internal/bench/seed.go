package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/authz"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/token"
)

// Granter gives a person a role (app.App.Grant): the official and the
// politician get theirs the way an admin would give them.
type Granter func(ctx context.Context, subject, name, role, scope string) (uuid.UUID, error)

// marker is stored (as the name of a user that never signs in) when a
// dataset is complete; its presence is what lets a later run reuse it.
type marker struct {
	Seeded time.Time `json:"seeded"`
	Scale  Scale     `json:"scale"`
}

// SeedReport is what seeding wrote and how long each part took.
type SeedReport struct {
	Events  int                `json:"history_events"`
	Seconds map[string]float64 `json:"seconds"`
	// ChainComputed: the events were written with the trigger off and
	// their chain computed in Go (otherwise through the trigger).
	ChainComputed bool `json:"chain_computed_in_go"`
}

// seed writes the dataset into a migrated database without one.
func (s *seeder) seed(ctx context.Context, grant Granter) (SeedReport, error) {
	rep := SeedReport{Seconds: map[string]float64{}, ChainComputed: s.replica}
	timed := func(name string, fn func() error) error {
		start := time.Now()
		err := fn()
		rep.Seconds[name] = round(time.Since(start).Seconds(), 2)
		return err
	}
	sc := s.scale
	var err error
	if s.official, err = grant(ctx, officialSubject, officialName, authz.RoleRegionOfficial, authz.ScopeRegion); err != nil {
		return rep, err
	}
	if s.politician, err = grant(ctx, politicianSubject, politicianName, authz.RoleRegionPolitician, authz.ScopeRegion); err != nil {
		return rep, err
	}
	s.reps = make([]uuid.UUID, sc.Representatives)
	for i := range s.reps {
		s.reps[i] = s.id()
	}
	if err := timed("people", func() error {
		return s.copyRows(ctx, "users", []string{"id", "issuer", "subject", "name", "email", "created_at", "updated_at"},
			"seeding people", len(s.reps), func(emit func([]any) bool) {
				for i, id := range s.reps {
					subject := fmt.Sprintf("bench-rep-%03d", i+1)
					if !emit([]any{id, token.DevIssuer, subject, fmt.Sprintf("Företrädare %03d (bench)", i+1), subject + "@example.org", s.now, s.now}) {
						return
					}
				}
			})
	}); err != nil {
		return rep, err
	}

	// Organisations: regions first, then municipalities, then the sector.
	s.orgs = make([]org, sc.Organisations)
	for i := range s.orgs {
		o := &s.orgs[i]
		o.id = s.id()
		switch {
		case i < sc.Versions:
			o.name, o.number, o.municipality, o.public = "Region "+regions[i%len(regions)], orgNumber("232", i), municipalities[i%len(municipalities)], true
		case i < sc.PublicBodies:
			m := municipalities[i%len(municipalities)]
			o.name, o.number, o.municipality, o.public = m+" kommun", orgNumber("212", i), m, true
			if k := i / len(municipalities); k > 0 {
				o.name = fmt.Sprintf("%s kommun, %s", m, departments[k%len(departments)])
			}
		default:
			j := i - sc.PublicBodies
			m := municipalities[(j/len(orgKinds))%len(municipalities)]
			o.name, o.number, o.municipality = orgKinds[j%len(orgKinds)]+" "+m, orgNumber("802", j), m
			if k := j / (len(orgKinds) * len(municipalities)); k > 0 {
				o.name = fmt.Sprintf("%s %d", o.name, k+1)
			}
		}
		if _, err := orgnr.Parse(o.number); err != nil {
			return rep, fmt.Errorf("generated organisation number %s: %w", o.number, err)
		}
	}
	if err := timed("organisations", func() error {
		return s.copyRows(ctx, "organisations", []string{"id", "name", "organisation_number", "legal_form", "sector",
			"municipality", "website", "description", "contact_email", "contact_phone", "created_at", "updated_at"},
			"seeding organisations", len(s.orgs), func(emit func([]any) bool) {
				for i, o := range s.orgs {
					legal, sector := legalForms[i%len(legalForms)], "idea_based"
					if o.public {
						legal, sector = "other", "public"
					}
					created := s.now.AddDate(-3, 0, 0).Add(time.Duration(i) * time.Minute)
					if !emit([]any{o.id, o.name, o.number, legal, sector, o.municipality,
						fmt.Sprintf("https://www.example.org/%s", o.number), "Verksamhet i " + o.municipality + ".",
						fmt.Sprintf("info-%s@example.org", o.number), fmt.Sprintf("054-%06d", i), created, created}) {
						return
					}
				}
			})
	}); err != nil {
		return rep, err
	}

	// One agreement per region, each with one version in force, and a
	// planned signing ceremony (for the attach benchmark).
	s.versions, s.adopted, s.ceremonies = make([]uuid.UUID, sc.Versions), make([]time.Time, sc.Versions), make([]uuid.UUID, sc.Versions)
	agreements := make([]uuid.UUID, sc.Versions)
	for v := range sc.Versions {
		agreements[v], s.versions[v], s.ceremonies[v] = s.id(), s.id(), s.id()
		s.adopted[v] = time.Date(s.year-2, time.Month(1+v%12), 1+v, 0, 0, 0, 0, time.UTC)
	}
	if err := timed("agreements", func() error {
		if err := s.copyRows(ctx, "agreements", []string{"id", "name", "public_body_id", "created_at"}, "seeding agreements", sc.Versions,
			func(emit func([]any) bool) {
				for v := range sc.Versions {
					emit([]any{agreements[v], "Överenskommelsen i " + s.orgs[v].name, s.orgs[v].id, s.adopted[v]})
				}
			}); err != nil {
			return err
		}
		if err := s.copyRows(ctx, "agreement_versions", []string{"id", "agreement_id", "number", "title", "body", "document_url",
			"adopted_on", "decision_reference", "principles", "valid_from", "revision_due", "scope_note", "created_at"},
			"seeding agreement versions", sc.Versions, func(emit func([]any) bool) {
				for v := range sc.Versions {
					a := s.adopted[v]
					emit([]any{s.versions[v], agreements[v], 1, "Överenskommelsen mellan " + s.orgs[v].name + " och den idéburna sektorn",
						"Parterna är överens om sex principer för samverkan.", "https://www.example.org/overenskommelsen.pdf", a,
						fmt.Sprintf("RS/%d:%d", a.Year(), 100+v), principles, a, a.AddDate(5, 0, 0), "", a})
				}
			}); err != nil {
			return err
		}
		return s.copyRows(ctx, "ceremonies", []string{"id", "agreement_version_id", "title", "held_on", "place", "status", "created_at"},
			"seeding signing ceremonies", sc.Versions, func(emit func([]any) bool) {
				for v := range sc.Versions {
					emit([]any{s.ceremonies[v], s.versions[v], "Signeringsceremoni i " + s.orgs[v].name,
						s.today.AddDate(1, 1, 0), s.orgs[v].municipality, "planned", s.now})
				}
			})
	}); err != nil {
		return rep, err
	}

	// The plan of every partnership and the number of events it makes.
	plan := s.partnershipPlan()
	base := sc.Organisations + 4*sc.Versions*sc.SignatoriesPerVersion
	hot := 0
	for i := range plan {
		base += 6 + len(plan[i].parties)
		if plan[i].hotExtra < 0 {
			hot++
		}
	}
	extra := max(0, sc.Events-base)
	k := 0
	for i := range plan {
		if plan[i].hotExtra < 0 {
			plan[i].hotExtra = extra / hot
			if k < extra%hot {
				plan[i].hotExtra++
			}
			k++
		}
	}
	rep.Events = base + extra

	signings := make([]uuid.UUID, sc.Versions*sc.SignatoriesPerVersion)
	for i := range signings {
		signings[i] = s.id()
	}
	if err := timed("workflow instances", func() error {
		return s.copyRows(ctx, "workflow_instances", instanceColumns, "seeding workflow instances", len(signings)+len(plan),
			func(emit func([]any) bool) {
				for v := range sc.Versions {
					for k := range sc.SignatoriesPerVersion {
						oi, at := s.signatory(v, k)
						o := s.orgs[oi]
						data := mustJSON(map[string]any{"organisationId": o.id.String(), "agreementVersionId": s.versions[v].String(),
							"publicBody": false, "signed": true})
						if !emit([]any{signings[v*sc.SignatoriesPerVersion+k], "signing", 1, "organisation", o.id,
							[]string{authz.OrgScope(o.id), authz.ScopeRegion}, "signed", at, 5, data, 4, false, at.AddDate(0, 0, -30), at}) {
							return
						}
					}
				}
				for i := range plan {
					p := &plan[i]
					events := 6 + len(p.parties) + p.hotExtra
					if !emit(s.partnershipInstanceRow(p, events)) {
						return
					}
				}
			})
	}); err != nil {
		return rep, err
	}
	if err := timed("signatories", func() error {
		return s.copyRows(ctx, "signatories", []string{"id", "agreement_version_id", "organisation_id", "instance_id", "signed_on",
			"how", "created_at"}, "seeding signatories", len(signings), func(emit func([]any) bool) {
			for v := range sc.Versions {
				for k := range sc.SignatoriesPerVersion {
					oi, at := s.signatory(v, k)
					d := at.In(clock.Stockholm)
					if !emit([]any{s.id(), s.versions[v], s.orgs[oi].id, signings[v*sc.SignatoriesPerVersion+k],
						time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), "direct", at}) {
						return
					}
				}
			}
		})
	}); err != nil {
		return rep, err
	}
	if err := timed("partnerships", func() error { return s.seedPartnerships(ctx, plan) }); err != nil {
		return rep, err
	}
	if err := timed("history events", func() error {
		return s.copyRows(ctx, "history_events", eventColumns, "seeding history events", rep.Events, func(emit func([]any) bool) {
			for _, o := range s.orgs {
				actor := &s.official
				if !o.public {
					actor = &s.reps[int(o.id[0])%len(s.reps)]
				}
				n, _ := orgnr.Parse(o.number)
				c := chain{stream: "organisation:" + o.id.String()}
				if !emit(c.row(event{at: s.now.AddDate(-3, 0, 0), actor: actor, kind: "organisation_registered",
					input: jsonb(kv{"name", o.name}, kv{"organisationNumber", n.String()}), public: true})) {
					return
				}
			}
			for v := range sc.Versions {
				for k := range sc.SignatoriesPerVersion {
					oi, at := s.signatory(v, k)
					inst := signings[v*sc.SignatoriesPerVersion+k]
					c := chain{stream: "instance:" + inst.String()}
					for _, e := range s.signingEvents(inst, oi, at) {
						if !emit(c.row(e)) {
							return
						}
					}
				}
			}
			for i := range plan {
				c := chain{stream: "instance:" + plan[i].instance.String()}
				for _, e := range s.partnershipEvents(&plan[i]) {
					if !emit(c.row(e)) {
						return
					}
				}
			}
		})
	}); err != nil {
		return rep, err
	}
	return rep, nil
}

var instanceColumns = []string{"id", "kind", "definition_version", "subject_type", "subject_id", "scopes", "state",
	"state_entered_at", "round", "data", "version", "final", "created_at", "updated_at"}

func (s *seeder) partnershipInstanceRow(p *partnership, events int) []any {
	ids := make([]string, len(p.parties))
	names := map[string]any{}
	scopes := []string{authz.ScopeRegion}
	for i, k := range p.parties {
		ids[i] = s.orgs[k].id.String()
		names[ids[i]] = s.orgs[k].name
		scopes = append(scopes, authz.OrgScope(s.orgs[k].id))
	}
	data := mustJSON(map[string]any{"partnershipId": p.id.String(), "publicBodyId": s.orgs[p.publicBody].id.String(),
		"ideaBasedPartyIds": ids, "partyNames": names, "ownInitiative": p.ownInit, "recommendation": "iop",
		"decisionDraftVersion": 1, "activated": true, "endsAt": endsAt(p)})
	updated := p.activated
	if p.hotExtra > 0 {
		updated = s.now.Add(-time.Hour)
	}
	return []any{p.instance, "partnership", 1, "partnership", p.id, scopes, "active", p.activated, 5, data, events, false,
		p.created, updated}
}

// seedPartnerships writes the records, parties, contributions and periods.
func (s *seeder) seedPartnerships(ctx context.Context, plan []partnership) error {
	sc := s.scale
	if err := s.copyRows(ctx, "partnerships", []string{"id", "instance_id", "title", "purpose", "background", "preconditions",
		"value_base_version_id", "own_initiative", "initiated_by", "steering_group", "working_group", "responsibilities", "goals",
		"target_group", "followup_indicators", "report_due_month", "report_due_day", "budget", "expected_gains", "start_date",
		"end_date", "notice_months", "change_handling", "renegotiation", "rescission", "dispute_resolution", "activated_at",
		"decision_draft_version", "created_at", "updated_at"}, "seeding partnerships", len(plan), func(emit func([]any) bool) {
		for i := range plan {
			p := &plan[i]
			initiator := &s.official
			if p.ownInit {
				initiator = s.rep(p.parties[0])
			}
			muni := s.orgs[p.publicBody].municipality
			if !emit([]any{p.id, p.instance, p.title,
				"Partnerskapet ska ge fler invånare i " + muni + " tillgång till verksamheten genom att parterna samordnar lokaler, personal och ideella insatser.",
				"Behovet har vuxit de senaste åren.", "Verksamheten bedrivs utan vinstsyfte.", s.versions[i%sc.Versions], p.ownInit,
				*initiator, "En representant per part.", "Verksamhetsansvariga.", "Den offentliga parten bidrar med medel, föreningen med verksamheten.",
				"Fler deltagare och ökad trygghet.", "Barn, unga och äldre i " + muni + ".", "Antal deltagare per år.", 3, 31,
				numeric(int64(100_000+(i%50)*10_000) * 100), "Lägre kostnader för samhället.", p.start, p.end, 3,
				"Ändringar görs skriftligt.", "Omförhandling vid väsentligt ändrade förutsättningar.", "Hävning vid väsentligt avtalsbrott.",
				"Tvister löses i första hand genom dialog.", p.activated, 1, p.created, p.activated}) {
				return
			}
		}
	}); err != nil {
		return err
	}
	parties := 0
	for i := range plan {
		parties += 1 + len(plan[i].parties)
	}
	if err := s.copyRows(ctx, "partnership_parties", []string{"partnership_id", "organisation_id", "role"}, "seeding partnership parties",
		parties, func(emit func([]any) bool) {
			for i := range plan {
				p := &plan[i]
				if !emit([]any{p.id, s.orgs[p.publicBody].id, "public"}) {
					return
				}
				for _, k := range p.parties {
					if !emit([]any{p.id, s.orgs[k].id, "idea_based"}) {
						return
					}
				}
			}
		}); err != nil {
		return err
	}
	// The public body's money for three years, each idea-based party's
	// volunteer hours for the first.
	if err := s.copyRows(ctx, "partnership_contributions", []string{"id", "partnership_id", "organisation_id", "year", "kind", "amount",
		"unit", "description"}, "seeding contributions", parties-len(plan)+3*len(plan), func(emit func([]any) bool) {
		for i := range plan {
			p := &plan[i]
			budget := int64(100_000 + (i%50)*10_000)
			for y := range 3 {
				if !emit([]any{s.id(), p.id, s.orgs[p.publicBody].id, s.year - 1 + y, "money", numeric(budget * 100 / 3), "SEK", "Verksamhetsbidrag"}) {
					return
				}
			}
			for j, k := range p.parties {
				if !emit([]any{s.id(), p.id, s.orgs[k].id, s.year - 1, "volunteer_hours", numeric(int64(400+j*100+i%300) * 100), "timmar", "Ideella insatser"}) {
					return
				}
			}
		}
	}); err != nil {
		return err
	}
	return s.copyRows(ctx, "partnership_periods", []string{"partnership_id", "number", "start_date", "end_date", "created_at"},
		"seeding partnership periods", len(plan), func(emit func([]any) bool) {
			for i := range plan {
				p := &plan[i]
				if !emit([]any{p.id, 1, p.start, p.end, p.activated}) {
					return
				}
			}
		})
}

// readMarker reads the marker of a complete dataset (nil when none).
func readMarker(ctx context.Context, q store.Querier) (*marker, error) {
	var name string
	err := q.QueryRow(ctx, `SELECT name FROM users WHERE issuer = $1 AND subject = $2`, markerIssuer, markerSubject).Scan(&name)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m marker
	if err := json.Unmarshal([]byte(name), &m); err != nil {
		return nil, nil
	}
	return &m, nil
}

func writeMarker(ctx context.Context, q store.Querier, m marker) error {
	_, err := q.Exec(ctx, `INSERT INTO users (issuer, subject, name) VALUES ($1, $2, $3)
		ON CONFLICT (issuer, subject) DO UPDATE SET name = EXCLUDED.name`, markerIssuer, markerSubject, string(mustJSON(m)))
	return err
}

// refreshExpiring moves the end dates of the partnerships seeded to expire
// soon (those whose period is not the usual three years) to within 90
// days of today again, for a dataset seeded some days ago.
func refreshExpiring(ctx context.Context, q store.Querier, today time.Time) error {
	_, err := q.Exec(ctx, `WITH e AS (
			SELECT id, instance_id, row_number() OVER (ORDER BY id) - 1 AS k FROM partnerships
			WHERE activated_at IS NOT NULL AND end_date <> (start_date + interval '3 years' - interval '1 day')::date
		), u AS (
			UPDATE partnerships p SET end_date = $1::date + 1 + (e.k % 89)::int FROM e WHERE p.id = e.id
			RETURNING p.id, p.end_date, e.instance_id
		), pp AS (
			UPDATE partnership_periods pp SET end_date = u.end_date FROM u WHERE pp.partnership_id = u.id AND pp.number = 1
		)
		UPDATE workflow_instances w SET data = jsonb_set(w.data, '{endsAt}', to_jsonb(to_char(
			((u.end_date + 1)::timestamp AT TIME ZONE 'Europe/Stockholm') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
		FROM u WHERE w.id = u.instance_id`, today)
	return err
}
