package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Amounts (money in SEK, hours, …) are numeric(14, 2) in the database and
// int64 hundredths here: 1 250,50 kr is 125050. SQL converts both ways
// exactly.

// Partnership is an IOP record (idéburet offentligt partnerskap).
type Partnership struct {
	ID                 uuid.UUID
	InstanceID         *uuid.UUID
	Title              string
	Purpose            string
	Background         string
	Preconditions      string
	ValueBaseVersionID *uuid.UUID
	OwnInitiative      bool
	InitiatedBy        *uuid.UUID
	SteeringGroup      string
	WorkingGroup       string
	Responsibilities   string
	Goals              string
	TargetGroup        string
	FollowUpIndicators string
	ReportDueMonth     int
	ReportDueDay       int
	// Budget in hundredths of SEK.
	Budget                 int64
	ExpectedGains          string
	StartDate              time.Time
	EndDate                time.Time
	NoticeMonths           int
	ChangeHandling         string
	Renegotiation          string
	Rescission             string
	DisputeResolution      string
	ActivatedAt            *time.Time
	DecisionDraftVersion   *int
	TerminationRequestedOn *time.Time
	TerminatedBy           *uuid.UUID
	TerminationReason      string
	TerminatedOn           *time.Time
	EndedAt                *time.Time
	CreatedAt              time.Time
	UpdatedAt              time.Time
	// State is the workflow instance's state (read only; "" without one).
	State string
}

const partnershipColumns = `p.id, p.instance_id, p.title, p.purpose, p.background, p.preconditions, p.value_base_version_id,
	p.own_initiative, p.initiated_by, p.steering_group, p.working_group, p.responsibilities, p.goals, p.target_group,
	p.followup_indicators, p.report_due_month, p.report_due_day, (p.budget * 100)::bigint, p.expected_gains,
	p.start_date, p.end_date, p.notice_months, p.change_handling, p.renegotiation, p.rescission, p.dispute_resolution,
	p.activated_at, p.decision_draft_version, p.termination_requested_on, p.terminated_by, p.termination_reason,
	p.terminated_on, p.ended_at, p.created_at, p.updated_at, coalesce(w.state, '')`

const partnershipFrom = ` FROM partnerships p LEFT JOIN workflow_instances w ON w.id = p.instance_id `

func scanPartnership(r pgx.Row) (*Partnership, error) {
	var p Partnership
	err := r.Scan(&p.ID, &p.InstanceID, &p.Title, &p.Purpose, &p.Background, &p.Preconditions, &p.ValueBaseVersionID,
		&p.OwnInitiative, &p.InitiatedBy, &p.SteeringGroup, &p.WorkingGroup, &p.Responsibilities, &p.Goals, &p.TargetGroup,
		&p.FollowUpIndicators, &p.ReportDueMonth, &p.ReportDueDay, &p.Budget, &p.ExpectedGains,
		&p.StartDate, &p.EndDate, &p.NoticeMonths, &p.ChangeHandling, &p.Renegotiation, &p.Rescission, &p.DisputeResolution,
		&p.ActivatedAt, &p.DecisionDraftVersion, &p.TerminationRequestedOn, &p.TerminatedBy, &p.TerminationReason,
		&p.TerminatedOn, &p.EndedAt, &p.CreatedAt, &p.UpdatedAt, &p.State)
	return &p, err
}

func collectPartnerships(rows pgx.Rows, err error) ([]*Partnership, error) {
	if err != nil {
		return nil, translate(err, "read partnerships")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Partnership, error) { return scanPartnership(r) })
	return out, translate(err, "read partnerships")
}

// InsertPartnership stores a new partnership record.
func InsertPartnership(ctx context.Context, q Querier, p *Partnership) error {
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	p.UpdatedAt = p.CreatedAt
	_, err := q.Exec(ctx, `INSERT INTO partnerships (id, title, purpose, background, preconditions, value_base_version_id,
		own_initiative, initiated_by, steering_group, working_group, responsibilities, goals, target_group,
		followup_indicators, report_due_month, report_due_day, budget, expected_gains, start_date, end_date,
		notice_months, change_handling, renegotiation, rescission, dispute_resolution, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::bigint::numeric / 100, $18,
		$19, $20, $21, $22, $23, $24, $25, $26, $26)`,
		p.ID, p.Title, p.Purpose, p.Background, p.Preconditions, p.ValueBaseVersionID,
		p.OwnInitiative, p.InitiatedBy, p.SteeringGroup, p.WorkingGroup, p.Responsibilities, p.Goals, p.TargetGroup,
		p.FollowUpIndicators, p.ReportDueMonth, p.ReportDueDay, p.Budget, p.ExpectedGains, p.StartDate, p.EndDate,
		p.NoticeMonths, p.ChangeHandling, p.Renegotiation, p.Rescission, p.DisputeResolution, p.CreatedAt)
	return translate(err, "store partnership")
}

// UpdatePartnershipRecord writes the negotiable fields of the record (not
// its parties, state, decision or termination).
func UpdatePartnershipRecord(ctx context.Context, q Querier, p *Partnership) error {
	_, err := q.Exec(ctx, `UPDATE partnerships SET title = $2, purpose = $3, background = $4, preconditions = $5,
		value_base_version_id = $6, steering_group = $7, working_group = $8, responsibilities = $9, goals = $10,
		target_group = $11, followup_indicators = $12, report_due_month = $13, report_due_day = $14,
		budget = $15::bigint::numeric / 100, expected_gains = $16, start_date = $17, end_date = $18, notice_months = $19,
		change_handling = $20, renegotiation = $21, rescission = $22, dispute_resolution = $23, updated_at = $24
		WHERE id = $1`,
		p.ID, p.Title, p.Purpose, p.Background, p.Preconditions, p.ValueBaseVersionID, p.SteeringGroup, p.WorkingGroup,
		p.Responsibilities, p.Goals, p.TargetGroup, p.FollowUpIndicators, p.ReportDueMonth, p.ReportDueDay, p.Budget,
		p.ExpectedGains, p.StartDate, p.EndDate, p.NoticeMonths, p.ChangeHandling, p.Renegotiation, p.Rescission,
		p.DisputeResolution, p.UpdatedAt)
	return translate(err, "update partnership")
}

// SetPartnershipInstance links a partnership to its workflow instance.
func SetPartnershipInstance(ctx context.Context, q Querier, id, instanceID uuid.UUID) error {
	_, err := q.Exec(ctx, `UPDATE partnerships SET instance_id = $2 WHERE id = $1`, id, instanceID)
	return translate(err, "link partnership to its workflow")
}

// GetPartnership reads one partnership.
func GetPartnership(ctx context.Context, q Querier, id uuid.UUID) (*Partnership, error) {
	p, err := scanPartnership(q.QueryRow(ctx, `SELECT `+partnershipColumns+partnershipFrom+`WHERE p.id = $1`, id))
	return p, translate(err, "read partnership")
}

// PartnershipsByIDs reads several partnerships (for data loaders); missing
// ones are left out.
func PartnershipsByIDs(ctx context.Context, q Querier, ids []uuid.UUID) ([]*Partnership, error) {
	rows, err := q.Query(ctx, `SELECT `+partnershipColumns+partnershipFrom+`WHERE p.id = ANY($1)`, ids)
	return collectPartnerships(rows, err)
}

// PartnershipVisibility says which partnerships a viewer may see: all of
// them, or the agreed (public) ones and those where one of Orgs is an
// idea-based party.
type PartnershipVisibility struct {
	All  bool
	Orgs []uuid.UUID
}

const visibleClause = `($1::boolean OR p.activated_at IS NOT NULL OR EXISTS (SELECT 1 FROM partnership_parties v
	WHERE v.partnership_id = p.id AND v.role = 'idea_based' AND v.organisation_id = ANY($2)))`

// PartnershipsOfOrganisation lists the partnerships an organisation is a
// party to that the viewer may see, newest first.
func PartnershipsOfOrganisation(ctx context.Context, q Querier, vis PartnershipVisibility, orgID uuid.UUID) ([]*Partnership, error) {
	rows, err := q.Query(ctx, `SELECT `+partnershipColumns+partnershipFrom+`
		WHERE `+visibleClause+` AND EXISTS (SELECT 1 FROM partnership_parties x WHERE x.partnership_id = p.id AND x.organisation_id = $3)
		ORDER BY p.created_at DESC, p.id`, vis.All, vis.Orgs, orgID)
	return collectPartnerships(rows, err)
}

// PartnershipPage pages partnerships in a state by id.
type PartnershipPage struct {
	// State filters by the workflow state; empty lists every state.
	State   string
	AfterID uuid.UUID
	Limit   int
}

// PartnershipsByState lists the visible partnerships whose workflow is in a
// state, by id after a cursor.
func PartnershipsByState(ctx context.Context, q Querier, vis PartnershipVisibility, p PartnershipPage) ([]*Partnership, error) {
	rows, err := q.Query(ctx, `SELECT `+partnershipColumns+partnershipFrom+`
		WHERE `+visibleClause+` AND w.kind = 'partnership' AND ($3 = '' OR w.state = $3) AND p.id > $4 ORDER BY p.id LIMIT $5`,
		vis.All, vis.Orgs, p.State, p.AfterID, p.Limit)
	return collectPartnerships(rows, err)
}

// CountPartnershipsByState counts the visible partnerships whose workflow
// is in a state (every state when state is empty), as PartnershipsByState
// lists them.
func CountPartnershipsByState(ctx context.Context, q Querier, vis PartnershipVisibility, state string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*)`+partnershipFrom+`
		WHERE `+visibleClause+` AND w.kind = 'partnership' AND ($3 = '' OR w.state = $3)`,
		vis.All, vis.Orgs, state).Scan(&n)
	return n, translate(err, "count partnerships")
}

// effectiveEnd is the day a partnership ends: its end date, or the day its
// termination takes effect when sooner (least ignores a NULL terminated_on).
const effectiveEnd = `least(p.end_date, p.terminated_on)`

// ExpiringPage pages the partnerships in one of States whose effective end
// date (the end date, or the day a termination takes effect when sooner) is
// between From and To (inclusive), soonest first, after a cursor (the
// previous page's last effective end date and id).
type ExpiringPage struct {
	States   []string
	From, To time.Time
	AfterEnd time.Time
	AfterID  uuid.UUID
	Limit    int
}

// ExpiringPartnerships lists one page of the visible partnerships that end
// soon.
func ExpiringPartnerships(ctx context.Context, q Querier, vis PartnershipVisibility, p ExpiringPage) ([]*Partnership, error) {
	from, afterEnd, afterID := p.From, p.AfterEnd, p.AfterID
	if afterEnd.Before(from) {
		afterEnd, afterID = from, uuid.Nil
	}
	// The page first (along partnerships_effective_end, by id and end
	// only), then its rows' columns: never the long texts of rows that the
	// limit drops.
	rows, err := q.Query(ctx, `SELECT `+partnershipColumns+` FROM (SELECT p.id, `+effectiveEnd+` AS effective_end
			FROM partnerships p JOIN workflow_instances w ON w.id = p.instance_id
			WHERE `+visibleClause+` AND p.activated_at IS NOT NULL AND w.kind = 'partnership' AND w.state = ANY($3)
			  AND `+effectiveEnd+` BETWEEN $4 AND $5 AND (`+effectiveEnd+`, p.id) > ($6, $7)
			ORDER BY `+effectiveEnd+`, p.id LIMIT $8) page
		JOIN partnerships p ON p.id = page.id LEFT JOIN workflow_instances w ON w.id = p.instance_id
		ORDER BY page.effective_end, page.id`, vis.All, vis.Orgs, p.States, from, p.To, afterEnd, afterID, p.Limit)
	return collectPartnerships(rows, err)
}

// CountExpiringPartnerships counts the visible partnerships that end soon,
// as ExpiringPartnerships lists them (its cursor and limit aside).
func CountExpiringPartnerships(ctx context.Context, q Querier, vis PartnershipVisibility, p ExpiringPage) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*)`+partnershipFrom+`
		WHERE `+visibleClause+` AND p.activated_at IS NOT NULL AND w.kind = 'partnership' AND w.state = ANY($3)
		  AND `+effectiveEnd+` BETWEEN $4 AND $5`, vis.All, vis.Orgs, p.States, p.From, p.To).Scan(&n)
	return n, translate(err, "count expiring partnerships")
}

// ActivatePartnership records the decision: both parties approved the
// draft version.
func ActivatePartnership(ctx context.Context, q Querier, id uuid.UUID, at time.Time, draftVersion int) error {
	_, err := q.Exec(ctx, `UPDATE partnerships SET activated_at = $2, decision_draft_version = $3, updated_at = $2 WHERE id = $1`,
		id, at, draftVersion)
	return translate(err, "activate partnership")
}

// SetPartnershipEndDate moves the end date (a renewal).
func SetPartnershipEndDate(ctx context.Context, q Querier, id uuid.UUID, end time.Time, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE partnerships SET end_date = $2, updated_at = $3 WHERE id = $1`, id, end, at)
	return translate(err, "renew partnership")
}

// SetPartnershipTermination records a party's notice of termination.
func SetPartnershipTermination(ctx context.Context, q Querier, id uuid.UUID, by uuid.UUID, reason string, requested, effective time.Time, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE partnerships SET terminated_by = $2, termination_reason = $3, termination_requested_on = $4,
		terminated_on = $5, updated_at = $6 WHERE id = $1`, id, by, reason, requested, effective, at)
	return translate(err, "terminate partnership")
}

// MarkPartnershipEnded records that the partnership ended or was terminated.
func MarkPartnershipEnded(ctx context.Context, q Querier, id uuid.UUID, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE partnerships SET ended_at = $2, updated_at = $2 WHERE id = $1`, id, at)
	return translate(err, "end partnership")
}

// PartnershipParty is an organisation's part in a partnership.
type PartnershipParty struct {
	PartnershipID  uuid.UUID
	OrganisationID uuid.UUID
	// Role is "public" or "idea_based".
	Role string
	// Organisation is the party's organisation when read along
	// (PartnershipParties); nil otherwise.
	Organisation *Organisation
}

// InsertPartnershipParties stores the parties.
func InsertPartnershipParties(ctx context.Context, q Querier, parties []PartnershipParty) error {
	pids, orgs, roles := make([]uuid.UUID, len(parties)), make([]uuid.UUID, len(parties)), make([]string, len(parties))
	for i, p := range parties {
		pids[i], orgs[i], roles[i] = p.PartnershipID, p.OrganisationID, p.Role
	}
	_, err := q.Exec(ctx, `INSERT INTO partnership_parties (partnership_id, organisation_id, role)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])`, pids, orgs, roles)
	if isUniqueViolation(err) {
		return conflictf("En organisation kan bara vara part en gång, och det finns bara en offentlig part. / An organisation can be a party only once, and there is only one public body.")
	}
	return translate(err, "store partnership parties")
}

// partnershipPartiesSQL reads the parties of several partnerships with
// their organisations, the public body first; scanParties makes one value
// per organisation, shared by its parties.
const partnershipPartiesSQL = `SELECT pp.partnership_id, pp.role, o.id, o.name, o.organisation_number, o.legal_form, o.sector,
	o.municipality, o.website, o.description, o.contact_email, o.contact_phone, o.created_at, o.updated_at FROM partnership_parties pp
	JOIN organisations o ON o.id = pp.organisation_id
	WHERE pp.partnership_id = ANY($1) ORDER BY pp.partnership_id, pp.role DESC, lower(o.name), o.id`

func scanParties(rows pgx.Rows) ([]*PartnershipParty, error) {
	defer rows.Close()
	var out []*PartnershipParty
	orgs := map[uuid.UUID]*Organisation{}
	for rows.Next() {
		var p PartnershipParty
		var o Organisation
		if err := rows.Scan(&p.PartnershipID, &p.Role, &o.ID, &o.Name, &o.OrganisationNumber, &o.LegalForm, &o.Sector, &o.Municipality,
			&o.Website, &o.Description, &o.ContactEmail, &o.ContactPhone, &o.CreatedAt, &o.UpdatedAt); err != nil {
			return nil, translate(err, "read partnership parties")
		}
		p.OrganisationID = o.ID
		if p.Organisation = orgs[o.ID]; p.Organisation == nil {
			p.Organisation = &o
			orgs[o.ID] = &o
		}
		out = append(out, &p)
	}
	return out, translate(rows.Err(), "read partnership parties")
}

// PartnershipsAlong is what PartnershipsWith reads of partnerships.
type PartnershipsAlong struct {
	Instances     []*Instance
	Parties       []*PartnershipParty
	Contributions []*Contribution
}

// PartnershipsWith reads the instances, parties (with their organisations)
// and contributions of partnerships in one round trip (one batch of three
// statements).
func PartnershipsWith(ctx context.Context, q Querier, ids, instanceIDs []uuid.UUID) (PartnershipsAlong, error) {
	var out PartnershipsAlong
	b := &pgx.Batch{}
	b.Queue(`SELECT `+instanceColumns+` FROM workflow_instances WHERE id = ANY($1)`, instanceIDs).Query(func(rows pgx.Rows) (err error) {
		out.Instances, err = collectInstances(rows)
		return err
	})
	b.Queue(partnershipPartiesSQL, ids).Query(func(rows pgx.Rows) (err error) {
		out.Parties, err = scanParties(rows)
		return err
	})
	b.Queue(contributionsSQL, ids).Query(func(rows pgx.Rows) (err error) {
		out.Contributions, err = collect(rows, nil, "read contributions", scanContribution)
		return err
	})
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return PartnershipsAlong{}, translate(err, "read partnerships")
	}
	return out, nil
}

// Contribution is what a party contributes to a partnership in a year.
type Contribution struct {
	ID             uuid.UUID
	PartnershipID  uuid.UUID
	OrganisationID uuid.UUID
	Year           int
	// Kind is money, staff_hours, premises, volunteer_hours or other.
	Kind string
	// Amount in hundredths of Unit (öre for money).
	Amount      int64
	Unit        string
	Description string
}

// ReplaceContributions replaces a partnership's contributions of the given
// years (all years when years is nil) with cs.
func ReplaceContributions(ctx context.Context, q Querier, partnershipID uuid.UUID, years []int, cs []Contribution) error {
	if _, err := q.Exec(ctx, `DELETE FROM partnership_contributions WHERE partnership_id = $1 AND ($2::int[] IS NULL OR year = ANY($2))`,
		partnershipID, years); err != nil {
		return translate(err, "replace contributions")
	}
	if len(cs) == 0 {
		return nil
	}
	orgs, yrs, kinds, amounts, units, descs := make([]uuid.UUID, len(cs)), make([]int, len(cs)), make([]string, len(cs)),
		make([]int64, len(cs)), make([]string, len(cs)), make([]string, len(cs))
	for i, c := range cs {
		orgs[i], yrs[i], kinds[i], amounts[i], units[i], descs[i] = c.OrganisationID, c.Year, c.Kind, c.Amount, c.Unit, c.Description
	}
	_, err := q.Exec(ctx, `INSERT INTO partnership_contributions (partnership_id, organisation_id, year, kind, amount, unit, description)
		SELECT $1, o, y, k, a::numeric / 100, u, d FROM unnest($2::uuid[], $3::int[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS t(o, y, k, a, u, d)`,
		partnershipID, orgs, yrs, kinds, amounts, units, descs)
	return translate(err, "store contributions")
}

// contributionsSQL reads the contributions of several partnerships by
// party, year and kind.
const contributionsSQL = `SELECT id, partnership_id, organisation_id, year, kind, (amount * 100)::bigint, unit, description
	FROM partnership_contributions WHERE partnership_id = ANY($1) ORDER BY partnership_id, organisation_id, year, kind, id`

func scanContribution(r pgx.CollectableRow) (*Contribution, error) {
	var c Contribution
	err := r.Scan(&c.ID, &c.PartnershipID, &c.OrganisationID, &c.Year, &c.Kind, &c.Amount, &c.Unit, &c.Description)
	return &c, err
}

// ContributionSum is a party's total of one kind in a year.
type ContributionSum struct {
	OrganisationID uuid.UUID
	Year           int
	Kind           string
	Amount         int64
}

// ContributionSums sums a partnership's contributions per party, year and
// kind (money and hours do not add up).
func ContributionSums(ctx context.Context, q Querier, partnershipID uuid.UUID) ([]ContributionSum, error) {
	rows, err := q.Query(ctx, `SELECT organisation_id, year, kind, (sum(amount) * 100)::bigint FROM partnership_contributions
		WHERE partnership_id = $1 GROUP BY organisation_id, year, kind ORDER BY organisation_id, year, kind`, partnershipID)
	if err != nil {
		return nil, translate(err, "sum contributions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ContributionSum, error) {
		var s ContributionSum
		err := r.Scan(&s.OrganisationID, &s.Year, &s.Kind, &s.Amount)
		return s, err
	})
	return out, translate(err, "sum contributions")
}

// PublicMoneyTotals is, per partnership, the public body's money
// contribution over all years (hundredths of SEK); the public figure of an
// IOP. Partnerships without one are left out.
func PublicMoneyTotals(ctx context.Context, q Querier, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
	rows, err := q.Query(ctx, `SELECT c.partnership_id, (sum(c.amount) * 100)::bigint FROM partnership_contributions c
		JOIN partnership_parties pp ON pp.partnership_id = c.partnership_id AND pp.organisation_id = c.organisation_id
		WHERE c.partnership_id = ANY($1) AND pp.role = 'public' AND c.kind = 'money' GROUP BY c.partnership_id`, ids)
	if err != nil {
		return nil, translate(err, "sum public contributions")
	}
	defer rows.Close()
	out := map[uuid.UUID]int64{}
	for rows.Next() {
		var id uuid.UUID
		var sum int64
		if err := rows.Scan(&id, &sum); err != nil {
			return nil, translate(err, "sum public contributions")
		}
		out[id] = sum
	}
	return out, translate(rows.Err(), "sum public contributions")
}

// PartnershipPeriod is a period the partnership is in force.
type PartnershipPeriod struct {
	PartnershipID uuid.UUID
	Number        int
	StartDate     time.Time
	EndDate       time.Time
	CreatedAt     time.Time
}

// InsertPartnershipPeriod stores the next period.
func InsertPartnershipPeriod(ctx context.Context, q Querier, p *PartnershipPeriod) error {
	err := q.QueryRow(ctx, `INSERT INTO partnership_periods (partnership_id, number, start_date, end_date, created_at)
		VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM partnership_periods WHERE partnership_id = $1), $2, $3, $4)
		RETURNING number`, p.PartnershipID, p.StartDate, p.EndDate, p.CreatedAt).Scan(&p.Number)
	return translate(err, "store partnership period")
}

// PartnershipPeriods lists a partnership's periods, first first.
func PartnershipPeriods(ctx context.Context, q Querier, partnershipID uuid.UUID) ([]*PartnershipPeriod, error) {
	rows, err := q.Query(ctx, `SELECT partnership_id, number, start_date, end_date, created_at FROM partnership_periods
		WHERE partnership_id = $1 ORDER BY number`, partnershipID)
	if err != nil {
		return nil, translate(err, "read partnership periods")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*PartnershipPeriod, error) {
		var p PartnershipPeriod
		err := r.Scan(&p.PartnershipID, &p.Number, &p.StartDate, &p.EndDate, &p.CreatedAt)
		return &p, err
	})
	return out, translate(err, "read partnership periods")
}

// PartnershipAssessment is the official's check of whether an IOP fits.
type PartnershipAssessment struct {
	PartnershipID         uuid.UUID
	EconomicActivity      bool
	EconomicActivityNote  string
	MarketOrCompetition   bool
	MarketNote            string
	PossibleStateAid      bool
	StateAidNote          string
	IdeaBasedOrganisation bool
	IdeaBasedNote         string
	Suitable              bool
	Recommendation        string // iop, grant or procurement
	AssessedBy            *uuid.UUID
	AssessedAt            time.Time
}

// InsertPartnershipAssessment stores the assessment; there is one.
func InsertPartnershipAssessment(ctx context.Context, q Querier, a *PartnershipAssessment) error {
	_, err := q.Exec(ctx, `INSERT INTO partnership_assessments (partnership_id, economic_activity, economic_activity_note,
		market_or_competition, market_note, possible_state_aid, state_aid_note, idea_based_organisation, idea_based_note,
		suitable, recommendation, assessed_by, assessed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.PartnershipID, a.EconomicActivity, a.EconomicActivityNote, a.MarketOrCompetition, a.MarketNote, a.PossibleStateAid,
		a.StateAidNote, a.IdeaBasedOrganisation, a.IdeaBasedNote, a.Suitable, a.Recommendation, a.AssessedBy, a.AssessedAt)
	if isUniqueViolation(err) {
		return conflictf("Partnerskapet är redan bedömt. / The partnership has already been assessed.")
	}
	return translate(err, "store assessment")
}

// GetPartnershipAssessment reads a partnership's assessment.
func GetPartnershipAssessment(ctx context.Context, q Querier, partnershipID uuid.UUID) (*PartnershipAssessment, error) {
	var a PartnershipAssessment
	err := q.QueryRow(ctx, `SELECT partnership_id, economic_activity, economic_activity_note, market_or_competition, market_note,
		possible_state_aid, state_aid_note, idea_based_organisation, idea_based_note, suitable, recommendation, assessed_by, assessed_at
		FROM partnership_assessments WHERE partnership_id = $1`, partnershipID).
		Scan(&a.PartnershipID, &a.EconomicActivity, &a.EconomicActivityNote, &a.MarketOrCompetition, &a.MarketNote,
			&a.PossibleStateAid, &a.StateAidNote, &a.IdeaBasedOrganisation, &a.IdeaBasedNote, &a.Suitable, &a.Recommendation,
			&a.AssessedBy, &a.AssessedAt)
	return &a, translate(err, "read assessment")
}

// PartnershipDocument is an attached document; Content is only read by
// PartnershipDocumentContent.
type PartnershipDocument struct {
	ID            uuid.UUID
	PartnershipID uuid.UUID
	Kind          string
	Title         string
	URL           string
	Content       []byte
	Size          int
	MediaType     string
	UploadedBy    *uuid.UUID
	CreatedAt     time.Time
}

// InsertPartnershipDocument stores a document (a link or its content).
func InsertPartnershipDocument(ctx context.Context, q Querier, d *PartnershipDocument) error {
	if d.ID == uuid.Nil {
		d.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO partnership_documents (id, partnership_id, kind, title, url, content, media_type, uploaded_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, d.ID, d.PartnershipID, d.Kind, d.Title, d.URL, d.Content, d.MediaType,
		d.UploadedBy, d.CreatedAt)
	d.Size = len(d.Content)
	return translate(err, "store document")
}

// PartnershipDocuments lists a partnership's documents without content.
func PartnershipDocuments(ctx context.Context, q Querier, partnershipID uuid.UUID) ([]*PartnershipDocument, error) {
	rows, err := q.Query(ctx, `SELECT id, partnership_id, kind, title, url, coalesce(octet_length(content), 0), media_type, uploaded_by, created_at
		FROM partnership_documents WHERE partnership_id = $1 ORDER BY created_at, id`, partnershipID)
	if err != nil {
		return nil, translate(err, "list documents")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*PartnershipDocument, error) {
		var d PartnershipDocument
		err := r.Scan(&d.ID, &d.PartnershipID, &d.Kind, &d.Title, &d.URL, &d.Size, &d.MediaType, &d.UploadedBy, &d.CreatedAt)
		return &d, err
	})
	return out, translate(err, "list documents")
}

// PartnershipDocumentContent reads a document with its content.
func PartnershipDocumentContent(ctx context.Context, q Querier, id uuid.UUID) (*PartnershipDocument, error) {
	var d PartnershipDocument
	err := q.QueryRow(ctx, `SELECT id, partnership_id, kind, title, url, content, coalesce(octet_length(content), 0), media_type, uploaded_by, created_at
		FROM partnership_documents WHERE id = $1`, id).
		Scan(&d.ID, &d.PartnershipID, &d.Kind, &d.Title, &d.URL, &d.Content, &d.Size, &d.MediaType, &d.UploadedBy, &d.CreatedAt)
	return &d, translate(err, "read document")
}

// PartnershipDraft is a version of the agreement text.
type PartnershipDraft struct {
	ID            uuid.UUID
	PartnershipID uuid.UUID
	Version       int
	Body          string
	CreatedBy     *uuid.UUID
	CreatedAt     time.Time
}

// InsertPartnershipDraft stores the next draft version.
func InsertPartnershipDraft(ctx context.Context, q Querier, d *PartnershipDraft) error {
	if d.ID == uuid.Nil {
		d.ID = uuid.New()
	}
	err := q.QueryRow(ctx, `INSERT INTO partnership_drafts (id, partnership_id, version, body, created_by, created_at)
		VALUES ($1, $2, (SELECT coalesce(max(version), 0) + 1 FROM partnership_drafts WHERE partnership_id = $2), $3, $4, $5)
		RETURNING version`, d.ID, d.PartnershipID, d.Body, d.CreatedBy, d.CreatedAt).Scan(&d.Version)
	return translate(err, "store draft")
}

const draftColumns = `id, partnership_id, version, body, created_by, created_at`

func scanPartnershipDraft(r pgx.Row) (*PartnershipDraft, error) {
	var d PartnershipDraft
	err := r.Scan(&d.ID, &d.PartnershipID, &d.Version, &d.Body, &d.CreatedBy, &d.CreatedAt)
	return &d, err
}

// GetPartnershipDraft reads a draft.
func GetPartnershipDraft(ctx context.Context, q Querier, id uuid.UUID) (*PartnershipDraft, error) {
	d, err := scanPartnershipDraft(q.QueryRow(ctx, `SELECT `+draftColumns+` FROM partnership_drafts WHERE id = $1`, id))
	return d, translate(err, "read draft")
}

// PartnershipDrafts lists a partnership's drafts, oldest first.
func PartnershipDrafts(ctx context.Context, q Querier, partnershipID uuid.UUID) ([]*PartnershipDraft, error) {
	rows, err := q.Query(ctx, `SELECT `+draftColumns+` FROM partnership_drafts WHERE partnership_id = $1 ORDER BY version`, partnershipID)
	if err != nil {
		return nil, translate(err, "list drafts")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*PartnershipDraft, error) { return scanPartnershipDraft(r) })
	return out, translate(err, "list drafts")
}

// LatestDraftVersion is the newest draft's version (0: none).
func LatestDraftVersion(ctx context.Context, q Querier, partnershipID uuid.UUID) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM partnership_drafts WHERE partnership_id = $1`, partnershipID).Scan(&v)
	return v, translate(err, "read drafts")
}

// DraftComment is a party's comment on a draft.
type DraftComment struct {
	ID             uuid.UUID
	DraftID        uuid.UUID
	PartnershipID  uuid.UUID
	Body           string
	OrganisationID *uuid.UUID
	AuthorID       uuid.UUID
	CreatedAt      time.Time
}

// InsertDraftComment stores a comment on a draft.
func InsertDraftComment(ctx context.Context, q Querier, c *DraftComment) error {
	if c.ID == uuid.Nil {
		c.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO partnership_draft_comments (id, draft_id, partnership_id, body, organisation_id, author_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, c.DraftID, c.PartnershipID, c.Body, c.OrganisationID, c.AuthorID, c.CreatedAt)
	return translate(err, "store comment")
}

// DraftComments lists the comments on a draft in the order they came.
func DraftComments(ctx context.Context, q Querier, draftID uuid.UUID) ([]*DraftComment, error) {
	rows, err := q.Query(ctx, `SELECT id, draft_id, partnership_id, body, organisation_id, author_id, created_at
		FROM partnership_draft_comments WHERE draft_id = $1 ORDER BY created_at, id`, draftID)
	if err != nil {
		return nil, translate(err, "list comments")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*DraftComment, error) {
		var c DraftComment
		err := r.Scan(&c.ID, &c.DraftID, &c.PartnershipID, &c.Body, &c.OrganisationID, &c.AuthorID, &c.CreatedAt)
		return &c, err
	})
	return out, translate(err, "list comments")
}

// PartnershipNote is an internal note.
type PartnershipNote struct {
	ID            uuid.UUID
	PartnershipID uuid.UUID
	Body          string
	AuthorID      *uuid.UUID
	CreatedAt     time.Time
}

// InsertPartnershipNote stores an internal note.
func InsertPartnershipNote(ctx context.Context, q Querier, n *PartnershipNote) error {
	if n.ID == uuid.Nil {
		n.ID = uuid.New()
	}
	_, err := q.Exec(ctx, `INSERT INTO partnership_notes (id, partnership_id, body, author_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		n.ID, n.PartnershipID, n.Body, n.AuthorID, n.CreatedAt)
	return translate(err, "store note")
}

// PartnershipNotes lists a partnership's internal notes, oldest first.
func PartnershipNotes(ctx context.Context, q Querier, partnershipID uuid.UUID) ([]*PartnershipNote, error) {
	rows, err := q.Query(ctx, `SELECT id, partnership_id, body, author_id, created_at FROM partnership_notes
		WHERE partnership_id = $1 ORDER BY created_at, id`, partnershipID)
	if err != nil {
		return nil, translate(err, "list notes")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*PartnershipNote, error) {
		var n PartnershipNote
		err := r.Scan(&n.ID, &n.PartnershipID, &n.Body, &n.AuthorID, &n.CreatedAt)
		return &n, err
	})
	return out, translate(err, "list notes")
}

// Amendment is a versioned change of an active partnership.
type Amendment struct {
	ID            uuid.UUID
	PartnershipID uuid.UUID
	Version       int
	Description   string
	// Changes is the change as JSON.
	Changes    json.RawMessage
	Status     string // proposed, adopted, rejected or lapsed
	ProposedBy *uuid.UUID
	ProposedAt time.Time
	DecidedAt  *time.Time
}

const amendmentColumns = `id, partnership_id, version, description, changes, status, proposed_by, proposed_at, decided_at`

func scanAmendment(r pgx.Row) (*Amendment, error) {
	var a Amendment
	var changes []byte
	err := r.Scan(&a.ID, &a.PartnershipID, &a.Version, &a.Description, &changes, &a.Status, &a.ProposedBy, &a.ProposedAt, &a.DecidedAt)
	a.Changes = changes
	return &a, err
}

// InsertAmendment stores the next amendment version as proposed; only one
// may be open at a time.
func InsertAmendment(ctx context.Context, q Querier, a *Amendment) error {
	if a.ID == uuid.Nil {
		a.ID = uuid.New()
	}
	if len(a.Changes) == 0 {
		a.Changes = json.RawMessage("{}")
	}
	a.Status = "proposed"
	err := q.QueryRow(ctx, `INSERT INTO partnership_amendments (id, partnership_id, version, description, changes, proposed_by, proposed_at)
		VALUES ($1, $2, (SELECT coalesce(max(version), 0) + 1 FROM partnership_amendments WHERE partnership_id = $2), $3, $4, $5, $6)
		RETURNING version`, a.ID, a.PartnershipID, a.Description, []byte(a.Changes), a.ProposedBy, a.ProposedAt).Scan(&a.Version)
	if isUniqueViolation(err) {
		return conflictf("Det finns redan en föreslagen ändring. / An amendment is already proposed.")
	}
	return translate(err, "store amendment")
}

// OpenAmendment reads the proposed amendment of a partnership.
func OpenAmendment(ctx context.Context, q Querier, partnershipID uuid.UUID) (*Amendment, error) {
	a, err := scanAmendment(q.QueryRow(ctx, `SELECT `+amendmentColumns+` FROM partnership_amendments
		WHERE partnership_id = $1 AND status = 'proposed'`, partnershipID))
	return a, translate(err, "read amendment")
}

// DecideAmendment closes the open amendment with a status.
func DecideAmendment(ctx context.Context, q Querier, partnershipID uuid.UUID, status string, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE partnership_amendments SET status = $2, decided_at = $3 WHERE partnership_id = $1 AND status = 'proposed'`,
		partnershipID, status, at)
	return translate(err, "decide amendment")
}

// Amendments lists a partnership's amendments by version.
func Amendments(ctx context.Context, q Querier, partnershipID uuid.UUID) ([]*Amendment, error) {
	rows, err := q.Query(ctx, `SELECT `+amendmentColumns+` FROM partnership_amendments WHERE partnership_id = $1 ORDER BY version`, partnershipID)
	if err != nil {
		return nil, translate(err, "list amendments")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Amendment, error) { return scanAmendment(r) })
	return out, translate(err, "list amendments")
}

// PartnershipReport is a yearly follow-up report, on Year.
type PartnershipReport struct {
	PartnershipID uuid.UUID
	Year          int
	DueOn         time.Time
	OpenedAt      time.Time
	SubmittedAt   *time.Time
	SubmittedBy   *uuid.UUID
	Body          string
	// Overdue: due before today and not submitted. Late: submitted after
	// its due date (Stockholm).
	Overdue bool
	Late    bool
}

// OpenPartnershipReport opens the report on a year unless it is open
// already; it tells whether it opened it.
func OpenPartnershipReport(ctx context.Context, q Querier, partnershipID uuid.UUID, year int, dueOn, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO partnership_reports (partnership_id, year, due_on, opened_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (partnership_id, year) DO NOTHING`, partnershipID, year, dueOn, at)
	if err != nil {
		return false, translate(err, "open report")
	}
	return tag.RowsAffected() == 1, nil
}

// bulkSettings tune the transaction of a set-based batch over the reports.
// The table is read while the same statement fills it, so its statistics
// are stale by design (on the first annual run it looks empty): a
// sequential scan per partnership would make a batch quadratic, so only
// index scans are allowed. JIT is off: generate_series makes the planner
// expect millions of rows, and compiling would cost more than the work.
func bulkSettings(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET LOCAL jit = off; SET LOCAL enable_seqscan = off`)
	return err
}

// ReportBatch is what one batch of the annual fan-out did.
type ReportBatch struct {
	// Scanned partnerships; fewer than the batch size means the end.
	Scanned int
	// LastID is the cursor for the next batch.
	LastID uuid.UUID
	Opened int
}

// OpenDueReportsBatch opens, for the next batch of agreed partnerships after
// afterID, every yearly report due to be open: one per year from the start
// year to the last year the partnership is in force (its end date's, or
// that of the day before a termination takes effect), up to the year
// before thisYear (the report on a year opens on 1 January of the next).
// It is one set-based statement: a partnership whose reports are all open
// costs one index probe, and reports already open are left alone, so that
// a rerun opens nothing.
func OpenDueReportsBatch(ctx context.Context, tx pgx.Tx, afterID uuid.UUID, limit, thisYear int, now time.Time) (ReportBatch, error) {
	var b ReportBatch
	if err := bulkSettings(ctx, tx); err != nil {
		return b, translate(err, "open due reports")
	}
	var last *uuid.UUID
	err := tx.QueryRow(ctx, `WITH batch AS (
			SELECT id, report_due_month, report_due_day, extract(year FROM start_date)::int AS first,
				least(extract(year FROM coalesce(terminated_on - 1, end_date))::int, $3 - 1) AS last
			FROM partnerships WHERE activated_at IS NOT NULL AND id > $1 ORDER BY id LIMIT $2
		), missing AS (
			SELECT * FROM batch b WHERE b.last >= b.first AND (SELECT count(*) FROM partnership_reports r
				WHERE r.partnership_id = b.id AND r.year BETWEEN b.first AND b.last) < b.last - b.first + 1
		), opened AS (
			INSERT INTO partnership_reports (partnership_id, year, due_on, opened_at)
			SELECT m.id, y.year,
				make_date(y.year + 1, m.report_due_month, least(m.report_due_day,
					extract(day FROM make_date(y.year + 1, m.report_due_month, 1) + interval '1 month' - interval '1 day')::int)),
				$4
			FROM missing m CROSS JOIN LATERAL generate_series(m.first, m.last) AS y(year)
			ON CONFLICT (partnership_id, year) DO NOTHING
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM batch), (SELECT id FROM batch ORDER BY id DESC LIMIT 1), (SELECT count(*) FROM opened)`,
		afterID, limit, thisYear, now).Scan(&b.Scanned, &last, &b.Opened)
	if last != nil {
		b.LastID = *last
	}
	return b, translate(err, "open due reports")
}

// ReportCursor is where a batch of NotifyReportsBatch ends.
type ReportCursor struct {
	DueOn         time.Time
	PartnershipID uuid.UUID
	Year          int
}

// NotifyReportsBatch writes, once per report and idea-based party, a
// reminder for each unsubmitted report due between today and remindDays
// ahead and a notice for each one that fell overdue in the last 30 days,
// for the next limit such reports after the cursor (nil: from the first).
// It returns how many reports it looked at, the cursor, and how many
// notices it wrote. Their deliveries and River jobs are written by the same
// statement (deliveryCTEs).
func NotifyReportsBatch(ctx context.Context, tx pgx.Tx, after *ReportCursor, limit int, today time.Time, remindDays int, now time.Time) (int, ReportCursor, int, error) {
	var cur ReportCursor
	if err := bulkSettings(ctx, tx); err != nil {
		return 0, cur, 0, translate(err, "notify reports")
	}
	if after == nil {
		after = &ReportCursor{DueOn: today.AddDate(0, 0, -31)}
	}
	var scanned, written int
	var lastDue *time.Time
	var lastID *uuid.UUID
	var lastYear *int
	err := tx.QueryRow(ctx, `WITH due AS (
			SELECT r.partnership_id, r.year, r.due_on FROM partnership_reports r
			WHERE r.submitted_at IS NULL AND r.due_on BETWEEN $1::date - 30 AND $1::date + $2::int
			  AND (r.due_on, r.partnership_id, r.year) > ($3, $4, $5)
			ORDER BY r.due_on, r.partnership_id, r.year LIMIT $6
		), written AS (
			INSERT INTO notifications (dedupe_key, instance_id, organisation_id, recipient_role, kind, subject, body, due_on, created_at)
			SELECT 'partnership_report:' || d.partnership_id || ':' || d.year ||
					CASE WHEN d.due_on < $1 THEN ':overdue:' ELSE ':reminder:' END || pp.organisation_id,
				p.instance_id, pp.organisation_id, 'sector_representative', CASE WHEN d.due_on < $1 THEN 'notice' ELSE 'reminder' END,
				CASE WHEN d.due_on < $1
					THEN 'IOP: uppföljningsrapporten för ' || d.year || ' är försenad / IOP: the follow-up report for ' || d.year || ' is overdue'
					ELSE 'IOP: påminnelse om uppföljningsrapporten för ' || d.year || ' / IOP: reminder of the follow-up report for ' || d.year END,
				'Rapporten skulle lämnas senast ' || to_char(d.due_on, 'YYYY-MM-DD') || '. / The report is due on ' || to_char(d.due_on, 'YYYY-MM-DD') || '.',
				d.due_on, $7
			FROM due d JOIN partnerships p ON p.id = d.partnership_id
			JOIN partnership_parties pp ON pp.partnership_id = d.partnership_id AND pp.role = 'idea_based'
			ON CONFLICT (dedupe_key) DO NOTHING
			RETURNING `+writtenColumns+`
		)`+deliveryCTEs+`, last AS (SELECT * FROM due ORDER BY due_on DESC, partnership_id DESC, year DESC LIMIT 1)
		SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM written) + 0 * (SELECT count(*) FROM notified),
			(SELECT due_on FROM last), (SELECT partnership_id FROM last), (SELECT year FROM last)`,
		today, remindDays, after.DueOn, after.PartnershipID, after.Year, limit, now).Scan(&scanned, &written, &lastDue, &lastID, &lastYear)
	if lastDue != nil {
		cur = ReportCursor{DueOn: *lastDue, PartnershipID: *lastID, Year: *lastYear}
	}
	return scanned, cur, written, translate(err, "notify reports")
}

const reportColumns = `partnership_id, year, due_on, opened_at, submitted_at, submitted_by, body,
	(due_on < $1::date AND submitted_at IS NULL),
	(submitted_at IS NOT NULL AND (submitted_at AT TIME ZONE 'Europe/Stockholm')::date > due_on)`

func scanReport(r pgx.Row) (*PartnershipReport, error) {
	var p PartnershipReport
	err := r.Scan(&p.PartnershipID, &p.Year, &p.DueOn, &p.OpenedAt, &p.SubmittedAt, &p.SubmittedBy, &p.Body, &p.Overdue, &p.Late)
	return &p, err
}

// PartnershipReports lists a partnership's reports by year, with overdue
// computed for today.
func PartnershipReports(ctx context.Context, q Querier, partnershipID uuid.UUID, today time.Time) ([]*PartnershipReport, error) {
	rows, err := q.Query(ctx, `SELECT `+reportColumns+` FROM partnership_reports WHERE partnership_id = $2 ORDER BY year`, today, partnershipID)
	if err != nil {
		return nil, translate(err, "list reports")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*PartnershipReport, error) { return scanReport(r) })
	return out, translate(err, "list reports")
}

// GetPartnershipReport reads the report on a year.
func GetPartnershipReport(ctx context.Context, q Querier, partnershipID uuid.UUID, year int, today time.Time) (*PartnershipReport, error) {
	r, err := scanReport(q.QueryRow(ctx, `SELECT `+reportColumns+` FROM partnership_reports WHERE partnership_id = $2 AND year = $3`,
		today, partnershipID, year))
	return r, translate(err, "read report")
}

// SubmitPartnershipReport submits a report once; it tells whether it did
// (false: already submitted).
func SubmitPartnershipReport(ctx context.Context, q Querier, partnershipID uuid.UUID, year int, body string, by uuid.UUID, at time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE partnership_reports SET body = $3, submitted_by = $4, submitted_at = $5
		WHERE partnership_id = $1 AND year = $2 AND submitted_at IS NULL`, partnershipID, year, body, by, at)
	if err != nil {
		return false, translate(err, "submit report")
	}
	return tag.RowsAffected() == 1, nil
}

// OverdueReportCount counts the reports overdue today across partnerships.
func OverdueReportCount(ctx context.Context, q Querier, today time.Time) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM partnership_reports WHERE submitted_at IS NULL AND due_on < $1`, today).Scan(&n)
	return n, translate(err, "count overdue reports")
}
