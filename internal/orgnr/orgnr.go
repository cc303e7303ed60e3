// Package orgnr parses and checks Swedish organisation numbers
// (organisationsnummer): ten digits NNNNNN-NNNN, the hyphen optional, also
// accepted in the twelve-digit form with a leading 16. The third and fourth
// digits together are at least 20 (which tells them from personal identity
// numbers), and the last digit is a Luhn check digit over the first nine.
// The first digit is the group of legal form.
package orgnr

import (
	"strings"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/validate"
)

// Number is a valid organisation number, kept as its ten digits.
type Number string

// Parse checks s and returns the number, or a BAD_INPUT error that names
// the rule that failed.
func Parse(s string) (Number, error) {
	const field = "organisationNumber"
	raw := strings.TrimSpace(s)
	digits := strings.ReplaceAll(raw, "-", "")
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", apperr.Invalid(field, "Organisationsnumret %q får bara innehålla siffror och ett bindestreck. / The organisation number %q may only contain digits and one hyphen.", validate.Clip(raw), validate.Clip(raw))
		}
	}
	if strings.Count(raw, "-") > 1 {
		return "", apperr.Invalid(field, "Organisationsnumret %q har fler än ett bindestreck. / The organisation number %q has more than one hyphen.", validate.Clip(raw), validate.Clip(raw))
	}
	if len(digits) == 12 {
		if !strings.HasPrefix(digits, "16") {
			return "", apperr.Invalid(field, "Ett tolvsiffrigt organisationsnummer börjar med 16. / A twelve-digit organisation number starts with 16.")
		}
		digits = digits[2:]
	}
	if len(digits) != 10 {
		return "", apperr.Invalid(field, "Organisationsnumret ska ha tio siffror (NNNNNN-NNNN), inte %d. / The organisation number must have ten digits (NNNNNN-NNNN), not %d.", len(digits), len(digits))
	}
	if i := strings.IndexByte(raw, '-'); i >= 0 && len(strings.TrimPrefix(raw, "16")) == 11 && i != len(raw)-5 {
		return "", apperr.Invalid(field, "Bindestrecket ska stå före de fyra sista siffrorna. / The hyphen goes before the last four digits.")
	}
	if (digits[2]-'0')*10+(digits[3]-'0') < 20 {
		return "", apperr.Invalid(field, "Tredje och fjärde siffran i ett organisationsnummer är tillsammans minst 20 (%s är mindre; är det ett personnummer?). / The third and fourth digits of an organisation number are at least 20 together (%s is less; is it a personal identity number?).", digits[2:4], digits[2:4])
	}
	if !luhn(digits) {
		return "", apperr.Invalid(field, "Kontrollsiffran i %s stämmer inte; kontrollera numret. / The check digit of %s is wrong; please check the number.", format(digits), format(digits))
	}
	return Number(digits), nil
}

// String formats the number as NNNNNN-NNNN.
func (n Number) String() string { return format(string(n)) }

// LegalFormGroup describes the group of legal form that the first digit
// gives. It is shown to officials; it never refuses a number.
func (n Number) LegalFormGroup() string {
	if n == "" {
		return ""
	}
	switch n[0] {
	case '1':
		return "Dödsbon / Estates"
	case '2':
		return "Stat, landsting, kommuner och församlingar / Public bodies and parishes"
	case '3':
		return "Utländska företag / Foreign companies"
	case '5':
		return "Aktiebolag / Limited companies"
	case '6':
		return "Enkla bolag / Simple partnerships"
	case '7':
		return "Ekonomiska föreningar / Economic associations"
	case '8':
		return "Ideella föreningar och stiftelser / Non-profit associations and foundations"
	case '9':
		return "Handelsbolag och kommanditbolag / Trading partnerships"
	}
	return "Okänd grupp / Unknown group"
}

// Complete appends the check digit to nine digits, making a number that
// Parse accepts when the nine follow the other rules (demo data, tests).
func Complete(nine string) Number {
	sum := luhnSum(nine + "0")
	return Number(nine + string(rune('0'+(10-sum%10)%10)))
}

func luhn(digits string) bool { return luhnSum(digits)%10 == 0 }

// luhnSum is the Luhn sum of a ten-digit number.
func luhnSum(digits string) int {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[i] - '0')
		// Counting from the left, digits at even positions (0, 2, ...) are
		// doubled: the ten-digit number has its check digit at position 9.
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum
}

func format(d string) string { return d[:6] + "-" + d[6:] }
