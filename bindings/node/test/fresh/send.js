'use strict';
// Run by test.sh in a fresh npm project where the package from dist.sh was
// installed, with no LIBSMTP_*, PKG_CONFIG_PATH or LD_LIBRARY_PATH: the
// bundled library loads, and a message goes to the sink given as
// `node send.js HOST PORT TOKEN`. Prints where the library came from.
const { Session, libraryPath, libraryVersion } = require('libsmtp');

async function main() {
  const [host, port, token] = process.argv.slice(2);
  const s = new Session('smtp', { timeout: 10000 });
  try {
    await s.connect(host, Number(port));
    const refused = await s.sendmail('fresh@example.com', ['sink@example.com'],
      `Subject: fresh install ${token}\r\n\r\nsent by the installed package\r\n`);
    if (Object.keys(refused).length) throw new Error(`refused: ${JSON.stringify(refused)}`);
    await s.quit();
  } finally {
    s.close();
  }
  console.log(`${libraryPath()} ${libraryVersion()}`);
}
main().catch((e) => { console.error(e); process.exitCode = 1; });
