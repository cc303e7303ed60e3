package authz

import (
	"strings"

	"github.com/google/uuid"
)

// Principal is who is asking: a signed-in user, the system (background
// jobs acting on their own schedule), or nobody (the anonymous public).
type Principal struct {
	UserID uuid.UUID
	Name   string
	Email  string
	// System marks work done by the service itself, e.g. a timer firing.
	System bool
}

// Anonymous is the public, not signed in.
var Anonymous = Principal{}

// SystemPrincipal acts for background jobs.
var SystemPrincipal = Principal{System: true, Name: "samverkan"}

// Authenticated tells whether a user is signed in.
func (p Principal) Authenticated() bool { return p.UserID != uuid.Nil }

// Subject is the principal's Casbin subject.
func (p Principal) Subject() string {
	switch {
	case p.System:
		return "system"
	case p.Authenticated():
		return UserSubject(p.UserID)
	default:
		return "anonymous"
	}
}

// UserSubject is a user's Casbin subject.
func UserSubject(id uuid.UUID) string { return "user:" + id.String() }

// The roles. Each is assigned to a user in a scope.
const (
	RoleAdmin                = "admin"
	RoleRegionOfficial       = "region_official"
	RoleRegionPolitician     = "region_politician"
	RoleCouncilMember        = "council_member"
	RoleSectorRepresentative = "sector_representative"
)

// Roles lists every assignable role.
var Roles = []string{RoleAdmin, RoleRegionOfficial, RoleRegionPolitician, RoleCouncilMember, RoleSectorRepresentative}

// Scopes say where a role holds:
//   - "*": everywhere (admins);
//   - "region": the public party of the agreement (officials, politicians,
//     council members sitting for the Region);
//   - "sector": the idea-based side as a whole (council members sitting for
//     the sector);
//   - "org:<uuid>": one organisation (its representatives).
const (
	ScopeAll    = "*"
	ScopeRegion = "region"
	ScopeSector = "sector"
)

// OrgScope is the scope of one organisation.
func OrgScope(id uuid.UUID) string { return "org:" + id.String() }

// OrgOfScope returns the organisation of an org scope.
func OrgOfScope(scope string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(scope, "org:")
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}

// Assignment is a role held by a user in a scope.
type Assignment struct {
	UserID uuid.UUID
	Role   string
	Scope  string
}

// Party is a side of the agreement: the public body or the idea-based
// sector. Decisions between equals (jämbördighet) need both.
type Party string

// The two parties.
const (
	PartyRegion Party = "region"
	PartySector Party = "sector"
)

// Party tells which side an assignment acts for; admins act for neither.
func (a Assignment) Party() (Party, bool) {
	switch a.Role {
	case RoleRegionOfficial, RoleRegionPolitician:
		return PartyRegion, true
	case RoleSectorRepresentative:
		return PartySector, true
	case RoleCouncilMember:
		if a.Scope == ScopeSector {
			return PartySector, true
		}
		return PartyRegion, true
	}
	return "", false
}
