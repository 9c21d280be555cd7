package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"syncd/domain"
)

// translate maps driver and gorm errors to domain errors; it is the only place
// that knows them. Domain errors pass through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return domain.Wrap(domain.CodeNotFound, err, "not found")
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return domain.Wrap(domain.CodeConflict, err, "already exists")
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return domain.Wrap(domain.CodeConflict, err, "refers to something that does not exist or is still in use")
	case errors.Is(err, gorm.ErrCheckConstraintViolated):
		return domain.Wrap(domain.CodeInvalid, err, "value not allowed")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return domain.Wrap(domain.CodeUnavailable, err, "the request was cancelled or timed out")
	default:
		return domain.Wrap(domain.CodeUnavailable, err, "database error")
	}
}

// notFound names what was not found, for a clearer message than translate's.
func notFound(what string, err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Wrap(domain.CodeNotFound, err, what+" not found")
	}
	return translate(err)
}

// isDeadlock tells a transaction PostgreSQL aborted to break a deadlock or a
// serialization conflict: running it again is safe and will likely succeed.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
