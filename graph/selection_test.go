package graph

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// A page of signatories takes only the organisations' listing columns
// (store.OrganisationListing) unless the operation names one of
// organisationWideFields. Every other field of Organisation must therefore
// be answered from those columns (or from the id alone): a new field that
// needs another column must be added to organisationWideFields, or the
// public list would answer it empty.
func TestOrganisationFieldsOutsideTheListingAreWide(t *testing.T) {
	fromListing := []string{"id", "name", "organisationNumber", "legalFormGroup", "legalForm", "sector", "municipality",
		// read by the organisation's id
		"signatures", "signingApplications", "representationClaims", "partnerships"}
	typ := NewExecutableSchema(Config{}).Schema().Types["Organisation"]
	require.NotNil(t, typ)
	var unknown []string
	for _, f := range typ.Fields {
		if !slices.Contains(fromListing, f.Name) && !slices.Contains(organisationWideFields, f.Name) && f.Name[0] != '_' {
			unknown = append(unknown, f.Name)
		}
	}
	require.Empty(t, unknown, "Organisation fields neither answered from the listing's columns nor in organisationWideFields")
	for _, f := range organisationWideFields {
		require.NotNil(t, typ.Fields.ForName(f), "organisationWideFields names %s, which Organisation no longer has", f)
	}
}
