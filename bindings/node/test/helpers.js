'use strict';
// Test servers from tests/servers/ (aiosmtpd in build/venv), started per
// test file and stopped by after(); --parent-pid makes them exit with us.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');

const REPO = path.resolve(__dirname, '..', '..', '..');
const PYTHON = process.env.LIBSMTP_PYTHON || path.join(REPO, 'build', 'venv', 'bin', 'python');

function tmpdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `libsmtp-node-${prefix}-`));
}

/** Start tests/servers/<script> (or test/servers/<script>) with `args`; resolves to {port, dir, stop()}. */
async function startServer(script, args = [], { dir = tmpdir(path.basename(script, '.py')) } = {}) {
  const portFile = path.join(dir, 'port');
  // The repository's servers, or this binding's own (test/servers/).
  const own = path.join(__dirname, 'servers', script);
  const file = fs.existsSync(own) ? own : path.join(REPO, 'tests', 'servers', script);
  const proc = spawn(PYTHON, [file, ...args,
    '--port-file', portFile, '--parent-pid', String(process.pid)],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk) => { if (stderr.length < 20000) stderr += chunk; });
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + 20000;
  while (!fs.existsSync(portFile)) {
    if (exited) throw new Error(`${script} exited (${JSON.stringify(exited)}): ${stderr}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${script} did not start within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(fs.readFileSync(portFile, 'utf8'));
  return {
    port,
    dir,
    get stderr() { return stderr; },
    /** Stop the server and remove its directory. */
    async stop() {
      if (!exited) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A sink.py server storing into a fresh directory. */
function startSink(extra = []) {
  const dir = tmpdir('sink');
  return startServer('sink.py', ['--dir', dir, ...extra], { dir });
}

/** The message the sink stored for a reply "... queued as NNNN". */
function stored(sink, reply) {
  const m = /queued as (\d+)/.exec(reply.message);
  if (!m) throw new Error(`no queue id in ${JSON.stringify(reply)}`);
  const base = path.join(sink.dir, m[1]);
  return {
    bytes: fs.readFileSync(`${base}.eml`),
    envelope: JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')),
  };
}

function storedCount(sink) {
  return fs.readdirSync(sink.dir).filter((f) => f.endsWith('.eml')).length;
}

/** A loopback port nothing listens on (bound, then released). */
function closedPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A test CA and a certificate for localhost / 127.0.0.1 (trustme), as PEM files. */
function makeCerts() {
  const dir = tmpdir('certs');
  execFileSync(PYTHON, ['-c', [
    'import sys, trustme',
    'ca = trustme.CA()',
    'cert = ca.issue_cert("localhost", "127.0.0.1")',
    'ca.cert_pem.write_to_path(sys.argv[1] + "/ca.pem")',
    'cert.cert_chain_pems[0].write_to_path(sys.argv[1] + "/cert.pem")',
    'cert.private_key_pem.write_to_path(sys.argv[1] + "/key.pem")',
    'trustme.CA().cert_pem.write_to_path(sys.argv[1] + "/other-ca.pem")',
  ].join('\n'), dir]);
  return { dir, ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'),
    key: path.join(dir, 'key.pem'), otherCa: path.join(dir, 'other-ca.pem') };
}

module.exports = { REPO, PYTHON, startServer, startSink, stored, storedCount, closedPort, makeCerts, tmpdir };
