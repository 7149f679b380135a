package contracts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// creator returns a serialized Fabric identity (MSP id + PEM certificate), as a peer passes it.
func creator(t *testing.T, mspID, commonName string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     t0.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	data, err := proto.Marshal(&msp.SerializedIdentity{Mspid: mspID, IdBytes: pemCert})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func invoke(t *testing.T, cc *contractapi.ContractChaincode, ledger *fakeLedger, who []byte, args ...string) (int32, string, string) {
	t.Helper()
	stub := newFakeStub(ledger, "txinvoke", t0)
	stub.args = args
	stub.creator = who
	resp := cc.Invoke(stub)
	if resp.Status == 200 {
		stub.commit()
	}
	return resp.Status, string(resp.Payload), resp.Message
}

func TestChaincodeMetadataListsExactlyTheInterface(t *testing.T) {
	cc, err := NewChaincode()
	if err != nil {
		t.Fatal(err)
	}
	status, payload, msg := invoke(t, cc, newFakeLedger(), nil, "org.hyperledger.fabric:GetMetadata")
	if status != 200 {
		t.Fatalf("GetMetadata: %d %s", status, msg)
	}
	var meta struct {
		Contracts map[string]struct {
			Info         struct{ Title, Version string }
			Transactions []struct {
				Name string
				Tag  []string
			}
		}
	}
	if err := json.Unmarshal([]byte(payload), &meta); err != nil {
		t.Fatal(err)
	}
	if info := meta.Contracts["consent"].Info; info.Title != "ConsentContract" || info.Version != Version {
		t.Fatalf("consent info: %+v", info)
	}
	if info := meta.Contracts["study"].Info; info.Title != "StudyContract" || info.Version != Version {
		t.Fatalf("study info: %+v", info)
	}
	want := map[string]map[string]string{
		"consent": {"Record": "SUBMIT", "RecordBatch": "SUBMIT", "Revoke": "SUBMIT",
			"Get": "EVALUATE", "History": "EVALUATE", "FilterPermitted": "EVALUATE"},
		"study": {"CreateStudy": "SUBMIT", "JoinStudy": "SUBMIT", "OpenRound": "SUBMIT", "SubmitUpdate": "SUBMIT",
			"CommitRound": "SUBMIT", "GetStudy": "EVALUATE", "ListStudies": "EVALUATE", "GetRound": "EVALUATE",
			"ModelLineage": "EVALUATE"},
	}
	for name, fns := range want {
		got := map[string]string{}
		for _, tx := range meta.Contracts[name].Transactions {
			kind := "SUBMIT"
			if slices.Contains(tx.Tag, "EVALUATE") {
				kind = "EVALUATE"
			}
			got[tx.Name] = kind
		}
		if len(got) != len(fns) {
			t.Fatalf("contract %s exposes %v, want %v", name, got, fns)
		}
		for fn, kind := range fns {
			if got[fn] != kind {
				t.Fatalf("%s:%s is %q, want %q", name, fn, got[fn], kind)
			}
		}
	}
}

func TestInvokeThroughContractAPI(t *testing.T) {
	cc, err := NewChaincode()
	if err != nil {
		t.Fatal(err)
	}
	ledger := newFakeLedger()
	alice := creator(t, "h1MSP", "alice")

	status, payload, msg := invoke(t, cc, ledger, alice, "consent:Record", consentArg(t, nil))
	if status != 200 || !strings.HasPrefix(payload, `{"decision":"permit"`) || !strings.Contains(payload, `"txId":"txinvoke"`) {
		t.Fatalf("Record: %d %q %q", status, payload, msg)
	}
	status, _, msg = invoke(t, cc, ledger, alice, "consent:Record", consentArg(t, map[string]any{"org": "h2MSP"}))
	if status != 500 || msg != "PERMISSION_DENIED: caller MSP h1MSP may not write consents of org h2MSP" {
		t.Fatalf("foreign org: %d %q", status, msg)
	}
	status, _, msg = invoke(t, cc, ledger, alice, "consent:Get", "h1MSP", pA, "other")
	if status != 500 || msg != "NOT_FOUND: consent (h1MSP, "+pA+", other)" {
		t.Fatalf("missing consent: %d %q", status, msg)
	}

	status, payload, msg = invoke(t, cc, ledger, alice, "study:CreateStudy", studyArg(t, nil))
	if status != 200 {
		t.Fatalf("CreateStudy: %d %q", status, msg)
	}
	var study Study
	if err := json.Unmarshal([]byte(payload), &study); err != nil {
		t.Fatal(err)
	}
	// The client id is cid's GetID(): base64 of "x509::<subject DN>::<issuer DN>".
	decoded, err := base64.StdEncoding.DecodeString(study.Coordinator.ID)
	if study.Coordinator.MSPID != "h1MSP" || err != nil || string(decoded) != "x509::CN=alice::CN=alice" {
		t.Fatalf("coordinator from the x509 creator: %+v (%s)", study.Coordinator, decoded)
	}
	// An undecodable creator gives the contract no identity: writes are refused, not crashed.
	status, _, msg = invoke(t, cc, ledger, []byte("garbage"), "study:JoinStudy", "study-1")
	if status != 500 || msg != "PERMISSION_DENIED: caller identity unavailable" {
		t.Fatalf("no identity: %d %q", status, msg)
	}
}

func TestEncodingFailuresAreInternal(t *testing.T) {
	stub := newFakeStub(newFakeLedger(), "tx", t0)
	bad := map[string]float64{"x": nan()}
	if _, err := result(bad); err == nil || !strings.HasPrefix(err.Error(), "INTERNAL: encode result: ") {
		t.Fatalf("result: %v", err)
	}
	if err := putJSON(stub, "k", bad); err == nil || !strings.HasPrefix(err.Error(), "INTERNAL: encode state: ") {
		t.Fatalf("putJSON: %v", err)
	}
	if err := setEvent(stub, "E", bad); err == nil || !strings.HasPrefix(err.Error(), "INTERNAL: encode event: ") {
		t.Fatalf("setEvent: %v", err)
	}
}

func TestCanonicalJSONSortsKeysWithoutEscaping(t *testing.T) {
	type inner struct {
		Zeta  int    `json:"zeta"`
		Alpha string `json:"alpha"`
	}
	data, err := canonicalJSON(struct {
		B inner              `json:"b"`
		A map[string]float64 `json:"a"`
		C []string           `json:"c"`
	}{B: inner{Zeta: 12345678901234, Alpha: "<&>"}, A: map[string]float64{"y": 0.1, "x": 2}, C: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != `{"a":{"x":2,"y":0.1},"b":{"alpha":"<&>","zeta":12345678901234},"c":[]}` {
		t.Fatalf("canonical JSON: %s", got)
	}
}
