package contracts

import (
	"strings"
	"testing"
)

func TestGetStudyAndRoundRejects(t *testing.T) {
	h := runningStudy(t)
	h.expectRejected(outsider, "INVALID_ARGUMENT: studyId: must match [A-Za-z0-9._:-]{1,128}", h.getStudy("a/b"))
	h.expectRejected(outsider, "NOT_FOUND: study study-2", h.getStudy("study-2"))
	h.expectRejected(outsider, "INVALID_ARGUMENT: studyId: must match [A-Za-z0-9._:-]{1,128}", h.getRound("", "1"))
	h.expectRejected(outsider, "INVALID_ARGUMENT: round: must be a positive integer", h.getRound("study-1", "one"))
	h.expectRejected(outsider, "NOT_FOUND: round 2 of study study-1", h.getRound("study-1", "2"))
	h.expectInternal(outsider, "GetStateByPartialCompositeKey", "query update keys", h.getRound("study-1", "1"))
	h.expectInternal(outsider, "GetState", "read state", h.getRound("study-1", "1"))
	h.expectInternal(outsider, "CreateCompositeKey", "build study key", h.getStudy("study-1"))
}

func TestModelLineageAcrossStudies(t *testing.T) {
	h := runningStudy(t)
	completedRound1(t, h)
	// A second study that produced the same model hash: the smallest study id is reported.
	h.mustRun(coord, h.createStudy(studyArg(t, map[string]any{"id": "alpha", "minParticipants": 1})))
	h.mustRun(h1, h.join("alpha"))
	h.mustRun(coord, h.openRound("alpha", "1"))
	h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(1, updHash2), map[string]any{"studyId": "alpha"})))
	h.mustRun(coord, h.commitRound(jsonArg(t, baseCommit(1, model1, 0.1, "h1MSP"), map[string]any{"studyId": "alpha"})))

	out, _ := h.mustRun(outsider, h.lineage(model1))
	want := `{"modelHash":"` + model1 + `","steps":[{"included":["h1MSP"],"modelHash":"` + model1 + `","parentModelHash":"` + initHash +
		`","round":1,"txId":"tx012","updates":{"h1MSP":"` + updHash2 + `"}}],"studyId":"alpha"}`
	expectResult(t, "lineage", out, want)

	h.expectRejected(outsider, "INVALID_ARGUMENT: modelHash: must be 64 lower-case hex characters, got 5 characters", h.lineage("abcde"))
	h.expectRejected(outsider, "NOT_FOUND: model "+initHash+" was not produced by a committed round", h.lineage(initHash))
}

func TestModelLineageReportsCorruptLedger(t *testing.T) {
	h := runningStudy(t)
	completedRound1(t, h)
	h.expectInternal(outsider, "GetStateByPartialCompositeKey", "query model keys", h.lineage(model1))
	h.expectInternal(outsider, "SplitCompositeKey", "split model key", h.lineage(model1))
	h.expectInternal(outsider, "GetState", "read state", h.lineage(model1))
	h.expectInternalAt(outsider, "GetState", 2, "read state", h.lineage(model1))
	h.expectInternalAt(outsider, "CreateCompositeKey", 2, "build update key", h.lineage(model1))

	originKey, _ := compositeKeyOf(t, objectModelOrigin, model1, "study-1")
	h.ledger.state[originKey] = []byte("x")
	if _, _, err := h.run(outsider, h.lineage(model1)); err == nil || !strings.HasPrefix(err.Error(), `INTERNAL: decode stored state "`) {
		t.Fatalf("corrupt origin: %v", err)
	}
	h.ledger.state[originKey] = []byte(`{"round":1}`)

	odd, _ := compositeKeyOf(t, objectModelOrigin, model1, "study-1", "extra")
	h.ledger.state[odd] = []byte(`{"round":1}`)
	if _, _, err := h.run(outsider, h.lineage(model1)); err == nil || !strings.HasPrefix(err.Error(), "INTERNAL: split model key: unexpected key ") {
		t.Fatalf("malformed origin key: %v", err)
	}
	delete(h.ledger.state, odd)

	deleteKey(t, h, objectUpdate, "study-1", "0000000001", "h2MSP")
	h.expectRejected(outsider, "INTERNAL: read lineage: update of h2MSP in round 1 of study study-1 is missing", h.lineage(model1))
	deleteKey(t, h, objectRound, "study-1", "0000000001")
	h.expectRejected(outsider, "NOT_FOUND: round 1 of study study-1", h.lineage(model1))
}
