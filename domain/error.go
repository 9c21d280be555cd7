// Package domain holds syncd's nouns, the rules between them and the sync
// engine. It imports only the standard library: no HTTP, SQL or JSON tags.
package domain

import (
	"errors"
	"fmt"
)

// Code classifies an Error. The api package maps each code to one HTTP status
// in a single table; nothing else chooses a status for a failure.
type Code string

// The error codes every layer speaks.
const (
	CodeMalformed       Code = "malformed"        // the input cannot be read at all (not JSON, bad parameter form)
	CodeInvalid         Code = "invalid"          // the input is well-formed but breaks a rule
	CodeUnauthorized    Code = "unauthorized"     // no or bad credentials
	CodeForbidden       Code = "forbidden"        // the caller's role is too low
	CodeNotFound        Code = "not_found"        // absent, or in another workspace
	CodeConflict        Code = "conflict"         // the current state does not allow this
	CodeStale           Code = "stale"            // If-Match did not match
	CodeTooLarge        Code = "too_large"        // a body, file or list is over a limit
	CodeUnprocessable   Code = "unprocessable"    // well-formed but nothing could be applied
	CodeRateLimited     Code = "rate_limited"     // slow down; see Error.RetryAfter
	CodeUnsupportedType Code = "unsupported_type" // wrong media type
	CodeUnavailable     Code = "unavailable"      // a dependency (database, remote system) failed
	CodeInternal        Code = "internal"         // a bug; the message is never shown
)

// Error is the one error type syncd returns across layers.
type Error struct {
	Code    Code
	Message string            // safe to show a client
	Fields  map[string]string // per-field problems, mostly for CodeInvalid
	// RetryAfter, in seconds, accompanies CodeRateLimited.
	RetryAfter int
	// Details carries structured, client-safe extra data (row errors of an
	// upload, per-item results); the api package renders it as extension members.
	Details map[string]any
	Err     error // the cause, logged only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a formatted, client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an Error around a cause that is logged but never shown.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Invalid builds a CodeInvalid error with per-field messages.
func Invalid(message string, fields map[string]string) *Error {
	return &Error{Code: CodeInvalid, Message: message, Fields: fields}
}

// ErrorCode returns the code of err, CodeInternal for foreign errors and ""
// for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage is the client-safe message of err: an Error's Message, or a
// generic text for foreign errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsCode reports whether err is an Error with the given code.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }
