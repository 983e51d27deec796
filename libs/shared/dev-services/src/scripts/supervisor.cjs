// Tiny process supervisor: `node supervisor.cjs '<json>'`, config
//   { command, args, cwd, dir, logFile, graceMs }   (the child inherits this process's environment)
// Starts `command` in its own process group with stdout/stderr appended to logFile,
// writes <dir>/supervisor.json ({ supervisorPid, pid }) and, when the child exits,
// <dir>/exit.json ({ code, signal, error }). On SIGTERM, or as soon as the process
// that started the supervisor is gone (even SIGKILLed), it stops the child (SIGTERM,
// then SIGKILL to the whole group after graceMs) and removes `dir`.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const cfg = JSON.parse(process.argv[2]);
const parentPid = process.ppid;
const graceMs = cfg.graceMs ?? 10000;
const out = fs.openSync(cfg.logFile, 'a');

const child = spawn(cfg.command, cfg.args, {
  cwd: cfg.cwd,
  stdio: ['ignore', out, out],
  detached: true, // own process group, so grandchildren (e.g. postgres) are reached too
});
fs.writeFileSync(path.join(cfg.dir, 'supervisor.json'), JSON.stringify({ supervisorPid: process.pid, pid: child.pid }));

let exited = false;
const writeExit = (info) => {
  exited = true;
  try {
    fs.writeFileSync(path.join(cfg.dir, 'exit.json'), JSON.stringify(info));
  } catch {
    // the directory may already be gone during cleanup
  }
};
child.on('error', (err) => writeExit({ error: err.message }));
child.on('exit', (code, signal) => writeExit({ code, signal }));

const killGroup = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // group already gone
  }
};

let cleaning = false;
function cleanup() {
  if (cleaning) return;
  cleaning = true;
  const started = Date.now();
  if (!exited && child.pid) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
  const finish = () => {
    killGroup('SIGKILL'); // leftovers of the group, if any
    fs.rmSync(cfg.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    process.exit(0);
  };
  const wait = setInterval(() => {
    if (exited || !child.pid) {
      // give the rest of the group a moment to follow the leader
      killGroup('SIGTERM');
      clearInterval(wait);
      setTimeout(finish, 200);
    } else if (Date.now() - started > graceMs) {
      clearInterval(wait);
      finish();
    }
  }, 50);
}

process.on('SIGTERM', cleanup);
// A terminal Ctrl-C reaches the whole foreground group: leave the decision to the parent.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

const parentGone = () => {
  if (process.ppid !== parentPid) return true;
  try {
    process.kill(parentPid, 0);
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
};
setInterval(() => {
  if (parentGone()) cleanup();
}, 200);
