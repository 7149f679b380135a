package contracts

import (
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"
)

// ConsentContract keeps one consent state per (org, pseudonym, study) and answers which
// pseudonyms a study may use at the transaction's time. Only the org that holds a patient
// may write that patient's consent.
type ConsentContract struct {
	contractapi.Contract
}

// NewConsentContract returns the contract registered under the name "consent".
func NewConsentContract() *ConsentContract {
	c := &ConsentContract{}
	c.Name = "consent"
	c.Info = metadata.InfoMetadata{Title: "ConsentContract", Version: Version}
	return c
}

// GetEvaluateTransactions tags the read-only functions as evaluate in the contract metadata.
func (c *ConsentContract) GetEvaluateTransactions() []string {
	return []string{"Get", "History", "FilterPermitted"}
}

// Record writes one consent (a new key gets version 1, a rewrite increments it).
func (c *ConsentContract) Record(ctx contractapi.TransactionContextInterface, consentJSON string) (string, error) {
	in, err := parseConsentInput("consent", "", []byte(consentJSON))
	if err != nil {
		return "", err
	}
	if err := requireOrg(ctx, in.Org); err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	consent, err := writeConsent(stub, tx, in)
	if err != nil {
		return "", err
	}
	if err := emitConsentRecorded(stub, tx, []Consent{consent}); err != nil {
		return "", err
	}
	return result(consent)
}

// RecordBatch writes 1..MaxBatchSize consents of the caller's org in one transaction.
func (c *ConsentContract) RecordBatch(ctx contractapi.TransactionContextInterface, consentsJSON string) (string, error) {
	items, err := parseArray("consents", []byte(consentsJSON))
	if err != nil {
		return "", err
	}
	if len(items) == 0 || len(items) > MaxBatchSize {
		return "", invalidArgument("consents", "must hold 1..%d consents, got %d", MaxBatchSize, len(items))
	}
	inputs := make([]ConsentInput, len(items))
	firstIndex := make(map[[3]string]int, len(items))
	for i, item := range items {
		name := fmt.Sprintf("consents[%d]", i)
		in, err := parseConsentInput(name, name+".", item)
		if err != nil {
			return "", err
		}
		id := [3]string{in.Org, in.Pseudonym, in.Study}
		if j, dup := firstIndex[id]; dup {
			return "", invalidArgument(name, "duplicate (org, pseudonym, study) of consents[%d]", j)
		}
		firstIndex[id] = i
		inputs[i] = in
	}
	who, err := caller(ctx)
	if err != nil {
		return "", err
	}
	for _, in := range inputs {
		if err := checkOwner(who, in.Org); err != nil {
			return "", err
		}
	}
	stub := ctx.GetStub()
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	// Peers that support write batching receive the 1,000 writes in a few messages instead
	// of one round trip each; on other peers both calls do nothing.
	stub.StartWriteBatch()
	consents := make([]Consent, len(inputs))
	for i, in := range inputs {
		if consents[i], err = writeConsent(stub, tx, in); err != nil {
			return "", err
		}
	}
	if err := stub.FinishWriteBatch(); err != nil {
		return "", internal("flush write batch", err)
	}
	if err := emitConsentRecorded(stub, tx, consents); err != nil {
		return "", err
	}
	return result(ConsentBatchResult{Count: len(consents), TxID: tx.id, Consents: consents})
}

// Revoke marks an existing consent revoked; documentHash is the hash of the revocation document.
func (c *ConsentContract) Revoke(ctx contractapi.TransactionContextInterface, org, pseudonym, study, documentHash string) (string, error) {
	if err := checkConsentKey(org, pseudonym, study); err != nil {
		return "", err
	}
	if err := checkHex64("documentHash", documentHash); err != nil {
		return "", err
	}
	if err := requireOrg(ctx, org); err != nil {
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
	if consent.Status == statusRevoked {
		return "", conflict("consent (%s, %s, %s) is already revoked", org, pseudonym, study)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	consent.Status = statusRevoked
	consent.DocumentHash = documentHash
	consent.Version++
	consent.TxID = tx.id
	consent.Timestamp = tx.time
	if err := putJSON(stub, key, consent); err != nil {
		return "", err
	}
	if err := emitConsentRecorded(stub, tx, []Consent{consent}); err != nil {
		return "", err
	}
	return result(consent)
}

func parseConsentInput(name, path string, data []byte) (ConsentInput, error) {
	obj, err := parseObject(name, path, data)
	if err != nil {
		return ConsentInput{}, err
	}
	in := ConsentInput{
		Pseudonym:    obj.str("pseudonym"),
		Org:          obj.str("org"),
		Study:        obj.str("study"),
		Decision:     obj.str("decision"),
		ValidFrom:    obj.str("validFrom"),
		ValidUntil:   obj.optStr("validUntil"),
		DocumentHash: obj.str("documentHash"),
	}
	if err := obj.finish(); err != nil {
		return ConsentInput{}, err
	}
	return in, in.validate(path)
}

func (in ConsentInput) validate(path string) error {
	if err := checkHex64(path+"pseudonym", in.Pseudonym); err != nil {
		return err
	}
	if err := checkMSPID(path+"org", in.Org); err != nil {
		return err
	}
	if err := checkIdentifier(path+"study", in.Study); err != nil {
		return err
	}
	if err := checkDecision(path+"decision", in.Decision); err != nil {
		return err
	}
	from, err := parseTime(path+"validFrom", in.ValidFrom)
	if err != nil {
		return err
	}
	if in.ValidUntil != "" {
		until, err := parseTime(path+"validUntil", in.ValidUntil)
		if err != nil {
			return err
		}
		if !until.After(from) {
			return invalidArgument(path+"validUntil", "must be after validFrom")
		}
	}
	return checkHex64(path+"documentHash", in.DocumentHash)
}

func checkConsentKey(org, pseudonym, study string) error {
	if err := checkMSPID("org", org); err != nil {
		return err
	}
	if err := checkHex64("pseudonym", pseudonym); err != nil {
		return err
	}
	return checkIdentifier("study", study)
}

// requireOrg allows a write only when the caller's MSP id is the owning org.
func requireOrg(ctx contractapi.TransactionContextInterface, org string) error {
	who, err := caller(ctx)
	if err != nil {
		return err
	}
	return checkOwner(who, org)
}

func checkOwner(who Identity, org string) error {
	if who.MSPID != org {
		return permissionDenied("caller MSP %s may not write consents of org %s", who.MSPID, org)
	}
	return nil
}

func writeConsent(stub shim.ChaincodeStubInterface, tx txInfo, in ConsentInput) (Consent, error) {
	key, err := compositeKey(stub, objectConsent, in.Org, in.Pseudonym, in.Study)
	if err != nil {
		return Consent{}, err
	}
	var previous Consent
	if _, err := getJSON(stub, key, &previous); err != nil {
		return Consent{}, err
	}
	consent := Consent{
		ConsentInput: in,
		Status:       statusActive,
		Version:      previous.Version + 1,
		TxID:         tx.id,
		Timestamp:    tx.time,
	}
	return consent, putJSON(stub, key, consent)
}

func emitConsentRecorded(stub shim.ChaincodeStubInterface, tx txInfo, consents []Consent) error {
	changes := make([]ConsentChange, len(consents))
	for i, c := range consents {
		changes[i] = ConsentChange{
			Org: c.Org, Pseudonym: c.Pseudonym, Study: c.Study,
			Decision: c.Decision, Status: c.Status, Version: c.Version,
		}
	}
	return setEvent(stub, "ConsentRecorded", ConsentRecordedEvent{TxID: tx.id, Changes: changes})
}
