package contracts

// Every rejection is an error whose message starts with one of the codes of
// docs/ledger-interface.md, so the Python client can map it without parsing prose.

import "fmt"

// Error codes shared with the Python client (docs/ledger-interface.md).
const (
	CodeInvalidArgument    = "INVALID_ARGUMENT"
	CodePermissionDenied   = "PERMISSION_DENIED"
	CodeNotFound           = "NOT_FOUND"
	CodeConflict           = "CONFLICT"
	CodeFailedPrecondition = "FAILED_PRECONDITION"
	// CodeInternal marks a failure of the peer or of the ledger API, never of the caller's input.
	CodeInternal = "INTERNAL"
)

// invalidArgument reports a field that fails validation: "INVALID_ARGUMENT: <field>: <reason>".
func invalidArgument(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %s", CodeInvalidArgument, field, fmt.Sprintf(format, args...))
}

func permissionDenied(format string, args ...any) error {
	return fmt.Errorf("%s: %s", CodePermissionDenied, fmt.Sprintf(format, args...))
}

func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %s", CodeNotFound, fmt.Sprintf(format, args...))
}

func conflict(format string, args ...any) error {
	return fmt.Errorf("%s: %s", CodeConflict, fmt.Sprintf(format, args...))
}

func failedPrecondition(format string, args ...any) error {
	return fmt.Errorf("%s: %s", CodeFailedPrecondition, fmt.Sprintf(format, args...))
}

// internal wraps a ledger API failure so the cause stays inspectable with errors.Is.
func internal(what string, err error) error {
	return fmt.Errorf("%s: %s: %w", CodeInternal, what, err)
}
