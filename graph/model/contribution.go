package model

import "github.com/samverkan/samverkan/internal/store"

// Contribution is a party's contribution as the API shows it. Kind, Amount
// and the organisation are set once when the list is made, so that no field
// needs a resolver: gqlgen runs each object's resolver fields in goroutines
// of their own, and on a page of partnerships with their contributions
// those goroutines cost more CPU than the SQL.
type Contribution struct {
	*store.Contribution
	Kind         ContributionKind
	Amount       string
	Organisation *store.Organisation
}
