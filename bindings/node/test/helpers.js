'use strict';
// The test servers of tests/servers/servers.json: the ones scripts/run_tests.py
// started for this suite (LIBSMTP_<NAME>=127.0.0.1:PORT, LIBSMTP_<NAME>_DIR),
// or, for a server it did not start (or a run without the runner), one
// started here from the same description; --parent-pid makes those exit
// with us.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');

const REPO = path.resolve(__dirname, '..', '..', '..');
const SERVERS = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'servers', 'servers.json'), 'utf8'));
const PYTHON = process.env.LIBSMTP_PYTHON || path.join(REPO, SERVERS.python);

function tmpdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `libsmtp-node-${prefix}-`));
}

/** The test CA's directory (ca.pem, cert.pem, key.pem): the runner's, or one made here. */
let tlsDir = process.env.LIBSMTP_TLS_FILES || null;
function tlsFiles() {
  if (!tlsDir) {
    tlsDir = tmpdir('tls');
    execFileSync(PYTHON, ['-c', [
      'import sys, trustme',
      'ca = trustme.CA()',
      'cert = ca.issue_cert("localhost", "127.0.0.1")',
      'ca.cert_pem.write_to_path(sys.argv[1] + "/ca.pem")',
      'cert.cert_chain_pems[0].write_to_path(sys.argv[1] + "/cert.pem")',
      'cert.private_key_pem.write_to_path(sys.argv[1] + "/key.pem")',
    ].join('\n'), tlsDir]);
  }
  return { dir: tlsDir, ca: path.join(tlsDir, 'ca.pem'), cert: path.join(tlsDir, 'cert.pem'), key: path.join(tlsDir, 'key.pem') };
}

/** A CA that signed nothing the servers present (PEM file). */
function otherCa() {
  const file = path.join(tmpdir('other-ca'), 'ca.pem');
  execFileSync(PYTHON, ['-c', 'import sys, trustme; trustme.CA().cert_pem.write_to_path(sys.argv[1])', file]);
  return file;
}

/** Start `script` of tests/servers/ with `args`; resolves to {host, port, dir, stop()}. */
async function startScript(script, args, dir) {
  const portFile = path.join(tmpdir('port'), 'port');
  const file = path.join(REPO, 'tests', 'servers', script);
  const proc = spawn(PYTHON, [file, ...args, '--port-file', portFile, '--parent-pid', String(process.pid),
    ...(dir ? ['--dir', dir] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk) => { if (stderr.length < 20000) stderr += chunk; });
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + SERVERS.ready_within_s * 1000;
  while (!fs.existsSync(portFile) || fs.readFileSync(portFile, 'utf8').trim() === '') {
    if (exited) throw new Error(`${script} exited (${JSON.stringify(exited)}): ${stderr}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${script} did not start within ${SERVERS.ready_within_s} s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: '127.0.0.1',
    port: Number(fs.readFileSync(portFile, 'utf8')),
    dir,
    async stop() {
      if (!exited) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Server `name` of servers.json: {host, port, dir, stop()}. The runner's
 * when it exported LIBSMTP_<NAME> (stop() then does nothing), else started
 * here from its description.
 */
async function server(name) {
  const env = process.env[`LIBSMTP_${name.toUpperCase()}`];
  if (env) {
    const [host, port] = env.split(':');
    return { host, port: Number(port), dir: process.env[`LIBSMTP_${name.toUpperCase()}_DIR`] || null, stop: async () => {} };
  }
  const desc = SERVERS.servers[name];
  if (!desc) throw new Error(`no server ${name} in servers.json`);
  const vars = { ...SERVERS.vars };
  if (desc.args.some((a) => a.includes('{tls}'))) vars.tls = tlsFiles().dir;
  const args = desc.args.map((a) => a.replace(/\{(\w+)\}/g, (_, v) => vars[v]));
  return startScript(desc.script, args, desc.dir ? tmpdir(name) : null);
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

/** How many messages the sink has stored (the suite's files run one at a time: see test.sh). */
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

module.exports = { REPO, PYTHON, server, stored, storedCount, closedPort, tlsFiles, otherCa, tmpdir };
