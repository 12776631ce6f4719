package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchyard-dev/switchyard/storage"
)

// SQLSTATE codes the store tells apart.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	classDataException      = "22"
	classIntegrity          = "23"
	// The classes of a server that is going away or cannot serve now:
	// connection exceptions, and operator intervention (a shutdown, a
	// restart, a recovery in progress).
	classConnection = "08"
	classOperator   = "57"
)

// conflicts says, for each unique constraint of the schema, what a
// violation means to the caller.
var conflicts = map[string]string{
	"users_name_unique":  "a user with that name already exists",
	"tokens_hash_unique": "a token with that hash already exists",
	"sessions_pkey":      "session exists",
	"events_pkey":        "event exists",
	"deliveries_pkey":    "a delivery with that id exists",
	"audit_pkey":         "audit entry exists",
	"messages_pkey":      "message exists",
}

// mapErr turns what pgx and PostgreSQL answer into the storage sentinels:
// the one place where their errors are read. Callers add what they were
// doing.
func (s *Store) mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ErrNotFound
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case pg.Code == codeUniqueViolation:
			what, ok := conflicts[pg.ConstraintName]
			if !ok {
				what = pg.Message
			}
			return fmt.Errorf("%w: %s", storage.ErrConflict, what)
		case pg.Code == codeForeignKeyViolation:
			// A record another refers to, or one that refers to what
			// was deleted meanwhile.
			return fmt.Errorf("%w: %s", storage.ErrConflict, pg.Message)
		case isDataError(pg):
			return fmt.Errorf("%w: %s", storage.ErrInvalid, pg.Message)
		case pg.Code[:2] == classConnection || pg.Code[:2] == classOperator:
			return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
		}
		return err
	}
	if s.closed.Load() && !errors.Is(err, storage.ErrClosed) {
		// The pool closed under a running call.
		return fmt.Errorf("%w: %w", storage.ErrClosed, err)
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}

// unreachable reports whether err is the database out of reach: no
// connection could be made, the connection broke, or it answered
// nothing in time.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// refusedData reports whether err is PostgreSQL refusing the data itself
// (a value out of range, a broken constraint), as opposed to failing to
// run.
func refusedData(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && isDataError(pg)
}

func isDataError(pg *pgconn.PgError) bool {
	class := pg.Code[:2]
	return class == classDataException || class == classIntegrity
}
