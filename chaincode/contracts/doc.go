// Package contracts holds the MedChain chaincode: ConsentContract ("consent") and
// StudyContract ("study"), as specified in docs/ledger-interface.md.
//
// Every transaction function takes and returns strings: structured arguments are JSON
// parsed strictly here, results are canonical JSON (sorted keys, no spaces). Every rejection
// is an error whose message starts with a code of the interface ("INVALID_ARGUMENT: field:
// reason", "PERMISSION_DENIED: ...", ...). Times come from the transaction timestamp only.
package contracts

import "github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

// NewChaincode builds the chaincode holding both contracts.
func NewChaincode() (*contractapi.ContractChaincode, error) {
	return contractapi.NewChaincode(NewConsentContract(), NewStudyContract())
}

// Version is reported in each contract's metadata and by the server at start.
const Version = "0.1.0"
