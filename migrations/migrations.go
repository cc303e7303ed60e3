// Package migrations holds the service's SQL schema as numbered goose
// migrations, embedded in the binary. internal/migrate applies them.
package migrations

import "embed"

// FS holds the NNNNN_name.sql files.
//
//go:embed *.sql
var FS embed.FS
