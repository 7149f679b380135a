package contracts

import (
	"slices"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"
)

// StudyContract records federated-learning studies: who takes part, which rounds ran, which
// update hashes each org submitted and which model each round produced. Model weights never
// reach the ledger, only their SHA-256.
type StudyContract struct {
	contractapi.Contract
}

// NewStudyContract returns the contract registered under the name "study".
func NewStudyContract() *StudyContract {
	c := &StudyContract{}
	c.Name = "study"
	c.Info = metadata.InfoMetadata{Title: "StudyContract", Version: Version}
	return c
}

// GetEvaluateTransactions tags the read-only functions as evaluate in the contract metadata.
func (c *StudyContract) GetEvaluateTransactions() []string {
	return []string{"GetStudy", "ListStudies", "GetRound", "ModelLineage"}
}

// CreateStudy records a new study; the caller becomes its coordinator.
func (c *StudyContract) CreateStudy(ctx contractapi.TransactionContextInterface, studyJSON string) (string, error) {
	in, err := parseStudyInput([]byte(studyJSON))
	if err != nil {
		return "", err
	}
	who, err := caller(ctx)
	if err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, objectStudy, in.ID)
	if err != nil {
		return "", err
	}
	var existing Study
	found, err := getJSON(stub, key, &existing)
	if err != nil {
		return "", err
	}
	if found {
		return "", conflict("study %s already exists", in.ID)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	study := Study{
		StudyInput:       in,
		Coordinator:      who,
		Joined:           []string{},
		Status:           studyCreated,
		CurrentModelHash: in.InitialModelHash,
		TxID:             tx.id,
		Timestamp:        tx.time,
	}
	if err := putJSON(stub, key, study); err != nil {
		return "", err
	}
	if err := setEvent(stub, "StudyCreated", StudyCreatedEvent{StudyID: in.ID, TxID: tx.id}); err != nil {
		return "", err
	}
	return result(study)
}

// JoinStudy records that the caller's org, a listed participant, agrees to take part.
func (c *StudyContract) JoinStudy(ctx contractapi.TransactionContextInterface, studyID string) (string, error) {
	if err := checkIdentifier("studyId", studyID); err != nil {
		return "", err
	}
	who, err := caller(ctx)
	if err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	study, key, err := loadStudy(stub, studyID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(study.Participants, who.MSPID) {
		return "", permissionDenied("org %s is not a participant of study %s", who.MSPID, studyID)
	}
	if slices.Contains(study.Joined, who.MSPID) {
		return "", conflict("org %s has already joined study %s", who.MSPID, studyID)
	}
	if study.Status == studyCompleted {
		return "", failedPrecondition("study %s is completed", studyID)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	study.Joined = append(study.Joined, who.MSPID)
	slices.Sort(study.Joined)
	study.TxID, study.Timestamp = tx.id, tx.time
	if err := putJSON(stub, key, study); err != nil {
		return "", err
	}
	return result(study)
}

// OpenRound opens the study's next round; only the coordinator may do so.
func (c *StudyContract) OpenRound(ctx contractapi.TransactionContextInterface, studyID, round string) (string, error) {
	if err := checkIdentifier("studyId", studyID); err != nil {
		return "", err
	}
	n, err := parseRound("round", round)
	if err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	study, studyKey, err := loadStudy(stub, studyID)
	if err != nil {
		return "", err
	}
	if err := requireCoordinator(ctx, study); err != nil {
		return "", err
	}
	if err := checkCanOpen(stub, study, int64(n)); err != nil {
		return "", err
	}
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	state := RoundState{
		StudyID:         studyID,
		Round:           int64(n),
		Status:          roundOpen,
		OpenedTxID:      tx.id,
		OpenedAt:        tx.time,
		ParentModelHash: study.CurrentModelHash,
		Included:        []string{},
		Metrics:         map[string]float64{},
		PrivacySpent:    study.PrivacySpent,
	}
	key, err := roundKey(stub, studyID, state.Round)
	if err != nil {
		return "", err
	}
	if err := putJSON(stub, key, state); err != nil {
		return "", err
	}
	study.CurrentRound = state.Round
	study.Status = studyRunning
	study.TxID, study.Timestamp = tx.id, tx.time
	if err := putJSON(stub, studyKey, study); err != nil {
		return "", err
	}
	event := RoundOpenedEvent{StudyID: studyID, Round: state.Round, TxID: tx.id}
	if err := setEvent(stub, "RoundOpened", event); err != nil {
		return "", err
	}
	return result(Round{RoundState: state, Updates: map[string]Update{}})
}

// checkCanOpen enforces: round within the study, study not completed, rounds in order,
// previous round committed and enough participants joined.
func checkCanOpen(stub shim.ChaincodeStubInterface, study Study, n int64) error {
	if n > study.Rounds {
		return failedPrecondition("study %s has %d rounds, cannot open round %d", study.ID, study.Rounds, n)
	}
	if study.Status == studyCompleted {
		return failedPrecondition("study %s is completed", study.ID)
	}
	if n != study.CurrentRound+1 {
		return failedPrecondition("rounds open in order: the next round of study %s is %d, not %d", study.ID, study.CurrentRound+1, n)
	}
	if study.CurrentRound > 0 {
		previous, _, err := loadRound(stub, study.ID, study.CurrentRound)
		if err != nil {
			return err
		}
		if previous.Status != roundCommitted {
			return failedPrecondition("round %d of study %s is not committed", previous.Round, study.ID)
		}
	}
	if int64(len(study.Joined)) < study.MinParticipants {
		return failedPrecondition("study %s needs %d joined participants, has %d", study.ID, study.MinParticipants, len(study.Joined))
	}
	return nil
}
