package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func files(contents map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		c, ok := contents[path]
		if !ok {
			return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
		}
		return []byte(c), nil
	}
}

var pemFiles = files(map[string]string{"/tls/cert.pem": "CERT", "/tls/key.pem": "KEY", "/tls/ca.pem": "CA", "/tls/empty.pem": ""})

func TestLoadConfig(t *testing.T) {
	base := map[string]string{"CHAINCODE_ID": "medchain:abc", "CHAINCODE_SERVER_ADDRESS": "0.0.0.0:9999"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	t.Run("plain", func(t *testing.T) {
		cfg, err := loadConfig(env(base), pemFiles)
		if err != nil || cfg.ccid != "medchain:abc" || cfg.address != "0.0.0.0:9999" || !cfg.tls.Disabled {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	t.Run("server TLS", func(t *testing.T) {
		cfg, err := loadConfig(env(with(map[string]string{"CHAINCODE_TLS_CERT": "/tls/cert.pem", "CHAINCODE_TLS_KEY": "/tls/key.pem"})), pemFiles)
		if err != nil || cfg.tls.Disabled || string(cfg.tls.Cert) != "CERT" || string(cfg.tls.Key) != "KEY" || cfg.tls.ClientCACerts != nil {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	t.Run("mutual TLS", func(t *testing.T) {
		cfg, err := loadConfig(env(with(map[string]string{"CHAINCODE_TLS_CERT": "/tls/cert.pem", "CHAINCODE_TLS_KEY": "/tls/key.pem", "CHAINCODE_TLS_CLIENT_CA": "/tls/ca.pem"})), pemFiles)
		if err != nil || string(cfg.tls.ClientCACerts) != "CA" {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	errorCases := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"nothing set", map[string]string{}, "missing required environment variable(s): CHAINCODE_ID, CHAINCODE_SERVER_ADDRESS"},
		{"no address", map[string]string{"CHAINCODE_ID": "x"}, "missing required environment variable(s): CHAINCODE_SERVER_ADDRESS"},
		{"blank id", map[string]string{"CHAINCODE_ID": "  ", "CHAINCODE_SERVER_ADDRESS": "a:1"}, "missing required environment variable(s): CHAINCODE_ID"},
		{"cert without key", with(map[string]string{"CHAINCODE_TLS_CERT": "/tls/cert.pem"}), "set both CHAINCODE_TLS_CERT and CHAINCODE_TLS_KEY, or neither"},
		{"client CA without TLS", with(map[string]string{"CHAINCODE_TLS_CLIENT_CA": "/tls/ca.pem"}), "CHAINCODE_TLS_CLIENT_CA needs CHAINCODE_TLS_CERT and CHAINCODE_TLS_KEY"},
		{"missing cert file", with(map[string]string{"CHAINCODE_TLS_CERT": "/nope.pem", "CHAINCODE_TLS_KEY": "/tls/key.pem"}), "CHAINCODE_TLS_CERT: open /nope.pem: file does not exist"},
		{"missing key file", with(map[string]string{"CHAINCODE_TLS_CERT": "/tls/cert.pem", "CHAINCODE_TLS_KEY": "/nope.pem"}), "CHAINCODE_TLS_KEY: open /nope.pem: file does not exist"},
		{"empty CA file", with(map[string]string{"CHAINCODE_TLS_CERT": "/tls/cert.pem", "CHAINCODE_TLS_KEY": "/tls/key.pem", "CHAINCODE_TLS_CLIENT_CA": "/tls/empty.pem"}), "CHAINCODE_TLS_CLIENT_CA: /tls/empty.pem is empty"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(env(tc.vars), pemFiles)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNewServer(t *testing.T) {
	cfg := config{ccid: "medchain:abc", address: "127.0.0.1:0", tls: shim.TLSProperties{Disabled: true}}
	server, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if server.CCID != cfg.ccid || server.Address != cfg.address || !server.TLSProps.Disabled {
		t.Fatalf("%+v", server)
	}
	if _, ok := server.CC.(recovering); !ok {
		t.Fatalf("the chaincode must be wrapped to recover panics, got %T", server.CC)
	}
}

type panicky struct{}

func (panicky) Init(shim.ChaincodeStubInterface) *peer.Response   { panic(errors.New("init exploded")) }
func (panicky) Invoke(shim.ChaincodeStubInterface) *peer.Response { panic("invoke exploded") }

type fine struct{}

func (fine) Init(shim.ChaincodeStubInterface) *peer.Response   { return shim.Success([]byte("init")) }
func (fine) Invoke(shim.ChaincodeStubInterface) *peer.Response { return shim.Success([]byte("ok")) }

func TestRecoveringTurnsPanicsIntoErrors(t *testing.T) {
	r := recovering{panicky{}}
	if resp := r.Invoke(nil); resp.Status != shim.ERROR || resp.Message != "INTERNAL: chaincode panic: invoke exploded" {
		t.Fatalf("invoke: %+v", resp)
	}
	if resp := r.Init(nil); resp.Status != shim.ERROR || !strings.HasSuffix(resp.Message, "init exploded") {
		t.Fatalf("init: %+v", resp)
	}
	ok := recovering{fine{}}
	if resp := ok.Invoke(nil); resp.Status != shim.OK || string(resp.Payload) != "ok" {
		t.Fatalf("invoke passes through: %+v", resp)
	}
	if resp := ok.Init(nil); resp.Status != shim.OK || string(resp.Payload) != "init" {
		t.Fatalf("init passes through: %+v", resp)
	}
}
