package main

import (
	"regexp"
	"strings"
)

// A plain leaf field is one gqlgen binds straight to a struct field or a
// method of the object (no resolver, no directive) and whose type is a
// scalar or an enum. gqlgen resolves each through graphql.ResolveField: a
// field context, a context value, the field middleware, the value boxed in
// an interface and four closures, some ten allocations for a string that is
// already in memory. plainLeaf matches the generated function of such a
// field; rewriteLeaves makes it hand the value to its marshaller directly.
//
// What the direct call leaves out, and why that is sound here:
//   - The field middleware (AroundFields) does not see the field; the
//     server's only field middleware, the tracer, skips fields that are not
//     resolvers anyway.
//   - No field context is made for the field. Only the marshaller could use
//     one, to report a null where the schema allows none, so only
//     marshallers that cannot report one are called so (see pureMarshaller):
//     a nullable scalar's, or a non-null scalar's whose marshalling
//     function never returns null.
//   - A panic in a getter is recovered by the enclosing field rather than by
//     this one.
var plainLeaf = plainField(`marshal[^(]+`)

// plainField matches the generated function of a field bound straight to a
// struct field or method (no resolver, no directive, no middleware chain)
// whose marshaller's name matches marshaller: object, field, the object's
// Go type, its field context function, the value expression and the
// marshaller are captured.
func plainField(marshaller string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _(\w+)_(\w+)\(ctx context\.Context, field graphql\.CollectedField, obj ([^)]+)\) \(ret graphql\.Marshaler\) \{
	return graphql\.ResolveField\(
		ctx,
		ec\.OperationContext,
		field,
		func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
			return ec\.fieldContext_(\w+)\(ctx, field\)
		\},
		func\(ctx context\.Context\) \(any, error\) \{
			return (obj\.[A-Za-z0-9_.()]+), nil
		\},
		nil,
		func\(ctx context\.Context, selections ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{
			return ec\.(` + marshaller + `)\(ctx, selections, v\)
		\},
		true,
		(?:true|false),
	\)
\}
`)
}

// scalarContext matches the field context function of a field that is not
// a resolver and has no children: a scalar or an enum.
var scalarContext = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) fieldContext_(\w+)\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{
	return graphql\.NewScalarFieldContext\("\w+", field, (?:true|false), false, "\w+"\)
\}
`)

// marshallerFunc matches a marshaller's whole function.
var marshallerFunc = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (marshal[NO][^(]+)\(ctx context\.Context, sel ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n((?:\t.*\n|\n)*?)\}\n`)

// neverNull are marshalling functions that always return a value, never
// graphql.Null: a non-null field marshalled with one cannot report a null.
var neverNull = map[string]bool{
	"graphql.MarshalString": true, "graphql.MarshalBoolean": true, "graphql.MarshalID": true,
	"graphql.MarshalInt": true, "graphql.MarshalInt64": true,
	"bind.MarshalString": true, "bind.MarshalDate": true, "bind.MarshalDateTime": true,
}

var nonNullScalar = regexp.MustCompile(`^\t_ = sel\n\tres := ([\w.]+)\(v\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "\w+!"\)\n\t\}\n\treturn res\n$`)

// pureMarshaller says whether a marshaller's body never uses its context:
// it cannot report an error, so it needs no field context.
func pureMarshaller(name, body string) bool {
	if strings.Contains(name, "2ᚕ") {
		return false // a list: its elements get field contexts of their own
	}
	if m := nonNullScalar.FindStringSubmatch(body); m != nil {
		return neverNull[m[1]]
	}
	return !strings.Contains(strings.ReplaceAll(body, "\t_ = ctx\n", ""), "ctx")
}

// byReference are the graph package's types (graph/marshal.go) that marshal
// a value where it lies, by the marshalling function of the non-null
// marshaller they stand in for: a pointer handed to an interface needs no
// allocation, the value copied into one does.
var byReference = map[string]string{
	"bind.MarshalString":   "stringAt",
	"graphql.MarshalInt":   "intAt",
	"bind.MarshalDate":     "dateAt",
	"bind.MarshalDateTime": "dateTimeAt",
}

var nullableString = regexp.MustCompile(`^\tif v == nil \{\n\t\treturn graphql\.Null\n\t\}\n\t_ = sel\n\t_ = ctx\n\tres := bind\.MarshalString\(\*v\)\n\treturn res\n$`)

// leafValue is the statement a rewritten leaf returns its value with: from
// where it lies when the field is a struct field of the object (not a
// method's result) and its marshaller has a stand-in, else through the
// marshaller.
func leafValue(marshaller, body, expr, objType string) string {
	inPlace := strings.HasPrefix(objType, "*") && !strings.Contains(expr, "(")
	if m := nonNullScalar.FindStringSubmatch(body); m != nil && inPlace && byReference[m[1]] != "" {
		return "(*" + byReference[m[1]] + ")(&" + expr + ")"
	}
	if nullableString.MatchString(body) {
		return "stringOrNull(" + expr + ")"
	}
	if body == "\treturn v\n" && inPlace && strings.HasPrefix(marshaller, "marshalN") {
		return "&" + expr // an enum: its pointer has its value's MarshalGQL
	}
	return "ec." + marshaller + "(ctx, field.Selections, " + expr + ")"
}

// rewriteLeaves rewrites every plain leaf field whose marshaller is pure
// and returns the source and how many fields are now rewritten.
func rewriteLeaves(src string) (string, int) {
	scalar := map[string]bool{}
	for _, m := range scalarContext.FindAllStringSubmatch(src, -1) {
		scalar[m[1]] = true
	}
	pure, bodies := map[string]bool{}, map[string]string{}
	for _, m := range marshallerFunc.FindAllStringSubmatch(src, -1) {
		pure[m[1]], bodies[m[1]] = pureMarshaller(m[1], m[2]), m[2]
	}
	out := plainLeaf.ReplaceAllStringFunc(src, func(fn string) string {
		m := plainLeaf.FindStringSubmatch(fn)
		object, field, objType, context, expr, marshaller := m[1], m[2], m[3], m[4], m[5], m[6]
		if context != object+"_"+field || !scalar[context] || !pure[marshaller] {
			return fn
		}
		return "func (ec *executionContext) _" + object + "_" + field + "(ctx context.Context, field graphql.CollectedField, obj " + objType + ") (ret graphql.Marshaler) {\n" +
			"\treturn " + leafValue(marshaller, bodies[marshaller], expr, objType) + "\n}\n"
	})
	return out, len(rewrittenLeaf.FindAllStringIndex(out, -1))
}

// rewrittenLeaf matches a function rewriteLeaves wrote, so that a second
// run counts what the first did.
var rewrittenLeaf = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _\w+_\w+\(ctx context\.Context, field graphql\.CollectedField, obj [^)]+\) \(ret graphql\.Marshaler\) \{\n\treturn (?:ec\.marshal[^(]+\(ctx, field\.Selections, obj\.|\(\*\w+At\)\(&obj\.|stringOrNull\(obj\.|&obj\.)`)
