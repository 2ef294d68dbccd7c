// A VMM host that breaks the protocol, for the worker's side of the validation tests:
// restore → a result with a forged vmId; stats → a reply to a request nobody sent;
// invoke → no answer at all. It never holds a VM.
process.on('message', (m) => {
  if (m.op === 'restore')
    process.send({ type: 'reply', id: m.id, ok: true, result: { vmId: '../../etc/passwd', pid: 'one', platform: 'ptrace', restoreMs: 1 } });
  else if (m.op === 'stats') process.send({ type: 'reply', id: m.id + 1000, ok: true, result: { pid: process.pid, vms: 0, rssKiB: 0 } });
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', pid: process.pid });
