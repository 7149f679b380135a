package contracts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// txInfo is what a transaction knows about itself: its id and its timestamp, truncated to
// the second so that stored times and the time used for decisions are the same value.
type txInfo struct {
	id   string
	at   time.Time
	time string
}

func currentTx(stub shim.ChaincodeStubInterface) (txInfo, error) {
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return txInfo{}, internal("read transaction timestamp", err)
	}
	if err := ts.CheckValid(); err != nil {
		return txInfo{}, internal("read transaction timestamp", err)
	}
	at := ts.AsTime().UTC().Truncate(time.Second)
	return txInfo{id: stub.GetTxID(), at: at, time: at.Format(timeLayout)}, nil
}

// caller returns the submitting identity: MSP id and x509 client id.
func caller(ctx contractapi.TransactionContextInterface) (Identity, error) {
	ci := ctx.GetClientIdentity()
	// contract-api stores a typed nil *cid.ClientID when the creator cannot be decoded;
	// calling it would panic and take the chaincode server down.
	if ci == nil || (reflect.ValueOf(ci).Kind() == reflect.Pointer && reflect.ValueOf(ci).IsNil()) {
		return Identity{}, permissionDenied("caller identity unavailable")
	}
	msp, err := ci.GetMSPID()
	if err != nil || msp == "" {
		return Identity{}, permissionDenied("caller MSP id unavailable")
	}
	id, err := ci.GetID()
	if err != nil || id == "" {
		return Identity{}, permissionDenied("caller id unavailable")
	}
	return Identity{MSPID: msp, ID: id}, nil
}

// canonicalJSON encodes v with sorted object keys, no spaces and no HTML escaping, so the
// same value always yields the same bytes on every endorsing peer and matches the Python
// client's canonical_json for ASCII content.
func canonicalJSON(v any) ([]byte, error) {
	first, err := encodeJSON(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return encodeJSON(generic) // maps encode with sorted keys
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// result encodes a transaction's return value.
func result(v any) (string, error) {
	data, err := canonicalJSON(v)
	if err != nil {
		return "", internal("encode result", err)
	}
	return string(data), nil
}

func compositeKey(stub shim.ChaincodeStubInterface, objectType string, attrs ...string) (string, error) {
	key, err := stub.CreateCompositeKey(objectType, attrs)
	if err != nil {
		return "", internal("build "+objectType+" key", err)
	}
	return key, nil
}

// getJSON reads key into dst and reports whether it exists.
func getJSON(stub shim.ChaincodeStubInterface, key string, dst any) (bool, error) {
	data, err := stub.GetState(key)
	if err != nil {
		return false, internal("read state", err)
	}
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return false, internal("decode stored state", err)
	}
	return true, nil
}

func putJSON(stub shim.ChaincodeStubInterface, key string, v any) error {
	data, err := canonicalJSON(v)
	if err != nil {
		return internal("encode state", err)
	}
	if err := stub.PutState(key, data); err != nil {
		return internal("write state", err)
	}
	return nil
}

// setEvent sets the transaction's one event (Fabric keeps only the last one set).
func setEvent(stub shim.ChaincodeStubInterface, name string, payload any) error {
	data, err := canonicalJSON(payload)
	if err != nil {
		return internal("encode event", err)
	}
	if err := stub.SetEvent(name, data); err != nil {
		return internal("set event", err)
	}
	return nil
}

// scanJSON reads every state under a partial composite key, in key order, decoding each
// value with decode.
func scanJSON(stub shim.ChaincodeStubInterface, objectType string, attrs []string, decode func(key string, value []byte) error) (err error) {
	iter, err := stub.GetStateByPartialCompositeKey(objectType, attrs)
	if err != nil {
		return internal("query "+objectType+" keys", err)
	}
	defer func() {
		if cerr := iter.Close(); cerr != nil && err == nil {
			err = internal("close "+objectType+" query", cerr)
		}
	}()
	for iter.HasNext() {
		kv, err := iter.Next()
		if err != nil {
			return internal("iterate "+objectType+" keys", err)
		}
		if err := decode(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	return nil
}

// decodeStored unmarshals a stored value, reporting corruption as INTERNAL.
func decodeStored(key string, value []byte, dst any) error {
	if err := json.Unmarshal(value, dst); err != nil {
		return internal(fmt.Sprintf("decode stored state %q", key), err)
	}
	return nil
}
