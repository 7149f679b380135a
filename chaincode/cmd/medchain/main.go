// Command medchain-chaincode runs the MedChain chaincode as an external service (CCaaS):
// the peer dials it at CHAINCODE_SERVER_ADDRESS.
//
// Environment:
//
//	CHAINCODE_ID              package id the peer knows the chaincode by (required)
//	CHAINCODE_SERVER_ADDRESS  listen address, host:port (required)
//	CHAINCODE_TLS_CERT        PEM server certificate file  } both or neither;
//	CHAINCODE_TLS_KEY         PEM server private key file  } TLS is off when unset
//	CHAINCODE_TLS_CLIENT_CA   PEM CA file; when set, peers must present a client certificate
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/medchain/medchain/chaincode/contracts"
)

// config is everything the server needs, read from the environment.
type config struct {
	ccid    string
	address string
	tls     shim.TLSProperties
}

// loadConfig reads the environment through lookup (os.LookupEnv in production) and readFile.
func loadConfig(lookup func(string) (string, bool), readFile func(string) ([]byte, error)) (config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	cfg := config{ccid: get("CHAINCODE_ID"), address: get("CHAINCODE_SERVER_ADDRESS")}
	var missing []string
	if cfg.ccid == "" {
		missing = append(missing, "CHAINCODE_ID")
	}
	if cfg.address == "" {
		missing = append(missing, "CHAINCODE_SERVER_ADDRESS")
	}
	if len(missing) > 0 {
		return config{}, fmt.Errorf("missing required environment variable(s): %s", strings.Join(missing, ", "))
	}
	certPath, keyPath, caPath := get("CHAINCODE_TLS_CERT"), get("CHAINCODE_TLS_KEY"), get("CHAINCODE_TLS_CLIENT_CA")
	if certPath == "" && keyPath == "" {
		if caPath != "" {
			return config{}, errors.New("CHAINCODE_TLS_CLIENT_CA needs CHAINCODE_TLS_CERT and CHAINCODE_TLS_KEY")
		}
		cfg.tls = shim.TLSProperties{Disabled: true}
		return cfg, nil
	}
	if certPath == "" || keyPath == "" {
		return config{}, errors.New("set both CHAINCODE_TLS_CERT and CHAINCODE_TLS_KEY, or neither")
	}
	var err error
	if cfg.tls.Cert, err = readPEM(readFile, "CHAINCODE_TLS_CERT", certPath); err != nil {
		return config{}, err
	}
	if cfg.tls.Key, err = readPEM(readFile, "CHAINCODE_TLS_KEY", keyPath); err != nil {
		return config{}, err
	}
	if caPath != "" {
		if cfg.tls.ClientCACerts, err = readPEM(readFile, "CHAINCODE_TLS_CLIENT_CA", caPath); err != nil {
			return config{}, err
		}
	}
	return cfg, nil
}

func readPEM(readFile func(string) ([]byte, error), variable, path string) ([]byte, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: %s is empty", variable, path)
	}
	return data, nil
}

// newServer builds the CCaaS server around the MedChain chaincode.
func newServer(cfg config) (*shim.ChaincodeServer, error) {
	cc, err := contracts.NewChaincode()
	if err != nil {
		return nil, fmt.Errorf("build chaincode: %w", err)
	}
	return &shim.ChaincodeServer{CCID: cfg.ccid, Address: cfg.address, CC: recovering{cc}, TLSProps: cfg.tls}, nil
}

// recovering turns a panic inside a transaction into an INTERNAL error response. The shim
// runs each transaction in its own goroutine without recover, so one panic would otherwise
// stop the chaincode server for every transaction of every client.
type recovering struct {
	cc shim.Chaincode
}

func (r recovering) Init(stub shim.ChaincodeStubInterface) (resp *peer.Response) {
	defer recoverInto(&resp)
	return r.cc.Init(stub)
}

func (r recovering) Invoke(stub shim.ChaincodeStubInterface) (resp *peer.Response) {
	defer recoverInto(&resp)
	return r.cc.Invoke(stub)
}

func recoverInto(resp **peer.Response) {
	if p := recover(); p != nil {
		log.Printf("medchain-chaincode: transaction panicked: %v", p)
		*resp = shim.Error(fmt.Sprintf("INTERNAL: chaincode panic: %v", p))
	}
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	cfg, err := loadConfig(os.LookupEnv, os.ReadFile)
	if err != nil {
		log.Fatalf("medchain-chaincode: %v", err)
	}
	server, err := newServer(cfg)
	if err != nil {
		log.Fatalf("medchain-chaincode: %v", err)
	}
	log.Printf("medchain-chaincode %s: serving %s on %s (tls=%t)", contracts.Version, cfg.ccid, cfg.address, !cfg.tls.Disabled)
	if err := server.Start(); err != nil {
		log.Fatalf("medchain-chaincode: %v", err)
	}
}
