package registry

import (
	"context"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/validate"
)

// An organisation's name is what people recognise it by on the public
// list, so a name must not be made to look like another's. A name is
// stored in NFC (a decomposed "ä" is stored composed), may not contain a
// format character (Unicode category Cf: bidirectional overrides such as
// U+202E, zero-width spaces and joiners such as U+200B), and may not have
// the skeleton of an existing organisation's name.
//
// The skeleton follows the idea of Unicode TR39's confusable detection,
// kept small: NFKC (fullwidth and compatibility forms become plain
// letters), case folding, the common lookalikes of Latin letters in the
// Cyrillic and Greek scripts mapped to the Latin letter, i/l/1/I/| and
// 0/O mapped to one letter each, "rn" read as "m" and "vv" as "w",
// invisible fillers dropped and runs of white space collapsed to one
// space. Å, ä and ö stay distinct from a and o: in Swedish they are
// different letters, and "Mora" and "Möra" are different places.

// confusables maps a lowercase lookalike to the Latin letter it imitates.
var confusables = map[rune]rune{
	// Cyrillic.
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
	'у': 'y', 'х': 'x', 'і': 'l', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ӏ': 'l', 'ԛ': 'q', 'ԝ': 'w',
	'ё': 'ë', 'ї': 'ï', 'ӧ': 'ö', 'ӓ': 'ä', 'ү': 'y', 'ь': 'b', 'г': 'r', 'п': 'n', 'л': 'n',
	// Greek.
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'l', 'κ': 'k', 'μ': 'u', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'ζ': 'z', 'ω': 'w', 'ϲ': 'c', 'ϳ': 'j',
	// Latin and digits: dotless i, i, l, one and vertical bars look alike,
	// and so do zero and o.
	'ı': 'l', 'i': 'l', '1': 'l', '|': 'l', 'ǀ': 'l', 'ɩ': 'l', '0': 'o', 'ø': 'ö',
	// Dashes.
	'‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '―': '-', '−': '-',
}

// invisible are characters that show nothing but are not format
// characters (those a name may not contain at all).
func invisible(r rune) bool {
	switch {
	case r >= 0xFE00 && r <= 0xFE0F, r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0,
		r >= 0x180B && r <= 0x180F, r == 0x2800:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// Skeleton is the form of an organisation's name that two names which look
// alike share.
func Skeleton(name string) string {
	s := norm.NFKC.String(name)
	// Special capital forms whose lowercase is not the lookalike.
	s = strings.Map(func(r rune) rune {
		switch r {
		case 'Η', 'Н':
			return 'h'
		case 'В', 'Β':
			return 'b'
		case 'Ν':
			return 'n'
		}
		return r
	}, s)
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if invisible(r) {
			continue
		}
		if c, ok := confusables[r]; ok {
			r = c
		}
		b.WriteRune(r)
	}
	s = strings.Join(strings.Fields(b.String()), " ")
	s = strings.NewReplacer("rn", "m", "vv", "w").Replace(s)
	return norm.NFC.String(s)
}

// checkName normalises an organisation's name to NFC and refuses format
// characters in it.
func checkName(name string) (string, error) {
	name = norm.NFC.String(strings.TrimSpace(name))
	if name == "" {
		return "", apperr.Invalid("name", "Skriv organisationens namn. / Enter the organisation's name.")
	}
	if err := validate.Text("name", name, 1, 300); err != nil {
		return "", err
	}
	for _, r := range name {
		if unicode.Is(unicode.Cf, r) {
			return "", apperr.Invalid("name", "Namnet innehåller ett osynligt tecken eller ett tecken som vänder textens riktning (U+%04X). / The name contains an invisible or text-direction character (U+%04X).", r, r)
		}
	}
	return name, nil
}

// OrganisationName checks the name of an organisation about to be stored
// with the organisation number number by another path than this service
// (the import of a paper list): it returns the name in NFC and its
// skeleton, or the BAD_INPUT that registering it would get.
func OrganisationName(ctx context.Context, tx pgx.Tx, name, number string) (string, string, error) {
	name, err := checkName(name)
	if err != nil {
		return "", "", err
	}
	skeleton := Skeleton(name)
	if err := nameUnlike(ctx, tx, skeleton, uuid.Nil, number); err != nil {
		return "", "", err
	}
	return name, skeleton, nil
}

func errConfusable(existing string) error {
	return apperr.Invalid("name", "Namnet liknar till förväxling en redan registrerad organisation: %s. / The name is confusable with an organisation already registered: %s.", existing, existing)
}
