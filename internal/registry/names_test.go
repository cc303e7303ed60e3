package registry_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/orgnr"
	"github.com/samverkan/samverkan/internal/registry"
	"github.com/samverkan/samverkan/migrations"
)

// An organisation cannot be impersonated on the public list: invisible and
// text-direction characters are refused, a name that looks like an existing
// organisation's is refused naming it, names are stored in NFC, and a
// genuinely different name (Mora and Möra are different places) is accepted.
func TestOrganisationNamesCannotImpersonate(t *testing.T) {
	in := newInstances(t)
	reg := registry.New(in.sdb, in.a, in.clock, slog.New(slog.DiscardHandler))
	official := in.person(t, "Official", "region_official@region")
	ctx := context.Background()
	n := 0
	register := func(name, sector string) error {
		n++
		o := organisation(n)
		o.Name, o.Sector = name, sector
		if sector == registry.SectorPublic {
			o.LegalForm = "other"
			o.OrganisationNumber = orgnr.Complete(fmt.Sprintf("212000%03d", n)).String()
		}
		_, _, err := reg.RegisterOrganisation(ctx, official, o)
		return err
	}
	require.NoError(t, register("Region Värmland", registry.SectorPublic))

	refused := map[string]string{
		"Region Värmland\u202e": "U+202E",
		"Region\u200b Värmland": "U+200B",
		"\u202eRegion Värmland": "U+202E",
		"Region Värml\u2060and": "U+2060",
		"Region Värmlаnd":       "Region Värmland", // Cyrillic а
		"Rеgion Värmland":       "Region Värmland", // Cyrillic е
		"REGION  VÄRMLAND":      "Region Värmland",
		"Regi0n VärmIand":       "Region Värmland", // zero, capital I
		"Ｒｅｇｉｏｎ Värmland":       "Region Värmland", // fullwidth
		"Region Va\u0308rmland": "Region Värmland", // decomposed ä
		"Regιon Värmland":       "Region Värmland", // Greek iota
		"Region Värrnland":      "Region Värmland", // rn for m
		"Region Värmland\u3164": "Region Värmland", // Hangul filler
		"Region\u00a0Värmland":  "Region Värmland", // no-break space
	}
	for name, want := range refused {
		err := register(name, registry.SectorPublic)
		require.Error(t, err, "%q", name)
		var e *apperr.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, apperr.BadInput, e.Code, "%q: %v", name, err)
		require.Equal(t, "name", e.Field)
		require.Contains(t, e.Message, want, "%q", name)
		sv, en, ok := strings.Cut(e.Message, " / ")
		require.True(t, ok, e.Message)
		require.NotEqual(t, sv, en)
	}
	require.Equal(t, 1, count(t, in.db, `SELECT count(*) FROM organisations`))

	// Genuinely different names are accepted, and å/ä/ö stay distinct.
	for _, name := range []string{"Region Värmlands Idrottsförbund", "Mora IK", "Möra IK", "Mära IK", "Föreningen Ärlig"} {
		require.NoError(t, register(name, registry.SectorIdeaBased), name)
	}

	// A decomposed ä is stored composed.
	require.NoError(t, register("Sa\u0308ffle Scoutka\u030ar", registry.SectorIdeaBased))
	require.Equal(t, 1, count(t, in.db, `SELECT count(*) FROM organisations WHERE name = $1`, "Säffle Scoutkår"))

	// Renaming follows the same rules; an organisation may keep its own name.
	var id string
	require.NoError(t, in.db.Pool.QueryRow(ctx, `SELECT id FROM organisations WHERE name = 'Mora IK'`).Scan(&id))
	o := organisation(1000)
	o.Name = "Region Värmlаnd"
	_, err := reg.UpdateOrganisation(ctx, official, uuid.MustParse(id), o)
	require.Equal(t, apperr.BadInput, apperr.CodeOf(err), "%v", err)
	o.Name = "MORA ik"
	_, err = reg.UpdateOrganisation(ctx, official, uuid.MustParse(id), o)
	require.NoError(t, err)
	o.Name = "Mora\u200bIK"
	_, err = reg.UpdateOrganisation(ctx, official, uuid.MustParse(id), o)
	require.Equal(t, apperr.BadInput, apperr.CodeOf(err), "%v", err)
}

// Migration 00017 computes the skeleton of the names already stored the
// way the service does: a name stored before it is found by a look-alike.
func TestMigrationComputesTheSameSkeletons(t *testing.T) {
	in := newInstances(t)
	ctx := context.Background()
	file, err := migrations.FS.ReadFile("00017_organisation_name_skeletons.sql")
	require.NoError(t, err)
	up, _, _ := strings.Cut(string(file), "-- +goose Down")
	start := strings.Index(up, "UPDATE organisations")
	end := strings.Index(up[start:], ";")
	update := up[start : start+end]
	names := []string{"Region Värmland", "REGION  VÄRMLAND", "Region Värmlаnd", "Ｒｅｇｉｏｎ Värmland", "Regi0n VärmIand",
		"Region Värrnland", "Mora IK", "Möra IK", "Åmåls Ö-förening", "Föreningen — i\tKarlstad", "Ρεγιον", "Sa\u0308ffle"}
	for i, name := range names {
		_, err := in.db.Pool.Exec(ctx, `INSERT INTO organisations (name, organisation_number, legal_form, sector, created_at, updated_at)
			VALUES ($1, $2, 'other', 'idea_based', now(), now())`, name, fmt.Sprintf("80200%05d", i))
		require.NoError(t, err)
	}
	_, err = in.db.Pool.Exec(ctx, update)
	require.NoError(t, err)
	for _, name := range names {
		var got string
		require.NoError(t, in.db.Pool.QueryRow(ctx, `SELECT name_skeleton FROM organisations WHERE name = $1`, name).Scan(&got))
		require.Equal(t, registry.Skeleton(name), got, "%q", name)
	}
}
