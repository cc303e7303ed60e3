package registry

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/audit"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/validate"
)

// The public record: what anyone may read without signing in.

// CurrentVersions are the versions in force, one per agreement.
func (s *Service) CurrentVersions(ctx context.Context) ([]*store.AgreementVersion, error) {
	return store.CurrentAgreementVersions(ctx, s.db.Pool)
}

// SearchSignatories lists a page of a version's signatories filtered by
// name, municipality and legal form, with the number that match. A bad
// filter is BAD_INPUT on its field.
func (s *Service) SearchSignatories(ctx context.Context, f store.SignatoryFilter) ([]store.SignatoryListing, int, error) {
	if err := validate.Text("search", f.Search, 0, 200); err != nil {
		return nil, 0, err
	}
	if err := validate.Text("municipality", f.Municipality, 0, 100); err != nil {
		return nil, 0, err
	}
	if f.LegalForm != "" && !slices.Contains(LegalForms, f.LegalForm) {
		return nil, 0, apperr.Invalid("legalForm", "Okänd organisationsform %q. / Unknown legal form %q.", validate.Clip(f.LegalForm), validate.Clip(f.LegalForm))
	}
	if f.Offset < 0 || f.Limit < 0 {
		return nil, 0, apperr.Invalid("page", "Sidan finns inte. / There is no such page.")
	}
	return store.SearchSignatories(ctx, s.db.Pool, f)
}

// SignatoryFacets are the municipalities and legal forms among a version's
// signatories.
func (s *Service) SignatoryFacets(ctx context.Context, versionID uuid.UUID) (municipalities, legalForms []string, err error) {
	return store.SignatoryFacets(ctx, s.db.Pool, versionID)
}

// PublicHistory is a page of the public events of every stream, newest
// first, before the event beforeID (0: the newest).
func (s *Service) PublicHistory(ctx context.Context, beforeID int64, limit int) ([]store.Event, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return store.PublicEvents(ctx, s.db.Pool, beforeID, limit)
}

// HistoryDigest is the digest of the whole history and the number of
// events it commits to (what `samverkan audit verify` prints).
func (s *Service) HistoryDigest(ctx context.Context) (string, int, error) {
	return audit.Digest(ctx, s.db.Pool)
}
