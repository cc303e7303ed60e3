package main

import (
	"regexp"
	"strings"
)

// objectMarshaller matches an object's marshaller, from its first line to
// its closing brace.
var objectMarshaller = regexp.MustCompile(`(?ms)^func \(ec \*executionContext\) _\w+\(ctx context\.Context, sel ast\.SelectionSet, obj [^)]*\) graphql\.Marshaler \{\n.*?^\}\n`)

const (
	fieldSet       = "out := graphql.NewFieldSet(fields)"
	plainObjectSet = "out := newPlainObject(fields)"
	dispatch       = "\tout.Dispatch(ctx)\n"
	writtenObject  = "return writeObject(fields, out.Values)"
)

// rewritePlainObjects makes the marshaller of every object none of whose
// fields is resolved concurrently keep its values in a plainObject (one
// allocation for up to eight fields, which writes itself) instead of a
// graphql.FieldSet and the writeObject around its values (three). Such an
// object has nothing to dispatch, and nothing is ever added to its
// deferred group. It returns the source and how many objects are now
// plain.
func rewritePlainObjects(src string) (string, int) {
	out := objectMarshaller.ReplaceAllStringFunc(src, func(fn string) string {
		if !strings.Contains(fn, fieldSet) || strings.Contains(fn, "Concurrently(") || !strings.Contains(fn, writtenObject) {
			return fn
		}
		fn = strings.Replace(fn, fieldSet, plainObjectSet, 1)
		fn = strings.Replace(fn, dispatch, "", 1)
		return strings.Replace(fn, writtenObject, "return out", 1)
	})
	return out, strings.Count(out, plainObjectSet)
}

// answerBuffer is how the executor writes an operation's data: into a
// buffer that grows from nothing, ten times over for a page of 100 rows.
// marshalAnswer sizes it from the answers before.
const (
	answerBuffer = `			var buf bytes.Buffer
			data.MarshalGQL(&buf)
			response.Data = buf.Bytes()`
	answerSized      = `			response.Data = marshalAnswer(opCtx, data)`
	mutationBuffer   = "\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\n\t\t\treturn &graphql.Response{\n\t\t\t\tData: buf.Bytes(),\n\t\t\t}"
	mutationSized    = "\t\t\treturn &graphql.Response{\n\t\t\t\tData: marshalAnswer(opCtx, data),\n\t\t\t}"
	bytesImport      = "\t\"bytes\"\n"
	bytesImportBlock = "import (\n" + bytesImport
)

// rewriteAnswers makes queries and mutations write their data with
// marshalAnswer (and drops the import of bytes, then unused). It returns
// the source and how many answers are now sized.
func rewriteAnswers(src string) (string, int) {
	out := strings.Replace(src, answerBuffer, answerSized, 1)
	out = strings.Replace(out, mutationBuffer, mutationSized, 1)
	if !strings.Contains(out, "bytes.") {
		out = strings.Replace(out, bytesImportBlock, "import (\n", 1)
	}
	return out, strings.Count(out, "marshalAnswer(opCtx, data)")
}

// collectCall is how every object's marshaller collects the fields asked
// of it: through the operation's cache, which costs a hash of the type's
// names, a heap allocation and a read lock per object (7% of the CPU of a
// read of 51 history events). collectFieldsOf asks it only when the
// object's type last collected another operation's or another selection's
// fields, as a list's elements almost never do.
var (
	collectCall    = regexp.MustCompile(`(?m)^\tfields := graphql\.CollectFields\(ec\.OperationContext, sel, (\w+)Implementors\)$`)
	implementorsOf = regexp.MustCompile(`(?m)^var (\w+)Implementors = \[\]string\{.*\}$`)
)

// rewriteCollects makes every object's marshaller collect its fields with
// collectFieldsOf and its type's fieldsMemo (declared after the type's
// implementors). It returns the source and how many marshallers now do.
func rewriteCollects(src string) (string, int) {
	out := collectCall.ReplaceAllString(src, "\tfields := collectFieldsOf(ec.OperationContext, sel, ${1}Implementors, &${1}Fields)")
	out = implementorsOf.ReplaceAllStringFunc(out, func(decl string) string {
		name := implementorsOf.FindStringSubmatch(decl)[1]
		memo := "var " + name + "Fields fieldsMemo"
		if strings.Contains(out, "\n"+memo+"\n") {
			return decl
		}
		return decl + "\n\n" + memo
	})
	return out, strings.Count(out, "fields := collectFieldsOf(ec.OperationContext, sel, ")
}
