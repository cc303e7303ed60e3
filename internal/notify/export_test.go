package notify

import "github.com/google/uuid"

// SetHooks sets the worker's test hooks.
func (w *Worker) SetHooks(afterAccepted, afterRecorded func(uuid.UUID)) {
	w.afterAccepted, w.afterRecorded = afterAccepted, afterRecorded
}
