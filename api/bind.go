package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"syncd/domain"
)

// bind decodes a JSON body into v. The validator has already checked it
// against the document; decoding strictly here keeps the two in step.
// Numbers in untyped values stay as written (json.Number), so 12345678901234567890
// or 1.10 are stored as sent rather than rounded through float64.
func bind(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return domain.Errorf(domain.CodeMalformed, "a JSON request body is required")
		}
		if tooLarge(err) {
			return errBodyTooLarge
		}
		return domain.Wrap(domain.CodeMalformed, err, fmt.Sprintf("the request body is not valid JSON: %v", err))
	}
	if dec.More() {
		return domain.Errorf(domain.CodeMalformed, "the request body has data after the JSON value")
	}
	return nil
}

var errBodyTooLarge = domain.Errorf(domain.CodeTooLarge, "request body too large")

// tooLarge reports whether reading a body failed on a size limit.
func tooLarge(err error) bool {
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || (errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge)
}

// pageOf turns limit and cursor parameters into a domain page.
func pageOf(limit *int, cursor *string) (domain.Page, error) {
	p := domain.Page{}
	if limit != nil {
		p.Limit = *limit
	}
	if cursor != nil && *cursor != "" {
		after, err := decodeCursor(*cursor)
		if err != nil {
			return p, err
		}
		p.After = after
	}
	return p.Normalized(), nil
}

// Cursors are opaque to clients: base64url of the last key of a page.
func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", domain.Invalid("invalid cursor", map[string]string{"query.cursor": "is not a cursor this server gave out"})
	}
	return string(b), nil
}

// nextCursor is the cursor after a full page, nil after the last one.
func nextCursor(n int, p domain.Page, lastKey func() string) *string {
	if n < p.Limit {
		return nil
	}
	c := encodeCursor(lastKey())
	return &c
}
