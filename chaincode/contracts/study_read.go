package contracts

import (
	"fmt"
	"sort"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// GetStudy returns one study.
func (c *StudyContract) GetStudy(ctx contractapi.TransactionContextInterface, studyID string) (string, error) {
	if err := checkIdentifier("studyId", studyID); err != nil {
		return "", err
	}
	study, _, err := loadStudy(ctx.GetStub(), studyID)
	if err != nil {
		return "", err
	}
	return result(study)
}

// ListStudies returns every study, sorted by id.
func (c *StudyContract) ListStudies(ctx contractapi.TransactionContextInterface) (string, error) {
	studies := []Study{}
	err := scanJSON(ctx.GetStub(), objectStudy, []string{}, func(key string, value []byte) error {
		var s Study
		if err := decodeStored(key, value, &s); err != nil {
			return err
		}
		studies = append(studies, s)
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Slice(studies, func(i, j int) bool { return studies[i].ID < studies[j].ID })
	return result(studies)
}

// GetRound returns one round with every update submitted to it.
func (c *StudyContract) GetRound(ctx contractapi.TransactionContextInterface, studyID, round string) (string, error) {
	if err := checkIdentifier("studyId", studyID); err != nil {
		return "", err
	}
	n, err := parseRound("round", round)
	if err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	state, _, err := loadRound(stub, studyID, int64(n))
	if err != nil {
		return "", err
	}
	updates, err := loadUpdates(stub, studyID, int64(n))
	if err != nil {
		return "", err
	}
	return result(Round{RoundState: state, Updates: updates})
}

// ModelLineage walks back from the round that produced modelHash to round 1, newest first;
// the last step's parentModelHash is the study's initial model. When several studies produced
// the same hash, the study with the smallest id is used.
func (c *StudyContract) ModelLineage(ctx contractapi.TransactionContextInterface, modelHash string) (string, error) {
	if err := checkHex64("modelHash", modelHash); err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	var studyIDs []string
	origins := map[string]modelOrigin{}
	err := scanJSON(stub, objectModelOrigin, []string{modelHash}, func(key string, value []byte) error {
		_, attrs, err := stub.SplitCompositeKey(key)
		if err != nil {
			return internal("split model key", err)
		}
		if len(attrs) != 2 {
			return internal("split model key", fmt.Errorf("unexpected key %q", key))
		}
		var origin modelOrigin
		if err := decodeStored(key, value, &origin); err != nil {
			return err
		}
		studyIDs = append(studyIDs, attrs[1])
		origins[attrs[1]] = origin
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(studyIDs) == 0 {
		return "", notFound("model %s was not produced by a committed round", modelHash)
	}
	sort.Strings(studyIDs)
	studyID := studyIDs[0]
	steps := []LineageStep{}
	for r := origins[studyID].Round; r >= 1; r-- {
		step, err := lineageStep(ctx, studyID, r)
		if err != nil {
			return "", err
		}
		steps = append(steps, step)
	}
	return result(Lineage{ModelHash: modelHash, StudyID: studyID, Steps: steps})
}

func lineageStep(ctx contractapi.TransactionContextInterface, studyID string, round int64) (LineageStep, error) {
	stub := ctx.GetStub()
	state, _, err := loadRound(stub, studyID, round)
	if err != nil {
		return LineageStep{}, err
	}
	updates := make(map[string]string, len(state.Included))
	for _, org := range state.Included {
		key, err := updateKey(stub, studyID, round, org)
		if err != nil {
			return LineageStep{}, err
		}
		var u Update
		found, err := getJSON(stub, key, &u)
		if err != nil {
			return LineageStep{}, err
		}
		if !found {
			return LineageStep{}, internal("read lineage", fmt.Errorf("update of %s in round %d of study %s is missing", org, round, studyID))
		}
		updates[org] = u.UpdateHash
	}
	return LineageStep{
		Round:           state.Round,
		ModelHash:       state.ModelHash,
		ParentModelHash: state.ParentModelHash,
		Included:        state.Included,
		Updates:         updates,
		TxID:            state.CommittedTxID,
	}, nil
}
