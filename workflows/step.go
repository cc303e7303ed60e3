package workflows

import "github.com/google/uuid"

// Step names what a person's command acts on: the instance (or the record
// that owns one), the version they read (0: not checked; otherwise a newer
// version is a CONFLICT, so nobody acts on a state they have not seen) and
// the reason or comment they gave, which goes into the history.
type Step struct {
	ID              uuid.UUID
	ExpectedVersion int
	Reason          string
}
