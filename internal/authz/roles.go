package authz

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
)

// RoleService is how admins assign and revoke roles.
type RoleService struct {
	db     *store.DB
	policy *PolicyEnforcer
	clock  clock.Clock
}

// NewRoleService returns the role service.
func NewRoleService(db *store.DB, policy *PolicyEnforcer, clk clock.Clock) *RoleService {
	return &RoleService{db: db, policy: policy, clock: clk}
}

// Assign gives a user a role in a scope.
func (s *RoleService) Assign(ctx context.Context, by Principal, a Assignment) error {
	if err := s.policy.Authorize(ctx, by, "roles.assign", []string{ScopeAll}); err != nil {
		return err
	}
	if err := ValidateAssignment(a.Role, a.Scope); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if err := s.checkExists(ctx, tx, a); err != nil {
			return err
		}
		return GrantTx(ctx, tx, by, a, s.clock.Now())
	})
	if err != nil {
		return err
	}
	s.policy.Remember(a)
	return nil
}

// Revoke takes a role from a user.
func (s *RoleService) Revoke(ctx context.Context, by Principal, a Assignment) error {
	if err := s.policy.Authorize(ctx, by, "roles.revoke", []string{ScopeAll}); err != nil {
		return err
	}
	if err := ValidateAssignment(a.Role, a.Scope); err != nil {
		return err
	}
	if err := s.db.InTx(ctx, func(tx pgx.Tx) error { return RevokeTx(ctx, tx, by, a, s.clock.Now()) }); err != nil {
		return err
	}
	s.policy.Forget(a)
	return nil
}

func (s *RoleService) checkExists(ctx context.Context, tx pgx.Tx, a Assignment) error {
	users, err := store.UsersByIDs(ctx, tx, []uuid.UUID{a.UserID})
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return &apperr.Error{Code: apperr.NotFound, Field: "userId", Message: "Personen finns inte; hen behöver logga in en gång först. / The person does not exist; they need to sign in once first."}
	}
	if id, ok := OrgOfScope(a.Scope); ok {
		if _, err := store.GetOrganisation(ctx, tx, id); err != nil {
			if apperr.IsCode(err, apperr.NotFound) {
				return &apperr.Error{Code: apperr.NotFound, Field: "scope", Message: "Organisationen finns inte. / The organisation does not exist."}
			}
			return err
		}
	}
	return nil
}

// List returns every role assignment (admins only).
func (s *RoleService) List(ctx context.Context, by Principal) ([]Assignment, error) {
	if err := s.policy.Authorize(ctx, by, "roles.list", []string{ScopeAll}); err != nil {
		return nil, err
	}
	return s.policy.AllAssignments(), nil
}

// Users lists people who have signed in (admins only).
func (s *RoleService) Users(ctx context.Context, by Principal, search string, limit int) ([]*store.User, error) {
	if err := s.policy.Authorize(ctx, by, "roles.list", []string{ScopeAll}); err != nil {
		return nil, err
	}
	return store.SearchUsers(ctx, s.db.Pool, search, limit)
}

// UsersByIDs reads people by id: their names are public where they acted
// (a history event, an approval); whether more may be seen of a person is
// CanSeeDetails's to say.
func (s *RoleService) UsersByIDs(ctx context.Context, ids []uuid.UUID) ([]*store.User, error) {
	return store.UsersByIDs(ctx, s.db.Pool, ids)
}

// CanSeeDetails tells whether by may see a person's e-mail and roles, and
// look them up by id: themselves, and those who manage roles.
func (s *RoleService) CanSeeDetails(by Principal, userID uuid.UUID) bool {
	return (by.Authenticated() && by.UserID == userID) || s.policy.Can(by, "roles.list", ScopeAll)
}

// Mine are the roles by holds.
func (s *RoleService) Mine(by Principal) []Assignment { return s.policy.Assignments(by) }

// AssignmentsOf lists one person's role assignments (admins only, as List).
func (s *RoleService) AssignmentsOf(ctx context.Context, by Principal, userID uuid.UUID) ([]Assignment, error) {
	all, err := s.List(ctx, by)
	if err != nil {
		return nil, err
	}
	var out []Assignment
	for _, a := range all {
		if a.UserID == userID {
			out = append(out, a)
		}
	}
	return out, nil
}

// CanManage tells whether by may list, assign and revoke roles (what the
// pages offer an admin).
func (s *RoleService) CanManage(by Principal) bool { return s.policy.Can(by, "roles.list", ScopeAll) }
