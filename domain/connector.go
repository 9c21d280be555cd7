package domain

import "context"

// Connector reads and writes one connection's records in its own system.
// Implementations live outside domain (connector/rest for REST APIs); the
// hub's own record store serves hosted connections.
type Connector interface {
	// List streams the object's records within scope to fn, page by page,
	// stopping at the first error fn returns. Only ExternalID, Fields, Active,
	// Deleted and SourceUpdatedAt are set on the records it yields.
	// Errors: CodeUnavailable when the remote system fails, CodeInvalid when the
	// configuration does not fit the answer.
	List(ctx context.Context, object string, scope Scope, fn func(Record) error) error
	// Create writes a new record and returns the id the target gave it
	// (externalID is a hint the target may honour, "" for none).
	// Errors: CodeUnavailable, CodeConflict when the target refuses.
	Create(ctx context.Context, object, externalID string, fields Fields) (string, error)
	// Update writes fields of an existing record. Errors: CodeUnavailable, CodeNotFound.
	Update(ctx context.Context, object, externalID string, fields Fields) error
	// Delete removes a record. A record already gone is not an error.
	// Errors: CodeUnavailable.
	Delete(ctx context.Context, object, externalID string) error
	// Test tries the credentials with the configured probe. Errors: CodeUnavailable.
	Test(ctx context.Context) error
}
