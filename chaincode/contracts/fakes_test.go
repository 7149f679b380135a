package contracts

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeLedger is committed world state plus per-key history, shared by successive fake transactions.
type fakeLedger struct {
	state   map[string][]byte
	history map[string][]*queryresult.KeyModification // oldest first
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{state: map[string][]byte{}, history: map[string][]*queryresult.KeyModification{}}
}

type fakeEvent struct {
	name    string
	payload string
}

// fakeStub behaves like the peer for one transaction: reads see committed state only, writes
// are buffered and applied by commit (which the harness calls only when the function
// succeeded), as a failed endorsement leaves the ledger untouched. Methods the contracts
// never call are left to the embedded nil interface and panic if called.
type fakeStub struct {
	shim.ChaincodeStubInterface
	ledger    *fakeLedger
	txID      string
	ts        *timestamppb.Timestamp
	writes    map[string][]byte // nil value: delete
	reads     map[string]bool
	events    []fakeEvent
	fail      map[string]error // method name -> error to return
	failNth   map[string]int   // method name -> only the n-th call fails (1-based); 0 = every call
	calls     map[string]int
	args      []string
	creator   []byte
	batchOpen bool
	batchUsed bool
}

func newFakeStub(ledger *fakeLedger, txID string, at time.Time) *fakeStub {
	return &fakeStub{
		ledger: ledger, txID: txID, ts: timestamppb.New(at),
		writes: map[string][]byte{}, reads: map[string]bool{},
		fail: map[string]error{}, failNth: map[string]int{}, calls: map[string]int{},
	}
}

// injected counts a call of method and returns the error configured for it, if any.
func (s *fakeStub) injected(method string) error {
	s.calls[method]++
	if n := s.failNth[method]; n != 0 && n != s.calls[method] {
		return nil
	}
	return s.fail[method]
}

func (s *fakeStub) GetTxID() string { return s.txID }

func (s *fakeStub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	if err := s.injected("GetTxTimestamp"); err != nil {
		return nil, err
	}
	return s.ts, nil
}

func (s *fakeStub) GetState(key string) ([]byte, error) {
	if err := s.injected("GetState"); err != nil {
		return nil, err
	}
	s.reads[key] = true
	v, ok := s.ledger.state[key]
	if !ok {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

func (s *fakeStub) PutState(key string, value []byte) error {
	if err := s.injected("PutState"); err != nil {
		return err
	}
	if key == "" || len(value) == 0 {
		return errors.New("fake: empty key or value")
	}
	s.writes[key] = append([]byte(nil), value...)
	return nil
}

func (s *fakeStub) DelState(key string) error {
	if err := s.injected("DelState"); err != nil {
		return err
	}
	s.writes[key] = nil
	return nil
}

func (s *fakeStub) SetEvent(name string, payload []byte) error {
	if err := s.injected("SetEvent"); err != nil {
		return err
	}
	s.events = append(s.events, fakeEvent{name: name, payload: string(payload)})
	return nil
}

func (s *fakeStub) StartWriteBatch() { s.batchOpen, s.batchUsed = true, true }

func (s *fakeStub) FinishWriteBatch() error {
	s.batchOpen = false
	return s.injected("FinishWriteBatch")
}

func (s *fakeStub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	if err := s.injected("CreateCompositeKey"); err != nil {
		return "", err
	}
	return shim.CreateCompositeKey(objectType, attributes)
}

func (s *fakeStub) SplitCompositeKey(key string) (string, []string, error) {
	if err := s.injected("SplitCompositeKey"); err != nil {
		return "", nil, err
	}
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(key, "\x00"), "\x00"), "\x00")
	return parts[0], parts[1:], nil
}

func (s *fakeStub) GetStateByPartialCompositeKey(objectType string, attrs []string) (shim.StateQueryIteratorInterface, error) {
	if err := s.injected("GetStateByPartialCompositeKey"); err != nil {
		return nil, err
	}
	prefix, err := shim.CreateCompositeKey(objectType, attrs)
	if err != nil {
		return nil, err
	}
	var keys []string
	for k := range s.ledger.state {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	it := &fakeStateIterator{stub: s}
	for _, k := range keys {
		it.items = append(it.items, &queryresult.KV{Key: k, Value: s.ledger.state[k]})
	}
	return it, nil
}

func (s *fakeStub) GetHistoryForKey(key string) (shim.HistoryQueryIteratorInterface, error) {
	if err := s.injected("GetHistoryForKey"); err != nil {
		return nil, err
	}
	mods := s.ledger.history[key]
	it := &fakeHistoryIterator{stub: s}
	for i := len(mods) - 1; i >= 0; i-- { // the peer returns newest first
		it.items = append(it.items, mods[i])
	}
	return it, nil
}

func (s *fakeStub) GetFunctionAndParameters() (string, []string) {
	if len(s.args) == 0 {
		return "", nil
	}
	return s.args[0], s.args[1:]
}

func (s *fakeStub) GetCreator() ([]byte, error) { return s.creator, nil }

// commit applies the buffered writes in key order and records them in the key histories.
func (s *fakeStub) commit() {
	keys := make([]string, 0, len(s.writes))
	for k := range s.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := s.writes[k]
		if v == nil {
			delete(s.ledger.state, k)
		} else {
			s.ledger.state[k] = v
		}
		s.ledger.history[k] = append(s.ledger.history[k], &queryresult.KeyModification{
			TxId: s.txID, Value: v, Timestamp: s.ts, IsDelete: v == nil,
		})
	}
}

type fakeStateIterator struct {
	stub  *fakeStub
	items []*queryresult.KV
	next  int
}

func (it *fakeStateIterator) HasNext() bool { return it.next < len(it.items) }

func (it *fakeStateIterator) Close() error { return it.stub.injected("Iterator.Close") }

func (it *fakeStateIterator) Next() (*queryresult.KV, error) {
	if err := it.stub.injected("Iterator.Next"); err != nil {
		return nil, err
	}
	it.next++
	return it.items[it.next-1], nil
}

type fakeHistoryIterator struct {
	stub  *fakeStub
	items []*queryresult.KeyModification
	next  int
}

func (it *fakeHistoryIterator) HasNext() bool { return it.next < len(it.items) }

func (it *fakeHistoryIterator) Close() error { return it.stub.injected("Iterator.Close") }

func (it *fakeHistoryIterator) Next() (*queryresult.KeyModification, error) {
	if err := it.stub.injected("Iterator.Next"); err != nil {
		return nil, err
	}
	it.next++
	return it.items[it.next-1], nil
}

// fakeIdentity is the caller: an MSP id and an x509 client id, optionally failing.
type fakeIdentity struct {
	cid.ClientIdentity
	msp, id       string
	mspErr, idErr error
}

func (f *fakeIdentity) GetMSPID() (string, error) { return f.msp, f.mspErr }
func (f *fakeIdentity) GetID() (string, error)    { return f.id, f.idErr }

// fakeContext is the transaction context handed to contract functions.
type fakeContext struct {
	stub     *fakeStub
	identity cid.ClientIdentity
}

func (c *fakeContext) GetStub() shim.ChaincodeStubInterface  { return c.stub }
func (c *fakeContext) GetClientIdentity() cid.ClientIdentity { return c.identity }

// identity returns a caller of org msp; user distinguishes identities within one org.
func identity(msp, user string) *fakeIdentity {
	return &fakeIdentity{msp: msp, id: fmt.Sprintf("x509::CN=%s,OU=client::CN=ca.%s", user, msp)}
}

// harness runs successive transactions against one fake ledger.
type harness struct {
	t       *testing.T
	ledger  *fakeLedger
	now     time.Time
	seq     int
	consent *ConsentContract
	study   *StudyContract
	// prepare, when set, adjusts the next transaction's stub (e.g. to inject a failure).
	prepare func(*fakeStub)
}

var t0 = time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	return &harness{t: t, ledger: newFakeLedger(), now: t0, consent: NewConsentContract(), study: NewStudyContract()}
}

// run executes one transaction as caller and commits its writes when it succeeds.
func (h *harness) run(caller cid.ClientIdentity, fn func(ctx *fakeContext) (string, error)) (string, *fakeStub, error) {
	h.t.Helper()
	h.seq++
	stub := newFakeStub(h.ledger, fmt.Sprintf("tx%03d", h.seq), h.now)
	if h.prepare != nil {
		h.prepare(stub)
		h.prepare = nil
	}
	out, err := fn(&fakeContext{stub: stub, identity: caller})
	if err == nil {
		if len(stub.events) > 1 {
			h.t.Fatalf("transaction %s set %d events; Fabric keeps one", stub.txID, len(stub.events))
		}
		stub.commit()
	} else if out != "" {
		h.t.Fatalf("failed transaction returned a result: %s", out)
	}
	return out, stub, err
}

// mustRun runs a transaction that must succeed.
func (h *harness) mustRun(caller cid.ClientIdentity, fn func(ctx *fakeContext) (string, error)) (string, *fakeStub) {
	h.t.Helper()
	out, stub, err := h.run(caller, fn)
	if err != nil {
		h.t.Fatalf("unexpected error: %v", err)
	}
	return out, stub
}

// state returns the committed value of a composite key.
func (h *harness) state(objectType string, attrs ...string) string {
	h.t.Helper()
	key, err := shim.CreateCompositeKey(objectType, attrs)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(h.ledger.state[key])
}

// expectInternal injects errBoom into one stub method and expects "INTERNAL: <what>: boom".
func (h *harness) expectInternal(caller cid.ClientIdentity, method, what string, fn func(*fakeContext) (string, error)) {
	h.t.Helper()
	h.prepare = func(s *fakeStub) { s.fail[method] = errBoom }
	h.expectRejected(caller, "INTERNAL: "+what+": boom", fn)
}

// expectInternalAt makes only the n-th call of method fail with errBoom.
func (h *harness) expectInternalAt(caller cid.ClientIdentity, method string, n int, what string, fn func(*fakeContext) (string, error)) {
	h.t.Helper()
	h.prepare = func(s *fakeStub) { s.fail[method], s.failNth[method] = errBoom, n }
	h.expectRejected(caller, "INTERNAL: "+what+": boom", fn)
}

// expectRejected runs a transaction that must fail with exactly the error message want.
func (h *harness) expectRejected(caller cid.ClientIdentity, want string, fn func(ctx *fakeContext) (string, error)) {
	h.t.Helper()
	_, _, err := h.run(caller, fn)
	if err == nil {
		h.t.Fatalf("expected error %q, got success", want)
	}
	if err.Error() != want {
		h.t.Fatalf("error mismatch\n got: %s\nwant: %s", err.Error(), want)
	}
}
