package graph

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/samverkan/samverkan/graph/bind"
)

// The executor gqlgen generates is rewritten by cmd/gqlgen-post (part of
// `make generate`) to call the helpers below.

// marshalSliceInOrder marshals a list's elements one after the other, in
// the calling goroutine. It stands in for graphql.MarshalSliceConcurrently
// (same arguments, same result: every element set, a panicking element
// reported and null unless omitPanicHandler) for the lists that
// cmd/gqlgen-post is told to rewrite: lists whose elements' resolvers find
// their loaders' batches already sent by the list's resolver, so that a
// goroutine per element (100 on a page of signatories, with the stack growth
// that comes with each) buys nothing. workerLimit does not apply: one
// element runs at a time.
func marshalSliceInOrder(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	if length == 0 {
		return ret
	}
	// One allocation for every element's field context and index.
	fcs := make([]graphql.FieldContext, length)
	index := make([]int, length)
	for i := range length {
		index[i] = i
		fcs[i].Index = &index[i]
		childCtx := graphql.WithFieldContext(ctx, &fcs[i])
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		marshalRecovering(childCtx, ret, i, marshalElement)
	}
	return ret
}

func marshalRecovering(ctx context.Context, ret graphql.Array, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			ret[i] = graphql.Null
		}
	}()
	ret[i] = marshalElement(ctx, i)
}

// deferredGroupOf stands in for graphql.NewDeferredGroup(ctx) in every
// object's marshaller: the group (and the object's full path, which labels
// the group's payloads) is built only when one of the object's fields
// carries @defer. Without one, the empty group is all the generated code
// looks at (ResolveConcurrently uses the group only for a deferred field;
// ProcessDeferredGroup ignores a group with no defers).
func deferredGroupOf(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for i := range fields {
		if fields[i].IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}

// writeObject stands in for the *graphql.FieldSet every object's marshaller
// returns (cmd/gqlgen-post rewrites the return of objects without deferred
// fields): it writes the same JSON object, each field under its alias in
// the order collected, a repeated alias once. graphql.FieldSet does so with
// a map per object and a heap copy of every field; aliases are GraphQL names
// (letters, digits and underscores), so they are written without escaping.
func writeObject(fields []graphql.CollectedField, values []graphql.Marshaler) graphql.Marshaler {
	return objectWriter{fields: fields, values: values}
}

type objectWriter struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

func (o objectWriter) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "{")
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if written(o.fields[:i], alias) {
			continue
		}
		if !first {
			_, _ = io.WriteString(w, ",")
		}
		first = false
		_, _ = io.WriteString(w, `"`)
		_, _ = io.WriteString(w, alias)
		_, _ = io.WriteString(w, `":`)
		o.values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}

// plainObject holds the field values of an object none of whose fields is
// resolved concurrently, in place of the graphql.FieldSet its marshaller
// fills (cmd/gqlgen-post rewrites those marshallers): up to eight values
// lie in the object itself, so that it is one allocation where a field set
// and the writeObject around its values were three. It writes what
// writeObject writes. The names Values and Invalids are the field set's,
// which the generated code uses.
type plainObject struct {
	fields   []graphql.CollectedField
	Values   []graphql.Marshaler
	Invalids uint32
	inline   [8]graphql.Marshaler
}

func newPlainObject(fields []graphql.CollectedField) *plainObject {
	o := &plainObject{fields: fields}
	if len(fields) <= len(o.inline) {
		o.Values = o.inline[:len(fields)]
	} else {
		o.Values = make([]graphql.Marshaler, len(fields))
	}
	return o
}

func (o *plainObject) MarshalGQL(w io.Writer) {
	objectWriter{fields: o.fields, values: o.Values}.MarshalGQL(w)
}

// fieldsMemo is an object type's last collected fields (cmd/gqlgen-post
// declares one per type): the elements of a list collect the same fields
// of the same selection one after the other, and graphql.CollectFields
// answers each from the operation's cache at the cost of a hash, an
// allocation and a read lock.
type fieldsMemo struct {
	last atomic.Pointer[collectedFields]
}

// collectedFields are the fields an operation's selection asked of a
// type. The operation's context is held, not its address: it cannot be
// freed and another made at the same place while the memo names it.
type collectedFields struct {
	oc     *graphql.OperationContext
	first  *ast.Selection
	n      int
	fields []graphql.CollectedField
}

// collectFieldsOf is graphql.CollectFields(oc, sel, satisfies) through the
// type's memo: the same selection (the same slice of the operation's
// document) of the same operation gets the same fields.
func collectFieldsOf(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string, memo *fieldsMemo) []graphql.CollectedField {
	var first *ast.Selection
	if len(sel) > 0 {
		first = &sel[0]
	}
	if c := memo.last.Load(); c != nil && c.oc == oc && c.first == first && c.n == len(sel) {
		return c.fields
	}
	fields := graphql.CollectFields(oc, sel, satisfies)
	memo.last.Store(&collectedFields{oc: oc, first: first, n: len(sel), fields: fields})
	return fields
}

// marshalAnswer writes an operation's data into a buffer as big as the
// answers to the same operation before it were (a moving average and a
// quarter, from 1 KB to 256 KB): an answer of 12 KB written into a buffer
// grown from nothing costs twice its size in copies. The operation is its
// parsed document, which gqlgen keeps per query text; operations share the
// averages of a small table by the document's address, so that a small
// mutation is not given the buffer of a page of 100 partnerships.
func marshalAnswer(oc *graphql.OperationContext, data graphql.Marshaler) []byte {
	size := &answerSizes[reflect.ValueOf(oc.Operation).Pointer()>>4%uintptr(len(answerSizes))]
	buf := bytes.NewBuffer(make([]byte, 0, size.guess()))
	data.MarshalGQL(buf)
	size.record(buf.Len())
	return buf.Bytes()
}

// answerSizes are the moving averages of the answers' sizes in bytes.
var answerSizes [64]movingSize

type movingSize struct{ average atomic.Int64 }

func (m *movingSize) guess() int {
	return int(min(max(m.average.Load()*5/4, 1<<10), 256<<10))
}

// record moves the average an eighth of the way to n (racing updates
// may lose one: it is a guess).
func (m *movingSize) record(n int) {
	a := m.average.Load()
	m.average.Store(a + (int64(n)-a)/8)
}

// written says whether an earlier field has the alias.
func written(earlier []graphql.CollectedField, alias string) bool {
	for i := range earlier {
		if earlier[i].Alias == alias {
			return true
		}
	}
	return false
}

// Plain leaf fields bound to a struct field are marshalled from where the
// value lies (cmd/gqlgen-post writes the conversions): a pointer in an
// interface needs no allocation, where a string, an int or a time copied
// into one does. Each writes what the field's own marshaller writes.
type (
	stringAt   string
	intAt      int
	dateAt     time.Time
	dateTimeAt time.Time
)

func (s *stringAt) MarshalGQL(w io.Writer)   { bind.MarshalString(string(*s)).MarshalGQL(w) }
func (i *intAt) MarshalGQL(w io.Writer)      { graphql.MarshalInt(int(*i)).MarshalGQL(w) }
func (d *dateAt) MarshalGQL(w io.Writer)     { bind.WriteDate(w, time.Time(*d)) }
func (t *dateTimeAt) MarshalGQL(w io.Writer) { bind.WriteDateTime(w, time.Time(*t)) }

// stringOrNull is a nullable string's value: null, or the string where it
// lies.
func stringOrNull(s *string) graphql.Marshaler {
	if s == nil {
		return graphql.Null
	}
	return (*stringAt)(s)
}
