// Node.js (real program, tests/run.sh `node`): the threads of an unmodified node run green.
// libuv's thread pool (zlib, crypto.pbkdf2, fs, dns.lookup's getaddrinfo), worker_threads (each
// a V8 isolate with its own event loop on its own thread), Atomics.wait/notify between threads
// (futexes) and an HTTP server with 50 concurrent client requests on the main event loop
// (epoll). Reads its input from stdin; prints one deterministic line per result, sorted.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const crypto = require('crypto');

const md5 = b => crypto.createHash('md5').update(b).digest('hex');

if (!isMainThread) {
    // A worker: hash its slice of the shared input, then hand a word over through Atomics.
    const { input, flag, k } = workerData;
    const bytes = new Uint8Array(input);
    const n = bytes.length / 4;
    const h = md5(bytes.subarray(k * n, (k + 1) * n));
    const ia = new Int32Array(flag);
    Atomics.wait(ia, 0, 0); // released by the main thread once every worker has started
    Atomics.add(ia, 1, 1);
    Atomics.notify(ia, 1);
    parentPort.postMessage(`worker ${k} ${h}`);
    return;
}

const fs = require('fs');
const zlib = require('zlib');
const http = require('http');
const dns = require('dns');
const os = require('os');
const path = require('path');

const out = [];
let pending = 1;
const done = line => {
    out.push(line);
    if (--pending === 0) {
        console.log(out.sort().join('\n'));
    }
};
const fail = (what, e) => {
    console.error(`node_threads: ${what}: ${e}`);
    process.exit(1);
};

const input = fs.readFileSync(0);
const n = Math.floor(input.length / 4) * 4;
out.push(`input ${n} ${md5(input.subarray(0, n))}`);

// Four quarters compressed and back on libuv's pool.
for (let q = 0; q < 4; q++) {
    const part = input.subarray((q * n) / 4, ((q + 1) * n) / 4);
    pending++;
    zlib.gzip(part, (e, z) => {
        if (e) fail('gzip', e);
        zlib.gunzip(z, (e2, back) => {
            if (e2) fail('gunzip', e2);
            done(`zlib ${q} ${back.length} ${md5(back)} ${back.equals(part)}`);
        });
    });
}

// Key derivations on the pool.
for (let i = 0; i < 6; i++) {
    pending++;
    crypto.pbkdf2(`pw${i}`, 'salt', 20000, 32, 'sha256', (e, key) => {
        if (e) fail('pbkdf2', e);
        done(`pbkdf2 ${i} ${key.toString('hex')}`);
    });
}

// A file written and read back through the pool.
pending++;
const file = path.join(os.tmpdir(), `node_threads.${process.pid}`);
fs.writeFile(file, input.subarray(0, 1 << 20), e => {
    if (e) fail('writeFile', e);
    fs.readFile(file, (e2, back) => {
        fs.unlink(file, () => {});
        if (e2) fail('readFile', e2);
        done(`fs ${back.length} ${md5(back)}`);
    });
});

// getaddrinfo on the pool.
pending++;
dns.lookup('localhost', { family: 4 }, (e, addr) => done(`dns localhost ${e ? e.code : addr}`));

// Workers over one shared copy of the input, released together by Atomics.notify.
const shared = new SharedArrayBuffer(n);
new Uint8Array(shared).set(input.subarray(0, n));
const flag = new SharedArrayBuffer(8);
const ia = new Int32Array(flag);
let online = 0;
for (let k = 0; k < 4; k++) {
    pending++;
    const w = new Worker(__filename, { workerData: { input: shared, flag, k } });
    w.on('message', m => done(m));
    w.on('error', e => fail(`worker ${k}`, e));
    w.on('online', () => {
        if (++online === 4) {
            Atomics.store(ia, 0, 1);
            Atomics.notify(ia, 0);
        }
    });
}

// An HTTP server on the main loop and 50 concurrent requests to it.
pending++;
const body = input.subarray(0, 64 * 1024);
const server = http.createServer((req, res) => {
    res.setHeader('content-length', body.length);
    res.end(body);
});
server.listen(0, '127.0.0.1', () => {
    const port = server.address().port;
    let finished = 0, good = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    for (let i = 0; i < 50; i++) {
        http.get({ host: '127.0.0.1', port, path: `/${i}`, agent }, res => {
            const parts = [];
            res.on('data', c => parts.push(c));
            res.on('end', () => {
                if (Buffer.concat(parts).equals(body)) good++;
                if (++finished === 50) {
                    agent.destroy();
                    server.close(() => done(`http 50 requests, ${good} bodies identical`));
                }
            });
        }).on('error', e => fail('http', e));
    }
});

// The main thread waits for every worker's word with a timed Atomics.wait (a futex wait with a
// timeout on the main thread, while the workers run).
pending++;
setTimeout(function check() {
    if (Atomics.load(ia, 1) < 4) {
        Atomics.wait(ia, 1, Atomics.load(ia, 1), 50);
        return setTimeout(check, 1);
    }
    done('atomics 4 workers counted');
}, 1);

done('start');
