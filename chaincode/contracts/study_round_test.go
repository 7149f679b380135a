package contracts

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// runningStudy creates study-1 (participants h1, h2, h3; 2 of them needed; 2 rounds; epsilon 1),
// lets h1 and h2 join and opens round 1.
func runningStudy(t *testing.T) *harness {
	h := newHarness(t)
	h.mustRun(coord, h.createStudy(studyArg(t, map[string]any{"participants": []string{"h1MSP", "h2MSP", "h3MSP"}})))
	h.mustRun(h1, h.join("study-1"))
	h.mustRun(h2, h.join("study-1"))
	h.mustRun(coord, h.openRound("study-1", "1"))
	return h
}

// completedRound1 submits both updates of round 1 and commits it with privacy spent 0.5.
func completedRound1(t *testing.T, h *harness) {
	h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(1, updHash1), nil)))
	h.mustRun(h2, h.submit(jsonArg(t, baseUpdate(1, updHash2), nil)))
	h.mustRun(coord, h.commitRound(jsonArg(t, baseCommit(1, model1, 0.5, "h1MSP", "h2MSP"), nil)))
}

func deleteKey(t *testing.T, h *harness, objectType string, attrs ...string) {
	key, _ := compositeKeyOf(t, objectType, attrs...)
	delete(h.ledger.state, key)
}

func TestJoinStudyRejects(t *testing.T) {
	h := newHarness(t)
	h.mustRun(coord, h.createStudy(studyArg(t, map[string]any{"rounds": 1, "minParticipants": 1})))
	h.expectRejected(h1, "INVALID_ARGUMENT: studyId: must match [A-Za-z0-9._:-]{1,128}", h.join("study/1"))
	h.expectRejected(h1, "NOT_FOUND: study study-2", h.join("study-2"))
	h.expectRejected(h3, "PERMISSION_DENIED: org h3MSP is not a participant of study study-1", h.join("study-1"))
	h.expectRejected(nil, "PERMISSION_DENIED: caller identity unavailable", h.join("study-1"))
	h.expectInternal(h1, "GetState", "read state", h.join("study-1"))
	h.expectInternal(h1, "CreateCompositeKey", "build study key", h.join("study-1"))
	h.expectInternal(h1, "GetTxTimestamp", "read transaction timestamp", h.join("study-1"))
	h.expectInternal(h1, "PutState", "write state", h.join("study-1"))
	h.mustRun(h1, h.join("study-1"))
	h.expectRejected(h1, "CONFLICT: org h1MSP has already joined study study-1", h.join("study-1"))

	h.mustRun(coord, h.openRound("study-1", "1"))
	h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(1, updHash1), nil)))
	h.mustRun(coord, h.commitRound(jsonArg(t, baseCommit(1, model1, 0.5, "h1MSP"), nil)))
	h.expectRejected(h2, "FAILED_PRECONDITION: study study-1 is completed", h.join("study-1"))
}

func TestOpenRoundRejects(t *testing.T) {
	h := newHarness(t)
	h.mustRun(coord, h.createStudy(studyArg(t, nil)))
	for _, bad := range []string{"0", "01", "-1", "+1", "x", "1.0", "", "1234567890"} {
		h.expectRejected(coord, "INVALID_ARGUMENT: round: must be a positive integer", h.openRound("study-1", bad))
	}
	h.expectRejected(coord, "INVALID_ARGUMENT: studyId: must match [A-Za-z0-9._:-]{1,128}", h.openRound("", "1"))
	h.expectRejected(coord, "NOT_FOUND: study nope", h.openRound("nope", "1"))
	h.expectRejected(h1, "PERMISSION_DENIED: only the coordinator of study study-1 may do this", h.openRound("study-1", "1"))
	h.expectRejected(mallory, "PERMISSION_DENIED: only the coordinator of study study-1 may do this", h.openRound("study-1", "1"))
	h.expectRejected(nil, "PERMISSION_DENIED: caller identity unavailable", h.openRound("study-1", "1"))
	h.expectRejected(coord, "FAILED_PRECONDITION: study study-1 has 2 rounds, cannot open round 3", h.openRound("study-1", "3"))
	h.expectRejected(coord, "FAILED_PRECONDITION: rounds open in order: the next round of study study-1 is 1, not 2", h.openRound("study-1", "2"))
	h.expectRejected(coord, "FAILED_PRECONDITION: study study-1 needs 2 joined participants, has 0", h.openRound("study-1", "1"))
	h.mustRun(h1, h.join("study-1"))
	h.expectRejected(coord, "FAILED_PRECONDITION: study study-1 needs 2 joined participants, has 1", h.openRound("study-1", "1"))
	h.mustRun(h2, h.join("study-1"))

	h.expectInternal(coord, "GetTxTimestamp", "read transaction timestamp", h.openRound("study-1", "1"))
	h.expectInternalAt(coord, "CreateCompositeKey", 2, "build round key", h.openRound("study-1", "1"))
	h.expectInternalAt(coord, "PutState", 1, "write state", h.openRound("study-1", "1"))
	h.expectInternalAt(coord, "PutState", 2, "write state", h.openRound("study-1", "1"))
	h.expectInternal(coord, "SetEvent", "set event", h.openRound("study-1", "1"))

	h.mustRun(coord, h.openRound("study-1", "1"))
	h.expectRejected(coord, "FAILED_PRECONDITION: rounds open in order: the next round of study study-1 is 2, not 1", h.openRound("study-1", "1"))
	h.expectRejected(coord, "FAILED_PRECONDITION: round 1 of study study-1 is not committed", h.openRound("study-1", "2"))
	h.expectInternalAt(coord, "GetState", 2, "read state", h.openRound("study-1", "2"))

	deleteKey(t, h, objectRound, "study-1", "0000000001")
	h.expectRejected(coord, "NOT_FOUND: round 1 of study study-1", h.openRound("study-1", "2"))
}

func TestOpenRoundOnCompletedStudy(t *testing.T) {
	h := newHarness(t)
	h.mustRun(coord, h.createStudy(studyArg(t, map[string]any{"rounds": 1, "minParticipants": 1})))
	h.mustRun(h1, h.join("study-1"))
	h.mustRun(coord, h.openRound("study-1", "1"))
	h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(1, updHash1), nil)))
	h.mustRun(coord, h.commitRound(jsonArg(t, baseCommit(1, model1, 0.5, "h1MSP"), nil)))
	h.expectRejected(coord, "FAILED_PRECONDITION: study study-1 is completed", h.openRound("study-1", "1"))
	h.expectRejected(coord, "FAILED_PRECONDITION: study study-1 has 1 rounds, cannot open round 2", h.openRound("study-1", "2"))
}

func TestSubmitUpdateRejectsInvalidFields(t *testing.T) {
	manyMetrics := map[string]any{}
	for i := 0; i <= MaxMetrics; i++ {
		manyMetrics[fmt.Sprintf("m%d", i)] = 1
	}
	cases := []struct {
		name      string
		overrides map[string]any
		want      string
	}{
		{"bad studyId", map[string]any{"studyId": "a b"}, "INVALID_ARGUMENT: studyId: must match [A-Za-z0-9._:-]{1,128}"},
		{"round zero", map[string]any{"round": 0}, "INVALID_ARGUMENT: round: must be 1..100000"},
		{"round as string", map[string]any{"round": "1"}, "INVALID_ARGUMENT: round: must be an integer"},
		{"bad updateHash", map[string]any{"updateHash": ""}, "INVALID_ARGUMENT: updateHash: must be 64 lower-case hex characters, got 0 characters"},
		{"negative sampleCount", map[string]any{"sampleCount": -1}, "INVALID_ARGUMENT: sampleCount: must be >= 0"},
		{"fractional sampleCount", map[string]any{"sampleCount": 1.5}, "INVALID_ARGUMENT: sampleCount: must be an integer"},
		{"bad cohortRoot", map[string]any{"cohortRoot": strings.Repeat("G", 64)}, "INVALID_ARGUMENT: cohortRoot: must be 64 lower-case hex characters"},
		{"negative cohortSize", map[string]any{"cohortSize": -3}, "INVALID_ARGUMENT: cohortSize: must be >= 0"},
		{"missing privacySpent", map[string]any{"privacySpent": drop{}}, "INVALID_ARGUMENT: privacySpent: required"},
		{"negative privacySpent", map[string]any{"privacySpent": -0.1}, "INVALID_ARGUMENT: privacySpent: must be >= 0"},
		{"metrics not an object", map[string]any{"metrics": []float64{1}}, "INVALID_ARGUMENT: metrics: must be a JSON object"},
		{"metric as string", map[string]any{"metrics": map[string]any{"loss": "0.5"}}, "INVALID_ARGUMENT: metrics.loss: must be a number"},
		{"null metric", map[string]any{"metrics": map[string]any{"loss": nil}}, "INVALID_ARGUMENT: metrics.loss: must not be null"},
		{"bad metric name", map[string]any{"metrics": map[string]any{"val loss": 1}}, "INVALID_ARGUMENT: metrics: metric names must match [A-Za-z0-9._:-]{1,128}"},
		{"too many metrics", map[string]any{"metrics": manyMetrics}, "INVALID_ARGUMENT: metrics: at most 64 metrics"},
		{"duplicate metric", map[string]any{"metrics": json.RawMessage(`{"loss":1,"loss":2}`)}, "INVALID_ARGUMENT: metrics.loss: duplicate field"},
		{"model weights", map[string]any{"weights": []float64{0.1, 0.2}}, "INVALID_ARGUMENT: weights: unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.expectRejected(h1, tc.want, h.submit(jsonArg(t, baseUpdate(1, updHash1), tc.overrides)))
		})
	}
	t.Run("not an object", func(t *testing.T) {
		h := newHarness(t)
		h.expectRejected(h1, "INVALID_ARGUMENT: update: must be a JSON object", h.submit(`[]`))
	})
}

func TestSubmitUpdateRejectsByState(t *testing.T) {
	h := runningStudy(t)
	upd := func(round int, overrides map[string]any) string {
		return jsonArg(t, baseUpdate(round, updHash1), overrides)
	}
	h.expectRejected(h1, "NOT_FOUND: study study-2", h.submit(upd(1, map[string]any{"studyId": "study-2"})))
	h.expectRejected(h3, "PERMISSION_DENIED: org h3MSP has not joined study study-1", h.submit(upd(1, nil)))
	h.expectRejected(outsider, "PERMISSION_DENIED: org h4MSP has not joined study study-1", h.submit(upd(1, nil)))
	h.expectRejected(nil, "PERMISSION_DENIED: caller identity unavailable", h.submit(upd(1, nil)))
	h.expectRejected(h1, "NOT_FOUND: round 2 of study study-1", h.submit(upd(2, nil)))
	h.expectInternalAt(h1, "CreateCompositeKey", 3, "build update key", h.submit(upd(1, nil)))
	h.expectInternalAt(h1, "GetState", 3, "read state", h.submit(upd(1, nil)))
	h.expectInternal(h1, "GetTxTimestamp", "read transaction timestamp", h.submit(upd(1, nil)))
	h.expectInternal(h1, "PutState", "write state", h.submit(upd(1, nil)))
	h.expectInternal(h1, "SetEvent", "set event", h.submit(upd(1, nil)))

	h.mustRun(h1, h.submit(upd(1, nil)))
	h.expectRejected(h1, "CONFLICT: org h1MSP already submitted an update for round 1 of study study-1",
		h.submit(jsonArg(t, baseUpdate(1, updHash2), nil)))

	h.mustRun(h2, h.submit(jsonArg(t, baseUpdate(1, updHash2), nil)))
	h.mustRun(coord, h.commitRound(jsonArg(t, baseCommit(1, model1, 0.5, "h1MSP", "h2MSP"), nil)))
	h.mustRun(h3, h.join("study-1")) // joining is still possible while the study runs
	h.expectRejected(h3, "FAILED_PRECONDITION: round 1 of study study-1 is not open", h.submit(upd(1, nil)))
}

func TestCommitRoundRejectsInvalidFields(t *testing.T) {
	cases := []struct {
		name      string
		overrides map[string]any
		want      string
	}{
		{"bad studyId", map[string]any{"studyId": ""}, "INVALID_ARGUMENT: studyId: must match [A-Za-z0-9._:-]{1,128}"},
		{"round too large", map[string]any{"round": MaxRounds + 1}, "INVALID_ARGUMENT: round: must be 1..100000"},
		{"bad modelHash", map[string]any{"modelHash": model1[:63]}, "INVALID_ARGUMENT: modelHash: must be 64 lower-case hex characters, got 63 characters"},
		{"missing included", map[string]any{"included": drop{}}, "INVALID_ARGUMENT: included: required"},
		{"empty included", map[string]any{"included": []string{}}, "INVALID_ARGUMENT: included: must list 1..100 orgs"},
		{"included not a list", map[string]any{"included": map[string]any{}}, "INVALID_ARGUMENT: included: must be an array of strings"},
		{"bad included org", map[string]any{"included": []string{"h1MSP", "h2 MSP"}}, "INVALID_ARGUMENT: included[1]: must be an MSP id matching [A-Za-z0-9._-]{1,128}"},
		{"duplicate included org", map[string]any{"included": []string{"h1MSP", "h1MSP"}}, `INVALID_ARGUMENT: included[1]: duplicate "h1MSP"`},
		{"bad metric name", map[string]any{"metrics": map[string]any{"": 1}}, "INVALID_ARGUMENT: metrics: metric names must match [A-Za-z0-9._:-]{1,128}"},
		{"negative privacySpent", map[string]any{"privacySpent": -1}, "INVALID_ARGUMENT: privacySpent: must be >= 0"},
		{"unknown field", map[string]any{"aggregate": "x"}, "INVALID_ARGUMENT: aggregate: unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.expectRejected(coord, tc.want, h.commitRound(jsonArg(t, baseCommit(1, model1, 0.5, "h1MSP", "h2MSP"), tc.overrides)))
		})
	}
	t.Run("not an object", func(t *testing.T) {
		h := newHarness(t)
		h.expectRejected(coord, "INVALID_ARGUMENT: commit: must be a JSON object", h.commitRound(`null`))
	})
}

func TestCommitRoundRejectsByState(t *testing.T) {
	h := runningStudy(t)
	commit := func(round int, spent float64, included ...string) string {
		return jsonArg(t, baseCommit(round, model1, spent, included...), nil)
	}
	h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(1, updHash1), nil)))
	h.expectRejected(coord, "NOT_FOUND: study study-2", h.commitRound(jsonArg(t, baseCommit(1, model1, 0.5, "h1MSP"), map[string]any{"studyId": "study-2"})))
	h.expectRejected(h1, "PERMISSION_DENIED: only the coordinator of study study-1 may do this", h.commitRound(commit(1, 0.5, "h1MSP", "h2MSP")))
	h.expectRejected(mallory, "PERMISSION_DENIED: only the coordinator of study study-1 may do this", h.commitRound(commit(1, 0.5, "h1MSP", "h2MSP")))
	h.expectRejected(nil, "PERMISSION_DENIED: caller identity unavailable", h.commitRound(commit(1, 0.5, "h1MSP", "h2MSP")))
	h.expectRejected(coord, "NOT_FOUND: round 2 of study study-1", h.commitRound(commit(2, 0.5, "h1MSP", "h2MSP")))
	h.expectRejected(coord, "FAILED_PRECONDITION: included org h2MSP has no update in round 1 of study study-1", h.commitRound(commit(1, 0.5, "h1MSP", "h2MSP")))
	h.expectRejected(coord, "FAILED_PRECONDITION: included org h3MSP has no update in round 1 of study study-1", h.commitRound(commit(1, 0.5, "h3MSP", "h1MSP")))
	h.expectRejected(coord, "FAILED_PRECONDITION: round needs at least 2 included updates, got 1", h.commitRound(commit(1, 0.5, "h1MSP")))

	h.mustRun(h2, h.submit(jsonArg(t, baseUpdate(1, updHash2), nil)))
	h.expectRejected(coord, "FAILED_PRECONDITION: privacy budget exceeded: privacySpent 1.5 > epsilon 1", h.commitRound(commit(1, 1.5, "h1MSP", "h2MSP")))
	valid := commit(1, 0.5, "h1MSP", "h2MSP")
	h.expectInternal(coord, "GetStateByPartialCompositeKey", "query update keys", h.commitRound(valid))
	h.expectInternal(coord, "Iterator.Next", "iterate update keys", h.commitRound(valid))
	h.expectInternal(coord, "Iterator.Close", "close update query", h.commitRound(valid))
	h.expectInternal(coord, "GetTxTimestamp", "read transaction timestamp", h.commitRound(valid))
	h.expectInternalAt(coord, "CreateCompositeKey", 2, "build round key", h.commitRound(valid))
	h.expectInternalAt(coord, "CreateCompositeKey", 3, "build model key", h.commitRound(valid))
	for n := 1; n <= 3; n++ {
		h.expectInternalAt(coord, "PutState", n, "write state", h.commitRound(valid))
	}
	h.expectInternal(coord, "SetEvent", "set event", h.commitRound(valid))
	updKey, _ := compositeKeyOf(t, objectUpdate, "study-1", "0000000001", "h2MSP")
	saved := h.ledger.state[updKey]
	h.ledger.state[updKey] = []byte("{")
	if _, _, err := h.run(coord, h.commitRound(valid)); err == nil || !strings.HasPrefix(err.Error(), `INTERNAL: decode stored state "`) {
		t.Fatalf("corrupt update: %v", err)
	}
	h.ledger.state[updKey] = saved

	h.mustRun(coord, h.commitRound(valid))
	h.expectRejected(coord, "FAILED_PRECONDITION: round 1 of study study-1 is not open", h.commitRound(valid))

	h.mustRun(coord, h.openRound("study-1", "2"))
	h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(2, updHash1), nil)))
	h.mustRun(h2, h.submit(jsonArg(t, baseUpdate(2, updHash2), nil)))
	h.expectRejected(coord, "FAILED_PRECONDITION: privacySpent 0.4 is below the study's cumulative 0.5", h.commitRound(commit(2, 0.4, "h1MSP", "h2MSP")))
}
