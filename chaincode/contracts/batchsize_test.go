package contracts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// Fabric limits the batch size is compared with (sample configtx.yaml and gRPC defaults).
const (
	preferredMaxBytes = 2 * 1024 * 1024   // Orderer.BatchSize.PreferredMaxBytes: 2 MB
	absoluteMaxBytes  = 99 * 1024 * 1024  // Orderer.BatchSize.AbsoluteMaxBytes: 99 MB
	grpcMaxMessage    = 100 * 1024 * 1024 // peer/orderer gRPC and shim message limit: 100 MiB
)

// batchSizes are the parts of a RecordBatch transaction that grow with the batch.
type batchSizes struct {
	argument int // the JSON argument as sent by the client
	input    int // peer.ChaincodeInput (function name + argument) as carried in the proposal and the transaction
	rwset    int // kvrwset.KVRWSet of the chaincode namespace: reads with versions, writes with values
	writeKV  int // raw bytes of the written keys and values
	response int // the result payload (all stored consents)
	event    int // peer.ChaincodeEvent with the ConsentRecorded payload
}

func (s batchSizes) total() int { return s.input + s.rwset + s.response + s.event }

// sizeConsentBatch runs a RecordBatch of n distinct consents against the fake ledger and measures
// the serialized size of what the transaction carries. When rewrite is set the keys already
// exist, so every read carries a version.
func sizeConsentBatch(tb testing.TB, n int, rewrite bool) batchSizes {
	tb.Helper()
	items := make([]string, n)
	for i := range items {
		sum := sha256.Sum256([]byte("patient-" + strconv.Itoa(i)))
		items[i] = fmt.Sprintf(`{"decision":"permit","documentHash":"%x","org":"h1MSP","pseudonym":"%s","study":"breast-cancer-fedavg-2026",`+
			`"validFrom":"2026-01-01T00:00:00Z","validUntil":"2027-01-01T00:00:00Z"}`, sha256.Sum256(sum[:]), hex.EncodeToString(sum[:]))
	}
	arg := "[" + strings.Join(items, ",") + "]"

	ledger := newFakeLedger()
	ctx := &fakeContext{stub: newFakeStub(ledger, "tx-seed", t0), identity: h1}
	contract := NewConsentContract()
	if rewrite {
		if _, err := contract.RecordBatch(ctx, arg); err != nil {
			tb.Fatal(err)
		}
		ctx.stub.commit()
	}
	// A 64-hex transaction id, as Fabric's (SHA-256 of nonce and creator).
	stub := newFakeStub(ledger, fmt.Sprintf("%x", sha256.Sum256([]byte("tx"))), t0)
	ctx = &fakeContext{stub: stub, identity: h1}
	out, err := contract.RecordBatch(ctx, arg)
	if err != nil {
		tb.Fatal(err)
	}

	sizes := batchSizes{argument: len(arg), response: len(out)}
	sizes.input = proto.Size(&peer.ChaincodeInput{Args: [][]byte{[]byte("consent:RecordBatch"), []byte(arg)}})
	rw := &kvrwset.KVRWSet{}
	for _, key := range sortedKeys(stub.reads) {
		read := &kvrwset.KVRead{Key: key}
		if rewrite {
			read.Version = &kvrwset.Version{BlockNum: 1_000_000, TxNum: 10}
		}
		rw.Reads = append(rw.Reads, read)
	}
	for _, key := range sortedKeys(stub.writes) {
		rw.Writes = append(rw.Writes, &kvrwset.KVWrite{Key: key, Value: stub.writes[key]})
		sizes.writeKV += len(key) + len(stub.writes[key])
	}
	sizes.rwset = proto.Size(rw)
	sizes.event = proto.Size(&peer.ChaincodeEvent{
		ChaincodeId: "medchain", TxId: stub.txID, EventName: stub.events[0].name, Payload: []byte(stub.events[0].payload),
	})
	if len(rw.Reads) != n || len(rw.Writes) != n {
		tb.Fatalf("want %d reads and writes, got %d and %d", n, len(rw.Reads), len(rw.Writes))
	}
	return sizes
}

func TestRecordBatchOf1000FitsFabricLimits(t *testing.T) {
	for _, rewrite := range []bool{false, true} {
		s := sizeConsentBatch(t, MaxBatchSize, rewrite)
		t.Logf("1000-consent RecordBatch (rewrite=%t): argument %d B, ChaincodeInput %d B, KVRWSet %d B (keys+values %d B), "+
			"response %d B, event %d B, total %d B = %.2f MiB",
			rewrite, s.argument, s.input, s.rwset, s.writeKV, s.response, s.event, s.total(), float64(s.total())/(1024*1024))
		if s.total() >= preferredMaxBytes {
			t.Errorf("a full batch (%d B) no longer fits one preferred block (%d B)", s.total(), preferredMaxBytes)
		}
		if s.total() >= absoluteMaxBytes || s.total() >= grpcMaxMessage {
			t.Errorf("a full batch (%d B) exceeds Fabric's hard limits", s.total())
		}
	}
}

func BenchmarkRecordBatch1000(b *testing.B) {
	var s batchSizes
	for b.Loop() {
		s = sizeConsentBatch(b, MaxBatchSize, false)
	}
	b.ReportMetric(float64(s.total()), "tx-bytes")
	b.ReportMetric(float64(s.argument), "arg-bytes")
}
