package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

// Paging the public list after a cursor gives the whole list in signing
// order, once, whatever the page size and wherever a page ends (within a
// day of many signatures, at a day's end, before a ceremony's signatures):
// the page's scan is bounded by days, and the bound must never cut one.
func TestSignatoryPagesCoverTheListInOrder(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	now := time.Date(2041, 1, 1, 12, 0, 0, 0, time.UTC)
	body := &store.Organisation{Name: "Region", OrganisationNumber: "2321000156", LegalForm: "other", Sector: "public", CreatedAt: now}
	require.NoError(t, store.InsertOrganisation(ctx, db.Pool, body))
	a := &store.Agreement{Name: "Överenskommelsen", PublicBodyID: body.ID, CreatedAt: now}
	require.NoError(t, store.InsertAgreement(ctx, db.Pool, a))
	v := &store.AgreementVersion{AgreementID: a.ID, Number: 1, Title: "Version 1", AdoptedOn: now, ValidFrom: now,
		RevisionDue: now.AddDate(4, 0, 0), Principles: []string{"dialog"}, CreatedAt: now}
	require.NoError(t, store.InsertAgreementVersion(ctx, db.Pool, v))
	c := &store.Ceremony{AgreementVersionID: v.ID, Title: "Ceremoni", HeldOn: now.AddDate(0, 0, 3), CreatedAt: now}
	require.NoError(t, store.InsertCeremony(ctx, db.Pool, c))

	// Days with 1, 12, 3, 15 and 9 signatures; on the fourth day five
	// signed at the ceremony (they come first that day), the others
	// directly in the order recorded, with equal moments ordered by name.
	type sig struct {
		s    *store.Signatory
		name string
	}
	var all []sig
	n := 0
	for day, count := range []int{1, 12, 3, 15, 9} {
		for i := range count {
			n++
			o := &store.Organisation{Name: fmt.Sprintf("Förening %c%02d", 'Z'-rune(n%7), n), OrganisationNumber: fmt.Sprintf("80200%05d", n),
				LegalForm: "ideell_forening", Sector: "idea_based", Municipality: "Karlstad", Description: "Lång beskrivning", CreatedAt: now}
			require.NoError(t, store.InsertOrganisation(ctx, db.Pool, o))
			s := &store.Signatory{AgreementVersionID: v.ID, OrganisationID: o.ID, SignedOn: now.AddDate(0, 0, day), How: "direct",
				CreatedAt: now.AddDate(0, 0, day).Add(time.Duration(i%4) * time.Minute)}
			if day == 3 && i < 5 {
				s.CeremonyID, s.How = &c.ID, "ceremony"
			}
			require.NoError(t, store.InsertSignatory(ctx, db.Pool, s))
			all = append(all, sig{s, o.Name})
		}
	}
	// One ended signature, which is on no page.
	_, err := db.Pool.Exec(ctx, `UPDATE signatories SET ended_on = signed_on, ended_how = 'withdrawn' WHERE id = $1`, all[7].s.ID)
	require.NoError(t, err)
	all = slices.Delete(all, 7, 8)
	moment := func(s *store.Signatory) time.Time {
		if s.CeremonyID != nil {
			return time.Time{}
		}
		return s.CreatedAt
	}
	slices.SortFunc(all, func(x, y sig) int {
		return cmp.Or(x.s.SignedOn.Compare(y.s.SignedOn), moment(x.s).Compare(moment(y.s)), cmp.Compare(x.name, y.name),
			cmp.Compare(x.s.ID.String(), y.s.ID.String()))
	})
	var want []string
	for _, s := range all {
		want = append(want, s.name)
	}

	for _, limit := range []int{1, 2, 4, 5, 7, 13, 39, 101} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			var got []string
			p := store.SignatoryPage{VersionID: v.ID, Limit: limit, Organisations: store.OrganisationListing}
			for pages := 0; pages <= len(want); pages++ {
				rows, err := store.ListSignatories(ctx, db.Pool, p)
				require.NoError(t, err)
				require.LessOrEqual(t, len(rows), limit)
				if len(rows) == 0 {
					break
				}
				for _, r := range rows {
					require.Equal(t, r.OrganisationID, r.Organisation.ID)
					got = append(got, r.Organisation.Name)
				}
				p.AfterID = rows[len(rows)-1].ID
			}
			require.Equal(t, want, got)

			first, err := store.SignatoriesFirstPages(ctx, db.Pool, []uuid.UUID{v.ID}, limit, store.OrganisationWhole)
			require.NoError(t, err)
			require.Len(t, first, min(limit, len(want)))
			for i, r := range first {
				require.Equal(t, want[i], r.Organisation.Name)
				require.Equal(t, "Lång beskrivning", r.Organisation.Description)
			}
		})
	}
}
