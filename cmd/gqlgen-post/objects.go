package main

import (
	"regexp"
	"strings"
)

// plainObjectField matches the generated function of a field bound straight
// to a struct field or method whose type is an object or a list of objects
// (by pointer). gqlgen resolves it through graphql.ResolveField like any
// other; rewriteObjectFields keeps what the object below needs (the field's
// context, for paths and for its own fields' resolvers, and the recovery of
// a panic at this field) and drops the rest (the field middleware, the
// value boxed in an interface, the closures).
var plainObjectField = plainField(`marshal[NO][^(]+2ᚕ?ᚖ[^(]+`)

// objectContext matches the field context function of a field that is not
// a resolver and has child fields.
var objectContext = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) fieldContext_(\w+)\(_ context\.Context, field graphql\.CollectedField\) \(fc \*graphql\.FieldContext, err error\) \{
	fc = &graphql\.FieldContext\{
		Object:     "\w+",
		Field:      field,
		IsMethod:   (?:true|false),
		IsResolver: false,
`)

// rewriteObjectFields rewrites every plain field of object type and returns
// the source and how many fields are now rewritten.
func rewriteObjectFields(src string) (string, int) {
	plain := map[string]bool{}
	for _, m := range objectContext.FindAllStringSubmatch(src, -1) {
		plain[m[1]] = true
	}
	out := plainObjectField.ReplaceAllStringFunc(src, func(fn string) string {
		m := plainObjectField.FindStringSubmatch(fn)
		object, field, objType, context, expr, marshaller := m[1], m[2], m[3], m[4], m[5], m[6]
		if context != object+"_"+field || !plain[context] {
			return fn
		}
		return "func (ec *executionContext) _" + object + "_" + field + "(ctx context.Context, field graphql.CollectedField, obj " + objType + ") (ret graphql.Marshaler) {\n" +
			"\tfc, err := ec.fieldContext_" + context + "(ctx, field)\n" +
			"\tif err != nil {\n\t\treturn graphql.Null\n\t}\n" +
			"\tctx = graphql.WithFieldContext(ctx, fc)\n" +
			"\tdefer func() {\n\t\tif r := recover(); r != nil {\n" +
			"\t\t\tec.OperationContext.Error(ctx, ec.OperationContext.Recover(ctx, r))\n\t\t\tret = graphql.Null\n\t\t}\n\t}()\n" +
			"\tv := " + expr + "\n" + plainObjectMark + "\n" +
			"\treturn ec." + marshaller + "(ctx, field.Selections, v)\n}\n"
	})
	return out, strings.Count(out, plainObjectMark)
}

// plainObjectMark is a line of what rewriteObjectFields writes, so that a
// second run counts what the first did.
const plainObjectMark = "\tfc.Result = v"

// objectEnd is how every object's marshaller ends: the field set, which
// gqlgen writes (FieldSet.MarshalGQL) with a map per object to skip
// repeated aliases and a heap copy of every field. Unless the object has
// deferred fields (whose values the deferred payloads take out of the set),
// writeObject writes it instead, the same JSON without either.
const (
	objectEnd = `		ec.ProcessDeferredGroup(deferred)
	}

	return out
}`
	objectEndRewritten = `		ec.ProcessDeferredGroup(deferred)
		return out
	}
	return writeObject(fields, out.Values)
}`
)

// objectEndPlain is objectEndRewritten once rewritePlainObjects has made
// the object a plainObject, which writes itself.
const objectEndPlain = `		ec.ProcessDeferredGroup(deferred)
		return out
	}
	return out
}`

func rewriteObjectEnds(src string) (string, int) {
	out := strings.ReplaceAll(src, objectEnd, objectEndRewritten)
	return out, strings.Count(out, objectEndRewritten) + strings.Count(out, objectEndPlain)
}
