package workflows

import (
	"time"

	"github.com/google/uuid"

	"github.com/samverkan/samverkan/internal/store"
)

// Instance data is stored as JSON, so after a reload a number is a float64
// and a time or an id is a string. These accessors are the one place that
// knows it: workflow packages read and write their data through them and
// never switch on the stored type.

// DataInt reads a whole number.
func DataInt(in *store.Instance, key string) (int, bool) {
	switch v := in.Data[key].(type) {
	case float64:
		return int(v), true
	case int:
		return v, true
	case int64:
		return int(v), true
	}
	return 0, false
}

// DataString reads a string.
func DataString(in *store.Instance, key string) string {
	s, _ := in.Data[key].(string)
	return s
}

// DataBool reads a flag (false when absent).
func DataBool(in *store.Instance, key string) bool {
	b, _ := in.Data[key].(bool)
	return b
}

// DataUUID reads an id.
func DataUUID(in *store.Instance, key string) (uuid.UUID, bool) {
	id, err := uuid.Parse(DataString(in, key))
	return id, err == nil
}

// DataTime reads a moment (stored as RFC 3339); Timer.At functions use it.
func DataTime(in *store.Instance, key string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, DataString(in, key))
	return t, err == nil
}

// SetData writes a value in the form the accessors read back: moments as
// RFC 3339 in UTC, ids as strings, everything else as it is.
func SetData(in *store.Instance, key string, v any) {
	if in.Data == nil {
		in.Data = map[string]any{}
	}
	switch x := v.(type) {
	case time.Time:
		in.Data[key] = x.UTC().Format(time.RFC3339)
	case uuid.UUID:
		in.Data[key] = x.String()
	default:
		in.Data[key] = v
	}
}
