package contracts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// Get returns the current consent of one key.
func (c *ConsentContract) Get(ctx contractapi.TransactionContextInterface, org, pseudonym, study string) (string, error) {
	if err := checkConsentKey(org, pseudonym, study); err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, objectConsent, org, pseudonym, study)
	if err != nil {
		return "", err
	}
	var consent Consent
	found, err := getJSON(stub, key, &consent)
	if err != nil {
		return "", err
	}
	if !found {
		return "", notFound("consent (%s, %s, %s)", org, pseudonym, study)
	}
	return result(consent)
}

// History returns every write of one consent key, oldest first.
func (c *ConsentContract) History(ctx contractapi.TransactionContextInterface, org, pseudonym, study string) (string, error) {
	if err := checkConsentKey(org, pseudonym, study); err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, objectConsent, org, pseudonym, study)
	if err != nil {
		return "", err
	}
	entries, err := consentHistory(stub, key)
	if err != nil {
		return "", err
	}
	return result(entries)
}

// FilterPermitted returns, in input order, the pseudonyms whose consent permits the study at
// the transaction's time (second precision, reported as asOf). It is a pure filter: a
// pseudonym given twice and permitted appears twice.
func (c *ConsentContract) FilterPermitted(ctx contractapi.TransactionContextInterface, org, study, pseudonymsJSON string) (string, error) {
	if err := checkMSPID("org", org); err != nil {
		return "", err
	}
	if err := checkIdentifier("study", study); err != nil {
		return "", err
	}
	pseudonyms, err := parsePseudonyms(pseudonymsJSON)
	if err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	permitted := []string{}
	decided := make(map[string]bool, len(pseudonyms)) // a repeated pseudonym is read once
	for _, p := range pseudonyms {
		ok, seen := decided[p]
		if !seen {
			if ok, err = permittedAt(stub, org, p, study, tx.time); err != nil {
				return "", err
			}
			decided[p] = ok
		}
		if ok {
			permitted = append(permitted, p)
		}
	}
	return result(FilterResult{Study: study, Org: org, AsOf: tx.time, Permitted: permitted})
}

// permittedAt reads one consent and applies the rule at time t; a missing consent permits nothing.
func permittedAt(stub shim.ChaincodeStubInterface, org, pseudonym, study, t string) (bool, error) {
	key, err := compositeKey(stub, objectConsent, org, pseudonym, study)
	if err != nil {
		return false, err
	}
	var consent Consent
	found, err := getJSON(stub, key, &consent)
	if err != nil {
		return false, err
	}
	return found && consent.permits(t), nil
}

// permits applies the rule of docs/ledger-interface.md at time t. All three times are
// validated fixed-width UTC strings, so string order is time order.
func (c Consent) permits(t string) bool {
	return c.Status == statusActive && c.Decision == decisionPermit &&
		c.ValidFrom <= t && (c.ValidUntil == "" || t < c.ValidUntil)
}

func parsePseudonyms(data string) ([]string, error) {
	items, err := parseArray("pseudonyms", []byte(data))
	if err != nil {
		return nil, err
	}
	if len(items) > MaxFilterSize {
		return nil, invalidArgument("pseudonyms", "at most %d pseudonyms, got %d", MaxFilterSize, len(items))
	}
	out := make([]string, len(items))
	for i, item := range items {
		field := fmt.Sprintf("pseudonyms[%d]", i)
		var p string
		if bytes.Equal(item, jsonNull) || json.Unmarshal(item, &p) != nil {
			return nil, invalidArgument(field, "must be a string")
		}
		if err := checkHex64(field, p); err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// consentHistory lists a key's writes oldest first. Fabric (v2.0 and later) returns history
// newest first, so the list is reversed.
func consentHistory(stub shim.ChaincodeStubInterface, key string) (entries []ConsentHistoryEntry, err error) {
	iter, err := stub.GetHistoryForKey(key)
	if err != nil {
		return nil, internal("query consent history", err)
	}
	defer func() {
		if cerr := iter.Close(); cerr != nil && err == nil {
			err = internal("close consent history", cerr)
		}
	}()
	entries = []ConsentHistoryEntry{}
	for iter.HasNext() {
		mod, err := iter.Next()
		if err != nil {
			return nil, internal("iterate consent history", err)
		}
		if err := mod.GetTimestamp().CheckValid(); err != nil {
			return nil, internal("read history timestamp", err)
		}
		entry := ConsentHistoryEntry{
			TxID:      mod.GetTxId(),
			Timestamp: mod.GetTimestamp().AsTime().UTC().Truncate(time.Second).Format(timeLayout),
			IsDelete:  mod.GetIsDelete(),
		}
		if !entry.IsDelete {
			var consent Consent
			if err := decodeStored(key, mod.GetValue(), &consent); err != nil {
				return nil, err
			}
			entry.Consent = &consent
		}
		entries = append(entries, entry)
	}
	slices.Reverse(entries)
	return entries, nil
}
