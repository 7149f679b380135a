package contracts

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

var (
	specHash  = strings.Repeat("5", 64)
	initHash  = strings.Repeat("0", 64)
	model1    = strings.Repeat("1", 64)
	model2    = strings.Repeat("2", 64)
	updHash1  = strings.Repeat("7", 64)
	updHash2  = strings.Repeat("8", 64)
	cohortRt  = strings.Repeat("9", 64)
	coord     = identity("coordMSP", "carol")
	mallory   = identity("coordMSP", "mallory") // same org as the coordinator, different identity
	h3        = identity("h3MSP", "dave")
	outsider  = identity("h4MSP", "erin")
	coordJSON = `{"id":"x509::CN=carol,OU=client::CN=ca.coordMSP","mspId":"coordMSP"}`
)

func baseStudy() map[string]any {
	return map[string]any{
		"id": "study-1", "specHash": specHash, "participants": []string{"h2MSP", "h1MSP"},
		"rounds": 2, "minParticipants": 2, "epsilon": 1.0, "delta": 1e-5,
		"strategy": "fedavg", "initialModelHash": initHash,
	}
}

func studyArg(t *testing.T, overrides map[string]any) string {
	return jsonArg(t, baseStudy(), overrides)
}

func baseUpdate(round int, hash string) map[string]any {
	return map[string]any{
		"studyId": "study-1", "round": round, "updateHash": hash, "sampleCount": 118,
		"cohortRoot": cohortRt, "cohortSize": 120, "privacySpent": 0.25, "metrics": map[string]any{"loss": 0.5},
	}
}

func baseCommit(round int, model string, spent float64, included ...string) map[string]any {
	return map[string]any{
		"studyId": "study-1", "round": round, "modelHash": model, "included": included,
		"metrics": map[string]any{"auc": 0.8}, "privacySpent": spent,
	}
}

func (h *harness) createStudy(arg string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.CreateStudy(ctx, arg) }
}

func (h *harness) join(id string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.JoinStudy(ctx, id) }
}

func (h *harness) openRound(id, round string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.OpenRound(ctx, id, round) }
}

func (h *harness) submit(arg string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.SubmitUpdate(ctx, arg) }
}

func (h *harness) commitRound(arg string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.CommitRound(ctx, arg) }
}

func (h *harness) getStudy(id string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.GetStudy(ctx, id) }
}

func (h *harness) getRound(id, round string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.GetRound(ctx, id, round) }
}

func (h *harness) lineage(hash string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.ModelLineage(ctx, hash) }
}

func (h *harness) listStudies() func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.study.ListStudies(ctx) }
}

// studyState is the canonical stored study of baseStudy with the given mutable fields.
func studyState(joined, status string, round int, model, spent, txID, at string) string {
	return `{"coordinator":` + coordJSON + `,"currentModelHash":"` + model + `","currentRound":` + fmt.Sprint(round) +
		`,"delta":0.00001,"epsilon":1,"id":"study-1","initialModelHash":"` + initHash + `","joined":` + joined +
		`,"minParticipants":2,"participants":["h2MSP","h1MSP"],"privacySpent":` + spent + `,"rounds":2,"specHash":"` + specHash +
		`","status":"` + status + `","strategy":"fedavg","timestamp":"` + at + `","txId":"` + txID + `"}`
}

func expectResult(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s\n got: %s\nwant: %s", what, got, want)
	}
}

func TestStudyLifecycle(t *testing.T) {
	h := newHarness(t)
	minute := func(m int) string { return t0.Add(time.Duration(m) * time.Minute).Format(timeLayout) }
	step := func(m int) { h.now = t0.Add(time.Duration(m) * time.Minute) }

	out, stub := h.mustRun(coord, h.createStudy(studyArg(t, nil)))
	want := studyState(`[]`, "created", 0, initHash, "0", "tx001", minute(0))
	expectResult(t, "CreateStudy", out, want)
	expectResult(t, "stored study", h.state(objectStudy, "study-1"), want)
	assertEvents(t, stub, "StudyCreated", `{"studyId":"study-1","txId":"tx001"}`)

	step(1)
	h.mustRun(h2, h.join("study-1"))
	out, stub = h.mustRun(h1, h.join("study-1"))
	expectResult(t, "JoinStudy", out, studyState(`["h1MSP","h2MSP"]`, "created", 0, initHash, "0", "tx003", minute(1)))
	if len(stub.events) != 0 {
		t.Fatalf("JoinStudy emits no event, got %v", stub.events)
	}

	step(2)
	out, stub = h.mustRun(coord, h.openRound("study-1", "1"))
	round1Open := `{"committedAt":"","committedTxId":"","included":[],"metrics":{},"modelHash":"","openedAt":"` + minute(2) +
		`","openedTxId":"tx004","parentModelHash":"` + initHash + `","privacySpent":0,"round":1,"status":"open","studyId":"study-1"`
	expectResult(t, "OpenRound", out, round1Open+`,"updates":{}}`)
	expectResult(t, "stored round", h.state(objectRound, "study-1", "0000000001"), round1Open+`}`)
	expectResult(t, "study after open", h.state(objectStudy, "study-1"),
		studyState(`["h1MSP","h2MSP"]`, "running", 1, initHash, "0", "tx004", minute(2)))
	assertEvents(t, stub, "RoundOpened", `{"round":1,"studyId":"study-1","txId":"tx004"}`)

	step(3)
	out, stub = h.mustRun(h2, h.submit(jsonArg(t, baseUpdate(1, updHash2), nil)))
	upd2 := `{"cohortRoot":"` + cohortRt + `","cohortSize":120,"metrics":{"loss":0.5},"org":"h2MSP","privacySpent":0.25,` +
		`"sampleCount":118,"timestamp":"` + minute(3) + `","txId":"tx005","updateHash":"` + updHash2 + `"}`
	expectResult(t, "SubmitUpdate", out, upd2)
	expectResult(t, "stored update", h.state(objectUpdate, "study-1", "0000000001", "h2MSP"), upd2)
	assertEvents(t, stub, "UpdateSubmitted", `{"org":"h2MSP","round":1,"studyId":"study-1","txId":"tx005","updateHash":"`+updHash2+`"}`)
	upd1, _ := h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(1, updHash1), map[string]any{"metrics": drop{}})))
	expectResult(t, "update without metrics", upd1, `{"cohortRoot":"`+cohortRt+`","cohortSize":120,"metrics":{},"org":"h1MSP","privacySpent":0.25,`+
		`"sampleCount":118,"timestamp":"`+minute(3)+`","txId":"tx006","updateHash":"`+updHash1+`"}`)

	out, _ = h.mustRun(outsider, h.getRound("study-1", "1"))
	expectResult(t, "GetRound while open", out, round1Open+`,"updates":{"h1MSP":`+upd1+`,"h2MSP":`+upd2+`}}`)

	step(4)
	out, stub = h.mustRun(coord, h.commitRound(jsonArg(t, baseCommit(1, model1, 0.5, "h2MSP", "h1MSP"), nil)))
	round1Committed := `{"committedAt":"` + minute(4) + `","committedTxId":"tx008","included":["h1MSP","h2MSP"],"metrics":{"auc":0.8},` +
		`"modelHash":"` + model1 + `","openedAt":"` + minute(2) + `","openedTxId":"tx004","parentModelHash":"` + initHash +
		`","privacySpent":0.5,"round":1,"status":"committed","studyId":"study-1"`
	expectResult(t, "CommitRound", out, round1Committed+`,"updates":{"h1MSP":`+upd1+`,"h2MSP":`+upd2+`}}`)
	expectResult(t, "stored committed round", h.state(objectRound, "study-1", "0000000001"), round1Committed+`}`)
	expectResult(t, "study after commit", h.state(objectStudy, "study-1"),
		studyState(`["h1MSP","h2MSP"]`, "running", 1, model1, "0.5", "tx008", minute(4)))
	assertEvents(t, stub, "RoundCommitted", `{"included":["h1MSP","h2MSP"],"modelHash":"`+model1+`","round":1,"studyId":"study-1","txId":"tx008"}`)
	expectResult(t, "model index", h.state(objectModelOrigin, model1, "study-1"), `{"round":1}`)

	step(5)
	out, _ = h.mustRun(coord, h.openRound("study-1", "2"))
	if !strings.Contains(out, `"parentModelHash":"`+model1+`","privacySpent":0.5,"round":2,"status":"open"`) {
		t.Fatalf("round 2 must start from model1 and the cumulative privacy spent: %s", out)
	}
	h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(2, updHash1), nil)))
	h.mustRun(h2, h.submit(jsonArg(t, baseUpdate(2, updHash2), nil)))
	step(6)
	h.mustRun(coord, h.commitRound(jsonArg(t, baseCommit(2, model2, 1.0, "h1MSP", "h2MSP"), nil)))
	out, _ = h.mustRun(outsider, h.getStudy("study-1"))
	expectResult(t, "completed study", out, studyState(`["h1MSP","h2MSP"]`, "completed", 2, model2, "1", "tx012", minute(6)))

	out, _ = h.mustRun(outsider, h.lineage(model2))
	expectResult(t, "lineage", out, `{"modelHash":"`+model2+`","steps":[`+
		`{"included":["h1MSP","h2MSP"],"modelHash":"`+model2+`","parentModelHash":"`+model1+`","round":2,"txId":"tx012","updates":{"h1MSP":"`+updHash1+`","h2MSP":"`+updHash2+`"}},`+
		`{"included":["h1MSP","h2MSP"],"modelHash":"`+model1+`","parentModelHash":"`+initHash+`","round":1,"txId":"tx008","updates":{"h1MSP":"`+updHash1+`","h2MSP":"`+updHash2+`"}}`+
		`],"studyId":"study-1"}`)
	out, _ = h.mustRun(outsider, h.lineage(model1))
	if !strings.Contains(out, `"steps":[{"included":["h1MSP","h2MSP"],"modelHash":"`+model1+`"`) || strings.Count(out, `"round":`) != 1 {
		t.Fatalf("lineage of model1 has exactly round 1: %s", out)
	}
}

func TestCommitRoundWithoutPrivacyBudget(t *testing.T) {
	h := newHarness(t)
	h.mustRun(coord, h.createStudy(studyArg(t, map[string]any{"epsilon": 0, "minParticipants": 1, "rounds": 1})))
	h.mustRun(h1, h.join("study-1"))
	h.mustRun(coord, h.openRound("study-1", "1"))
	h.mustRun(h1, h.submit(jsonArg(t, baseUpdate(1, updHash1), nil)))
	out, _ := h.mustRun(coord, h.commitRound(jsonArg(t, baseCommit(1, model1, 5, "h1MSP"), map[string]any{"metrics": drop{}})))
	if !strings.Contains(out, `"included":["h1MSP"],"metrics":{}`) || !strings.Contains(out, `"privacySpent":5,"round":1,"status":"committed"`) {
		t.Fatalf("epsilon 0 puts no bound on privacySpent: %s", out)
	}
	if !strings.Contains(h.state(objectStudy, "study-1"), `"status":"completed"`) {
		t.Fatal("committing the last round completes the study")
	}
}

func TestListStudiesSortedByID(t *testing.T) {
	h := newHarness(t)
	if out, _ := h.mustRun(outsider, h.listStudies()); out != "[]" {
		t.Fatalf("no studies: %s", out)
	}
	for _, id := range []string{"zeta", "study-1", "alpha", "alpha.2"} {
		h.mustRun(coord, h.createStudy(studyArg(t, map[string]any{"id": id})))
	}
	out, _ := h.mustRun(outsider, h.listStudies())
	var studies []Study
	if err := json.Unmarshal([]byte(out), &studies); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range studies {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "alpha,alpha.2,study-1,zeta" {
		t.Fatalf("order: %v", ids)
	}
	if !strings.HasPrefix(out, `[{"coordinator":`) {
		t.Fatalf("not canonical: %s", out)
	}
	h.expectInternal(outsider, "GetStateByPartialCompositeKey", "query study keys", h.listStudies())
	h.expectInternal(outsider, "Iterator.Next", "iterate study keys", h.listStudies())
	h.expectInternal(outsider, "Iterator.Close", "close study query", h.listStudies())
	key, _ := compositeKeyOf(t, objectStudy, "alpha")
	h.ledger.state[key] = []byte("nope")
	_, _, err := h.run(outsider, h.listStudies())
	if err == nil || !strings.HasPrefix(err.Error(), `INTERNAL: decode stored state "`) {
		t.Fatalf("corrupt study: %v", err)
	}
}

func TestCreateStudyRejects(t *testing.T) {
	many := make([]string, MaxParticipants+1)
	for i := range many {
		many[i] = fmt.Sprintf("org%dMSP", i)
	}
	cases := []struct {
		name      string
		overrides map[string]any
		want      string
	}{
		{"missing id", map[string]any{"id": drop{}}, "INVALID_ARGUMENT: id: required"},
		{"bad id", map[string]any{"id": "study one"}, "INVALID_ARGUMENT: id: must match [A-Za-z0-9._:-]{1,128}"},
		{"unknown field", map[string]any{"weights": []float64{0.1}}, "INVALID_ARGUMENT: weights: unknown field"},
		{"bad specHash", map[string]any{"specHash": "00"}, "INVALID_ARGUMENT: specHash: must be 64 lower-case hex characters, got 2 characters"},
		{"participants not a list", map[string]any{"participants": "h1MSP"}, "INVALID_ARGUMENT: participants: must be an array of strings"},
		{"no participants", map[string]any{"participants": []string{}}, "INVALID_ARGUMENT: participants: must list 1..100 orgs"},
		{"too many participants", map[string]any{"participants": many}, "INVALID_ARGUMENT: participants: must list 1..100 orgs"},
		{"bad participant", map[string]any{"participants": []string{"h1MSP", "h 2"}}, "INVALID_ARGUMENT: participants[1]: must be an MSP id matching [A-Za-z0-9._-]{1,128}"},
		{"duplicate participant", map[string]any{"participants": []string{"h1MSP", "h1MSP"}}, `INVALID_ARGUMENT: participants[1]: duplicate "h1MSP"`},
		{"zero rounds", map[string]any{"rounds": 0}, "INVALID_ARGUMENT: rounds: must be 1..100000"},
		{"too many rounds", map[string]any{"rounds": MaxRounds + 1}, "INVALID_ARGUMENT: rounds: must be 1..100000"},
		{"fractional rounds", map[string]any{"rounds": 1.5}, "INVALID_ARGUMENT: rounds: must be an integer"},
		{"rounds as string", map[string]any{"rounds": "2"}, "INVALID_ARGUMENT: rounds: must be an integer"},
		{"null rounds", map[string]any{"rounds": nil}, "INVALID_ARGUMENT: rounds: must not be null"},
		{"zero minParticipants", map[string]any{"minParticipants": 0}, "INVALID_ARGUMENT: minParticipants: must be 1..2 (the number of participants)"},
		{"minParticipants above participants", map[string]any{"minParticipants": 3}, "INVALID_ARGUMENT: minParticipants: must be 1..2 (the number of participants)"},
		{"negative epsilon", map[string]any{"epsilon": -1}, "INVALID_ARGUMENT: epsilon: must be >= 0 (0 means no privacy budget)"},
		{"epsilon as string", map[string]any{"epsilon": "1"}, "INVALID_ARGUMENT: epsilon: must be a number"},
		{"epsilon overflow", map[string]any{"epsilon": json.RawMessage("1e400")}, "INVALID_ARGUMENT: epsilon: must be a finite number"},
		{"delta one", map[string]any{"delta": 1}, "INVALID_ARGUMENT: delta: must be >= 0 and < 1"},
		{"negative delta", map[string]any{"delta": -0.1}, "INVALID_ARGUMENT: delta: must be >= 0 and < 1"},
		{"empty strategy", map[string]any{"strategy": ""}, "INVALID_ARGUMENT: strategy: must be 1..128 characters"},
		{"long strategy", map[string]any{"strategy": strings.Repeat("s", 129)}, "INVALID_ARGUMENT: strategy: must be 1..128 characters"},
		{"control character in strategy", map[string]any{"strategy": "fed\navg"}, "INVALID_ARGUMENT: strategy: must be printable ASCII"},
		{"bad initialModelHash", map[string]any{"initialModelHash": strings.Repeat("z", 64)}, "INVALID_ARGUMENT: initialModelHash: must be 64 lower-case hex characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.expectRejected(coord, tc.want, h.createStudy(studyArg(t, tc.overrides)))
		})
	}
	t.Run("not an object", func(t *testing.T) {
		h := newHarness(t)
		h.expectRejected(coord, "INVALID_ARGUMENT: study: must be a JSON object", h.createStudy(`"study-1"`))
	})
	t.Run("existing id", func(t *testing.T) {
		h := newHarness(t)
		h.mustRun(coord, h.createStudy(studyArg(t, nil)))
		h.expectRejected(h1, "CONFLICT: study study-1 already exists", h.createStudy(studyArg(t, map[string]any{"rounds": 5})))
	})
	t.Run("no identity", func(t *testing.T) {
		h := newHarness(t)
		h.expectRejected(nil, "PERMISSION_DENIED: caller identity unavailable", h.createStudy(studyArg(t, nil)))
	})
	for _, tc := range []struct{ method, what string }{
		{"CreateCompositeKey", "build study key"},
		{"GetState", "read state"},
		{"GetTxTimestamp", "read transaction timestamp"},
		{"PutState", "write state"},
		{"SetEvent", "set event"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			h := newHarness(t)
			h.expectInternal(coord, tc.method, tc.what, h.createStudy(studyArg(t, nil)))
		})
	}
}

// Floats decoded from JSON are always finite; the checks still guard values built in code.
func TestStudyInputRejectsNonFiniteNumbers(t *testing.T) {
	in := StudyInput{ID: "s", SpecHash: specHash, Participants: []string{"h1MSP"}, Rounds: 1, MinParticipants: 1,
		Strategy: "fedavg", InitialModelHash: initHash}
	bad := in
	bad.Epsilon = math.Inf(1)
	if err := bad.validate(); err == nil || err.Error() != "INVALID_ARGUMENT: epsilon: must be a finite number" {
		t.Fatalf("epsilon: %v", err)
	}
	bad = in
	bad.Delta = math.NaN()
	if err := bad.validate(); err == nil || err.Error() != "INVALID_ARGUMENT: delta: must be a finite number" {
		t.Fatalf("delta: %v", err)
	}
	if err := checkPrivacySpent(math.Inf(-1)); err == nil || err.Error() != "INVALID_ARGUMENT: privacySpent: must be a finite number" {
		t.Fatalf("privacySpent: %v", err)
	}
	if err := checkMetrics("metrics", map[string]float64{"loss": math.NaN()}); err == nil || err.Error() != "INVALID_ARGUMENT: metrics.loss: must be a finite number" {
		t.Fatalf("metrics: %v", err)
	}
	if err := in.validate(); err != nil {
		t.Fatalf("valid input rejected: %v", err)
	}
}

func nan() float64 { return math.NaN() }
