package contracts

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
)

var (
	pA      = strings.Repeat("a", 64)
	pB      = strings.Repeat("b", 64)
	docHash = strings.Repeat("d", 64)
	revHash = strings.Repeat("e", 64)
	h1      = identity("h1MSP", "alice")
	h2      = identity("h2MSP", "bob")
	errBoom = errors.New("boom")
)

// drop removes a field from an argument built by jsonArg.
type drop struct{}

// jsonArg returns canonical JSON of base with overrides applied (a drop{} value removes the field).
func jsonArg(t *testing.T, base map[string]any, overrides map[string]any) string {
	t.Helper()
	m := map[string]any{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range overrides {
		if _, ok := v.(drop); ok {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func baseConsent() map[string]any {
	return map[string]any{
		"pseudonym": pA, "org": "h1MSP", "study": "study-1", "decision": "permit",
		"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z", "documentHash": docHash,
	}
}

func consentArg(t *testing.T, overrides map[string]any) string {
	return jsonArg(t, baseConsent(), overrides)
}

// storedConsent is the canonical JSON the contract must store for baseConsent with these values.
func storedConsent(pseudonym, study, decision, status, validUntil, doc string, version int, txID, at string) string {
	return fmt.Sprintf(`{"decision":%q,"documentHash":%q,"org":"h1MSP","pseudonym":%q,"status":%q,"study":%q,`+
		`"timestamp":%q,"txId":%q,"validFrom":"2026-01-01T00:00:00Z","validUntil":%q,"version":%d}`,
		decision, doc, pseudonym, status, study, at, txID, validUntil, version)
}

func (h *harness) record(arg string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.consent.Record(ctx, arg) }
}

func assertEvents(t *testing.T, stub *fakeStub, name, payload string) {
	t.Helper()
	if len(stub.events) != 1 {
		t.Fatalf("want exactly one event, got %d: %v", len(stub.events), stub.events)
	}
	if stub.events[0].name != name || stub.events[0].payload != payload {
		t.Fatalf("event mismatch\n got: %s %s\nwant: %s %s", stub.events[0].name, stub.events[0].payload, name, payload)
	}
}

func TestRecordStoresCanonicalConsentAndIncrementsVersion(t *testing.T) {
	h := newHarness(t)
	h.now = t0.Add(750 * time.Millisecond) // stored times are truncated to the second
	out, stub := h.mustRun(h1, h.record(consentArg(t, nil)))
	want := storedConsent(pA, "study-1", "permit", "active", "2027-01-01T00:00:00Z", docHash, 1, "tx001", "2026-01-31T12:00:00Z")
	if out != want {
		t.Fatalf("result\n got: %s\nwant: %s", out, want)
	}
	if got := h.state(objectConsent, "h1MSP", pA, "study-1"); got != want {
		t.Fatalf("stored\n got: %s\nwant: %s", got, want)
	}
	assertEvents(t, stub, "ConsentRecorded",
		`{"changes":[{"decision":"permit","org":"h1MSP","pseudonym":"`+pA+`","status":"active","study":"study-1","version":1}],"txId":"tx001"}`)

	h.now = t0.Add(time.Hour)
	out, stub = h.mustRun(h1, h.record(consentArg(t, map[string]any{"decision": "deny", "validUntil": drop{}})))
	want = storedConsent(pA, "study-1", "deny", "active", "", docHash, 2, "tx002", "2026-01-31T13:00:00Z")
	if out != want || h.state(objectConsent, "h1MSP", pA, "study-1") != want {
		t.Fatalf("rewrite\n got: %s\nwant: %s", out, want)
	}
	assertEvents(t, stub, "ConsentRecorded",
		`{"changes":[{"decision":"deny","org":"h1MSP","pseudonym":"`+pA+`","status":"active","study":"study-1","version":2}],"txId":"tx002"}`)
	if len(h.ledger.state) != 1 {
		t.Fatalf("want one key, got %d", len(h.ledger.state))
	}
}

const timeReason = "must be RFC 3339 UTC with second precision, like 2026-01-31T12:00:00Z"

func TestRecordRejectsInvalidInput(t *testing.T) {
	valid := consentArg(t, nil)
	cases := []struct {
		name, arg, want string
	}{
		{"not an object", `[]`, "INVALID_ARGUMENT: consent: must be a JSON object"},
		{"not JSON", `hello`, "INVALID_ARGUMENT: consent: must be a JSON object"},
		{"bad key", `{1:2}`, "INVALID_ARGUMENT: consent: malformed JSON object"},
		{"missing colon", `{"org" 1}`, "INVALID_ARGUMENT: org: malformed JSON value"},
		{"unterminated", `{"org":"h1MSP"`, "INVALID_ARGUMENT: consent: malformed JSON object"},
		{"trailing data", valid + `x`, "INVALID_ARGUMENT: consent: unexpected data after the JSON object"},
		{"second object", valid + `{}`, "INVALID_ARGUMENT: consent: unexpected data after the JSON object"},
		{"duplicate field", `{"org":"h1MSP","org":"h2MSP"}`, "INVALID_ARGUMENT: org: duplicate field"},
		{"missing pseudonym", consentArg(t, map[string]any{"pseudonym": drop{}}), "INVALID_ARGUMENT: pseudonym: required"},
		{"missing documentHash", consentArg(t, map[string]any{"documentHash": drop{}}), "INVALID_ARGUMENT: documentHash: required"},
		{"null pseudonym", consentArg(t, map[string]any{"pseudonym": nil}), "INVALID_ARGUMENT: pseudonym: must not be null"},
		{"numeric pseudonym", consentArg(t, map[string]any{"pseudonym": 5}), "INVALID_ARGUMENT: pseudonym: must be a string"},
		{"null validUntil", consentArg(t, map[string]any{"validUntil": nil}), "INVALID_ARGUMENT: validUntil: must not be null"},
		{"unknown field", consentArg(t, map[string]any{"name": "Jane Doe"}), "INVALID_ARGUMENT: name: unknown field"},
		{"upper-case pseudonym", consentArg(t, map[string]any{"pseudonym": strings.Repeat("A", 64)}), "INVALID_ARGUMENT: pseudonym: must be 64 lower-case hex characters"},
		{"non-hex pseudonym", consentArg(t, map[string]any{"pseudonym": strings.Repeat("g", 64)}), "INVALID_ARGUMENT: pseudonym: must be 64 lower-case hex characters"},
		{"short pseudonym", consentArg(t, map[string]any{"pseudonym": "abc"}), "INVALID_ARGUMENT: pseudonym: must be 64 lower-case hex characters, got 3 characters"},
		{"empty org", consentArg(t, map[string]any{"org": ""}), "INVALID_ARGUMENT: org: must be an MSP id matching [A-Za-z0-9._-]{1,128}"},
		{"org with space", consentArg(t, map[string]any{"org": "h1 MSP"}), "INVALID_ARGUMENT: org: must be an MSP id matching [A-Za-z0-9._-]{1,128}"},
		{"study with slash", consentArg(t, map[string]any{"study": "a/b"}), "INVALID_ARGUMENT: study: must match [A-Za-z0-9._:-]{1,128}"},
		{"study too long", consentArg(t, map[string]any{"study": strings.Repeat("s", 129)}), "INVALID_ARGUMENT: study: must match [A-Za-z0-9._:-]{1,128}"},
		{"empty study", consentArg(t, map[string]any{"study": ""}), "INVALID_ARGUMENT: study: must match [A-Za-z0-9._:-]{1,128}"},
		{"bad decision", consentArg(t, map[string]any{"decision": "maybe"}), `INVALID_ARGUMENT: decision: must be "permit" or "deny"`},
		{"validFrom with offset", consentArg(t, map[string]any{"validFrom": "2026-01-01T00:00:00+01:00"}), "INVALID_ARGUMENT: validFrom: " + timeReason},
		{"validFrom with fraction", consentArg(t, map[string]any{"validFrom": "2026-01-01T00:00:00.5Z"}), "INVALID_ARGUMENT: validFrom: " + timeReason},
		{"validFrom impossible date", consentArg(t, map[string]any{"validFrom": "2026-02-30T00:00:00Z"}), "INVALID_ARGUMENT: validFrom: " + timeReason},
		{"validFrom empty", consentArg(t, map[string]any{"validFrom": ""}), "INVALID_ARGUMENT: validFrom: " + timeReason},
		{"validUntil date only", consentArg(t, map[string]any{"validUntil": "2027-01-01"}), "INVALID_ARGUMENT: validUntil: " + timeReason},
		{"validUntil equals validFrom", consentArg(t, map[string]any{"validUntil": "2026-01-01T00:00:00Z"}), "INVALID_ARGUMENT: validUntil: must be after validFrom"},
		{"validUntil before validFrom", consentArg(t, map[string]any{"validUntil": "2025-01-01T00:00:00Z"}), "INVALID_ARGUMENT: validUntil: must be after validFrom"},
		{"bad documentHash", consentArg(t, map[string]any{"documentHash": "sha256:" + docHash[:57]}), "INVALID_ARGUMENT: documentHash: must be 64 lower-case hex characters"},
		{"other org", consentArg(t, map[string]any{"org": "h2MSP"}), "PERMISSION_DENIED: caller MSP h1MSP may not write consents of org h2MSP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.expectRejected(h1, tc.want, h.record(tc.arg))
			if len(h.ledger.state) != 0 {
				t.Fatal("rejected transaction wrote state")
			}
		})
	}
}

func TestCallerIdentityRequired(t *testing.T) {
	cases := []struct {
		name   string
		caller cid.ClientIdentity
		want   string
	}{
		{"no identity", nil, "PERMISSION_DENIED: caller identity unavailable"},
		{"msp error", &fakeIdentity{mspErr: errBoom, id: "x"}, "PERMISSION_DENIED: caller MSP id unavailable"},
		{"empty msp", &fakeIdentity{msp: "", id: "x"}, "PERMISSION_DENIED: caller MSP id unavailable"},
		{"id error", &fakeIdentity{msp: "h1MSP", idErr: errBoom}, "PERMISSION_DENIED: caller id unavailable"},
		{"empty id", &fakeIdentity{msp: "h1MSP"}, "PERMISSION_DENIED: caller id unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.expectRejected(tc.caller, tc.want, h.record(consentArg(t, nil)))
		})
	}
}

func TestRecordReportsLedgerFailures(t *testing.T) {
	cases := []struct{ method, what string }{
		{"CreateCompositeKey", "build consent key"},
		{"GetState", "read state"},
		{"PutState", "write state"},
		{"SetEvent", "set event"},
		{"GetTxTimestamp", "read transaction timestamp"},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			h := newHarness(t)
			h.expectInternal(h1, tc.method, tc.what, h.record(consentArg(t, nil)))
		})
	}
	t.Run("invalid timestamp", func(t *testing.T) {
		h := newHarness(t)
		h.prepare = func(s *fakeStub) { s.ts.Nanos = -1 }
		_, _, err := h.run(h1, h.record(consentArg(t, nil)))
		if err == nil || !strings.HasPrefix(err.Error(), "INTERNAL: read transaction timestamp: ") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("corrupt stored consent", func(t *testing.T) {
		h := newHarness(t)
		key, _ := newFakeStub(h.ledger, "", t0).CreateCompositeKey(objectConsent, []string{"h1MSP", pA, "study-1"})
		h.ledger.state[key] = []byte("{")
		h.expectRejected(h1, "INTERNAL: decode stored state: unexpected end of JSON input", h.record(consentArg(t, nil)))
	})
}

func batchArg(t *testing.T, items ...map[string]any) string {
	t.Helper()
	list := make([]json.RawMessage, len(items))
	for i, overrides := range items {
		list[i] = json.RawMessage(consentArg(t, overrides))
	}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func (h *harness) recordBatch(arg string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.consent.RecordBatch(ctx, arg) }
}

func TestRecordBatchWritesAllInOneTransaction(t *testing.T) {
	h := newHarness(t)
	h.mustRun(h1, h.record(consentArg(t, map[string]any{"pseudonym": pB})))
	arg := batchArg(t, nil, map[string]any{"pseudonym": pB, "decision": "deny"}, map[string]any{"study": "study-2"})
	out, stub := h.mustRun(h1, h.recordBatch(arg))

	var res ConsentBatchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Count != 3 || res.TxID != "tx002" || len(res.Consents) != 3 {
		t.Fatalf("unexpected result %s", out)
	}
	wantVersions := []int64{1, 2, 1}
	for i, c := range res.Consents {
		if c.Version != wantVersions[i] || c.TxID != "tx002" || c.Status != statusActive {
			t.Fatalf("consent %d: %+v", i, c)
		}
	}
	if got, want := h.state(objectConsent, "h1MSP", pB, "study-1"),
		storedConsent(pB, "study-1", "deny", "active", "2027-01-01T00:00:00Z", docHash, 2, "tx002", "2026-01-31T12:00:00Z"); got != want {
		t.Fatalf("stored\n got: %s\nwant: %s", got, want)
	}
	if got, want := h.state(objectConsent, "h1MSP", pA, "study-2"),
		storedConsent(pA, "study-2", "permit", "active", "2027-01-01T00:00:00Z", docHash, 1, "tx002", "2026-01-31T12:00:00Z"); got != want {
		t.Fatalf("stored\n got: %s\nwant: %s", got, want)
	}
	canonicalOut, _ := canonicalJSON(res)
	if out != string(canonicalOut) || !strings.HasPrefix(out, `{"consents":[{"decision":"permit"`) || !strings.HasSuffix(out, `],"count":3,"txId":"tx002"}`) {
		t.Fatalf("result is not canonical JSON: %s", out)
	}
	assertEvents(t, stub, "ConsentRecorded", `{"changes":[`+
		`{"decision":"permit","org":"h1MSP","pseudonym":"`+pA+`","status":"active","study":"study-1","version":1},`+
		`{"decision":"deny","org":"h1MSP","pseudonym":"`+pB+`","status":"active","study":"study-1","version":2},`+
		`{"decision":"permit","org":"h1MSP","pseudonym":"`+pA+`","status":"active","study":"study-2","version":1}],"txId":"tx002"}`)
	if !stub.batchUsed || stub.batchOpen {
		t.Fatal("RecordBatch must start and finish a write batch")
	}
}

func TestRecordBatchRejects(t *testing.T) {
	tooMany := make([]map[string]any, MaxBatchSize+1)
	for i := range tooMany {
		tooMany[i] = map[string]any{"pseudonym": fmt.Sprintf("%064x", i)}
	}
	cases := []struct{ name, arg, want string }{
		{"object", `{}`, "INVALID_ARGUMENT: consents: must be a JSON array"},
		{"null", `null`, "INVALID_ARGUMENT: consents: must be a JSON array"},
		{"empty", `[]`, "INVALID_ARGUMENT: consents: must hold 1..1000 consents, got 0"},
		{"too many", batchArg(t, tooMany...), "INVALID_ARGUMENT: consents: must hold 1..1000 consents, got 1001"},
		{"item not object", `[1]`, "INVALID_ARGUMENT: consents[0]: must be a JSON object"},
		{"invalid item field", batchArg(t, nil, map[string]any{"pseudonym": "x", "study": "s2"}), "INVALID_ARGUMENT: consents[1].pseudonym: must be 64 lower-case hex characters, got 1 characters"},
		{"unknown item field", batchArg(t, map[string]any{"extra": 1}), "INVALID_ARGUMENT: consents[0].extra: unknown field"},
		{"duplicate", batchArg(t, nil, map[string]any{"pseudonym": pB}, map[string]any{"decision": "deny"}), "INVALID_ARGUMENT: consents[2]: duplicate (org, pseudonym, study) of consents[0]"},
		{"other org", batchArg(t, nil, map[string]any{"org": "h2MSP"}), "PERMISSION_DENIED: caller MSP h1MSP may not write consents of org h2MSP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.expectRejected(h1, tc.want, h.recordBatch(tc.arg))
		})
	}
	t.Run("no identity", func(t *testing.T) {
		h := newHarness(t)
		h.expectRejected(nil, "PERMISSION_DENIED: caller identity unavailable", h.recordBatch(batchArg(t, nil)))
	})
	for _, tc := range []struct{ method, what string }{
		{"GetTxTimestamp", "read transaction timestamp"},
		{"PutState", "write state"},
		{"FinishWriteBatch", "flush write batch"},
		{"SetEvent", "set event"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			h := newHarness(t)
			h.expectInternal(h1, tc.method, tc.what, h.recordBatch(batchArg(t, nil, map[string]any{"pseudonym": pB})))
		})
	}
}
