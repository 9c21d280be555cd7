package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
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
func newValidator(authn *authenticator) (echo.MiddlewareFunc, error) {
	spec, err := loadSpec()
	if err != nil {
		return nil, err
	}
	options := func(excludeBody bool) *oapimw.Options {
		return &oapimw.Options{
			DoNotValidateServers: true,
			Skipper: func(c echo.Context) bool {
				return strings.HasPrefix(c.Path(), "/docs")
			},
			Options: openapi3filter.Options{
				MultiError:         true,
				AuthenticationFunc: authn.check,
				// Uploads are streamed by their handlers, which enforce their own limits.
				ExcludeRequestBody: excludeBody,
			},
			MultiErrorHandler: func(me openapi3.MultiError) *echo.HTTPError {
				return &echo.HTTPError{Code: http.StatusBadRequest, Message: "invalid request", Internal: me}
			},
			ErrorHandler: func(c echo.Context, err *echo.HTTPError) error {
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
			},
		}
	}
	whole := oapimw.OapiRequestValidatorWithOptions(spec, options(false))
	streamed := oapimw.OapiRequestValidatorWithOptions(spec, options(true))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		w := whole(next)
		s := streamed(func(c echo.Context) error {
			c.Request().Body = c.Get(streamedBodyKey).(io.ReadCloser)
			return next(c)
		})
		return func(c echo.Context) error {
			if !streamsBody(c) {
				return w(c)
			}
			// kin-openapi reads the whole body even to authenticate, so
			// the validator sees none; the handler gets it back.
			body := c.Request().Body
			c.Set(streamedBodyKey, body)
			c.Request().Body = http.NoBody
			err := s(c)
			c.Request().Body = body
			return err
		}
	}, nil
}

const streamedBodyKey = "syncd.streamed_body"

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
