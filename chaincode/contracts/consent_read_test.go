package contracts

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func (h *harness) revoke(org, pseudonym, study, doc string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.consent.Revoke(ctx, org, pseudonym, study, doc) }
}

func (h *harness) get(org, pseudonym, study string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.consent.Get(ctx, org, pseudonym, study) }
}

func (h *harness) history(org, pseudonym, study string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.consent.History(ctx, org, pseudonym, study) }
}

func (h *harness) filter(org, study, pseudonyms string) func(*fakeContext) (string, error) {
	return func(ctx *fakeContext) (string, error) { return h.consent.FilterPermitted(ctx, org, study, pseudonyms) }
}

func TestRevokeMarksConsentRevoked(t *testing.T) {
	h := newHarness(t)
	h.mustRun(h1, h.record(consentArg(t, nil)))
	h.now = t0.Add(24 * time.Hour)
	out, stub := h.mustRun(h1, h.revoke("h1MSP", pA, "study-1", revHash))
	want := storedConsent(pA, "study-1", "permit", "revoked", "2027-01-01T00:00:00Z", revHash, 2, "tx002", "2026-02-01T12:00:00Z")
	if out != want || h.state(objectConsent, "h1MSP", pA, "study-1") != want {
		t.Fatalf("revoke\n got: %s\nwant: %s", out, want)
	}
	assertEvents(t, stub, "ConsentRecorded",
		`{"changes":[{"decision":"permit","org":"h1MSP","pseudonym":"`+pA+`","status":"revoked","study":"study-1","version":2}],"txId":"tx002"}`)

	// Recording again re-activates the consent with the next version.
	out, _ = h.mustRun(h1, h.record(consentArg(t, nil)))
	if !strings.Contains(out, `"status":"active"`) || !strings.Contains(out, `"version":3`) {
		t.Fatalf("re-record after revoke: %s", out)
	}
}

func TestRevokeRejects(t *testing.T) {
	cases := []struct{ name, org, pseudonym, study, doc, want string }{
		{"bad org", "h1 MSP", pA, "study-1", revHash, "INVALID_ARGUMENT: org: must be an MSP id matching [A-Za-z0-9._-]{1,128}"},
		{"bad pseudonym", "h1MSP", "nope", "study-1", revHash, "INVALID_ARGUMENT: pseudonym: must be 64 lower-case hex characters, got 4 characters"},
		{"bad study", "h1MSP", pA, "", revHash, "INVALID_ARGUMENT: study: must match [A-Za-z0-9._:-]{1,128}"},
		{"bad documentHash", "h1MSP", pA, "study-1", strings.ToUpper(revHash), "INVALID_ARGUMENT: documentHash: must be 64 lower-case hex characters"},
		{"other org", "h2MSP", pA, "study-1", revHash, "PERMISSION_DENIED: caller MSP h1MSP may not write consents of org h2MSP"},
		{"unknown consent", "h1MSP", pB, "study-1", revHash, "NOT_FOUND: consent (h1MSP, " + pB + ", study-1)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.mustRun(h1, h.record(consentArg(t, nil)))
			h.expectRejected(h1, tc.want, h.revoke(tc.org, tc.pseudonym, tc.study, tc.doc))
		})
	}
	t.Run("already revoked", func(t *testing.T) {
		h := newHarness(t)
		h.mustRun(h1, h.record(consentArg(t, nil)))
		h.mustRun(h1, h.revoke("h1MSP", pA, "study-1", revHash))
		h.expectRejected(h1, "CONFLICT: consent (h1MSP, "+pA+", study-1) is already revoked", h.revoke("h1MSP", pA, "study-1", revHash))
	})
	for _, tc := range []struct{ method, what string }{
		{"CreateCompositeKey", "build consent key"},
		{"GetState", "read state"},
		{"GetTxTimestamp", "read transaction timestamp"},
		{"PutState", "write state"},
		{"SetEvent", "set event"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			h := newHarness(t)
			h.mustRun(h1, h.record(consentArg(t, nil)))
			h.expectInternal(h1, tc.method, tc.what, h.revoke("h1MSP", pA, "study-1", revHash))
		})
	}
}

func TestGetConsent(t *testing.T) {
	h := newHarness(t)
	stored, _ := h.mustRun(h1, h.record(consentArg(t, nil)))
	// Any member may read: h2 reads h1's consent.
	if out, _ := h.mustRun(h2, h.get("h1MSP", pA, "study-1")); out != stored {
		t.Fatalf("get\n got: %s\nwant: %s", out, stored)
	}
	h.expectRejected(h2, "NOT_FOUND: consent (h1MSP, "+pA+", study-2)", h.get("h1MSP", pA, "study-2"))
	h.expectRejected(h2, "INVALID_ARGUMENT: pseudonym: must be 64 lower-case hex characters, got 0 characters", h.get("h1MSP", "", "study-1"))
	h.expectInternal(h2, "CreateCompositeKey", "build consent key", h.get("h1MSP", pA, "study-1"))
	h.expectInternal(h2, "GetState", "read state", h.get("h1MSP", pA, "study-1"))
}

func TestHistoryListsWritesOldestFirst(t *testing.T) {
	h := newHarness(t)
	v1, _ := h.mustRun(h1, h.record(consentArg(t, nil)))
	h.now = t0.Add(time.Hour + 300*time.Millisecond)
	v2, _ := h.mustRun(h1, h.record(consentArg(t, map[string]any{"decision": "deny"})))
	h.now = t0.Add(2 * time.Hour)
	v3, _ := h.mustRun(h1, h.revoke("h1MSP", pA, "study-1", revHash))

	out, _ := h.mustRun(h2, h.history("h1MSP", pA, "study-1"))
	want := `[{"consent":` + v1 + `,"isDelete":false,"timestamp":"2026-01-31T12:00:00Z","txId":"tx001"},` +
		`{"consent":` + v2 + `,"isDelete":false,"timestamp":"2026-01-31T13:00:00Z","txId":"tx002"},` +
		`{"consent":` + v3 + `,"isDelete":false,"timestamp":"2026-01-31T14:00:00Z","txId":"tx003"}]`
	if out != want {
		t.Fatalf("history\n got: %s\nwant: %s", out, want)
	}

	// A delete (never done by the contracts, but possible in a history) has a null consent.
	key, _ := compositeKeyOf(t, objectConsent, "h1MSP", pA, "study-1")
	h.mustRun(h1, func(ctx *fakeContext) (string, error) { return "", ctx.stub.DelState(key) })
	out, _ = h.mustRun(h2, h.history("h1MSP", pA, "study-1"))
	if !strings.HasSuffix(out, `{"consent":null,"isDelete":true,"timestamp":"2026-01-31T14:00:00Z","txId":"tx005"}]`) {
		t.Fatalf("history with delete: %s", out)
	}

	if out, _ := h.mustRun(h2, h.history("h1MSP", pB, "study-1")); out != "[]" {
		t.Fatalf("history of an unknown key: %s", out)
	}
}

func compositeKeyOf(t *testing.T, objectType string, attrs ...string) (string, error) {
	t.Helper()
	return newFakeStub(newFakeLedger(), "", t0).CreateCompositeKey(objectType, attrs)
}

func TestHistoryRejects(t *testing.T) {
	h := newHarness(t)
	h.mustRun(h1, h.record(consentArg(t, nil)))
	h.expectRejected(h2, "INVALID_ARGUMENT: study: must match [A-Za-z0-9._:-]{1,128}", h.history("h1MSP", pA, "a b"))
	h.expectInternal(h2, "CreateCompositeKey", "build consent key", h.history("h1MSP", pA, "study-1"))
	h.expectInternal(h2, "GetHistoryForKey", "query consent history", h.history("h1MSP", pA, "study-1"))
	h.expectInternal(h2, "Iterator.Next", "iterate consent history", h.history("h1MSP", pA, "study-1"))
	h.expectInternal(h2, "Iterator.Close", "close consent history", h.history("h1MSP", pA, "study-1"))

	key, _ := compositeKeyOf(t, objectConsent, "h1MSP", pA, "study-1")
	h.ledger.history[key][0].Value = []byte("[")
	_, _, err := h.run(h2, h.history("h1MSP", pA, "study-1"))
	if err == nil || !strings.HasPrefix(err.Error(), "INTERNAL: decode stored state ") {
		t.Fatalf("corrupt history value: %v", err)
	}
	h.ledger.history[key][0].Timestamp = nil
	_, _, err = h.run(h2, h.history("h1MSP", pA, "study-1"))
	if err == nil || !strings.HasPrefix(err.Error(), "INTERNAL: read history timestamp: ") {
		t.Fatalf("history without timestamp: %v", err)
	}
}

func pseudonymsArg(t *testing.T, ps ...string) string {
	t.Helper()
	data, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestFilterPermittedTimeSemantics(t *testing.T) {
	h := newHarness(t)
	p := func(i int) string { return fmt.Sprintf("%064x", i) }
	// t0 = 2026-01-31T12:00:00Z is the filter's time in every case below.
	consents := []map[string]any{
		{"pseudonym": p(1)},                       // permitted, bounded
		{"pseudonym": p(2), "validUntil": drop{}}, // permitted, open-ended
		{"pseudonym": p(3), "validFrom": "2026-01-31T12:00:00Z", "validUntil": drop{}},                 // starts exactly now: permitted
		{"pseudonym": p(4), "validFrom": "2026-01-31T12:00:01Z", "validUntil": drop{}},                 // not yet valid
		{"pseudonym": p(5), "validUntil": "2026-01-31T12:00:00Z"},                                      // expires exactly now: excluded
		{"pseudonym": p(6), "validUntil": "2026-01-31T12:00:01Z"},                                      // expires in one second: permitted
		{"pseudonym": p(7), "validFrom": "2025-01-01T00:00:00Z", "validUntil": "2025-12-31T00:00:00Z"}, // expired
		{"pseudonym": p(8), "decision": "deny", "validUntil": drop{}},                                  // deny
		{"pseudonym": p(9)},                      // revoked below
		{"pseudonym": p(10), "study": "study-2"}, // other study
	}
	h.now = t0.Add(-time.Hour)
	h.mustRun(h1, h.recordBatch(batchArg(t, consents...)))
	h.mustRun(h1, h.revoke("h1MSP", p(9), "study-1", revHash))

	h.now = t0.Add(999 * time.Millisecond) // truncated: decisions use 12:00:00
	query := pseudonymsArg(t, p(11), p(6), p(5), p(4), p(3), p(2), p(1), p(7), p(8), p(9), p(10), p(6), p(5))
	out, stub := h.mustRun(h2, h.filter("h1MSP", "study-1", query))
	want := `{"asOf":"2026-01-31T12:00:00Z","org":"h1MSP","permitted":["` +
		strings.Join([]string{p(6), p(3), p(2), p(1), p(6)}, `","`) + `"],"study":"study-1"}`
	if out != want {
		t.Fatalf("filter\n got: %s\nwant: %s", out, want)
	}
	if len(stub.writes) != 0 || len(stub.events) != 0 {
		t.Fatal("FilterPermitted must not write or emit events")
	}
	if stub.calls["GetState"] != 11 {
		t.Fatalf("each distinct pseudonym is read once, got %d reads", stub.calls["GetState"])
	}

	// Consents of another org never count.
	out, _ = h.mustRun(h2, h.filter("h2MSP", "study-1", pseudonymsArg(t, p(1))))
	if out != `{"asOf":"2026-01-31T12:00:00Z","org":"h2MSP","permitted":[],"study":"study-1"}` {
		t.Fatalf("other org: %s", out)
	}
	if out, _ := h.mustRun(h2, h.filter("h1MSP", "study-1", "[]")); !strings.Contains(out, `"permitted":[]`) {
		t.Fatalf("empty query: %s", out)
	}
}

func TestFilterPermittedRejects(t *testing.T) {
	tooMany := make([]string, MaxFilterSize+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("%064x", i)
	}
	cases := []struct{ name, org, study, arg, want string }{
		{"bad org", "", "study-1", "[]", "INVALID_ARGUMENT: org: must be an MSP id matching [A-Za-z0-9._-]{1,128}"},
		{"bad study", "h1MSP", "study 1", "[]", "INVALID_ARGUMENT: study: must match [A-Za-z0-9._:-]{1,128}"},
		{"not array", "h1MSP", "study-1", `"` + pA + `"`, "INVALID_ARGUMENT: pseudonyms: must be a JSON array"},
		{"too many", "h1MSP", "study-1", pseudonymsArg(t, tooMany...), "INVALID_ARGUMENT: pseudonyms: at most 10000 pseudonyms, got 10001"},
		{"null item", "h1MSP", "study-1", `["` + pA + `",null]`, "INVALID_ARGUMENT: pseudonyms[1]: must be a string"},
		{"number item", "h1MSP", "study-1", `[7]`, "INVALID_ARGUMENT: pseudonyms[0]: must be a string"},
		{"bad item", "h1MSP", "study-1", `["` + pA + `","xyz"]`, "INVALID_ARGUMENT: pseudonyms[1]: must be 64 lower-case hex characters, got 3 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.expectRejected(h1, tc.want, h.filter(tc.org, tc.study, tc.arg))
		})
	}
	for _, tc := range []struct{ method, what string }{
		{"GetTxTimestamp", "read transaction timestamp"},
		{"CreateCompositeKey", "build consent key"},
		{"GetState", "read state"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			h := newHarness(t)
			h.expectInternal(h1, tc.method, tc.what, h.filter("h1MSP", "study-1", pseudonymsArg(t, pA)))
		})
	}
}
