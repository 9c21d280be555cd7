package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// statusOf is the only table from domain error codes to HTTP statuses.
var statusOf = map[domain.Code]int{
	domain.CodeMalformed:       http.StatusBadRequest,
	codeMethodNotAllowed:       http.StatusMethodNotAllowed,
	domain.CodeInvalid:         http.StatusUnprocessableEntity,
	domain.CodeUnauthorized:    http.StatusUnauthorized,
	domain.CodeForbidden:       http.StatusForbidden,
	domain.CodeNotFound:        http.StatusNotFound,
	domain.CodeConflict:        http.StatusConflict,
	domain.CodeStale:           http.StatusPreconditionFailed,
	domain.CodeTooLarge:        http.StatusRequestEntityTooLarge,
	domain.CodeUnprocessable:   http.StatusUnprocessableEntity,
	domain.CodeRateLimited:     http.StatusTooManyRequests,
	domain.CodeUnsupportedType: http.StatusUnsupportedMediaType,
	domain.CodeUnavailable:     http.StatusServiceUnavailable,
	domain.CodeInternal:        http.StatusInternalServerError,
}

// codeMethodNotAllowed is HTTP's own; the domain never needs it.
const codeMethodNotAllowed domain.Code = "method_not_allowed"

// codeOf maps the statuses echo and its middleware produce back to codes.
var codeOf = map[int]domain.Code{
	http.StatusBadRequest:            domain.CodeMalformed,
	http.StatusUnauthorized:          domain.CodeUnauthorized,
	http.StatusForbidden:             domain.CodeForbidden,
	http.StatusNotFound:              domain.CodeNotFound,
	http.StatusMethodNotAllowed:      codeMethodNotAllowed,
	http.StatusRequestEntityTooLarge: domain.CodeTooLarge,
	http.StatusUnsupportedMediaType:  domain.CodeUnsupportedType,
	http.StatusTooManyRequests:       domain.CodeRateLimited,
	http.StatusServiceUnavailable:    domain.CodeUnavailable,
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Errors    map[string]string `json:"errors,omitempty"`
	details   map[string]any
}

// MarshalJSON adds the error's details as extension members.
func (p problem) MarshalJSON() ([]byte, error) {
	type plain problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.details) == 0 {
		return b, err
	}
	ext, err := json.Marshal(p.details)
	if err != nil {
		return nil, err
	}
	return append(append(b[:len(b)-1], ','), ext[1:]...), nil
}

// errorHandler writes every error as application/problem+json. Handlers return
// errors; this is the one place that turns them into responses.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, p := toProblem(err)
		p.Instance = c.Request().URL.Path
		p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "error", err, "path", p.Instance, "request_id", p.RequestID)
		}
		var de *domain.Error
		if errors.As(err, &de) && de.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(de.RetryAfter))
		}
		b, _ := json.Marshal(p)
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		c.Response().WriteHeader(status)
		if c.Request().Method != http.MethodHead {
			_, _ = c.Response().Write(b)
		}
	}
}

// toProblem turns any error into a status and a problem safe to show.
func toProblem(err error) (int, problem) {
	de := asDomainError(err)
	status, ok := statusOf[de.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := de.Message
	if status >= 500 && de.Code != domain.CodeUnavailable {
		msg = "an internal error occurred; the request id identifies it in the server log"
	}
	return status, problem{
		Type:    "urn:syncd:problem:" + string(de.Code),
		Title:   http.StatusText(status),
		Status:  status,
		Detail:  msg,
		Errors:  de.Fields,
		details: de.Details,
	}
}

// asDomainError finds the domain error in err, translating echo's own errors
// and request validation failures.
func asDomainError(err error) *domain.Error {
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Internal != nil {
			if v := validationError(he.Internal); v != nil {
				return v
			}
		}
		code, ok := codeOf[he.Code]
		if !ok {
			code = domain.CodeInternal
		}
		return &domain.Error{Code: code, Message: fmt.Sprint(he.Message), Err: err}
	}
	return domain.Wrap(domain.CodeInternal, err, "internal error")
}

// validationError turns request validation failures into a domain error:
// an unreadable body or parameter is malformed (400), a value that breaks the
// schema is invalid (422) with the field paths in Fields.
func validationError(err error) *domain.Error {
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	if tooLarge(err) {
		return errBodyTooLarge
	}
	var sec *openapi3filter.SecurityRequirementsError
	if errors.As(err, &sec) {
		for _, e := range sec.Errors {
			if errors.As(e, &de) {
				return de
			}
		}
		return domain.Errorf(domain.CodeUnauthorized, "authentication required")
	}
	fields := map[string]string{}
	malformed := ""
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, inner := range e {
				walk(inner)
			}
		case *openapi3filter.RequestError:
			switch {
			case e.RequestBody != nil && e.Err == nil && strings.HasPrefix(e.Reason, "header Content-Type"):
				malformed = "unsupported:" + e.Reason
			case e.Parameter != nil:
				fields[paramPath(e.Parameter)] = reasonOf(e.Err, e.Reason)
			case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
				malformed = "a request body is required"
			case e.Err == nil:
				malformed = e.Reason
			default:
				var pe *openapi3filter.ParseError
				if errors.As(e.Err, &pe) {
					malformed = "the request body is not valid JSON: " + pe.Error()
					return
				}
				walk(e.Err)
			}
		case *openapi3.SchemaError:
			path, reason := schemaPath(e)
			fields[path] = reason
		default:
			malformed = err.Error()
		}
	}
	walk(err)
	switch {
	case strings.HasPrefix(malformed, "unsupported:"):
		return domain.Errorf(domain.CodeUnsupportedType, "%s; send application/json", strings.TrimPrefix(malformed, "unsupported:"))
	case malformed != "" && len(fields) == 0:
		return &domain.Error{Code: domain.CodeMalformed, Message: malformed, Err: err}
	case len(fields) > 0:
		return &domain.Error{Code: domain.CodeInvalid, Message: "the request has invalid fields", Fields: fields, Err: err}
	}
	return nil
}

func paramPath(p *openapi3.Parameter) string { return p.In + "." + p.Name }

func reasonOf(err error, fallback string) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return se.Reason
	}
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		return reasonOf(me[0], fallback)
	}
	if err != nil {
		var pe *openapi3filter.ParseError
		if errors.As(err, &pe) {
			return "has the wrong form: " + pe.Reason
		}
		return err.Error()
	}
	return fallback
}

// schemaPath names the field a schema error is about, as a dotted path.
func schemaPath(se *openapi3.SchemaError) (string, string) {
	ptr := se.JSONPointer()
	reason := se.Reason
	// An unknown field is reported on its parent; name the field itself.
	if se.SchemaField == "properties" && strings.HasSuffix(reason, " is unsupported") {
		if i := strings.Index(reason, `"`); i >= 0 {
			if j := strings.Index(reason[i+1:], `"`); j >= 0 {
				ptr = append(ptr, reason[i+1:i+1+j])
				reason = "unknown field"
			}
		}
	}
	if len(ptr) == 0 {
		return "body", reason
	}
	// Write list positions as the domain does: objects[0].fields[1].type.
	var b strings.Builder
	for i, seg := range ptr {
		switch {
		case isIndex(seg):
			b.WriteString("[" + seg + "]")
		case i > 0:
			b.WriteString("." + seg)
		default:
			b.WriteString(seg)
		}
	}
	return b.String(), reason
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
