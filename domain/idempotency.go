package domain

import (
	"context"
	"time"
)

// IdempotentResponse is the first response to a POST sent with an
// Idempotency-Key; a retry with the same key is answered with it again.
type IdempotentResponse struct {
	WorkspaceID string
	Subject     string // the caller (Principal.Subject), so keys of two callers never collide
	Key         string
	Method      string
	Path        string
	Status      int
	ContentType string
	Body        []byte
	CreatedAt   time.Time
}

// IdempotencyTTL is how long a stored response is answered again.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyStore keeps first responses.
type IdempotencyStore interface {
	// IdempotentResponse finds a stored response younger than IdempotencyTTL.
	// Errors: CodeNotFound.
	IdempotentResponse(ctx context.Context, workspaceID, subject, key string, now time.Time) (*IdempotentResponse, error)
	// SaveIdempotentResponse stores r; a key stored meanwhile by a concurrent
	// request wins and is not an error.
	SaveIdempotentResponse(ctx context.Context, r *IdempotentResponse) error
}
