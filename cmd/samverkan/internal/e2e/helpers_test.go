package e2e_test

import (
	"context"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/cmd/samverkan/internal/demo"
)

type quiet struct{}

func (quiet) Step(string, int, int) {}

func seed(env *apptest.Env) (bool, error) {
	return demo.Seed(context.Background(), env.App, quiet{})
}
