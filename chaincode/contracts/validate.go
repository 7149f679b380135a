package contracts

import (
	"math"
	"regexp"
	"strconv"
	"time"
)

// Limits enforced on every argument (see docs/chaincode.md).
const (
	MaxBatchSize      = 1000  // consents per RecordBatch
	MaxFilterSize     = 10000 // pseudonyms per FilterPermitted
	MaxParticipants   = 100   // orgs per study
	MaxRounds         = 100000
	MaxMetrics        = 64 // metrics per update or round
	maxIdentifierLen  = 128
	timeLayout        = "2006-01-02T15:04:05Z"
	roundKeyDigits    = 10
	hex64Length       = 64
	decisionPermit    = "permit"
	decisionDeny      = "deny"
	statusActive      = "active"
	statusRevoked     = "revoked"
	studyCreated      = "created"
	studyRunning      = "running"
	studyCompleted    = "completed"
	roundOpen         = "open"
	roundCommitted    = "committed"
	objectConsent     = "consent"
	objectStudy       = "study"
	objectRound       = "round"
	objectUpdate      = "update"
	objectModelOrigin = "model"
)

var (
	identifierPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	mspIDPattern      = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	roundPattern      = regexp.MustCompile(`^[1-9][0-9]{0,8}$`)
)

// checkHex64 accepts exactly 64 lower-case hex characters (SHA-256 digests, pseudonyms).
func checkHex64(field, value string) error {
	if len(value) != hex64Length {
		return invalidArgument(field, "must be 64 lower-case hex characters, got %d characters", len(value))
	}
	for i := 0; i < len(value); i++ {
		c := value[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return invalidArgument(field, "must be 64 lower-case hex characters")
		}
	}
	return nil
}

// checkIdentifier accepts study ids and metric names: [A-Za-z0-9._:-]{1,128}.
func checkIdentifier(field, value string) error {
	if !identifierPattern.MatchString(value) {
		return invalidArgument(field, "must match [A-Za-z0-9._:-]{1,128}")
	}
	return nil
}

// checkMSPID accepts Fabric MSP ids such as h1MSP: [A-Za-z0-9._-]{1,128}.
func checkMSPID(field, value string) error {
	if !mspIDPattern.MatchString(value) {
		return invalidArgument(field, "must be an MSP id matching [A-Za-z0-9._-]{1,128}")
	}
	return nil
}

// checkPrintable accepts 1..128 printable ASCII characters (free-form labels such as a strategy).
func checkPrintable(field, value string) error {
	if len(value) == 0 || len(value) > maxIdentifierLen {
		return invalidArgument(field, "must be 1..128 characters")
	}
	for i := 0; i < len(value); i++ {
		if value[i] < 0x20 || value[i] > 0x7e {
			return invalidArgument(field, "must be printable ASCII")
		}
	}
	return nil
}

// parseTime accepts RFC 3339 UTC with second precision, in exactly one spelling.
func parseTime(field, value string) (time.Time, error) {
	t, err := time.Parse(timeLayout, value)
	if err != nil || t.Format(timeLayout) != value {
		return time.Time{}, invalidArgument(field, "must be RFC 3339 UTC with second precision, like 2026-01-31T12:00:00Z")
	}
	return t, nil
}

func checkDecision(field, value string) error {
	if value != decisionPermit && value != decisionDeny {
		return invalidArgument(field, "must be %q or %q", decisionPermit, decisionDeny)
	}
	return nil
}

func checkFinite(field string, value float64) error {
	if math.IsNaN(value) || math.IsInf(value, 0) {
		return invalidArgument(field, "must be a finite number")
	}
	return nil
}

// parseRound reads a round number argument: a positive decimal integer without sign or leading zeros.
func parseRound(field, value string) (int, error) {
	if !roundPattern.MatchString(value) {
		return 0, invalidArgument(field, "must be a positive integer")
	}
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, invalidArgument(field, "must be a positive integer")
	}
	return n, nil
}

// checkUniqueMSPIDs validates a list of MSP ids and rejects duplicates.
func checkUniqueMSPIDs(field string, ids []string) error {
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		item := field + "[" + strconv.Itoa(i) + "]"
		if err := checkMSPID(item, id); err != nil {
			return err
		}
		if seen[id] {
			return invalidArgument(item, "duplicate %q", id)
		}
		seen[id] = true
	}
	return nil
}

// checkMetrics validates metric names and values; the map may be empty.
func checkMetrics(field string, metrics map[string]float64) error {
	if len(metrics) > MaxMetrics {
		return invalidArgument(field, "at most %d metrics", MaxMetrics)
	}
	for _, name := range sortedKeys(metrics) {
		if !identifierPattern.MatchString(name) {
			return invalidArgument(field, "metric names must match [A-Za-z0-9._:-]{1,128}")
		}
		if err := checkFinite(field+"."+name, metrics[name]); err != nil {
			return err
		}
	}
	return nil
}
