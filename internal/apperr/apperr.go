// Package apperr defines the service's domain errors: a small set of codes
// that every layer may return and that the GraphQL edge maps to
// extensions.code. Anything that is not an *Error is an internal error and is
// never shown to a client as it is.
package apperr

import (
	"errors"
	"fmt"
	"slices"
)

// Code is a stable, machine-readable error class that clients may switch on.
type Code string

// The codes clients see.
const (
	BadInput          Code = "BAD_INPUT"
	NotFound          Code = "NOT_FOUND"
	Unauthenticated   Code = "UNAUTHENTICATED"
	Forbidden         Code = "FORBIDDEN"
	InvalidTransition Code = "INVALID_TRANSITION"
	Conflict          Code = "CONFLICT"
	Unavailable       Code = "UNAVAILABLE"
	// RateLimited: the person has made too many writes of this kind
	// lately; the message says when they may try again.
	RateLimited Code = "RATE_LIMITED"
	Internal    Code = "INTERNAL"
)

// Error is a domain error: a code, a message a person understands, and
// optionally the input field it concerns.
type Error struct {
	Code    Code
	Message string
	// Field names the input field at fault, for BAD_INPUT.
	Field string
	// Fields lists every field at fault when one input has several
	// (BAD_INPUT from Join); Field and Message are then the first's.
	Fields []FieldError
	// Err is an underlying cause, kept for logs and errors.Is.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, &Error{Code: X}) match any error of code X.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// New returns an error of the given code.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BAD_INPUT error about field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// FieldError is one input field at fault and what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// Join collects the checks of one input's fields, so that a person learns
// of every bad field at once, not one per attempt. Nil errors are passed
// over; with none left Join returns nil. An error that is not BAD_INPUT
// (a refusal, a database failure) matters more than bad input and is
// returned as it is. One BAD_INPUT is returned as it is; several become one
// BAD_INPUT whose Fields list each field once (its first fault, in the
// order given) and whose Field and Message are the first's.
func Join(errs ...error) error {
	var fields []FieldError
	var first *Error
	for _, err := range errs {
		if err == nil {
			continue
		}
		e, ok := As(err)
		if !ok || e.Code != BadInput {
			return err
		}
		if first == nil {
			first = e
		}
		for _, f := range FieldsOf(e) {
			if !slices.ContainsFunc(fields, func(g FieldError) bool { return g.Field == f.Field }) {
				fields = append(fields, f)
			}
		}
	}
	switch {
	case first == nil:
		return nil
	case len(fields) == 1:
		return first
	}
	return &Error{Code: BadInput, Field: fields[0].Field, Message: fields[0].Message, Fields: fields}
}

// FieldsOf lists the fields at fault in a BAD_INPUT error: every one Join
// collected, or the one the error names (Field "" for an error about the
// input as a whole). Any other error has none.
func FieldsOf(err error) []FieldError {
	e, ok := As(err)
	if !ok || e.Code != BadInput {
		return nil
	}
	if len(e.Fields) > 0 {
		return slices.Clone(e.Fields)
	}
	return []FieldError{{Field: e.Field, Message: e.Message}}
}

// CodeOf returns the code of err, or Internal when err is not a domain error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the domain error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsCode tells whether err is a domain error of code c.
func IsCode(err error, c Code) bool { return CodeOf(err) == c }

// OnField returns err as a domain error about field (a copy; nil stays nil,
// and an error that is not a domain error is returned as it is): a shared
// check such as "the version must exist" answers in the caller's terms.
func OnField(err error, field string) error {
	e, ok := As(err)
	if !ok {
		return err
	}
	c := *e
	c.Field = field
	if len(c.Fields) > 0 {
		c.Fields = slices.Clone(c.Fields)
		c.Fields[0].Field = field
	}
	return &c
}
