package followup

import (
	"context"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/store"
)

// IndicatorHistory is every indicator of a version's action plans with its
// values by year (public, as the annual reports are), in one read.
func (s *Service) IndicatorHistory(ctx context.Context, versionID uuid.UUID) ([]store.IndicatorPoint, error) {
	return store.IndicatorHistory(ctx, s.db.Pool, versionID)
}
