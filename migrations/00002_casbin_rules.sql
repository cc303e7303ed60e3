-- +goose Up
-- Casbin's rules: policy lines (ptype 'p': role, scope, object, action),
-- loaded from the policy file in internal/authz at start, and role
-- assignments (ptype 'g': user, role, scope), made by admins. Changes are
-- announced with NOTIFY on channel samverkan_policy so that every instance
-- reloads.
CREATE TABLE casbin_rule (
    id         bigserial PRIMARY KEY,
    ptype      text NOT NULL,
    v0         text NOT NULL DEFAULT '',
    v1         text NOT NULL DEFAULT '',
    v2         text NOT NULL DEFAULT '',
    v3         text NOT NULL DEFAULT '',
    v4         text NOT NULL DEFAULT '',
    v5         text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

-- +goose Down
DROP TABLE casbin_rule;
