// The official Fabric Gateway Node client doing the submits of bench/ledger_throughput.py.
//
// Usage: node submit.js CONFIG.json
// CONFIG: {endpoint, serverNameOverride, tlsRootCertPath, mspId, certPath, keyPath, channel,
//          chaincode, contract, warmupFile, cases: [{name, function, payloadFile, concurrency}]}
// Each payload file holds one transaction argument per line (written by the Python side).
// Prints one JSON object: {cases: [{name, transactions, seconds, latencies_ms: [...]}]}.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
const { connect, hash, signers } = require('@hyperledger/fabric-gateway');

function readLines(path) {
    return fs
        .readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0);
}

async function runCase(contract, testCase) {
    const queue = readLines(testCase.payloadFile);
    const total = queue.length;
    const latencies = [];
    const worker = async () => {
        for (;;) {
            const payload = queue.pop();
            if (payload === undefined) {
                return;
            }
            const started = process.hrtime.bigint();
            // submitTransaction endorses, submits to ordering and waits for the commit status;
            // it throws when the transaction is not committed as valid.
            await contract.submitTransaction(testCase.function, payload);
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
    };
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: testCase.concurrency }, worker));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { name: testCase.name, transactions: total, seconds, latencies_ms: latencies };
}

async function main() {
    const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const tlsRootCert = fs.readFileSync(config.tlsRootCertPath);
    const client = new grpc.Client(config.endpoint, grpc.credentials.createSsl(tlsRootCert), {
        'grpc.ssl_target_name_override': config.serverNameOverride,
        'grpc.max_send_message_length': 100 * 1024 * 1024,
        'grpc.max_receive_message_length': 100 * 1024 * 1024,
    });
    const gateway = connect({
        client,
        identity: { mspId: config.mspId, credentials: fs.readFileSync(config.certPath) },
        signer: signers.newPrivateKeySigner(crypto.createPrivateKey(fs.readFileSync(config.keyPath))),
        hash: hash.sha256,
        // The same deadlines as medchain.ledger's defaults (policy.Deadlines).
        evaluateOptions: () => ({ deadline: Date.now() + 10000 }),
        endorseOptions: () => ({ deadline: Date.now() + 30000 }),
        submitOptions: () => ({ deadline: Date.now() + 10000 }),
        commitStatusOptions: () => ({ deadline: Date.now() + 60000 }),
    });
    try {
        const contract = gateway.getNetwork(config.channel).getContract(config.chaincode, config.contract);
        for (const payload of readLines(config.warmupFile)) {
            await contract.submitTransaction('Record', payload);
        }
        const cases = [];
        for (const testCase of config.cases) {
            cases.push(await runCase(contract, testCase));
        }
        process.stdout.write(JSON.stringify({ cases }) + '\n');
    } finally {
        gateway.close();
        client.close();
    }
}

main().catch((error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    if (error && error.details) {
        process.stderr.write(`${JSON.stringify(error.details)}\n`);
    }
    process.exit(1);
});
