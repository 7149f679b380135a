package contracts

import (
	"slices"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// updateInput is SubmitUpdate's argument.
type updateInput struct {
	StudyID      string
	Round        int64
	UpdateHash   string
	SampleCount  int64
	CohortRoot   string
	CohortSize   int64
	PrivacySpent float64
	Metrics      map[string]float64
}

// commitInput is CommitRound's argument.
type commitInput struct {
	StudyID      string
	Round        int64
	ModelHash    string
	Included     []string
	Metrics      map[string]float64
	PrivacySpent float64
}

// SubmitUpdate records the caller's org's update for an open round, once per org per round.
func (c *StudyContract) SubmitUpdate(ctx contractapi.TransactionContextInterface, updateJSON string) (string, error) {
	in, err := parseUpdateInput([]byte(updateJSON))
	if err != nil {
		return "", err
	}
	who, err := caller(ctx)
	if err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	study, _, err := loadStudy(stub, in.StudyID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(study.Joined, who.MSPID) {
		return "", permissionDenied("org %s has not joined study %s", who.MSPID, in.StudyID)
	}
	round, _, err := loadRound(stub, in.StudyID, in.Round)
	if err != nil {
		return "", err
	}
	if round.Status != roundOpen {
		return "", failedPrecondition("round %d of study %s is not open", in.Round, in.StudyID)
	}
	key, err := updateKey(stub, in.StudyID, in.Round, who.MSPID)
	if err != nil {
		return "", err
	}
	var existing Update
	found, err := getJSON(stub, key, &existing)
	if err != nil {
		return "", err
	}
	if found {
		return "", conflict("org %s already submitted an update for round %d of study %s", who.MSPID, in.Round, in.StudyID)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	update := Update{
		Org:          who.MSPID,
		UpdateHash:   in.UpdateHash,
		SampleCount:  in.SampleCount,
		CohortRoot:   in.CohortRoot,
		CohortSize:   in.CohortSize,
		PrivacySpent: in.PrivacySpent,
		Metrics:      in.Metrics,
		TxID:         tx.id,
		Timestamp:    tx.time,
	}
	if err := putJSON(stub, key, update); err != nil {
		return "", err
	}
	event := UpdateSubmittedEvent{StudyID: in.StudyID, Round: in.Round, Org: who.MSPID, UpdateHash: in.UpdateHash, TxID: tx.id}
	if err := setEvent(stub, "UpdateSubmitted", event); err != nil {
		return "", err
	}
	return result(update)
}

// CommitRound closes an open round with the aggregated model; only the coordinator may do so.
func (c *StudyContract) CommitRound(ctx contractapi.TransactionContextInterface, commitJSON string) (string, error) {
	in, err := parseCommitInput([]byte(commitJSON))
	if err != nil {
		return "", err
	}
	stub := ctx.GetStub()
	study, studyKey, err := loadStudy(stub, in.StudyID)
	if err != nil {
		return "", err
	}
	if err := requireCoordinator(ctx, study); err != nil {
		return "", err
	}
	round, key, err := loadRound(stub, in.StudyID, in.Round)
	if err != nil {
		return "", err
	}
	if round.Status != roundOpen {
		return "", failedPrecondition("round %d of study %s is not open", in.Round, in.StudyID)
	}
	updates, err := loadUpdates(stub, in.StudyID, in.Round)
	if err != nil {
		return "", err
	}
	if err := checkCanCommit(study, in, updates); err != nil {
		return "", err
	}
	tx, err := currentTx(stub)
	if err != nil {
		return "", err
	}
	included := slices.Clone(in.Included)
	slices.Sort(included)
	round.Status = roundCommitted
	round.ModelHash = in.ModelHash
	round.Included = included
	round.Metrics = in.Metrics
	round.PrivacySpent = in.PrivacySpent
	round.CommittedTxID, round.CommittedAt = tx.id, tx.time
	if err := putJSON(stub, key, round); err != nil {
		return "", err
	}
	study.CurrentModelHash = in.ModelHash
	study.PrivacySpent = in.PrivacySpent
	if in.Round == study.Rounds {
		study.Status = studyCompleted
	}
	study.TxID, study.Timestamp = tx.id, tx.time
	if err := putJSON(stub, studyKey, study); err != nil {
		return "", err
	}
	originKey, err := compositeKey(stub, objectModelOrigin, in.ModelHash, in.StudyID)
	if err != nil {
		return "", err
	}
	if err := putJSON(stub, originKey, modelOrigin{Round: in.Round}); err != nil {
		return "", err
	}
	event := RoundCommittedEvent{StudyID: in.StudyID, Round: in.Round, ModelHash: in.ModelHash, Included: included, TxID: tx.id}
	if err := setEvent(stub, "RoundCommitted", event); err != nil {
		return "", err
	}
	return result(Round{RoundState: round, Updates: updates})
}

// checkCanCommit enforces: every included org has an update in the round, enough orgs are
// included, and the cumulative privacy spent neither decreases nor exceeds the budget.
func checkCanCommit(study Study, in commitInput, updates map[string]Update) error {
	for _, org := range in.Included {
		if _, ok := updates[org]; !ok {
			return failedPrecondition("included org %s has no update in round %d of study %s", org, in.Round, in.StudyID)
		}
	}
	if int64(len(in.Included)) < study.MinParticipants {
		return failedPrecondition("round needs at least %d included updates, got %d", study.MinParticipants, len(in.Included))
	}
	if in.PrivacySpent < study.PrivacySpent {
		return failedPrecondition("privacySpent %g is below the study's cumulative %g", in.PrivacySpent, study.PrivacySpent)
	}
	if study.Epsilon > 0 && in.PrivacySpent > study.Epsilon {
		return failedPrecondition("privacy budget exceeded: privacySpent %g > epsilon %g", in.PrivacySpent, study.Epsilon)
	}
	return nil
}

func parseUpdateInput(data []byte) (updateInput, error) {
	obj, err := parseObject("update", "", data)
	if err != nil {
		return updateInput{}, err
	}
	in := updateInput{
		StudyID:      obj.str("studyId"),
		Round:        obj.integer("round"),
		UpdateHash:   obj.str("updateHash"),
		SampleCount:  obj.integer("sampleCount"),
		CohortRoot:   obj.str("cohortRoot"),
		CohortSize:   obj.integer("cohortSize"),
		PrivacySpent: obj.number("privacySpent"),
		Metrics:      obj.metrics("metrics"),
	}
	if err := obj.finish(); err != nil {
		return updateInput{}, err
	}
	if err := checkStudyRound(in.StudyID, in.Round); err != nil {
		return updateInput{}, err
	}
	if err := checkHex64("updateHash", in.UpdateHash); err != nil {
		return updateInput{}, err
	}
	if in.SampleCount < 0 {
		return updateInput{}, invalidArgument("sampleCount", "must be >= 0")
	}
	if err := checkHex64("cohortRoot", in.CohortRoot); err != nil {
		return updateInput{}, err
	}
	if in.CohortSize < 0 {
		return updateInput{}, invalidArgument("cohortSize", "must be >= 0")
	}
	if err := checkPrivacySpent(in.PrivacySpent); err != nil {
		return updateInput{}, err
	}
	return in, checkMetrics("metrics", in.Metrics)
}

func parseCommitInput(data []byte) (commitInput, error) {
	obj, err := parseObject("commit", "", data)
	if err != nil {
		return commitInput{}, err
	}
	in := commitInput{
		StudyID:      obj.str("studyId"),
		Round:        obj.integer("round"),
		ModelHash:    obj.str("modelHash"),
		Included:     obj.strList("included"),
		Metrics:      obj.metrics("metrics"),
		PrivacySpent: obj.number("privacySpent"),
	}
	if err := obj.finish(); err != nil {
		return commitInput{}, err
	}
	if err := checkStudyRound(in.StudyID, in.Round); err != nil {
		return commitInput{}, err
	}
	if err := checkHex64("modelHash", in.ModelHash); err != nil {
		return commitInput{}, err
	}
	if len(in.Included) == 0 || len(in.Included) > MaxParticipants {
		return commitInput{}, invalidArgument("included", "must list 1..%d orgs", MaxParticipants)
	}
	if err := checkUniqueMSPIDs("included", in.Included); err != nil {
		return commitInput{}, err
	}
	if err := checkMetrics("metrics", in.Metrics); err != nil {
		return commitInput{}, err
	}
	return in, checkPrivacySpent(in.PrivacySpent)
}

func checkStudyRound(studyID string, round int64) error {
	if err := checkIdentifier("studyId", studyID); err != nil {
		return err
	}
	if round < 1 || round > MaxRounds {
		return invalidArgument("round", "must be 1..%d", MaxRounds)
	}
	return nil
}

func checkPrivacySpent(value float64) error {
	if err := checkFinite("privacySpent", value); err != nil {
		return err
	}
	if value < 0 {
		return invalidArgument("privacySpent", "must be >= 0")
	}
	return nil
}
