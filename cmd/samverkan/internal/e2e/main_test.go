// Package e2e_test drives the real service over HTTP: stories users live
// through, with the real database, River and a test clock.
package e2e_test

import (
	"testing"

	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
