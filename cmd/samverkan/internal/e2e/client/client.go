package client

import (
	"errors"
	"net/http"
	"strings"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// New returns a client of the GraphQL API of the service at baseURL (its
// root, e.g. "http://127.0.0.1:8080"; requests go to baseURL + "/graphql")
// that sends token as "Authorization: Bearer <token>". An empty token makes
// anonymous requests.
func New(baseURL, token string) graphql.Client {
	return NewWithHTTPClient(baseURL, &http.Client{Transport: &bearer{token: token, next: http.DefaultTransport}})
}

// NewWithHTTPClient is New with a caller's HTTP client, which must add any
// credentials itself.
func NewWithHTTPClient(baseURL string, hc *http.Client) graphql.Client {
	return graphql.NewClient(strings.TrimSuffix(baseURL, "/")+"/graphql", hc)
}

// bearer adds the bearer token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" {
		return b.next.RoundTrip(r)
	}
	r = r.Clone(r.Context()) // a RoundTripper must not change the caller's request
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// Errors returns the GraphQL errors an operation failed with: those of a
// response with errors (genqlient returns them as a gqlerror.List, next to
// whatever data came) and those of a response with an HTTP status other
// than 200 (a *graphql.HTTPError). It returns nil for any other error, such
// as a failed connection.
func Errors(err error) gqlerror.List {
	var list gqlerror.List
	if errors.As(err, &list) {
		return list
	}
	var one *gqlerror.Error
	if errors.As(err, &one) {
		return gqlerror.List{one}
	}
	var httpErr *graphql.HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.Response.Errors
	}
	return nil
}

// ErrorCode returns extensions.code of the first GraphQL error of err
// (e.g. "FORBIDDEN", "INVALID_TRANSITION"), or "" when there is none.
func ErrorCode(err error) string {
	list := Errors(err)
	if len(list) == 0 {
		return ""
	}
	code, _ := list[0].Extensions["code"].(string)
	return code
}
