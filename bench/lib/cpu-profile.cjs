// Preloaded with `--require` (NODE_OPTIONS may not carry --cpu-prof): profiles the process's main
// thread from start to exit and writes a V8 .cpuprofile into BENCH_CPU_PROF_DIR, as --cpu-prof does.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // A session on the process's own thread answers synchronously.
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `sidecar-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
