package contracts

import (
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// World-state layout of the study contract:
//   study  [studyId]                     -> Study
//   round  [studyId, round (10 digits)]  -> RoundState
//   update [studyId, round, org]         -> Update
//   model  [modelHash, studyId]          -> modelOrigin (latest round of that study producing the hash)

func roundAttr(round int64) string {
	return fmt.Sprintf("%0*d", roundKeyDigits, round)
}

func roundKey(stub shim.ChaincodeStubInterface, studyID string, round int64) (string, error) {
	return compositeKey(stub, objectRound, studyID, roundAttr(round))
}

func updateKey(stub shim.ChaincodeStubInterface, studyID string, round int64, org string) (string, error) {
	return compositeKey(stub, objectUpdate, studyID, roundAttr(round), org)
}

func loadStudy(stub shim.ChaincodeStubInterface, studyID string) (Study, string, error) {
	key, err := compositeKey(stub, objectStudy, studyID)
	if err != nil {
		return Study{}, "", err
	}
	var study Study
	found, err := getJSON(stub, key, &study)
	if err != nil {
		return Study{}, "", err
	}
	if !found {
		return Study{}, "", notFound("study %s", studyID)
	}
	return study, key, nil
}

func loadRound(stub shim.ChaincodeStubInterface, studyID string, round int64) (RoundState, string, error) {
	key, err := roundKey(stub, studyID, round)
	if err != nil {
		return RoundState{}, "", err
	}
	var state RoundState
	found, err := getJSON(stub, key, &state)
	if err != nil {
		return RoundState{}, "", err
	}
	if !found {
		return RoundState{}, "", notFound("round %d of study %s", round, studyID)
	}
	return state, key, nil
}

// loadUpdates returns every update submitted to a round, keyed by org.
func loadUpdates(stub shim.ChaincodeStubInterface, studyID string, round int64) (map[string]Update, error) {
	updates := map[string]Update{}
	err := scanJSON(stub, objectUpdate, []string{studyID, roundAttr(round)}, func(key string, value []byte) error {
		var u Update
		if err := decodeStored(key, value, &u); err != nil {
			return err
		}
		updates[u.Org] = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return updates, nil
}

func requireCoordinator(ctx contractapi.TransactionContextInterface, study Study) error {
	who, err := caller(ctx)
	if err != nil {
		return err
	}
	if who != study.Coordinator {
		return permissionDenied("only the coordinator of study %s may do this", study.ID)
	}
	return nil
}

func parseStudyInput(data []byte) (StudyInput, error) {
	obj, err := parseObject("study", "", data)
	if err != nil {
		return StudyInput{}, err
	}
	in := StudyInput{
		ID:               obj.str("id"),
		SpecHash:         obj.str("specHash"),
		Participants:     obj.strList("participants"),
		Rounds:           obj.integer("rounds"),
		MinParticipants:  obj.integer("minParticipants"),
		Epsilon:          obj.number("epsilon"),
		Delta:            obj.number("delta"),
		Strategy:         obj.str("strategy"),
		InitialModelHash: obj.str("initialModelHash"),
	}
	if err := obj.finish(); err != nil {
		return StudyInput{}, err
	}
	return in, in.validate()
}

func (in StudyInput) validate() error {
	if err := checkIdentifier("id", in.ID); err != nil {
		return err
	}
	if err := checkHex64("specHash", in.SpecHash); err != nil {
		return err
	}
	if len(in.Participants) == 0 || len(in.Participants) > MaxParticipants {
		return invalidArgument("participants", "must list 1..%d orgs", MaxParticipants)
	}
	if err := checkUniqueMSPIDs("participants", in.Participants); err != nil {
		return err
	}
	if in.Rounds < 1 || in.Rounds > MaxRounds {
		return invalidArgument("rounds", "must be 1..%d", MaxRounds)
	}
	if in.MinParticipants < 1 || in.MinParticipants > int64(len(in.Participants)) {
		return invalidArgument("minParticipants", "must be 1..%d (the number of participants)", len(in.Participants))
	}
	if err := checkFinite("epsilon", in.Epsilon); err != nil {
		return err
	}
	if in.Epsilon < 0 {
		return invalidArgument("epsilon", "must be >= 0 (0 means no privacy budget)")
	}
	if err := checkFinite("delta", in.Delta); err != nil {
		return err
	}
	if in.Delta < 0 || in.Delta >= 1 {
		return invalidArgument("delta", "must be >= 0 and < 1")
	}
	if err := checkPrintable("strategy", in.Strategy); err != nil {
		return err
	}
	return checkHex64("initialModelHash", in.InitialModelHash)
}
