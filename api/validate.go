package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	oapimw "github.com/oapi-codegen/echo-middleware"

	"syncd/domain"
	"syncd/openapi"
)

// loadSpec parses and checks the embedded OpenAPI document.
func loadSpec() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(openapi.YAML)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(loader.Context); err != nil {
		return nil, err
	}
	return spec, nil
}

// newValidator checks every request against the OpenAPI document before a
// handler sees it: authentication and role (each operation's
// x-required-role), parameters and JSON bodies, collecting every field error.
// The operation is the one of the route echo matched, so a request is routed
// once (kin-openapi's own router matches every path pattern by regexp).
func newValidator(authn *authenticator) (echo.MiddlewareFunc, error) {
	spec, err := loadSpec()
	if err != nil {
		return nil, err
	}
	ops := operationsOf(spec)
	options := func(excludeBody bool) *oapimw.Options {
		return &oapimw.Options{Options: openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: authn.check,
			// Uploads are streamed by their handlers, which enforce their own limits.
			ExcludeRequestBody: excludeBody,
		}}
	}
	whole, streamed := options(false), options(true)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if strings.HasPrefix(c.Path(), "/docs") {
				return next(c)
			}
			var err *echo.HTTPError
			if streamsBody(c) {
				// kin-openapi reads the whole body even to authenticate, so
				// the validator sees none; the handler gets it back.
				body := c.Request().Body
				c.Request().Body = http.NoBody
				err = oapimw.ValidateRequestFromContext(c, matched{c, ops}, streamed)
				c.Request().Body = body
			} else {
				err = oapimw.ValidateRequestFromContext(c, matched{c, ops}, whole)
			}
			if err != nil {
				return validationFailure(c, err)
			}
			return next(c)
		}
	}, nil
}

// validationFailure turns the validator's answer into the problem to send.
func validationFailure(c echo.Context, err *echo.HTTPError) error {
	// A route the document does not know is echo's 404 or 405.
	switch {
	case err.Internal == nil && err.Code == http.StatusNotFound:
		return domain.Errorf(domain.CodeNotFound, "no route %s %s", c.Request().Method, c.Request().URL.Path)
	case err.Internal == nil && err.Code == http.StatusMethodNotAllowed:
		return domain.Errorf(codeMethodNotAllowed, "method %s is not allowed on %s", c.Request().Method, c.Request().URL.Path)
	}
	if de := validationError(err.Internal); de != nil {
		return de
	}
	return err
}

// operations are the document's operations by echo route path and method.
type operations map[string]map[string]*routers.Route

func operationsOf(spec *openapi3.T) operations {
	ops := operations{}
	for path, item := range spec.Paths.Map() {
		route := pathParam.ReplaceAllString(path, ":$1")
		ops[route] = map[string]*routers.Route{}
		for method, op := range item.Operations() {
			ops[route][method] = &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return ops
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// matched is the router the validator asks for a request's operation: the
// one of the route echo matched.
type matched struct {
	c   echo.Context
	ops operations
}

func (m matched) FindRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	byMethod, ok := m.ops[m.c.Path()]
	if !ok {
		return nil, nil, &routers.RouteError{Reason: routers.ErrPathNotFound.Error()}
	}
	route, ok := byMethod[req.Method]
	if !ok {
		return nil, nil, routers.ErrMethodNotAllowed
	}
	names, values := m.c.ParamNames(), m.c.ParamValues()
	params := make(map[string]string, len(names))
	for i, name := range names {
		params[name] = values[i] // the validator unescapes them
	}
	return route, params, nil
}

// streamsBody reports the routes whose handlers read the body as it
// arrives (uploads): the validator authenticates and checks their
// parameters but must not read the body whole.
func streamsBody(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && strings.HasSuffix(c.Path(), "/uploads")
}

// check is the validator's AuthenticationFunc: it authenticates the bearer
// credential, checks the operation's required role and keeps the principal
// on the echo context for the handlers.
func (a *authenticator) check(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	c := oapimw.GetEchoContext(ctx)
	if c == nil {
		return errors.New("no echo context")
	}
	p, err := a.authenticate(c.Request().Context(), c.Request().Header.Get(echo.HeaderAuthorization))
	if err != nil {
		return err
	}
	need := domain.RoleAdmin // an operation that forgets to say is admin-only
	if r, ok := in.RequestValidationInput.Route.Operation.Extensions["x-required-role"].(string); ok {
		need = domain.Role(r)
	}
	if !p.Role.Allows(need) {
		return domain.Errorf(domain.CodeForbidden, "this needs the %s role; the caller has %s", need, p.Role)
	}
	c.Set(principalKey, p)
	return nil
}
