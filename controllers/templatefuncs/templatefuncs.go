// Package templatefuncs tells which functions ExternalSecret templates may
// call, for tools outside controllers/ (`baosync convert` warns about ESO
// templates that call a function baosync lacks). It imports only the
// template engine, so that those tools need not import a reconciler.
package templatefuncs

import "github.com/baosync/baosync/controllers/internal/template"

// Unknown lists, sorted, the functions text calls that baosync's templates
// do not have.
func Unknown(text string) []string {
	return template.UnknownFunctions(text)
}
